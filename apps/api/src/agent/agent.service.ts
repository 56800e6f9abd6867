import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  canGrantKeys,
  decideLease,
  keysRetryAfterMs,
  type KeysRequest,
  type KeysResponse,
  type LeaseRequest,
  type LeaseResponse,
  type RegisterRequest,
  type RegisterResponse,
} from '@snowline/agent';
import {
  HostEntity,
  Repositories,
  sha256Hex,
  ValidatorEntity,
  type EntityManager,
} from '@snowline/persistence';
import { TokenBuckets } from '../auth/token-bucket';
import { Problem } from '../common/problem';
import { IdentityService } from '../identities/identity.service';
import { HealthMetrics } from '../zones/health-metrics';

const fenced = (reason: string) => new Problem(409, 'Fenced', reason, { fenced: true, reason });

/**
 * The control plane's side of the agent protocol. Fencing rules live here:
 * a host may run an identity only while its generation is the validator's current one, and it
 * gets the keys once, only after every earlier holder's lease has run out (plus a skew margin) or
 * its instance is confirmed gone.
 */
@Injectable()
export class AgentService {
  private readonly log = new Logger(AgentService.name);

  constructor(
    private readonly repos: Repositories,
    private readonly identities: IdentityService,
    private readonly healthMetrics: HealthMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const perMinute = config.publicApi.agentAuthFailuresPerMinute;
    this.authFailures = new TokenBuckets(perMinute / 60, perMinute);
  }

  /** Failed authentications by client address (see `authenticate`). */
  private readonly authFailures: TokenBuckets;

