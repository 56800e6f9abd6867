import { Inject, Injectable, Logger } from '@nestjs/common';
import { CloudProvider } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { placementOrder, type MoveKind, type Network, type RolloutMove } from '@snowline/domain';
import {
  HostEntity,
  Repositories,
  ValidatorEntity,
  type Tx,
  type LeaseFence,
} from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';

export interface FailoverRequest {
  validatorId: string;
  fromHostId: string;
  reason: string;
  detectedAt: Date;
  /** The sweeper's lease: the move starts only if it still holds it when the transaction commits. */
  fence?: LeaseFence;
}

/** A live move the watchdog acts on (a `running` failovers row). */
export interface LiveMove {
  id: string;
  validatorId: string;
  generation: number;
  attempt: number;
  kind: MoveKind;
}

type Method = 'standby' | 'launch';

/**
 * Moves a validator's identity off a failed host: in one transaction, bump the generation (which
 * fences the old host: its next renewal is refused, and keys for the new generation are served only
 * once every earlier holder's lease has run out plus the skew margin, or its instance is confirmed
 * stopped), and hand the identity to a synced standby in another healthy zone — or, without one,
 * launch anew. The move watchdog re-plans a move whose target fails, and gives up after the last
 * attempt; both go through here so every attempt is placed by the same rule.
 */
@Injectable()
export class FailoverService {
  private readonly log = new Logger('failover');

  constructor(
    private readonly repos: Repositories,
    private readonly queue: LifecycleQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cloud: CloudProvider,
  ) {}

  async start(req: FailoverRequest): Promise<Method | null> {
    const blocked = await this.blockedZones();
    let stop: string | null = null;
    const method = await this.repos.transaction(async (tx) => {
      if (req.fence && !(await this.repos.leaderLeases.holds(tx, req.fence))) return null; // a frozen ex-leader
      const v = await this.lockValidator(tx, req.validatorId);
      if (!v || v.hostId !== req.fromHostId) return null;
      if (!['active', 'degraded', 'syncing'].includes(v.state)) return null;
      const from = await this.repos.hosts.findById(req.fromHostId, tx);
      stop = from?.instanceId ?? null;
      return this.place(tx, v, {
        from,
        reason: req.reason,
        detectedAt: req.detectedAt,
        attempt: 1,
        blocked,
      });
    });
    if (method) this.forceStop(stop, req.validatorId);
    if (method === 'launch') await this.queue.provision(req.validatorId, 1).catch(() => undefined);
    if (method) this.log.log({ validatorId: req.validatorId, method }, 'failover started');
    return method;
  }

  /**
   * A planned move (a rolling upgrade's step): onto the given synced standby of the validator's
   * desired version, in one transaction that bumps the generation exactly as a failover does. Nothing
   * is force-stopped: the old agent learns at its next renewal (refused, fenced), stops its node and
   * acknowledges, and the keys move on that acknowledgment (`canGrantKeys`), else on its lease.
   * False when the move no longer applies (the validator moved, is not active, the standby is taken).
   */
  async planned(m: RolloutMove, kind: 'upgrade', fence?: LeaseFence): Promise<boolean> {
    const method = await this.repos.transaction(async (tx) => {
      if (fence && !(await this.repos.leaderLeases.holds(tx, fence))) return null;
      const v = await this.lockValidator(tx, m.validatorId);
      if (!v || v.state !== 'active' || v.zone !== m.fromZone || !v.hostId) return null;
      if (v.avalanchegoVersion !== m.toVersion) return null; // the spec changed meanwhile
      const from = await this.repos.hosts.findById(v.hostId, tx);
      return this.place(tx, v, {
        from,
        reason: `upgrade to ${m.toVersion}`,
        detectedAt: new Date(),
        attempt: 1,
        blocked: [],
        kind,
        standbyId: m.standbyId,
        fromVersion: m.fromVersion,
      });
    });
    if (method)
      this.log.log(
        { validatorId: m.validatorId, from: m.fromVersion, to: m.toVersion, standby: m.standbyId },
        'upgrade move started',
      );
    return method !== null;
  }

