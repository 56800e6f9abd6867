import { type EntityManager, IsNull } from 'typeorm';
import { managerOf, type Tx } from './tx';
import {
  reportedVersion,
  type HealthState,
  type HostRole,
  type ValidatorState,
} from '@snowline/domain';
import { HostEntity, ValidatorEntity } from './entities';
import { Repo, resealTokenColumn } from './repo';

/**
 * The version a standby runs: what its agent reported, else what its UserData named (null: a host
 * launched before versions).
 */
const STANDBY_VERSION = 'coalesce(running_version, avalanchego_version)';

/** One lease renewal for the fast path (HostRepository.renewLeasesFast). */
export interface FastRenewalItem {
  hostId: string;
  /** Must still be the host's bound signing key (SPKI base64). */
  signingKey: string;
  generation: number | null;
  report: Record<string, unknown>;
}

/** A renewal the fast path made: the new lease, and the assignment it renewed (null: a standby). */
export interface FastRenewal {
  leaseExpiresAt: Date;
  validatorId: string | null;
  generation: number | null;
  nodeId: string | null;
}

export class HostRepository extends Repo {
  findById(id: string, tx?: Tx) {
    return this.em(tx).findOneBy(HostEntity, { id });
  }
  /**
   * Record a fenced host's stop acknowledgment (never lowered). Only a fenced, undeleted host's
   * counts; the caller judges whether it covers the host's last generation (`acknowledgesStop`).
   */
  async recordStopAcknowledgment(id: string, generation: number): Promise<HostEntity | null> {
    const [rows] = (await this.ds.query(
      `UPDATE hosts
          SET stop_acknowledged_generation = GREATEST(coalesce(stop_acknowledged_generation, -1), $2),
              updated_at = now()
        WHERE id = $1 AND fenced AND deleted_at IS NULL
        RETURNING id`,
      [id, generation],
    )) as [{ id: string }[], number];
    return rows.length ? this.findById(id) : null;
  }
  /** The host locked (FOR UPDATE) until `tx` ends: an agent call decides under it. */
  findForUpdate(id: string, tx: Tx) {
    return managerOf(tx).findOne(HostEntity, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
  }
  findByTokenHash(bootstrapTokenHash: string) {
    return this.ds.manager.findOneBy(HostEntity, { bootstrapTokenHash });
  }
  /**
   * The steady-state lease renewal in one statement (one round trip), or null when the renewal is
   * not the plain case and must take AgentService's full transaction. It locks the host row, then
   * its validator's (the order the full path locks them in, so a key grant or a move serialises
   * with it exactly as with the full path), and renews only when the full rule (`decideLease`) would
   * renew without any other effect: a standby reporting no generation, or the current holder
   * running the current generation, its lease not run out, its instance not confirmed stopped, and
   * its node report moving no state. `signingKey` must still be the host's bound key.
   */
  async renewLeaseFast(
    hostId: string,
    signingKey: string,
    generation: number | null,
    report: Record<string, unknown>,
    ttlSeconds: number,
  ): Promise<FastRenewal | null> {
    const [r] = await this.renewLeasesFast(
      [{ hostId, signingKey, generation, report }],
      ttlSeconds,
    );
    return r ?? null;
  }

  /**
   * Many renewals of `renewLeaseFast` in one statement, one commit (a group commit: the API gathers
   * the renewals that arrive while the previous statement runs). Each item gets exactly the rule
   * of the one-host statement, in the result at its own index (null: not the plain case, take the
   * full path). Rows are locked in id order, hosts before validators as everywhere, and with SKIP
   * LOCKED: a renewal whose host or validator another transaction holds (a move, a key grant) is
   * not waited for here but handed back (null) to the full path, which waits for it properly — so a
   * batch never waits on, or deadlocks with, anything. A host twice in one batch: the second null.
   */
  async renewLeasesFast(
    items: readonly FastRenewalItem[],
    ttlSeconds: number,
  ): Promise<(FastRenewal | null)[]> {
    const seen = new Set<string>();
    const first = items.map((it) => {
      if (seen.has(it.hostId)) return false;
      seen.add(it.hostId);
      return true;
    });
    const batch = items.filter((_, i) => first[i]);
    if (!batch.length) return items.map(() => null);
    const rows = (await this.ds.query(
      `WITH r AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[], $5::bool[], $6::text[], $7::text[])
           AS r(id, signing_key, generation, report, ready, node_id, running)
       ), hs AS (
         SELECT h.id, h.validator_id, r.generation, r.report, r.ready, r.node_id, r.running
           FROM hosts h JOIN r ON h.id = r.id
          WHERE h.agent_signing_key = r.signing_key AND NOT h.fenced
            AND h.deleted_at IS NULL AND h.stop_confirmed_at IS NULL
            AND CASE WHEN r.generation IS NULL THEN h.role = 'standby'
                     ELSE h.role = 'assigned' AND h.generation = r.generation
                          AND h.lease_expires_at > clock_timestamp() END
          ORDER BY h.id
            FOR UPDATE OF h SKIP LOCKED
       ), vs AS (
         SELECT v.id, v.generation, v.node_id, hs.id AS host_id
           FROM validators v JOIN hs ON v.id = hs.validator_id
          WHERE hs.generation IS NOT NULL AND v.host_id = hs.id AND v.generation = hs.generation
            AND v.node_id IS NOT NULL
            AND v.state NOT IN ('retiring', 'retired', 'failed', 'provisioning')
            AND (CASE WHEN hs.ready THEN v.state = 'active' AND v.node_id = hs.node_id ELSE true END)
          ORDER BY v.id
            FOR UPDATE OF v SKIP LOCKED
       ), ok AS (
         SELECT hs.id, hs.report, hs.running, vs.id AS vid, vs.generation AS vgen, vs.node_id AS vnode
           FROM hs LEFT JOIN vs ON vs.host_id = hs.id
          WHERE hs.generation IS NULL OR vs.id IS NOT NULL
       )
       UPDATE hosts h SET lease_expires_at = clock_timestamp() + make_interval(secs => $8),
              last_report = ok.report, last_report_at = clock_timestamp(), running_version = ok.running
         FROM ok WHERE h.id = ok.id
       RETURNING h.id, h.lease_expires_at, ok.vid AS validator_id, ok.vgen AS generation, ok.vnode AS node_id`,
      [
        batch.map((it) => it.hostId),
        batch.map((it) => it.signingKey),
        batch.map((it) => it.generation),
        batch.map((it) => JSON.stringify(it.report)),
        batch.map(
          (it) =>
            it.report.running === true &&
            it.report.healthy === true &&
            it.report.bootstrapped === true,
        ),
        batch.map((it) => (typeof it.report.nodeId === 'string' ? it.report.nodeId : null)),
        // The agent's word for its version, canonical; absent or unreadable = unknown (null).
        batch.map((it) => reportedVersion(it.report.version as string | null | undefined)),
        ttlSeconds,
      ],
    )) as [
      {
        id: string;
        lease_expires_at: Date;
        validator_id: string | null;
        generation: number | null;
        node_id: string | null;
      }[],
      number,
    ];
    const byId = new Map(rows[0].map((row) => [row.id, row]));
    return items.map((it, i) => {
      const row = first[i] ? byId.get(it.hostId) : undefined;
      return row
        ? {
            leaseExpiresAt: row.lease_expires_at,
            validatorId: row.validator_id,
            generation: row.generation,
            nodeId: row.node_id,
          }
        : null;
    });
  }

  /** A protocol-2 host's bound signing key (SPKI base64), or null. */
  async signingKeyOf(id: string): Promise<string | null> {
    const rows = (await this.ds.query(
      `SELECT agent_signing_key FROM hosts WHERE id = $1 AND agent_protocol = 2`,
      [id],
    )) as { agent_signing_key: string | null }[];
    return rows[0]?.agent_signing_key ?? null;
  }
  /** The live host of a batch whose instance is `instanceId`. */
  findInBatch(batchId: string, instanceId: string, tx?: Tx) {
    return this.em(tx).findOneBy(HostEntity, { batchId, instanceId, deletedAt: IsNull() });
  }
  /** A batch's live hosts, in their batch order. */
  inBatch(batchId: string, tx?: Tx) {
    return this.em(tx).find(HostEntity, {
      where: { batchId, deletedAt: IsNull() },
      order: { batchIndex: 'ASC' },
    });
  }
  /** A RunInstances attempt is about to carry this host's token: it opens nothing after the TTL. */
  async armBootstrapToken(id: string, ttlSeconds: number): Promise<void> {
    await this.ds.query(
      `UPDATE hosts SET bootstrap_expires_at = clock_timestamp() + make_interval(secs => $2)
        WHERE id = $1 AND bootstrap_token_sealed IS NOT NULL`,
      [id, ttlSeconds],
    );
  }
  /** Re-seals every unspent bootstrap token (keys:rotate); `reseal` throws if the old key fails. */
  async resealBootstrapTokens(
    reseal: (sealed: Buffer, hostId: string) => Buffer,
    tx: Tx,
  ): Promise<number> {
    return resealTokenColumn('hosts', reseal, tx);
  }
  /** Live protocol-1 hosts (launched before host credentials): what keys:rotate warns about. */
  async countLiveProtocol1(tx?: Tx): Promise<number> {
    const rows = (await this.em(tx).query(
      `SELECT count(*)::int AS n FROM hosts WHERE agent_protocol = 1 AND deleted_at IS NULL`,
    )) as { n: number }[];
    return rows[0]?.n ?? 0;
  }
  insert(row: Partial<HostEntity>, tx?: Tx) {
    const em = this.em(tx);
    return em.save(HostEntity, em.create(HostEntity, row));
  }
  update(id: string, patch: Partial<HostEntity>, tx?: Tx) {
    // jsonb columns confuse TypeORM's deep-partial type; the patch is a plain column map.
    return this.em(tx).update(HostEntity, { id }, patch as Parameters<EntityManager['update']>[2]);
  }
  /**
   * Every host that ever held this NodeID, across validators (a re-imported identity's former
   * holders included, deleted or pending deletion alike), except `hostId`.
   */
  async formerHoldersOfNodeId(nodeId: string, hostId: string, tx: Tx) {
    return managerOf(tx)
      .createQueryBuilder(HostEntity, 'h')
      .innerJoin(ValidatorEntity, 'v', 'v.id = h.validator_id')
      .where('v.node_id = :nodeId AND h.id <> :hostId', { nodeId, hostId })
      .getMany();
  }
  liveForValidator(validatorId: string, tx?: Tx) {
    return this.em(tx).find(HostEntity, { where: { validatorId, deletedAt: IsNull() } });
  }

  /** Every live host with an instance, and its validator's pointer (the health sweep's input). */
  forSweep(): Promise<SweepHost[]> {
    return this.ds.query(
      `SELECT h.id, h.role, h.zone, h.instance_id AS "instanceId", h.validator_id AS "validatorId",
              h.project_id AS "projectId", h.generation, h.created_at AS "createdAt",
              h.registered_at AS "registeredAt", h.lease_expires_at AS "leaseExpiresAt",
              h.last_report_at AS "lastReportAt", h.last_report AS "lastReport",
              h.health, h.health_reason AS "healthReason", h.health_since AS "healthSince",
              h.cloud_status AS "cloudStatus", h.cloud_health AS "cloudHealth",
              h.stop_confirmed_at AS "stopConfirmedAt", v.host_id AS "validatorHostId",
              v.state AS "validatorState", v.generation AS "validatorGeneration"
         FROM hosts h LEFT JOIN validators v ON v.id = h.validator_id
        WHERE h.deleted_at IS NULL AND h.instance_id IS NOT NULL`,
    ) as Promise<SweepHost[]>;
  }
  /**
   * Cloud-confirmed stops: `stop_confirmed_at = describedFrom` for a host seen stopped, unless its
   * agent renewed after the Describe began (proof it is alive); cleared for a host seen running.
   */
  async recordStops(flips: { id: string; stopped: boolean }[], describedFrom: Date): Promise<void> {
    if (!flips.length) return;
    await this.ds.query(
      `UPDATE hosts h SET stop_confirmed_at = CASE WHEN c.stopped THEN $3::timestamptz END
         FROM unnest($1::uuid[], $2::bool[]) AS c(id, stopped)
        WHERE h.id = c.id
          AND (NOT c.stopped OR h.last_report_at IS NULL OR h.last_report_at < $3::timestamptz)`,
      [flips.map((x) => x.id), flips.map((x) => x.stopped), describedFrom],
    );
  }
  /** Verdicts and cloud status in one statement; `health_since` moves only when the state does. */
  async recordVerdicts(verdicts: HostVerdict[], at: Date): Promise<void> {
    if (!verdicts.length) return;
    await this.ds.query(
      `UPDATE hosts h SET
          health = c.health,
          health_reason = c.reason,
          health_since = CASE WHEN h.health = c.health THEN h.health_since ELSE $5::timestamptz END,
          cloud_status = coalesce(c.cloud_status, h.cloud_status),
          cloud_health = coalesce(c.cloud_health, h.cloud_health),
          cloud_observed_at = CASE WHEN c.cloud_status IS NULL THEN h.cloud_observed_at ELSE $5::timestamptz END
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $6::text[])
           AS c(id, health, reason, cloud_status, cloud_health)
        WHERE h.id = c.id`,
      [
        verdicts.map((x) => x.id),
        verdicts.map((x) => x.health),
        verdicts.map((x) => x.reason),
        verdicts.map((x) => x.cloudStatus),
        at,
        verdicts.map((x) => x.cloudHealth),
      ],
    );
  }
  /**
   * Validators running in a zone now (their current host is there), for an incident's list: not the
   * retired, not those never placed. The incident keeps every validator it ever listed, so one that
   * failed over away stays listed as affected.
   */
  async validatorsPlacedIn(zone: string): Promise<string[]> {
    const rows = (await this.ds.query(
      `SELECT v.id FROM validators v JOIN hosts h ON h.id = v.host_id
        WHERE h.zone = $1 AND h.role = 'assigned'
          AND v.state NOT IN ('pending', 'provisioning', 'retiring', 'retired', 'failed')`,
      [zone],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }
  /**
   * Standbys per zone and network: usable (as refill counts them) and ready (what a failover may
   * claim now: healthy, launched, node bootstrapped). One grouped read, for the metrics scrape.
   */
  async standbyLevels(): Promise<
    { zone: string; network: string; usable: number; ready: number }[]
  > {
    return (await this.ds.query(
      `SELECT zone, network, count(*)::int AS usable,
              (count(*) FILTER (WHERE health = 'healthy' AND instance_id IS NOT NULL
                                  AND (last_report->>'bootstrapped')::boolean IS TRUE))::int AS ready
         FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health <> 'unhealthy'
          AND network IS NOT NULL
        GROUP BY zone, network`,
    )) as { zone: string; network: string; usable: number; ready: number }[];
  }
  /**
   * Usable standbys (live, not fenced, not unhealthy) per zone, network, L1 and version (null: launched before versions), and how many of
   * them are synced (healthy, bootstrapped: could take an identity now).
   */
  async standbyCounts(): Promise<StandbyCount[]> {
    return (await this.ds.query(
      `SELECT zone, network, subnet_id AS "subnetId", ${STANDBY_VERSION} AS version,
              count(*)::int AS n,
              (count(*) FILTER (WHERE health = 'healthy' AND instance_id IS NOT NULL
                AND (last_report->>'bootstrapped')::boolean IS TRUE))::int AS synced
         FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health <> 'unhealthy'
        GROUP BY zone, network, subnet_id, 4`,
    )) as StandbyCount[];
  }
  /**
   * Takes up to `count` usable standbys of one pool, newest and least ready first, under FOR UPDATE
   * SKIP LOCKED and only while still a standby (a failover claiming one wins), and marks them deleted.
   */
  async takeSurplusStandbys(
    network: string,
    zone: string,
    count: number,
    tx: Tx,
    version: string | null = null,
    subnetId: string | null = null,
  ): Promise<{ id: string; instanceId: string | null }[]> {
    const rows = (await managerOf(tx).query(
      `SELECT id, instance_id AS "instanceId" FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health <> 'unhealthy'
          AND network = $1 AND zone = $2 AND ${STANDBY_VERSION} IS NOT DISTINCT FROM $4
          AND subnet_id IS NOT DISTINCT FROM $5
        ORDER BY (last_report->>'bootstrapped')::boolean IS TRUE, created_at DESC
        LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [network, zone, count, version, subnetId],
    )) as { id: string; instanceId: string | null }[];
    if (!rows.length) return rows;
    await managerOf(tx).query(
      `UPDATE hosts SET deleted_at = now(), fenced = true, cloud_status = 'Deleted', updated_at = now()
        WHERE id = ANY($1) AND role = 'standby'`,
      [rows.map((r) => r.id)],
    );
    return rows;
  }
  /**
   * What the reaper deletes: former holders superseded by a newer generation whose stop is confirmed
   * or whose lease ran out past the skew margin, and standbys unhealthy for 60 s (≤ 500).
   */
  reapable(skewMarginSeconds: number): Promise<ReapableHost[]> {
    return this.ds.query(
      `SELECT h.id, h.instance_id AS "instanceId", h.zone, h.project_id AS "projectId",
              h.validator_id AS "validatorId",
              CASE WHEN v.state = 'retired' THEN 'the validator was retired'
                   ELSE 'superseded by generation ' || v.generation END AS why
         FROM hosts h JOIN validators v ON v.id = h.validator_id
        WHERE h.deleted_at IS NULL AND h.instance_id IS NOT NULL AND h.role = 'assigned'
          -- Superseded, or left pending deletion by a retire (a zone the cloud could not reach).
          AND (h.generation < v.generation OR v.state = 'retired')
          -- A delete returns before the guest is off: delete a former holder only once its stop is
          -- confirmed or its lease has run out (plus the skew margin), so "gone" stays a proof.
          -- Or once its fenced agent acknowledged the stop of its last generation (acknowledgesStop).
          AND (h.stop_confirmed_at IS NOT NULL OR h.lease_expires_at IS NULL
               OR h.lease_expires_at < now() - make_interval(secs => $1)
               OR (h.fenced AND h.stop_acknowledged_generation >= h.generation))
       UNION ALL
       SELECT id, instance_id, zone, NULL, NULL, 'standby unhealthy: ' || coalesce(health_reason, '')
         FROM hosts
        WHERE deleted_at IS NULL AND instance_id IS NOT NULL AND role = 'standby'
          AND health = 'unhealthy' AND health_since < now() - interval '60 seconds'
       LIMIT 500`,
      [skewMarginSeconds],
    ) as Promise<ReapableHost[]>;
  }
  /** Hosts whose instances were deleted: gone, fenced, `Deleted`. */
  async markReaped(ids: string[], tx?: Tx): Promise<void> {
    await this.em(tx).query(
      `UPDATE hosts SET deleted_at = now(), fenced = true, cloud_status = 'Deleted', updated_at = now()
        WHERE id = ANY($1)`,
      [ids],
    );
  }
  /** Host rows (live or deleted) by id or by instance id: who owns the tagged instances. */
  ownersOf(
    hostIds: string[],
    instanceIds: string[],
  ): Promise<{ id: string; instanceId: string | null; deletedAt: Date | null }[]> {
    return this.ds.query(
      `SELECT id, instance_id AS "instanceId", deleted_at AS "deletedAt" FROM hosts
        WHERE id = ANY($1::uuid[]) OR instance_id = ANY($2)`,
      [hostIds, instanceIds],
    ) as Promise<{ id: string; instanceId: string | null; deletedAt: Date | null }[]>;
  }
  /** Records an orphan instance on the host row that launched it and never recorded it. */
  async adoptInstance(id: string, instanceId: string): Promise<void> {
    await this.ds.query(
      `UPDATE hosts SET instance_id = $2, updated_at = now() WHERE id = $1 AND instance_id IS NULL`,
      [id, instanceId],
    );
  }
  /**
   * A synced standby of the network in one of `zones` (in that order), taken under FOR UPDATE SKIP
   * LOCKED: healthy, bootstrapped, with an instance, not fenced. With `version`, only one that runs
   * it: a failover never silently changes a validator's version (null: the validator predates
   * versions, any standby will do). Only one whose node tracks `subnetId` (an L1 validator's L1;
   * null or absent: a primary-network standby, tracking none): an L1 validator never lands on a node
   * that would have to start syncing its L1. With `id`, that one only.
   */
  async takeSyncedStandby(
    network: string,
    zones: string[],
    tx: Tx,
    opts: { version?: string | null; id?: string; subnetId?: string | null } = {},
  ): Promise<{ id: string; zone: string; instanceId: string } | undefined> {
    const [row] = (await managerOf(tx).query(
      `SELECT id, zone, instance_id AS "instanceId" FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health = 'healthy'
          AND network = $1 AND zone = ANY($2) AND instance_id IS NOT NULL
          AND (last_report->>'bootstrapped')::boolean IS TRUE
          AND ($3::text IS NULL OR ${STANDBY_VERSION} = $3)
          AND ($4::uuid IS NULL OR id = $4)
          AND subnet_id IS NOT DISTINCT FROM $5
        ORDER BY array_position($2, zone), created_at
        LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [network, zones, opts.version ?? null, opts.id ?? null, opts.subnetId ?? null],
    )) as { id: string; zone: string; instanceId: string }[];
    return row;
  }
  /** Host rows of a move attempt that never got an instance: gone, so a late launch is an orphan. */
  async abandonUnlaunched(validatorId: string, generation: number, tx: Tx): Promise<void> {
    await managerOf(tx).update(
      HostEntity,
      { validatorId, generation, instanceId: IsNull(), deletedAt: IsNull() },
      { deletedAt: new Date(), fenced: true, cloudStatus: 'NotLaunched' },
    );
  }
  /**
   * A retired validator's hosts: every live one fenced; all but those whose instance deletion is
   * still pending (`pendingInstanceIds`) marked deleted.
   */
  async retireAllOf(validatorId: string, pendingInstanceIds: string[], tx: Tx): Promise<void> {
    await managerOf(tx).update(HostEntity, { validatorId, deletedAt: IsNull() }, { fenced: true });
    await managerOf(tx).query(
      `UPDATE hosts SET deleted_at = now(), cloud_status = 'Deleted', updated_at = now()
        WHERE validator_id = $1 AND deleted_at IS NULL
          AND (instance_id IS NULL OR NOT (instance_id = ANY($2)))`,
      [validatorId, pendingInstanceIds],
    );
  }
}

/** Usable standbys of one pool in one zone, and how many of them are synced. */
export interface StandbyCount {
  zone: string;
  network: string;
  /** The L1 the pool's nodes track; null: the primary network's pool. */
  subnetId: string | null;
  version: string | null;
  n: number;
  synced: number;
}

/** A live host as the health sweep reads it, with its validator's pointer and state. */
export interface SweepHost {
  id: string;
  role: HostRole;
  zone: string;
  instanceId: string;
  validatorId: string | null;
  projectId: string | null;
  generation: number | null;
  createdAt: Date;
  registeredAt: Date | null;
  leaseExpiresAt: Date | null;
  lastReportAt: Date | null;
  lastReport: { running: boolean; healthy: boolean | null; bootstrapped: boolean | null } | null;
  health: HealthState;
  healthReason: string | null;
  healthSince: Date | null;
  cloudStatus: string | null;
  cloudHealth: string | null;
  stopConfirmedAt: Date | null;
  /** The validator's current host: this host holds the identity when it equals `id`. */
  validatorHostId: string | null;
  validatorState: ValidatorState | null;
  validatorGeneration: number | null;
}

/** One host's new verdict; null cloud fields keep the recorded cloud status. */
export interface HostVerdict {
  id: string;
  health: HealthState;
  reason: string;
  cloudStatus: string | null;
  cloudHealth: string | null;
}

export interface ReapableHost {
  id: string;
  instanceId: string;
  zone: string;
  projectId: string | null;
  validatorId: string | null;
  why: string;
}