  /**
   * The host a request speaks for. Failed attempts are counted per client address: past
   * AGENT_AUTH_FAILURES_PER_MINUTE the address gets 429 before any lookup, so nobody can guess
   * tokens or load the database through the unauthenticated door at will.
   */
  async authenticate(
    token: string | undefined,
    hostId: string,
    client = 'unknown',
  ): Promise<HostEntity> {
    const wait = this.authFailures.wait(client);
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      throw new Problem(
        429,
        'Too Many Requests',
        `Too many failed agent authentications from ${client}; retry after ${seconds} s.`,
        { retryAfterSeconds: seconds },
      );
    }
    const host = token ? await this.repos.hosts.findByTokenHash(sha256Hex(token)) : null;
    if (!host || host.id !== hostId) {
      this.authFailures.take(client);
      throw new Problem(
        401,
        'Unauthorized',
        token
          ? 'Unknown host or token.'
          : 'Send the bootstrap token as `Authorization: Bearer <token>`.',
      );
    }
    return host;
  }

  async register(host: HostEntity, req: RegisterRequest): Promise<RegisterResponse> {
    if (host.deletedAt || host.fenced)
      throw fenced('This host has been retired; it must not run a node.');
    if (host.instanceId && host.instanceId !== req.instanceId) {
      throw new Problem(403, 'Forbidden', 'This token belongs to another instance.');
    }
    if (!host.registeredAt) {
      await this.repos.hosts.update(host.id, {
        registeredAt: new Date(),
        instanceId: req.instanceId,
      });
      await this.repos.events.append({
        type: 'host.registered',
        message: `Agent on ${req.instanceId} registered`,
        projectId: host.projectId,
        validatorId: host.validatorId,
        hostId: host.id,
        zone: host.zone,
      });
    }
    return {
      hostId: host.id,
      leaseTtlSeconds: this.config.agent.leaseTtlSeconds,
      renewIntervalSeconds: this.config.agent.renewSeconds,
    };
  }

  async lease(hostId: string, req: LeaseRequest): Promise<LeaseResponse> {
    // Timed by the database's clock, read once the rows are locked (see Repositories.clock).
    let now = new Date(NaN);
    const ttl = this.config.agent.leaseTtlSeconds;
    type Outcome =
      { fenced: string } | { role: LeaseResponse['role']; assignment: LeaseResponse['assignment'] };
    const result = await this.repos.transaction(async (tx): Promise<Outcome> => {
      const host = await tx.findOne(HostEntity, {
        where: { id: hostId },
        lock: { mode: 'pessimistic_write' },
      });
      now = await this.repos.clock(tx);
      // FOR UPDATE: a generation bump cannot interleave with this renewal (and a re-arm below may bump).
      const v =
        host && !host.deletedAt && !host.fenced && host.role === 'assigned' && host.validatorId
          ? await tx.findOne(ValidatorEntity, {
              where: { id: host.validatorId },
              lock: { mode: 'pessimistic_write' },
            })
          : null;
      const decision = decideLease({
        hostId,
        host: {
          exists: host !== null,
          deleted: host?.deletedAt != null,
          fenced: host?.fenced ?? false,
          role: host?.role ?? 'standby',
          validatorId: host?.validatorId ?? null,
          generation: host?.generation ?? null,
          leaseExpiresAt: host?.leaseExpiresAt?.getTime() ?? null,
          keysFetchedGeneration: host?.keysFetchedGeneration ?? null,
        },
        validator: v ? { state: v.state, hostId: v.hostId, generation: v.generation } : null,
        requestGeneration: req.generation,
        now: now.getTime(),
      });
      // An agent that talks runs: whatever the cloud last said, its instance is not stopped.
      if (host?.stopConfirmedAt)
        await tx.update(HostEntity, { id: host.id }, { stopConfirmedAt: null });
      if (decision.kind === 'fence') {
        if (host) await this.fence(tx, host, decision.reason);
        return { fenced: decision.reason };
      }
      const report = { ...req.node } as Record<string, unknown>;
      await this.touch(tx, host!, now, ttl, report);
      if (decision.kind === 'standby') return { role: 'standby', assignment: null };
      if (decision.kind === 'launching') return { role: 'assigned', assignment: null };
      if (decision.expiredForMs > 0) await this.leaseReturned(tx, v!, host!, decision.expiredForMs);
      if (decision.rearm) await this.rearm(tx, v!, host!);
      // A host exists only once provisioning started, which needs the identity (a DB check says so).
      if (v!.nodeId === null) throw new Error(`validator ${v!.id} has a host but no identity`);
      await this.observeNode(tx, v!, host!, req);
      return {
        role: 'assigned',
        assignment: { validatorId: v!.id, generation: v!.generation, nodeId: v!.nodeId },
      };
    });
    if ('fenced' in result) throw fenced(result.fenced);
    return {
      role: result.role,
      assignment: result.assignment,
      leaseExpiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
      leaseTtlSeconds: ttl,
    };
  }

  async keys(hostId: string, req: KeysRequest): Promise<KeysResponse> {
    const out = await this.repos.transaction(async (tx) => {
      const host = await tx.findOne(HostEntity, {
        where: { id: hostId },
        lock: { mode: 'pessimistic_write' },
      });
      // The previous holders' lease expiries were written by the database's clock: judge by it.
      const now = (await this.repos.clock(tx)).getTime();
      if (!host || host.deletedAt || host.fenced || !host.validatorId)
        return { err: fenced('This host holds no identity.') };
      const v = await tx.findOne(ValidatorEntity, {
        where: { id: host.validatorId },
        lock: { mode: 'pessimistic_read' },
      });
      if (
        !v ||
        v.hostId !== host.id ||
        v.generation !== host.generation ||
        req.generation !== v.generation
      ) {
        return { err: fenced(`Generation ${req.generation} is not current.`) };
      }
      if (v.state === 'retiring' || v.state === 'retired' || v.state === 'failed')
        return { err: fenced('The validator was retired.') };
      if (host.keysFetchedGeneration === v.generation) {
        return {
          err: new Problem(
            410,
            'Gone',
            'The keys for this generation were already delivered to this host.',
          ),
        };
      }
      const others = (await tx.find(HostEntity, { where: { validatorId: v.id } })).filter(
        (h) => h.id !== host.id,
      );
      // Every former holder must be fenced, not only the last one: a quick double move would
      // otherwise let a third host start while the first is still stopping.
      let retryAfterMs = 0;
      for (const prev of others) {
        const input = {
          now,
          previousLeaseExpiresAt: prev.leaseExpiresAt,
          skewMarginMs: this.config.agent.skewMarginSeconds * 1000,
          // Confirmed by a Describe, never by a stop or delete call having been sent.
          previousInstanceStopped: prev.stopConfirmedAt !== null,
        };
        if (!canGrantKeys(input)) retryAfterMs = Math.max(retryAfterMs, keysRetryAfterMs(input));
      }
      if (retryAfterMs > 0) {
        // The cloud may confirm the stop before time alone would: ask again after one sweep.
        retryAfterMs = Math.min(
          retryAfterMs,
          Math.max(1_000, this.config.health.sweepIntervalSeconds * 1000),
        );
        return {
          err: new Problem(
            425,
            'Too Early',
            'A previous holder of this identity may still run it.',
            {
              retryAfterMs,
              reason: 'waiting for the previous holder to be fenced',
            },
          ),
        };
      }
      await tx.update(HostEntity, { id: host.id }, { keysFetchedGeneration: v.generation });
      const identity = v.identityId ? await this.repos.identities.findById(v.identityId, tx) : null;
      if (!identity) throw new Error(`identity ${v.identityId} missing`);
      await this.repos.events.append(
        {
          type: 'host.keys_delivered',
          message: `Staking keys of ${v.nodeId} delivered to ${host.instanceId} (generation ${v.generation})`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: host.id,
          zone: host.zone,
          data: { generation: v.generation },
        },
        tx,
      );
      return { identity, generation: v.generation };
    });
    if ('err' in out) throw out.err;
    const keys = this.identities.open(out.identity);
    return {
      generation: out.generation,
      stakerCrt: keys.stakerCrt,
      stakerKey: keys.stakerKey,
      signerKey: keys.signerKey.toString('base64'),
    };
  }

  /** The moved identity runs healthy on its new host: the failover is done; record how long it took. */
  private async finishFailover(
    tx: EntityManager,
    v: ValidatorEntity,
    host: HostEntity,
  ): Promise<void> {
    const rows = (await tx.query(
      `UPDATE failovers SET status = 'done', finished_at = now()
        WHERE validator_id = $1 AND status = 'running'
        RETURNING extract(epoch FROM (finished_at - coalesce(detected_at, started_at))) AS seconds, method, from_zone`,
      [v.id],
    )) as [{ seconds: string; method: string; from_zone: string | null }[], number];
    const done = rows[0]?.[0];
    if (!done) return;
    const seconds = Math.round(Number(done.seconds) * 10) / 10;
    this.healthMetrics.failoverDuration.observe({ method: done.method }, seconds);
    await this.repos.events.append(
      {
        type: 'failover.completed',
        message: `${v.name} moved from ${done.from_zone ?? '?'} to ${host.zone} in ${seconds} s (${done.method})`,
        projectId: v.projectId,
        validatorId: v.id,
        hostId: host.id,
        zone: host.zone,
        data: { seconds, method: done.method, fromZone: done.from_zone, toZone: host.zone },
      },
      tx,
    );
  }

  private async rearm(tx: EntityManager, v: ValidatorEntity, host: HostEntity): Promise<void> {
    const next = v.generation + 1;
    await tx.update(ValidatorEntity, { id: v.id }, { generation: next });
    await tx.update(HostEntity, { id: host.id }, { generation: next });
    v.generation = next;
    host.generation = next;
    // Its node runs nothing until the keys are fetched again: it must not show `active` meanwhile.
    const reason = `node not running on ${host.instanceId}; re-armed under generation ${next}`;
    if (
      await this.repos.validators.transition(
        v.id,
        'degraded',
        { stateReason: reason },
        { from: ['active'], tx },
      )
    )
      v.state = 'degraded';
    await this.repos.events.append(
      {
        type: 'host.rearmed',
        message: `Node on ${host.instanceId} is not running; re-arming it under generation ${next}`,
        projectId: v.projectId,
        validatorId: v.id,
        hostId: host.id,
        zone: host.zone,
        data: { generation: next },
      },
      tx,
    );
  }

  /** The current holder renews after its lease ran out (a control-plane outage, a long partition). */
  private async leaseReturned(
    tx: EntityManager,
    v: ValidatorEntity,
    host: HostEntity,
    expiredForMs: number,
  ): Promise<void> {
    const seconds = Math.round(expiredForMs / 100) / 10;
    await this.repos.events.append(
      {
        type: 'host.lease_resumed',
        message: `Host ${host.instanceId} renewed ${seconds} s after its lease ran out; it still holds ${v.nodeId}, so it is renewed, not fenced`,
        projectId: v.projectId,
        validatorId: v.id,
        hostId: host.id,
        zone: host.zone,
        data: { expiredForSeconds: seconds, generation: v.generation },
      },
      tx,
    );
  }

  private async touch(
    tx: EntityManager,
    host: HostEntity,
    now: Date,
    ttl: number,
    report: Record<string, unknown>,
  ) {
    await tx.update(HostEntity, { id: host.id }, {
      leaseExpiresAt: new Date(now.getTime() + ttl * 1000),
      lastReport: report,
      lastReportAt: now,
    } as Parameters<EntityManager['update']>[2]);
  }

  private async fence(tx: EntityManager, host: HostEntity, reason: string) {
    if (!host.fenced) {
      await tx.update(HostEntity, { id: host.id }, { fenced: true });
      await this.repos.events.append(
        {
          type: 'host.fenced',
          message: `Host ${host.instanceId ?? host.id} fenced: ${reason}`,
          projectId: host.projectId,
          validatorId: host.validatorId,
          hostId: host.id,
          zone: host.zone,
        },
        tx,
      );
      this.log.log({ hostId: host.id, reason }, 'host fenced');
    }
    return { fenced: reason } as const;
  }

  /** The node's report moves the validator: running → syncing, healthy + bootstrapped under its NodeID → active. */
  private async observeNode(
    tx: EntityManager,
    v: ValidatorEntity,
    host: HostEntity,
    req: LeaseRequest,
  ) {
    const n = req.node;
    if (!n.running) return;
    if (n.nodeId && n.nodeId !== v.nodeId) {
      this.log.warn({ validatorId: v.id, hostId: host.id }, 'node reports an unexpected NodeID');
      return;
    }
    const ready = n.nodeId === v.nodeId && n.healthy === true && n.bootstrapped === true;
    if (ready && v.state !== 'active') {
      const moved = await this.repos.validators.transition(
        v.id,
        'active',
        { stateReason: null, activeAt: new Date(), zone: host.zone, instanceId: host.instanceId },
        { from: ['provisioning', 'syncing', 'degraded', 'failing_over'], tx },
      );
      if (moved) {
        if (v.state === 'failing_over') await this.finishFailover(tx, v, host);
        await this.repos.events.append(
          {
            type: 'validator.active',
            message: `Validator ${v.name} is active in ${host.zone} as ${v.nodeId}`,
            projectId: v.projectId,
            validatorId: v.id,
            hostId: host.id,
            zone: host.zone,
          },
          tx,
        );
      }
    } else if (!ready && v.state === 'provisioning') {
      const moved = await this.repos.validators.transition(
        v.id,
        'syncing',
        { stateReason: 'node bootstrapping' },
        { from: ['provisioning'], tx },
      );
      if (moved) {
        await this.repos.events.append(
          {
            type: 'validator.syncing',
            message: `Node ${v.nodeId} started on ${host.instanceId}; bootstrapping`,
            projectId: v.projectId,
            validatorId: v.id,
            hostId: host.id,
            zone: host.zone,
          },
          tx,
        );
      }
    }
  }
}