  /**
   * The watchdog's verdict on an upgrade whose new node did not come up: move back. The validator's
   * spec goes back to the version it left (its host's; the fleet default when that was unknown), the
   * rollout to the failed version halts on its network (nothing more moves onto it until resumed),
   * and the identity moves — a `rollback` move, re-planned like a failover — onto a synced standby
   * of that version, or a new launch of it. The failed target is force-stopped: fenced like a dead host.
   */
  async rollback(move: LiveMove, why: string): Promise<boolean> {
    const blocked = await this.blockedZones();
    let stop: string | null = null;
    const method = await this.repos.transaction(async (tx) => {
      const v = await this.lockValidator(tx, move.validatorId);
      if (!v || v.state !== 'failing_over' || v.generation !== move.generation) return null;
      stop = v.instanceId;
      const row = await this.repos.failovers.close(move.id, 'failed', `rolled back: ${why}`, tx);
      if (!row) return null;
      const failed = row.toVersion ?? v.avalanchegoVersion;
      const back =
        row.fromVersion ?? this.config.avalanchego.defaultVersion[v.network as Network] ?? null;
      if (failed)
        await this.repos.rollouts.halt(
          {
            network: v.network,
            version: failed,
            reason: `${v.name} (${v.nodeId}) did not come up on ${failed}: ${why}`,
            validatorId: v.id,
          },
          tx,
        );
      await this.repos.validators.update(v.id, { avalanchegoVersion: back }, tx);
      await this.repos.events.append(
        {
          type: 'upgrade.rolled_back',
          message: `Upgrade of ${v.name} (${v.nodeId}) to ${failed} rolled back to ${back}: ${why}. The rollout to ${failed} on ${v.network} halted.`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: v.hostId,
          zone: v.zone,
          data: { fromVersion: failed, toVersion: back, reason: why, network: v.network },
        },
        tx,
      );
      const target = v.hostId ? await this.repos.hosts.findById(v.hostId, tx) : null;
      return this.place(
        tx,
        { ...v, avalanchegoVersion: back },
        {
          from: target,
          reason: `rollback: ${why}`,
          detectedAt: row.detectedAt ?? row.startedAt,
          attempt: 1,
          blocked,
          kind: 'rollback',
          fromVersion: failed,
        },
      );
    });
    if (method) this.forceStop(stop, move.validatorId);
    if (method === 'launch') await this.queue.provision(move.validatorId, 1).catch(() => undefined);
    if (method)
      this.log.warn({ validatorId: move.validatorId, method, why }, 'upgrade rolled back');
    return method !== null;
  }

  /**
   * The watchdog's re-plan: the move's target failed or made no progress by the deadline. The
   * attempt is closed as `replanned` and the next one placed under a new generation, which fences
   * the failed target as it fenced the first host (it keeps its row, so keys wait for it too).
   */
  async replan(move: LiveMove, why: string): Promise<Method | null> {
    const blocked = await this.blockedZones();
    let stop: string | null = null;
    const method = await this.repos.transaction(async (tx) => {
      const v = await this.lockValidator(tx, move.validatorId);
      if (!v || v.state !== 'failing_over' || v.generation !== move.generation) return null;
      stop = v.instanceId;
      const row = await this.repos.failovers.close(move.id, 'replanned', why, tx);
      if (!row) return null;
      const from = row.fromHostId ? await this.repos.hosts.findById(row.fromHostId, tx) : null;
      // Host rows of the abandoned attempt that never got an instance: a late launch of theirs is an
      // orphan for the reaper, not a candidate to record.
      await this.repos.hosts.abandonUnlaunched(v.id, v.generation, tx);
      await this.repos.events.append(
        {
          type: 'failover.replanned',
          message: `Move ${move.attempt} of ${v.name} (${v.nodeId}) abandoned: ${why}; trying another target`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: v.hostId,
          zone: v.zone,
          data: { attempt: move.attempt, reason: why, generation: v.generation },
        },
        tx,
      );
      return this.place(tx, v, {
        from,
        reason: row.reason,
        detectedAt: row.detectedAt ?? row.startedAt,
        attempt: move.attempt + 1,
        blocked,
        avoidZone: v.zone,
        kind: move.kind,
      });
    });
    if (method) this.forceStop(stop, move.validatorId);
    if (method === 'launch') await this.queue.provision(move.validatorId, 1).catch(() => undefined);
    if (method) this.log.log({ validatorId: move.validatorId, method, why }, 'failover re-planned');
    return method;
  }

