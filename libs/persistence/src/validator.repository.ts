import { In } from 'typeorm';
import { managerOf, type Tx } from './tx';
import {
  statesLeadingTo,
  type HealthState,
  type UpgradePolicy,
  type ValidatorState,
} from '@snowline/domain';
import { ValidatorEntity } from './entities';
import { Repo } from './repo';

export interface NewValidator {
  projectId: string;
  name: string;
  network: ValidatorEntity['network'];
  instanceType: string;
  zones: string[];
  labels: Record<string, string>;
  protected: boolean;
  identityId: string | null;
  nodeId: string | null;
  /** A plan made it: snowline.yaml owns it. */
  managedByConfig?: boolean;
  /** The AvalancheGo version its spec asks for (canonical: the fleet default when it named none). */
  avalanchegoVersion: string;
  upgradePolicy?: UpgradePolicy;
  /** The L1 it validates; null or absent: the primary network. */
  subnetId?: string | null;
}

export interface ValidatorListQuery {
  projectId: string;
  limit: number;
  cursor?: { createdAt: Date; id: string } | null;
  state?: ValidatorState;
  network?: string;
  zone?: string;
  /** Every given label must match (jsonb containment). */
  labels?: Record<string, string>;
}

/** The public half of a staking identity (never the sealed keys). */
export interface IdentityPublic {
  blsPublicKey: string;
  proofOfPossession: string;
  imported: boolean;
}
/**
 * The current host's verdict and the age of its last report, kept apart: a verdict that has not
 * changed for minutes is not a report minutes old. Null when the validator has no current host.
 */
export interface CurrentHostHealth {
  state: HealthState;
  reason: string | null;
  healthSince: Date | null;
  lastReportAt: Date | null;
  /** The version its agent reports (as of lastReportAt); null = unknown. */
  runningVersion: string | null;
}
// Ownership by snowline.yaml is the plans' business (PlanRepository.snapshot), not the public view's.
export type ValidatorWithIdentity = Omit<ValidatorEntity, 'managedByConfig'> & {
  identity: IdentityPublic | null;
  currentHost?: CurrentHostHealth | null;
};

/** A page item of the validators list: what the public view shows, nothing else. */
export type ValidatorListItem = Omit<
  ValidatorWithIdentity,
  'projectId' | 'identityId' | 'hostId' | 'attempt'
>;

/**
 * The public view's columns, read by position (`rowMode: 'array'`: pg builds a keyed object per row
 * otherwise, which cost a page of 20 more than the view built from it). A list selects these only;
 * a single validator adds the four after them. `fromListRow` and `fromViewRow` read this order. The
 * column names must stay distinct: in a transaction the row comes as an object, read in key order.
 */
const VALIDATOR_LIST_COLUMNS = `v.id, v.name, v.network, v.instance_type, v.zones, v.labels, v.protected,
  v.state, v.state_reason, v.generation, v.node_id, v.zone, v.instance_id, v.active_at, v.retired_at,
  v.created_at, v.updated_at, i.bls_public_key, i.proof_of_possession, i.imported,
  h.health, h.health_reason, h.health_since, h.last_report_at,
  v.avalanchego_version, v.upgrade_policy, h.running_version, v.subnet_id`;
/** The joins VALIDATOR_LIST_COLUMNS reads from, after `FROM validators v` (or a CTE named v). */
const VALIDATOR_JOINS = `LEFT JOIN staking_identities i ON i.id = v.identity_id
  LEFT JOIN hosts h ON h.id = v.host_id`;
const VALIDATOR_VIEW_COLUMNS = `${VALIDATOR_LIST_COLUMNS}, v.project_id, v.identity_id, v.host_id, v.attempt`;

type ValidatorListRow = [
  id: string,
  name: string,
  network: ValidatorEntity['network'],
  instanceType: string,
  zones: string[],
  labels: Record<string, string>,
  isProtected: boolean,
  state: ValidatorState,
  stateReason: string | null,
  generation: number,
  nodeId: string | null,
  zone: string | null,
  instanceId: string | null,
  activeAt: Date | null,
  retiredAt: Date | null,
  createdAt: Date,
  updatedAt: Date,
  blsPublicKey: string | null,
  proofOfPossession: string | null,
  imported: boolean | null,
  hostHealth: HealthState | null,
  hostHealthReason: string | null,
  hostHealthSince: Date | null,
  hostLastReportAt: Date | null,
  avalanchegoVersion: string | null,
  upgradePolicy: UpgradePolicy,
  hostRunningVersion: string | null,
  subnetId: string | null,
];
type ValidatorViewRow = [
  ...ValidatorListRow,
  projectId: string,
  identityId: string | null,
  hostId: string | null,
  attempt: number,
];

