import { createHmac, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { UserData } from '@snowline/agent';
import {
  CloudError,
  CloudProvider,
  IdempotencyMismatch,
  InvalidConfig,
  NoCapacity,
  QuotaExceeded,
  TAG_BATCH,
  TAG_HOST,
  TAG_PROJECT,
  TAG_VALIDATOR,
} from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { open, placementOrder, seal } from '@snowline/domain';
import {
  HostEntity,
  Repositories,
  sha256Hex,
  ValidatorEntity,
  type Tx,
  type LaunchBatch,
} from '@snowline/persistence';
import { PermanentError, RetryableError } from '@snowline/queue';

export const BOOTSTRAP_KEY = Symbol('BOOTSTRAP_KEY');

/** Places a validator: picks a zone, launches an instance (ClientToken = host row id), records it. */
@Injectable()
export class ProvisionService {
  private readonly log = new Logger(ProvisionService.name);
  /** Batch keys (project, type, network, release, L1) a job of this process is gathering for. */
  private readonly gathering = new Set<string>();

  constructor(
    private readonly repos: Repositories,
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
    // A first launch waits (holding no connection and no lock) for validators requested with it,
    // so that one RunInstances takes them all (see provisionBatch).
    if (this.batching() && this.config.launch.batchWaitMs > 0) {
      const v = await this.repos.validators.findById(validatorId);
      if (
        v &&
        !v.hostId &&
        (v.state === 'provisioning' || (v.state === 'pending' && v.identityId)) &&
        // Already in a batch (or launched alone): that launch is its own, to finish or record now.
        !(await this.repos.hosts.liveForValidator(v.id)).some((h) => h.generation === v.generation)
      ) {
        const key = [
          v.projectId,
          v.instanceType,
          v.network,
          v.avalanchegoVersion ?? '',
          v.subnetId ?? '',
        ].join('/');
        // One job of a burst gathers; the others leave their validators to its batch and free
        // their slots (a lost one is re-derived by the reconciler, as any lost job is).
        if (this.gathering.has(key)) return;
        this.gathering.add(key);
        try {
          await this.gather(v);
          await this.provisionLocked(validatorId);
        } finally {
          this.gathering.delete(key);
        }
        return;
      }
    }
    await this.provisionLocked(validatorId);
  }

  /**
   * Waits in rounds of LAUNCH_BATCH_WAIT_MS while validators to launch with `v` are still on their
   * way — requests still arriving (more ready each round) or identities still being generated (a
   * burst of a thousand takes a while, the more so on a busy machine) — until a full call per zone
   * is ready or LAUNCH_BATCH_MAX_WAIT_MS has passed: each round of a trickle launched on its own
   * would cost a few RunInstances calls more. A validator asked for alone waits one round.
   */
  private async gather(v: ValidatorEntity): Promise<void> {
    const { batchWaitMs, batchMaxWaitMs, batchMax } = this.config.launch;
    const deadline = Date.now() + batchMaxWaitMs;
    const full = batchMax * this.config.cloud.zones.length;
    let ready = (await this.repos.validators.batchGathering(v)).ready;
    // Requests of a burst arrive unevenly on a busy API: a round without one is not yet the end.
    for (let idle = 0; ;) {
      await new Promise((r) => setTimeout(r, batchWaitMs));
      if (Date.now() >= deadline) return;
      const g = await this.repos.validators.batchGathering(v);
      if (g.ready >= full) return;
      idle = g.awaitingIdentity || g.ready > ready ? 0 : idle + 1;
      if (idle >= (ready > 1 ? 3 : 1)) return;
      ready = g.ready;
    }
  }

  private provisionLocked(validatorId: string): Promise<void> {
    return this.repos.validatorLocks.withLock(
      validatorId,
      () => this.provision(validatorId),
      this.config.dbStuckSessionSeconds * 1000,
    );
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
    if (inFlight?.batchId) return this.launchBatch(inFlight.batchId);
    if (
      !inFlight &&
      v.state === 'provisioning' &&
      this.batching() &&
      (await this.provisionBatch(v))
    )
      return;
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

  /**
   * The release a host runs, for its UserData: version and network from its row, URL and SHA-256
   * from AVALANCHEGO_RELEASES. Absent for a row from before versions (its image's own binary).
   */
  release(
    host: Pick<HostEntity, 'id' | 'avalanchegoVersion' | 'network'>,
  ): UserData['avalanchego'] {
    if (!host.avalanchegoVersion || !host.network) return undefined;
    const r = this.config.avalanchego.releases[host.avalanchegoVersion];
    if (!r)
      throw new PermanentError(
        `AvalancheGo ${host.avalanchegoVersion} has no pinned release in AVALANCHEGO_RELEASES any more; host ${host.id} cannot be launched`,
      );
    return {
      version: r.version,
      network: host.network as 'fuji' | 'mainnet' | 'local',
      url: r.url,
      sha256: r.sha256,
    };
  }

  /** An L1 host's node tracks its L1 (AvalancheGo `--track-subnets`, config/keys.go TrackSubnetsKey). */
  nodeConfig(host: Pick<HostEntity, 'subnetId'>): Pick<UserData, 'nodeConfig'> {
    return host.subnetId ? { nodeConfig: { 'track-subnets': host.subnetId } } : {};
  }

  userData(host: HostEntity): UserData {
    const avalanchego = this.release(host);
    if (host.agentProtocol === 1) {
      return {
        snowline: 1,
        controlPlaneUrl: this.config.agent.controlPlaneUrl,
        hostId: host.id,
        bootstrapToken: this.legacyBootstrapToken(host.id),
        ...(avalanchego ? { avalanchego } : {}),
        ...this.nodeConfig(host),
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
      ...(avalanchego ? { avalanchego } : {}),
      ...this.nodeConfig(host),
    };
  }

  /**
   * Batch launches need a cloud that signs instance identity documents (the instances of one call
   * share their UserData: only the document tells them apart) — the simulator does, real Alibaba
   * Cloud once ECS_IDENTITY_CERT_FILE is set.
   */
  batching(): boolean {
    return (
      this.config.launch.batchMax > 1 &&
      (this.config.cloud.provider === 'sim' || this.config.agent.identityCertFile !== null)
    );
  }

  /**
   * Issue 20 point 4: `v` and the validators of its project waiting for their first launch with it
   * (same instance type, none of them launched or tried for this generation) are placed zone by
   * zone and launched by one RunInstances per zone (Amount ≤ LAUNCH_BATCH_MAX). The host rows and
   * their batch are written in one transaction, under row locks (SKIP LOCKED: a validator another
   * job is placing is left to it). False when `v` alone is waiting (the single launch is as good).
   */
  private async provisionBatch(v: ValidatorEntity): Promise<boolean> {
    const max = this.config.launch.batchMax;
    const blocked = await this.blockedZones();
    const load = await this.zoneLoad(v.projectId);
    const batches = await this.repos.transaction(async (tx): Promise<string[] | 'taken' | null> => {
      // `v` first, waiting for a job that may be batching it right now; then, under that lock,
      // is it still waiting? (If another job put it in a batch, that batch is its launch.)
      if (!(await this.repos.validators.lockIfWaitingForBatch(v.id, tx))) return 'taken';
      // One full call per zone at most: more would leave a remainder call per zone (101 → 100 + 1)
      // that the next gathering fills instead.
      const members = await this.repos.validators.takeWaitingForBatch(
        v,
        max * this.config.cloud.zones.length,
        tx,
      );
      if (!members.some((m) => m.id === v.id) || members.length < 2) return null;
      // Members whose identity was attached but whose own job has not run yet start placing now.
      const pending = members.filter((m) => m.state === 'pending');
      if (pending.length) {
        await this.repos.validators.markProvisioning(
          pending.map((m) => m.id),
          tx,
        );
        await this.repos.events.appendMany(
          pending.map((m) => ({
            type: 'validator.provisioning',
            message: `Placing validator ${m.name}`,
            projectId: m.projectId,
            validatorId: m.id,
          })),
          tx,
        );
      }
      const byZone = new Map<string, ValidatorEntity[]>();
      for (const m of members) {
        const zone = placementOrder({
          configured: this.config.cloud.zones,
          allowed: m.zones,
          blocked,
          load,
        })[0];
        if (!zone) continue;
        load[zone] = (load[zone] ?? 0) + 1;
        byZone.set(zone, [...(byZone.get(zone) ?? []), m]);
      }
      const made: string[] = [];
      for (const [zone, group] of byZone) {
        for (let i = 0; i < group.length; i += max) {
          const chunk = group.slice(i, i + max);
          const batchId = await this.createBatch(zone, v.instanceType, chunk.length, tx);
          for (const [index, m] of chunk.entries()) {
            const id = crypto.randomUUID();
            await this.repos.hosts.insert(
              {
                id,
                projectId: m.projectId,
                validatorId: m.id,
                role: 'assigned',
                zone,
                instanceType: m.instanceType,
                clientToken: `sl-${id}`,
                generation: m.generation,
                network: m.network,
                subnetId: m.subnetId,
                avalanchegoVersion: this.versionOf(m),
                bootstrapTokenHash: null,
                agentProtocol: 2,
                batchId,
                batchIndex: index,
              },
              tx,
            );
          }
          made.push(batchId);
        }
      }
      return made;
    });
    if (batches === 'taken') {
      // Another job batched it meanwhile: launch (or re-launch) that batch — idempotent.
      const mine = (await this.repos.hosts.liveForValidator(v.id)).find((h) => h.batchId);
      if (mine?.batchId) await this.launchBatch(mine.batchId);
      return true;
    }
    if (!batches) return false;
    this.log.log({ batches: batches.length }, 'launching in batches');
    // Every batch gets its call even if one fails; the first failure then retries this job.
    const results = await Promise.allSettled(batches.map((b) => this.launchBatch(b)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return true;
  }

  /**
   * A launch batch's row, in `tx` (its members' host rows name it): one bootstrap token for all its
   * instances, kept sealed so that a replayed RunInstances carries identical UserData.
   */
  async createBatch(zone: string, instanceType: string, size: number, tx: Tx): Promise<string> {
    const batchId = crypto.randomUUID();
    const token = randomBytes(32).toString('base64url');
    await this.repos.batches.create(
      {
        id: batchId,
        zone,
        instanceType,
        size,
        bootstrapTokenHash: sha256Hex(token),
        bootstrapTokenSealed: seal(this.bootstrapKey, Buffer.from(token), `batch-token:${batchId}`),
      },
      tx,
    );
    return batchId;
  }

  /** What every instance of a batch gets: the batch, its token, where the control plane is. */
  /**
   * Members share their network, release and L1 (takeWaitingForBatch, and a refill's pool, group
   * them so): the first's.
   */
  private batchUserData(b: LaunchBatch, first: HostEntity): UserData {
    if (!b.bootstrapTokenSealed)
      throw new PermanentError(`batch ${b.id}'s token is spent; it cannot be launched again`);
    const avalanchego = this.release(first);
    return {
      ...(avalanchego ? { avalanchego } : {}),
      ...this.nodeConfig(first),
      snowline: 2,
      controlPlaneUrl: this.config.agent.controlPlaneUrl,
      batchId: b.id,
      bootstrapToken: open(
        this.bootstrapKey,
        b.bootstrapTokenSealed,
        `batch-token:${b.id}`,
      ).toString(),
    };
  }

  /**
   * One RunInstances (Amount = the batch's size, ClientToken = the batch id: a replay names the same
   * instances), the ids stored on the batch before any host is told its own, then each member's
   * launch recorded. Idempotent: every member's provision (or launch-standby) job may call it. A
   * batch is of validators' hosts or of standbys (a refill), never both.
   */
  async launchBatch(batchId: string): Promise<void> {
    const batch = await this.repos.batches.findById(batchId);
    if (!batch) return;
    const hosts = await this.repos.hosts.inBatch(batchId);
    if (!hosts.length) return;
    const first = hosts[0]!;
    // Before its instances exist no standby of the batch can be taken by a failover (it needs one).
    const standbys = first.role === 'standby';
    let instanceIds = batch.instanceIds;
    if (!instanceIds) {
      try {
        await this.repos.batches.armToken(batch.id, this.config.agent.bootstrapTokenTtlSeconds);
        const ids = await this.cloud.launchMany(
          {
            clientToken: `slb-${batch.id}`,
            zoneId: batch.zone,
            instanceType: batch.instanceType,
            userData: JSON.stringify(this.batchUserData(batch, first)),
            tags: standbys
              ? { [TAG_PROJECT]: 'snowline', [TAG_VALIDATOR]: 'standby', [TAG_BATCH]: batch.id }
              : { [TAG_PROJECT]: first.projectId ?? 'snowline', [TAG_BATCH]: batch.id },
            name: standbys ? `snowline-standby-${first.network}-${batch.zone}` : 'snowline-batch',
          },
          batch.size,
        );
        const stored = await this.repos.batches.recordInstances(batch.id, ids);
        instanceIds = stored.instanceIds;
        if (standbys && stored.recorded)
          await this.repos.events.appendMany(
            hosts.map((h) => ({
              type: 'standby.launched',
              message: `Launched standby ${instanceIds![h.batchIndex!]} (${h.network}) in ${h.zone}, one of ${batch.size} in one call`,
              hostId: h.id,
              zone: h.zone,
              data: { batchId: batch.id },
            })),
          );
      } catch (err) {
        if (err instanceof NoCapacity) {
          for (const h of hosts)
            await this.repos.hosts.update(h.id, {
              deletedAt: new Date(),
              cloudStatus: 'NotLaunched',
            });
          // Standbys: the pool's next refill tries again (as for a single standby).
          if (standbys) return;
          // Each member goes its own way (the single launch walks the zones).
          await this.repos.events.appendMany(
            hosts.map((h) => ({
              type: 'placement.no_capacity',
              message: `No ${batch.instanceType} capacity in ${batch.zone} for a batch of ${batch.size}; launching one by one`,
              projectId: h.projectId,
              validatorId: h.validatorId,
              zone: batch.zone,
            })),
          );
          // This job retries at once; members whose jobs are done are re-derived by the reconciler.
          throw new RetryableError(
            `No ${batch.instanceType} capacity in ${batch.zone} for a batch; launching one by one`,
          );
        }
        if (
          err instanceof InvalidConfig ||
          err instanceof QuotaExceeded ||
          err instanceof IdempotencyMismatch
        )
          throw new PermanentError(`${err.name}: ${err.message}`);
        if (err instanceof CloudError && err.retryable)
          throw new RetryableError(
            `${err.name} launching a batch in ${batch.zone}: ${err.message}`,
          );
        throw err;
      }
    }
    if (standbys) return;
    const members = await this.repos.validators.findByIds(
      hosts.map((h) => h.validatorId).filter((id): id is string => !!id),
    );
    // Every member is recorded even if one fails (that one's job, or the reconciler, retries it).
    let failed: unknown = null;
    for (const h of hosts) {
      const v = members.find((m) => m.id === h.validatorId);
      const instanceId = instanceIds[h.batchIndex!];
      if (v && instanceId && v.hostId !== h.id)
        await this.recordLaunch(v, h, instanceId).catch((err: unknown) => (failed ??= err));
    }
    if (failed) throw failed;
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
      network: v.network,
      subnetId: v.subnetId,
      avalanchegoVersion: this.versionOf(v),
      ...this.newBootstrapToken(id),
    });
  }

  /** The version a validator's new host runs: its spec's (the fleet default for a row from before). */
  versionOf(v: Pick<ValidatorEntity, 'avalanchegoVersion' | 'network'>): string {
    return v.avalanchegoVersion ?? this.config.avalanchego.defaultVersion[v.network];
  }

  private async recordLaunch(
    v: ValidatorEntity,
    host: HostEntity,
    instanceId: string,
  ): Promise<void> {
    // Every member's job of a batch records the whole batch, from views loaded before the others'
    // commits: a launch another job recorded is left alone (the validator may be `syncing` on that
    // very host by now). Read first; checked again under the row locks (host, then validator, the
    // order the lease renewal takes them in) if the placement does not apply.
    const recorded = (cur: ValidatorEntity | null) =>
      cur?.hostId === host.id && cur.generation === v.generation;
    if (recorded(await this.repos.validators.findById(v.id))) return;
    const stillWanted = await this.repos.transaction(async (tx) => {
      await this.repos.hosts.update(host.id, { instanceId, cloudStatus: 'Pending' }, tx);
      const placed = await this.repos.validators.recordPlacement(
        v.id,
        v.generation,
        { hostId: host.id, zone: host.zone, instanceId },
        tx,
      );
      if (!placed) return recorded(await this.repos.validators.findForUpdate(v.id, tx));
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

  /**
   * Zones the health loop has closed to placement (impaired or dark). A closed zone too small to
   * judge (fewer than ZONE_MIN_HOSTS hosts: its own failed hosts may be all that closed it) stays
   * closed only while another configured zone is open — else nothing could ever be placed again.
   */
  private async blockedZones(): Promise<string[]> {
    const closed = await this.repos.zones.closedToPlacement();
    const anyOpen = this.config.cloud.zones.some((z) => !closed.some((c) => c.id === z));
    return closed
      .filter((c) => anyOpen || c.hosts >= this.config.health.zoneMinHosts)
      .map((c) => c.id);
  }

  private async zoneLoad(projectId: string): Promise<Record<string, number>> {
    return Object.fromEntries(await this.repos.validators.countByZone(projectId));
  }
}