  /**
   * The last attempt failed: the validator is `failed`, fenced (a new generation, no host), with a
   * reason a person can act on. No node may run its identity until someone decides.
   */
  async giveUp(move: LiveMove, why: string): Promise<boolean> {
    let stop: string | null = null;
    const gaveUp = await this.repos.transaction(async (tx) => {
      const v = await this.lockValidator(tx, move.validatorId);
      if (!v || v.state !== 'failing_over' || v.generation !== move.generation) return false;
      stop = v.instanceId;
      if (!(await this.repos.failovers.close(move.id, 'failed', why, tx))) return false;
      const reason = `${why}. Its identity is fenced and no node runs it: check the zones and the standby pool (GET /v1/zones), then retire it or launch it again elsewhere.`;
      const moved = await this.repos.validators.transition(
        v.id,
        'failed',
        {
          generation: v.generation + 1,
          hostId: null,
          zone: null,
          instanceId: null,
          stateReason: reason,
        },
        { from: ['failing_over'], tx },
      );
      if (!moved) return false;
      await this.repos.events.append(
        {
          type: 'failover.failed',
          message: `Failover of ${v.name} (${v.nodeId}) failed: ${why}`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: v.hostId,
          zone: v.zone,
          data: { attempts: move.attempt, reason: why },
        },
        tx,
      );
      await this.repos.events.append(
        {
          type: 'validator.failed',
          message: `Validator ${v.name} failed: ${reason}`,
          projectId: v.projectId,
          validatorId: v.id,
        },
        tx,
      );
      this.log.error({ validatorId: v.id, why }, 'failover gave up');
      return true;
    });
    if (gaveUp) this.forceStop(stop, move.validatorId);
    return gaveUp;
  }

  /**
   * Cloud-confirmed fencing, the fast path: ask the cloud to force-stop the instance the identity
   * left. The call proves nothing; keys move once a Describe shows it Stopped or gone (the sweeper
   * records that as `stop_confirmed_at`), or when its lease has run out plus the skew margin. Not
   * awaited: a degraded cloud API must not slow the failovers behind this one.
   */
  private forceStop(instanceId: string | null, validatorId: string): void {
    if (!instanceId) return;
    this.cloud
      .stop([instanceId])
      .catch((err: unknown) =>
        this.log.warn(
          { validatorId, instanceId, err: (err as Error).message },
          'force-stop refused; fencing waits for the lease to run out or the cloud to show it stopped',
        ),
      );
  }

  /** Ends a move that no longer applies (retired, superseded) or whose end was not recorded. */
  async end(move: LiveMove, status: 'done' | 'cancelled', why: string): Promise<boolean> {
    return this.repos.transaction(async (tx) => {
      const row = await this.repos.failovers.close(move.id, status, why, tx);
      if (!row) return false;
      await this.repos.events.append(
        {
          type: status === 'done' ? 'failover.completed' : 'failover.cancelled',
          message: `Move of validator ${move.validatorId} ${status === 'done' ? 'completed' : 'cancelled'}: ${why}`,
          projectId: row.projectId,
          validatorId: row.validatorId,
          data: { attempt: move.attempt, reason: why },
        },
        tx,
      );
      return true;
    });
  }