function fromListRow(r: ValidatorListRow): ValidatorListItem {
  const bls = r[17];
  const pop = r[18];
  return {
    id: r[0],
    name: r[1],
    network: r[2],
    instanceType: r[3],
    zones: r[4],
    labels: r[5],
    protected: r[6],
    state: r[7],
    stateReason: r[8],
    generation: r[9],
    nodeId: r[10],
    zone: r[11],
    instanceId: r[12],
    activeAt: r[13],
    retiredAt: r[14],
    createdAt: r[15],
    updatedAt: r[16],
    identity:
      bls !== null && pop !== null
        ? { blsPublicKey: bls, proofOfPossession: pop, imported: !!r[19] }
        : null,
    avalanchegoVersion: r[24],
    upgradePolicy: r[25],
    subnetId: r[27],
    currentHost:
      r[20] === null
        ? null
        : {
            state: r[20],
            reason: r[21],
            healthSince: r[22],
            lastReportAt: r[23],
            runningVersion: r[26],
          },
  };
}

function fromViewRow(r: ValidatorViewRow): ValidatorWithIdentity {
  return {
    ...fromListRow(r as unknown as ValidatorListRow),
    projectId: r[28],
    identityId: r[29],
    hostId: r[30],
    attempt: r[31],
  };
}

export class ValidatorRepository extends Repo {
  findByIds(ids: string[], tx?: Tx) {
    return ids.length ? this.em(tx).findBy(ValidatorEntity, { id: In(ids) }) : Promise.resolve([]);
  }
  /**
   * Locks the validator and says whether it still waits for its first launch: no host row for its
   * generation (a batch another job made for it counts). False too when another transaction holds
   * it (SKIP LOCKED: most likely another job batching it; the reconciler re-derives the rest).
   */
  async lockIfWaitingForBatch(id: string, tx: Tx): Promise<boolean> {
    const rows = (await managerOf(tx).query(
      `SELECT v.id FROM validators v
        WHERE v.id = $1 AND v.state IN ('pending', 'provisioning') AND v.host_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.validator_id = v.id AND h.generation = v.generation)
        FOR UPDATE OF v SKIP LOCKED`,
      [id],
    )) as unknown[];
    return rows.length > 0;
  }
  /**
   * A batch launch gathering for `v`: how many validators launched with it (same project, instance
   * type, network, release, L1) still wait for their identity (asked for in the last ten minutes: one
   * stuck for longer holds nobody up), and how many are ready (as takeWaitingForBatchQuery takes).
   */
  async batchGathering(v: BatchKey): Promise<{ awaitingIdentity: number; ready: number }> {
    const [row] = (await this.ds.query(
      `SELECT count(*) FILTER (WHERE v.state = 'pending' AND v.identity_id IS NULL
                                 AND v.created_at > now() - interval '10 minutes')::int AS "awaitingIdentity",
              count(*) FILTER (WHERE v.state IN ('pending', 'provisioning') AND v.host_id IS NULL
                                 AND v.identity_id IS NOT NULL
                                 AND NOT EXISTS (SELECT 1 FROM hosts h
                                                  WHERE h.validator_id = v.id AND h.generation = v.generation))::int AS ready
         FROM validators v
        WHERE v.project_id = $1 AND v.instance_type = $2 AND v.network = $3
          AND v.avalanchego_version IS NOT DISTINCT FROM $4 AND v.subnet_id IS NOT DISTINCT FROM $5
          AND v.state IN ('pending', 'provisioning')`,
      [v.projectId, v.instanceType, v.network, v.avalanchegoVersion, v.subnetId],
    )) as { awaitingIdentity: number; ready: number }[];
    return row ?? { awaitingIdentity: 0, ready: 0 };
  }
  async markProvisioning(ids: string[], tx: Tx): Promise<void> {
    await managerOf(tx).query(
      `UPDATE validators SET state = 'provisioning', state_reason = 'placing', updated_at = now()
        WHERE id = ANY($1::uuid[]) AND state = 'pending'`,
      [ids],
    );
  }
  /** See takeWaitingForBatchQuery; the rows, locked until `tx` ends. */
  async takeWaitingForBatch(v: BatchKey, limit: number, tx: Tx): Promise<ValidatorEntity[]> {
    const ids = await takeWaitingForBatchQuery(tx, v, limit);
    const rows = await this.findByIds(ids, tx);
    return ids.map((id) => rows.find((r) => r.id === id)!).filter(Boolean);
  }

