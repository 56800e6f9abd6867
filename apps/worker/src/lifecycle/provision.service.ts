import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { UserData } from '@snowline/agent';
import {
  CloudError,
  CloudProvider,
  IdempotencyMismatch,
  InvalidConfig,
  NoCapacity,
  QuotaExceeded,
  TAG_HOST,
  TAG_PROJECT,
  TAG_VALIDATOR,
} from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { open, placementOrder, seal } from '@snowline/domain';
import { HostEntity, Repositories, sha256Hex, ValidatorEntity } from '@snowline/persistence';
import { PermanentError, RetryableError } from '@snowline/queue';
import { withValidatorLock } from './validator-lock';

export const BOOTSTRAP_KEY = Symbol('BOOTSTRAP_KEY');

/** Places a validator: picks a zone, launches an instance (ClientToken = host row id), records it. */
@Injectable()
export class ProvisionService {
  private readonly log = new Logger(ProvisionService.name);

  constructor(
    private readonly repos: Repositories,
    private readonly ds: DataSource,
    private readonly cloud: CloudProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BOOTSTRAP_KEY) private readonly bootstrapKey: Buffer,
  ) {}

  /** Protocol 1 (hosts launched before host credentials): derived from the host id, for ever. */
  legacyBootstrapToken(hostId: string): string {
    return createHmac('sha256', this.bootstrapKey).update(hostId).digest('base64url');
  }

  /**
   * A new host's bootstrap credential (protocol 2): a random token, its hash for the API, and a copy
   * sealed to the row so that a replayed RunInstances carries identical UserData until it is spent.
   */
  newBootstrapToken(
    hostId: string,
  ): Pick<HostEntity, 'bootstrapTokenHash' | 'bootstrapTokenSealed' | 'agentProtocol'> {
    const token = randomBytes(32).toString('base64url');
    return {
      bootstrapTokenHash: sha256Hex(token),
      bootstrapTokenSealed: seal(
        this.bootstrapKey,
        Buffer.from(token),
        `bootstrap-token:${hostId}`,
      ),
      agentProtocol: 2,
    };
  }

  /** Before each RunInstances attempt: the token in its UserData opens nothing after the TTL. */
  async armBootstrapToken(host: HostEntity): Promise<void> {
    if (host.agentProtocol === 2)
      await this.repos.hosts.armBootstrapToken(host.id, this.config.agent.bootstrapTokenTtlSeconds);
  }

  async run(validatorId: string): Promise<void> {
    await withValidatorLock(this.ds, validatorId, () => this.provision(validatorId));
  }

  private async provision(validatorId: string): Promise<void> {
    let v = await this.repos.validators.findById(validatorId);
    if (!v) return;
    // A generated identity is still being made; the generator enqueues provision once it is attached.
    if (v.state === 'pending' && !v.identityId) return;
    if (v.state === 'pending') {
      await this.repos.transaction(async (tx) => {
        if (
          await this.repos.validators.transition(
            v!.id,
            'provisioning',
            { stateReason: 'placing' },
            { from: ['pending'], tx },
          )
        ) {
          await this.repos.events.append(
            {
              type: 'validator.provisioning',
              message: `Placing validator ${v!.name}`,
              projectId: v!.projectId,
              validatorId: v!.id,
            },
            tx,
          );
        }
      });
      v = await this.repos.validators.findById(validatorId);
    }
    // A failover without a standby also lands here: failing_over with no host yet.
    const launching = v?.state === 'provisioning' || (v?.state === 'failing_over' && !v.hostId);
    if (!v || !launching) return;
    const hosts = (await this.repos.hosts.liveForValidator(v.id)).filter(
      (h) => h.role === 'assigned' && h.generation === v!.generation,
    );
    const launched = hosts.find((h) => h.instanceId);
    if (launched) {
      // RunInstances' answer was lost but the instance booted and its agent registered it: record
      // the launch now (the ClientToken replay would name the same instance).
      if (v.hostId !== launched.id) await this.recordLaunch(v, launched, launched.instanceId!);
      return; // already launched; the agent takes it from here
    }
    const inFlight = hosts.find((h) => !h.instanceId);
    const order = placementOrder({
      configured: this.config.cloud.zones,
      allowed: v.zones,
      blocked: await this.blockedZones(),
      load: await this.zoneLoad(v.projectId),
    });
    if (inFlight) order.sort((a, b) => Number(b === inFlight.zone) - Number(a === inFlight.zone));
    if (!order.length) {
      throw new RetryableError('No allowed zone is open for placement right now; will retry');
    }
    const noCapacity: string[] = [];
    for (const zone of order) {
      const host = inFlight?.zone === zone ? inFlight : await this.newHost(v, zone);
      try {
        await this.armBootstrapToken(host);
        const instanceId = await this.cloud.launch({
          clientToken: `sl-${host.id}`,
          zoneId: zone,
          instanceType: v.instanceType,
          userData: JSON.stringify(this.userData(host)),
          tags: { [TAG_PROJECT]: v.projectId, [TAG_VALIDATOR]: v.id, [TAG_HOST]: host.id },
          name: `snowline-${v.name}`,
        });
        await this.recordLaunch(v, host, instanceId);
        return;
      } catch (err) {
        if (err instanceof NoCapacity) {
          noCapacity.push(zone);
          await this.repos.hosts.update(host.id, {
            deletedAt: new Date(),
            cloudStatus: 'NotLaunched',
          });
          await this.repos.events.append({
            type: 'placement.no_capacity',
            message: `No ${v.instanceType} capacity in ${zone}; trying the next zone`,
            projectId: v.projectId,
            validatorId: v.id,
            zone,
          });
          continue;
        }
        if (
          err instanceof InvalidConfig ||
          err instanceof QuotaExceeded ||
          err instanceof IdempotencyMismatch
        ) {
          throw new PermanentError(`${err.name}: ${err.message}`);
        }
        if (err instanceof CloudError && err.retryable) {
          throw new RetryableError(`${err.name} launching in ${zone}: ${err.message}`);
        }
        throw err;
      }
    }
    throw new RetryableError(
      `No capacity for ${v.instanceType} in ${noCapacity.join(', ')}; will retry`,
    );
  }

  userData(host: HostEntity): UserData {
    if (host.agentProtocol === 1) {
      return {
        snowline: 1,
        controlPlaneUrl: this.config.agent.controlPlaneUrl,
        hostId: host.id,
        bootstrapToken: this.legacyBootstrapToken(host.id),
      };
    }
    if (!host.bootstrapTokenSealed) {
      // Spent: its agent registered, so the instance exists and is recorded; nothing to launch.
      throw new PermanentError(`host ${host.id}'s bootstrap token is spent; it cannot be launched`);
    }
    return {
      snowline: 2,
      controlPlaneUrl: this.config.agent.controlPlaneUrl,
      hostId: host.id,
      bootstrapToken: open(
        this.bootstrapKey,
        host.bootstrapTokenSealed,
        `bootstrap-token:${host.id}`,
      ).toString(),
    };
  }

  private async newHost(v: ValidatorEntity, zone: string): Promise<HostEntity> {
    const id = crypto.randomUUID();
    return this.repos.hosts.insert({
      id,
      projectId: v.projectId,
      validatorId: v.id,
      role: 'assigned',
      zone,
      instanceType: v.instanceType,
      clientToken: `sl-${id}`,
      generation: v.generation,
      ...this.newBootstrapToken(id),
    });
  }

  private async recordLaunch(
    v: ValidatorEntity,
    host: HostEntity,
    instanceId: string,
  ): Promise<void> {
    const stillWanted = await this.repos.transaction(async (tx) => {
      await this.repos.hosts.update(host.id, { instanceId, cloudStatus: 'Pending' }, tx);
      const res = await tx
        .createQueryBuilder()
        .update(ValidatorEntity)
        .set({ hostId: host.id, zone: host.zone, instanceId, stateReason: 'instance starting' })
        .where('id = :id AND state IN (:...s) AND generation = :g', {
          id: v.id,
          s: ['provisioning', 'failing_over'],
          g: v.generation,
        })
        .execute();
      if (!res.affected) return false;
      await this.repos.events.append(
        {
          type: 'host.launched',
          message: `Launched ${instanceId} (${v.instanceType}) in ${host.zone}`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: host.id,
          zone: host.zone,
          data: { instanceId },
        },
        tx,
      );
      return true;
    });
    if (!stillWanted) {
      // Retired (or moved) while we launched: do not leave an instance behind.
      this.log.log(
        { validatorId: v.id, instanceId },
        'validator moved on during launch; deleting the instance',
      );
      await this.cloud.delete([instanceId]);
      await this.repos.hosts.update(host.id, {
        deletedAt: new Date(),
        fenced: true,
        cloudStatus: 'Deleted',
      });
    }
  }

  /** Zones the health loop has closed to placement (impaired or dark). */
  private async blockedZones(): Promise<string[]> {
    const rows = (await this.ds.query(`SELECT id FROM zones WHERE NOT placement_allowed`)) as {
      id: string;
    }[];
    return rows.map((r) => r.id);
  }

  private async zoneLoad(projectId: string): Promise<Record<string, number>> {
    const rows = (await this.ds.query(
      `SELECT zone, count(*)::int AS n FROM validators WHERE project_id = $1 AND zone IS NOT NULL AND state NOT IN ('retired','failed') GROUP BY zone`,
      [projectId],
    )) as { zone: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.zone, r.n]));
  }
}