  private async place(
    tx: Tx,
    v: ValidatorEntity,
    o: {
      from: HostEntity | null;
      reason: string;
      detectedAt: Date;
      attempt: number;
      blocked: string[];
      avoidZone?: string | null;
      /** Default `failover`. A planned move (upgrade) goes onto `standbyId` or nowhere. */
      kind?: MoveKind;
      standbyId?: string;
      fromVersion?: string | null;
    },
  ): Promise<Method | null> {
    const kind = o.kind ?? 'failover';
    const fromZone = o.from?.zone ?? null;
    // A failover leaves its zone. A planned move may stay in it (its standby is already chosen); a
    // rollback leaves a bad release, not a bad zone: it tries the zone last.
    const planned = o.standbyId !== undefined || kind === 'rollback';
    const avoid = planned ? [] : [fromZone, o.avoidZone].filter((z): z is string => !!z);
    let zones = placementOrder({
      configured: this.config.cloud.zones,
      allowed: v.zones,
      blocked: [...o.blocked, ...avoid],
      avoid: kind === 'rollback' && fromZone ? [fromZone] : [],
    });
    // A re-plan prefers another zone than the failed target's, but will use that zone again before
    // giving up altogether (a single host failed, not its zone).
    if (!zones.length && o.avoidZone)
      zones = placementOrder({
        configured: this.config.cloud.zones,
        allowed: v.zones,
        blocked: [...o.blocked, ...(fromZone ? [fromZone] : [])],
      });
    if (!zones.length) {
      // Nowhere to go: every zone it may use is closed to placement (or is the one it is leaving).
      // Fencing it now would only take the identity off a host that may come back; hold, and say so.
      if (o.attempt === 1) {
        const held = `failover held: no zone it may use is open to placement (${o.reason})`;
        if (v.stateReason !== held)
          await this.repos.validators.update(v.id, { stateReason: held }, tx);
        return null;
      }
    }
    const generation = v.generation + 1;
    // The spec's version and L1 only: a move never silently changes what a validator runs.
    const standby = zones.length
      ? await this.repos.hosts.takeSyncedStandby(v.network, zones, tx, {
          version: v.avalanchegoVersion,
          id: o.standbyId,
          // Only a node already tracking its L1 (or, primary network, none): else a launch that does.
          subnetId: v.subnetId,
        })
      : undefined;
    if (o.standbyId && !standby) return null; // a planned move's standby was taken meanwhile
    const versions =
      kind === 'failover'
        ? ''
        : `avalanchego ${o.fromVersion ?? 'unknown'} → ${v.avalanchegoVersion}`;
    const base = {
      generation,
      state: 'failing_over' as const,
      stateReason:
        kind === 'upgrade'
          ? `upgrading ${versions}: a planned move off ${o.from?.instanceId ?? 'its host'} in ${fromZone ?? '?'} onto an upgraded standby`
          : `${o.attempt > 1 ? `attempt ${o.attempt}: ` : ''}${kind === 'rollback' ? `rolling back (${versions}): ` : ''}moving off ${o.from?.instanceId ?? 'its host'} in ${fromZone ?? '?'}: ${o.reason}`,
    };
    if (standby) {
      await this.repos.hosts.update(
        standby.id,
        {
          role: 'assigned',
          validatorId: v.id,
          projectId: v.projectId,
          generation,
          keysFetchedGeneration: null,
        },
        tx,
      );
      await this.repos.validators.update(
        v.id,
        { ...base, hostId: standby.id, zone: standby.zone, instanceId: standby.instanceId },
        tx,
      );
    } else {
      await this.repos.validators.update(
        v.id,
        { ...base, hostId: null, zone: null, instanceId: null },
        tx,
      );
    }
    const method: Method = standby ? 'standby' : 'launch';
    const now = new Date();
    await this.repos.failovers.start(
      {
        validatorId: v.id,
        projectId: v.projectId,
        fromHostId: o.from?.id ?? null,
        toHostId: standby?.id ?? null,
        fromZone,
        toZone: standby?.zone ?? null,
        generation,
        reason: o.reason,
        method,
        kind,
        attempt: o.attempt,
        status: 'running',
        startedAt: now,
        deadlineAt: new Date(
          now.getTime() +
            (kind === 'upgrade'
              ? this.config.avalanchego.moveDeadlineSeconds
              : this.config.failover.deadlineSeconds) *
              1000,
        ),
        detectedAt: o.detectedAt,
        fromVersion: kind === 'failover' ? null : (o.fromVersion ?? null),
        toVersion: kind === 'failover' ? null : v.avalanchegoVersion,
      },
      tx,
    );
    const attempt =
      o.attempt > 1 ? ` (attempt ${o.attempt} of ${this.config.failover.maxAttempts})` : '';
    if (kind === 'upgrade') {
      await this.repos.events.append(
        {
          type: 'upgrade.started',
          message: `Upgrading ${v.name} (${v.nodeId}): ${versions}, a planned move from ${o.from?.instanceId ?? 'its host'} in ${fromZone} onto standby ${standby!.instanceId} in ${standby!.zone}`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: o.from?.id ?? null,
          zone: fromZone,
          data: {
            generation,
            fromVersion: o.fromVersion ?? null,
            toVersion: v.avalanchegoVersion,
            fromZone,
            toZone: standby!.zone,
          },
        },
        tx,
      );
      return method;
    }
    await this.repos.events.append(
      {
        type: kind === 'rollback' ? 'upgrade.rollback_started' : 'failover.started',
        message: standby
          ? `Moving ${v.name} (${v.nodeId}) from ${fromZone} to a synced standby ${standby.instanceId} in ${standby.zone}${attempt}: ${o.reason}`
          : `Moving ${v.name} (${v.nodeId}) off ${fromZone}: no synced standby available, launching a new instance (slower)${attempt}: ${o.reason}`,
        projectId: v.projectId,
        validatorId: v.id,
        hostId: o.from?.id ?? null,
        zone: fromZone,
        data: { generation, method, toZone: standby?.zone ?? null, fromZone, attempt: o.attempt },
      },
      tx,
    );
    return method;
  }

  private lockValidator(tx: Tx, id: string) {
    return this.repos.validators.findForUpdate(id, tx);
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
}