  /** Validators per state, for the metrics scrape: one grouped read. */
  async countByState(): Promise<{ state: ValidatorState; n: number }[]> {
    return (await this.ds.query(
      `SELECT state, count(*)::int AS n FROM validators GROUP BY state`,
    )) as { state: ValidatorState; n: number }[];
  }
  /** Every validator not retired, id → state and zone (per-validator metrics, when turned on). */
  async statesForMetrics(): Promise<
    { id: string; name: string; state: ValidatorState; zone: string | null }[]
  > {
    return (await this.ds.query(
      `SELECT id, name, state, zone FROM validators WHERE state <> 'retired'`,
    )) as { id: string; name: string; state: ValidatorState; zone: string | null }[];
  }
  /** The project's validators placed per zone (neither retired nor failed): placement's spread. */
  async countByZone(projectId: string): Promise<Map<string, number>> {
    const rows = (await this.ds.query(
      `SELECT zone, count(*)::int AS n FROM validators
        WHERE project_id = $1 AND zone IS NOT NULL AND state NOT IN ('retired', 'failed') GROUP BY zone`,
      [projectId],
    )) as { zone: string; n: number }[];
    return new Map(rows.map((r) => [r.zone, r.n]));
  }
  /**
   * Records where a launch placed the validator, if it still wants one at `generation` (provisioning
   * or failing over); false when it moved on meanwhile (retired, or moved again).
   */
  async recordPlacement(
    id: string,
    generation: number,
    at: { hostId: string; zone: string; instanceId: string },
    tx: Tx,
  ): Promise<boolean> {
    const res = await managerOf(tx)
      .createQueryBuilder()
      .update(ValidatorEntity)
      .set({ ...at, stateReason: 'instance starting' })
      .where('id = :id AND state IN (:...s) AND generation = :g', {
        id,
        s: ['provisioning', 'failing_over'],
        g: generation,
      })
      .execute();
    return !!res.affected;
  }
  /** Fences a retiring validator: a new generation, no host; its agents stop at their next renewal. */
  async fenceRetiring(id: string): Promise<void> {
    await this.ds.query(
      `UPDATE validators SET generation = generation + 1, host_id = NULL, updated_at = now()
        WHERE id = $1 AND state = 'retiring' AND host_id IS NOT NULL`,
      [id],
    );
  }
  /**
   * Work the database says is outstanding and untouched for `staleSeconds` (≤ 2000 items): validators
   * to provision or retire, and standby rows with no instance yet. The reconciler re-enqueues them.
   */
  outstandingWork(
    staleSeconds: number,
  ): Promise<{ kind: 'validator' | 'standby'; id: string; state: string }[]> {
    const stale = `now() - interval '${Math.max(1, Math.floor(staleSeconds))} seconds'`;
    return this.ds.query(
      `SELECT 'validator' AS kind, id, state FROM validators
        WHERE (state IN ('pending', 'provisioning', 'retiring') OR (state = 'failing_over' AND host_id IS NULL))
          AND updated_at < ${stale}
       UNION ALL
       SELECT 'standby', id, role FROM hosts
        WHERE role = 'standby' AND instance_id IS NULL AND deleted_at IS NULL AND created_at < ${stale}
       LIMIT 2000`,
    ) as Promise<{ kind: 'validator' | 'standby'; id: string; state: string }[]>;
  }
  findById(id: string, tx?: Tx) {
    return this.em(tx).findOneBy(ValidatorEntity, { id });
  }
  /** The validator locked (FOR UPDATE) until `tx` ends: a move decides under it. */
  findForUpdate(id: string, tx: Tx) {
    return managerOf(tx).findOne(ValidatorEntity, {
      where: { id },
      lock: { mode: 'pessimistic_write' },
    });
  }
  /** The validator share-locked (FOR SHARE) until `tx` ends: no move or re-arm changes it meanwhile. */
  findForShare(id: string, tx: Tx) {
    return managerOf(tx).findOne(ValidatorEntity, {
      where: { id },
      lock: { mode: 'pessimistic_read' },
    });
  }
  findForProject(projectId: string, id: string, tx?: Tx) {
    return this.em(tx).findOneBy(ValidatorEntity, { id, projectId });
  }
  insert(row: Partial<ValidatorEntity>, tx?: Tx) {
    const em = this.em(tx);
    return em.save(ValidatorEntity, em.create(ValidatorEntity, row));
  }
  /**
   * A new `pending` validator and its first event in one statement: one round trip, atomic without
   * an explicit transaction (the hot path of `POST /v1/validators`). A live name already taken raises
   * the unique violation (23505) as `insert` does.
   */
  async insertWithEvent(
    row: NewValidator,
    event: { type: string; message: string; data: Record<string, unknown> },
    tx?: Tx,
  ): Promise<ValidatorWithIdentity> {
    const rows = await this.prepared<ValidatorViewRow>(
      `WITH v AS (
         INSERT INTO validators (project_id, name, network, instance_type, zones, labels, protected,
                                 state, identity_id, node_id, managed_by_config,
                                 avalanchego_version, upgrade_policy, subnet_id)
         VALUES ($1, $2, $3, $4, $5::text[], $6::jsonb, $7, 'pending', $8, $9, $13, $14, $15, $16)
         RETURNING *
       ), e AS (
         INSERT INTO events (project_id, validator_id, type, message, data)
         SELECT v.project_id, v.id, $10, $11, $12::jsonb FROM v
       )
       SELECT ${VALIDATOR_VIEW_COLUMNS} FROM v ${VALIDATOR_JOINS}`,
      [
        row.projectId,
        row.name,
        row.network,
        row.instanceType,
        row.zones,
        JSON.stringify(row.labels),
        row.protected,
        row.identityId,
        row.nodeId,
        event.type,
        event.message,
        JSON.stringify(event.data),
        row.managedByConfig ?? false,
        row.avalanchegoVersion,
        row.upgradePolicy ?? 'manual',
        row.subnetId ?? null,
      ],
      tx,
    );
    return fromViewRow(rows[0]!);
  }
  /**
   * One page for the public API: one round trip, the identity's public half joined (LEFT: a generated
   * identity may not exist yet), no entity hydration.
   */
  async listWithIdentities(q: ValidatorListQuery): Promise<ValidatorListItem[]> {
    const where = ['v.project_id = $1'];
    const args: unknown[] = [q.projectId];
    const arg = (v: unknown) => `$${args.push(v)}`;
    if (q.state) where.push(`v.state = ${arg(q.state)}`);
    if (q.network) where.push(`v.network = ${arg(q.network)}`);
    if (q.zone) where.push(`v.zone = ${arg(q.zone)}`);
    if (q.labels && Object.keys(q.labels).length)
      where.push(`v.labels @> ${arg(JSON.stringify(q.labels))}::jsonb`);
    if (q.cursor)
      where.push(`(v.created_at, v.id) < (${arg(q.cursor.createdAt)}, ${arg(q.cursor.id)}::uuid)`);
    const rows = await this.prepared<ValidatorListRow>(
      `SELECT ${VALIDATOR_LIST_COLUMNS} FROM validators v ${VALIDATOR_JOINS}
        WHERE ${where.join(' AND ')}
        ORDER BY v.created_at DESC, v.id DESC LIMIT ${arg(q.limit)}`,
      args,
    );
    return rows.map(fromListRow);
  }
  async findForProjectWithIdentity(
    projectId: string,
    id: string,
  ): Promise<ValidatorWithIdentity | null> {
    const rows = await this.prepared<ValidatorViewRow>(
      `SELECT ${VALIDATOR_VIEW_COLUMNS} FROM validators v ${VALIDATOR_JOINS}
        WHERE v.project_id = $1 AND v.id = $2`,
      [projectId, id],
    );
    return rows[0] ? fromViewRow(rows[0]) : null;
  }
  /** How many validators wait for a generated identity, counted up to `upTo` (a cheap look, no lock). */
  async countAwaitingIdentity(upTo: number): Promise<number> {
    const rows = (await this.ds.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM validators
          WHERE identity_id IS NULL AND state = 'pending' LIMIT $1) w`,
      [upTo],
    )) as { n: number }[];
    return rows[0]!.n;
  }
  /** The oldest pending validator still waiting for a generated identity, locked (SKIP LOCKED). */
  async claimAwaitingIdentity(
    tx: Tx,
  ): Promise<{ id: string; projectId: string; name: string } | null> {
    const rows = (await managerOf(tx).query(
      `SELECT id, project_id AS "projectId", name FROM validators
        WHERE identity_id IS NULL AND state = 'pending'
        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    )) as { id: string; projectId: string; name: string }[];
    return rows[0] ?? null;
  }
  /** Attaches a generated identity; false when the validator moved on (retired) meanwhile. */
  async attachIdentity(id: string, identityId: string, nodeId: string, tx: Tx): Promise<boolean> {
    const res = await managerOf(tx)
      .createQueryBuilder()
      .update(ValidatorEntity)
      .set({ identityId, nodeId })
      .where(`id = :id AND identity_id IS NULL AND state = 'pending'`, { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }
  /**
   * The one way a validator's state changes: `UPDATE … WHERE id = $1 AND state IN (allowed)`.
   * Returns false when another actor moved it first — the caller then does nothing.
   */
  async transition(
    id: string,
    to: ValidatorState,
    patch: Partial<ValidatorEntity> = {},
    opts: { from?: ValidatorState[]; tx?: Tx } = {},
  ): Promise<boolean> {
    const from = opts.from ?? statesLeadingTo(to);
    const res = await this.em(opts.tx)
      .createQueryBuilder()
      .update(ValidatorEntity)
      .set({ ...patch, state: to })
      .where('id = :id AND state IN (:...from)', { id, from })
      .execute();
    return (res.affected ?? 0) > 0;
  }
  update(id: string, patch: Partial<ValidatorEntity>, tx?: Tx) {
    return this.em(tx).update(ValidatorEntity, { id }, patch);
  }
  /**
   * `from` → `to` (active ⇄ degraded) for many validators in one conditional statement; a degraded
   * one keeps its reason. Returns the ids that moved.
   */
  async moveHealthStates(
    reasons: Map<string, string>,
    to: 'active' | 'degraded',
    from: 'active' | 'degraded',
  ): Promise<string[]> {
    if (!reasons.size) return [];
    const moved = (await this.ds.query(
      `UPDATE validators v SET state = $2, state_reason = CASE WHEN $2 = 'degraded' THEN r.reason ELSE NULL END, updated_at = now()
         FROM unnest($1::uuid[], $4::text[]) AS r(id, reason)
        WHERE v.id = r.id AND v.state = $3
        RETURNING v.id`,
      [[...reasons.keys()], to, from, [...reasons.values()]],
    )) as [{ id: string }[], number];
    return moved[0].map((r) => r.id);
  }
}

/** What a batch launch gathers: validators waiting for their first launch with `v`. */
/** What validators launched together share: project, instance type, network, release and L1. */
export interface BatchKey {
  id: string;
  projectId: string;
  instanceType: string;
  network: string;
  avalanchegoVersion: string | null;
  /** Their nodes track the same L1 (one UserData names it). */
  subnetId: string | null;
}

export async function takeWaitingForBatchQuery(
  tx: Tx,
  v: BatchKey,
  limit: number,
): Promise<string[]> {
  // `v` first, locked like the others; then its project's validators of the same type that have
  // never had a host for their generation (a failed batch member launches alone), SKIP LOCKED so
  // a validator another job is placing is left to it.
  const rows = (await managerOf(tx).query(
    `SELECT v.id FROM validators v
      WHERE v.project_id = $2 AND v.instance_type = $3 AND v.state IN ('pending', 'provisioning')
        AND v.network = $5 AND v.avalanchego_version IS NOT DISTINCT FROM $6
        AND v.subnet_id IS NOT DISTINCT FROM $7
        AND v.host_id IS NULL AND v.identity_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.validator_id = v.id AND h.generation = v.generation)
      ORDER BY (v.id = $1) DESC, v.created_at
      LIMIT $4
      FOR UPDATE OF v SKIP LOCKED`,
    [v.id, v.projectId, v.instanceType, limit, v.network, v.avalanchegoVersion, v.subnetId],
  )) as { id: string }[];
  return rows.map((r) => r.id);
}
