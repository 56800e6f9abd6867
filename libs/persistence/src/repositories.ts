import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { DataSource, EntityManager, In, IsNull, LessThan, Not } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import {
  statesLeadingTo,
  type HealthState,
  type HostRole,
  type ValidatorState,
} from '@snowline/domain';
import {
  ApiKeyEntity,
  EventEntity,
  HostEntity,
  ProjectEntity,
  StakingIdentityEntity,
  ValidatorEntity,
} from './entities';
import {
  EventFeedRepository,
  IdempotencyRepository,
  TenancyRepository,
  WebhookRepository,
} from './public-api.repositories';
import {
  ControlLoopRepository,
  FailoverRepository,
  IncidentRepository,
  ZoneRepository,
} from './health.repositories';
import { StandbyPoolRepository } from './declarative.repositories';
import { InstanceTypeCatalogRepository } from './catalog.repository';
import { RetentionRepository } from './retention.repository';

export const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Opaque keyset cursor: (createdAt, id) of the last item of a page. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`, 'utf8').toString('base64url');
}
export function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const [ts, id] = raw.split('|');
  const createdAt = new Date(ts ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) return null;
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  return { createdAt, id };
}

/** Statement names by SQL text: one hash per distinct text, not per call. */
const statementNames = new Map<string, string>();

abstract class Repo {
  constructor(protected readonly ds: DataSource) {}
  protected em(tx?: EntityManager): EntityManager {
    return tx ?? this.ds.manager;
  }
  /**
   * A hot statement of the public API as a named prepared statement: Postgres parses and plans it once
   * per pooled connection instead of on every call (the list query's parse and plan cost more than
   * running it). Inside a transaction (`tx`) it runs on the transaction's connection, unprepared.
   * The name is a hash of the text, so each distinct text (filters vary it) is its own statement.
   * Each row is an array of its columns in order (`rowMode: 'array'`, no keyed object per row); in a
   * transaction (rare: an import) TypeORM gives objects, whose values keep column order.
   */
  protected async prepared<T extends unknown[]>(
    text: string,
    values: unknown[],
    tx?: EntityManager,
  ): Promise<T[]> {
    if (tx) return ((await tx.query(text, values)) as object[]).map((r) => Object.values(r) as T);
    let name = statementNames.get(text);
    if (!name) {
      name = `sl_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      statementNames.set(text, name);
    }
    const pool = (this.ds.driver as PostgresDriver).master as Pool;
    return (await pool.query({ name, text, values, rowMode: 'array' })).rows as T[];
  }
  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}

export class ProjectRepository extends Repo {
  findById(id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(ProjectEntity, { id });
  }
  findDefault(tx?: EntityManager) {
    return this.em(tx).findOneBy(ProjectEntity, { isDefault: true });
  }
  create(name: string, isDefault = false, tx?: EntityManager) {
    return this.em(tx).save(ProjectEntity, this.em(tx).create(ProjectEntity, { name, isDefault }));
  }
}

export class ApiKeyRepository extends Repo {
  async create(
    input: { projectId: string; name: string; scopes: string[]; secret: string },
    tx?: EntityManager,
  ): Promise<ApiKeyEntity> {
    const em = this.em(tx);
    return em.save(
      ApiKeyEntity,
      em.create(ApiKeyEntity, {
        projectId: input.projectId,
        name: input.name,
        scopes: input.scopes,
        prefix: input.secret.slice(0, 12),
        secretHash: sha256Hex(input.secret),
      }),
    );
  }
  /** Looks a key up by its secret; revoked keys are not found. */
  findActiveBySecret(secret: string): Promise<ApiKeyEntity | null> {
    return this.findActiveByHash(sha256Hex(secret));
  }
  findActiveByHash(secretHash: string): Promise<ApiKeyEntity | null> {
    return this.ds.manager.findOneBy(ApiKeyEntity, { secretHash, revokedAt: IsNull() });
  }
  findBySecretHash(hash: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(ApiKeyEntity, { secretHash: hash });
  }
  listForProject(projectId: string) {
    return this.ds.manager.find(ApiKeyEntity, {
      where: { projectId },
      order: { createdAt: 'ASC' },
    });
  }
}

export class IdentityRepository extends Repo {
  findById(id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(StakingIdentityEntity, { id });
  }
  /** The NodeID's identity row in use (not superseded by a re-import). */
  findByNodeId(nodeId: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(StakingIdentityEntity, { nodeId, supersededAt: IsNull() });
  }
  /** As findByNodeId, locked (FOR UPDATE) until `tx` ends: a re-import decides under it. */
  findByNodeIdForUpdate(nodeId: string, tx: EntityManager) {
    return tx.findOne(StakingIdentityEntity, {
      where: { nodeId, supersededAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
  }
  /** Some validator not retired uses this identity (a retiring one counts: its hosts may still run). */
  async inUse(identityId: string, tx: EntityManager): Promise<boolean> {
    const rows = (await tx.query(
      `SELECT 1 FROM validators WHERE identity_id = $1 AND state <> 'retired' LIMIT 1`,
      [identityId],
    )) as unknown[];
    return rows.length > 0;
  }
  async supersede(identityId: string, tx: EntityManager): Promise<void> {
    await tx.query(`UPDATE staking_identities SET superseded_at = now() WHERE id = $1`, [
      identityId,
    ]);
  }
  insert(
    row: Omit<StakingIdentityEntity, 'id' | 'createdAt' | 'supersededAt'>,
    tx?: EntityManager,
  ) {
    const em = this.em(tx);
    return em.save(StakingIdentityEntity, em.create(StakingIdentityEntity, row));
  }
  all(tx?: EntityManager) {
    return this.em(tx).find(StakingIdentityEntity, { order: { createdAt: 'ASC' } });
  }
  /** Key rotation: every identity, with inserts and updates blocked until `tx` ends. */
  async allLockedForRotation(tx: EntityManager) {
    await tx.query('LOCK TABLE staking_identities IN EXCLUSIVE MODE');
    return tx.find(StakingIdentityEntity, { order: { createdAt: 'ASC' } });
  }
  updateWrapping(id: string, wrappedDataKey: Buffer, masterKeyId: string, tx?: EntityManager) {
    return this.em(tx).update(StakingIdentityEntity, { id }, { wrappedDataKey, masterKeyId });
  }
}

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
  h.health, h.health_reason, h.health_since, h.last_report_at`;
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
    currentHost:
      r[20] === null
        ? null
        : { state: r[20], reason: r[21], healthSince: r[22], lastReportAt: r[23] },
  };
}

function fromViewRow(r: ValidatorViewRow): ValidatorWithIdentity {
  return {
    ...fromListRow(r as unknown as ValidatorListRow),
    projectId: r[24],
    identityId: r[25],
    hostId: r[26],
    attempt: r[27],
  };
}

export class ValidatorRepository extends Repo {
  findByIds(ids: string[], tx?: EntityManager) {
    return ids.length ? this.em(tx).findBy(ValidatorEntity, { id: In(ids) }) : Promise.resolve([]);
  }
  /**
   * Locks the validator and says whether it still waits for its first launch: no host row for its
   * generation (a batch another job made for it counts). False too when another transaction holds
   * it (SKIP LOCKED: most likely another job batching it; the reconciler re-derives the rest).
   */
  async lockIfWaitingForBatch(id: string, tx: EntityManager): Promise<boolean> {
    const rows = (await tx.query(
      `SELECT v.id FROM validators v
        WHERE v.id = $1 AND v.state IN ('pending', 'provisioning') AND v.host_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.validator_id = v.id AND h.generation = v.generation)
        FOR UPDATE OF v SKIP LOCKED`,
      [id],
    )) as unknown[];
    return rows.length > 0;
  }
  /** Whether a validator of this project and type created in the last minute still waits for its identity. */
  async awaitingIdentity(projectId: string, instanceType: string): Promise<boolean> {
    const rows = (await this.ds.query(
      `SELECT 1 FROM validators WHERE project_id = $1 AND instance_type = $2 AND state = 'pending'
          AND identity_id IS NULL AND created_at > now() - interval '1 minute' LIMIT 1`,
      [projectId, instanceType],
    )) as unknown[];
    return rows.length > 0;
  }
  async markProvisioning(ids: string[], tx: EntityManager): Promise<void> {
    await tx.query(
      `UPDATE validators SET state = 'provisioning', state_reason = 'placing', updated_at = now()
        WHERE id = ANY($1::uuid[]) AND state = 'pending'`,
      [ids],
    );
  }
  /** See takeWaitingForBatchQuery; the rows, locked until `tx` ends. */
  async takeWaitingForBatch(
    v: { id: string; projectId: string; instanceType: string },
    limit: number,
    tx: EntityManager,
  ): Promise<ValidatorEntity[]> {
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
    tx: EntityManager,
  ): Promise<boolean> {
    const res = await tx
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
  findById(id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(ValidatorEntity, { id });
  }
  /** The validator locked (FOR UPDATE) until `tx` ends: a move decides under it. */
  findForUpdate(id: string, tx: EntityManager) {
    return tx.findOne(ValidatorEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }
  findForProject(projectId: string, id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(ValidatorEntity, { id, projectId });
  }
  insert(row: Partial<ValidatorEntity>, tx?: EntityManager) {
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
    tx?: EntityManager,
  ): Promise<ValidatorWithIdentity> {
    const rows = await this.prepared<ValidatorViewRow>(
      `WITH v AS (
         INSERT INTO validators (project_id, name, network, instance_type, zones, labels, protected,
                                 state, identity_id, node_id, managed_by_config)
         VALUES ($1, $2, $3, $4, $5::text[], $6::jsonb, $7, 'pending', $8, $9, $13)
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
    tx: EntityManager,
  ): Promise<{ id: string; projectId: string; name: string } | null> {
    const rows = (await tx.query(
      `SELECT id, project_id AS "projectId", name FROM validators
        WHERE identity_id IS NULL AND state = 'pending'
        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    )) as { id: string; projectId: string; name: string }[];
    return rows[0] ?? null;
  }
  /** Attaches a generated identity; false when the validator moved on (retired) meanwhile. */
  async attachIdentity(
    id: string,
    identityId: string,
    nodeId: string,
    tx: EntityManager,
  ): Promise<boolean> {
    const res = await tx
      .createQueryBuilder()
      .update(ValidatorEntity)
      .set({ identityId, nodeId })
      .where(`id = :id AND identity_id IS NULL AND state = 'pending'`, { id })
      .execute();
    return (res.affected ?? 0) > 0;
  }
  async list(q: ValidatorListQuery): Promise<ValidatorEntity[]> {
    const qb = this.ds.manager
      .createQueryBuilder(ValidatorEntity, 'v')
      .where('v.project_id = :projectId', { projectId: q.projectId });
    if (q.state) qb.andWhere('v.state = :state', { state: q.state });
    if (q.network) qb.andWhere('v.network = :network', { network: q.network });
    if (q.zone) qb.andWhere('v.zone = :zone', { zone: q.zone });
    if (q.labels && Object.keys(q.labels).length)
      qb.andWhere('v.labels @> CAST(:labels AS jsonb)', { labels: JSON.stringify(q.labels) });
    if (q.cursor) {
      qb.andWhere('(v.created_at, v.id) < (:ts, :cid)', {
        ts: q.cursor.createdAt,
        cid: q.cursor.id,
      });
    }
    return qb.orderBy('v.created_at', 'DESC').addOrderBy('v.id', 'DESC').limit(q.limit).getMany();
  }
  /** Every validator in one of the given states (for the reconciler and the e2e tests). */
  findInStates(states: ValidatorState[], tx?: EntityManager) {
    return this.em(tx).find(ValidatorEntity, { where: { state: In(states) } });
  }
  /**
   * The one way a validator's state changes: `UPDATE … WHERE id = $1 AND state IN (allowed)`.
   * Returns false when another actor moved it first — the caller then does nothing.
   */
  async transition(
    id: string,
    to: ValidatorState,
    patch: Partial<ValidatorEntity> = {},
    opts: { from?: ValidatorState[]; tx?: EntityManager } = {},
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
  update(id: string, patch: Partial<ValidatorEntity>, tx?: EntityManager) {
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
export async function takeWaitingForBatchQuery(
  tx: EntityManager,
  v: { id: string; projectId: string; instanceType: string },
  limit: number,
): Promise<string[]> {
  // `v` first, locked like the others; then its project's validators of the same type that have
  // never had a host for their generation (a failed batch member launches alone), SKIP LOCKED so
  // a validator another job is placing is left to it.
  const rows = (await tx.query(
    `SELECT v.id FROM validators v
      WHERE v.project_id = $2 AND v.instance_type = $3 AND v.state IN ('pending', 'provisioning')
        AND v.host_id IS NULL AND v.identity_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.validator_id = v.id AND h.generation = v.generation)
      ORDER BY (v.id = $1) DESC, v.created_at
      LIMIT $4
      FOR UPDATE OF v SKIP LOCKED`,
    [v.id, v.projectId, v.instanceType, limit],
  )) as { id: string }[];
  return rows.map((r) => r.id);
}

/** keys:rotate: re-seals every unspent `bootstrap_token_sealed` of a table, rows locked until `tx` ends. */
async function resealTokenColumn(
  table: 'hosts' | 'launch_batches',
  reseal: (sealed: Buffer, id: string) => Buffer,
  tx: EntityManager,
): Promise<number> {
  const rows = (await tx.query(
    `SELECT id, bootstrap_token_sealed FROM ${table} WHERE bootstrap_token_sealed IS NOT NULL FOR UPDATE`,
  )) as { id: string; bootstrap_token_sealed: Buffer }[];
  for (const r of rows) {
    await tx.query(`UPDATE ${table} SET bootstrap_token_sealed = $2 WHERE id = $1`, [
      r.id,
      reseal(r.bootstrap_token_sealed, r.id),
    ]);
  }
  return rows.length;
}

export class HostRepository extends Repo {
  findById(id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(HostEntity, { id });
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
  ): Promise<{
    leaseExpiresAt: Date;
    validatorId: string | null;
    generation: number | null;
    nodeId: string | null;
  } | null> {
    const ready =
      report.running === true && report.healthy === true && report.bootstrapped === true;
    const rows = (await this.ds.query(
      generation === null
        ? `UPDATE hosts SET lease_expires_at = clock_timestamp() + make_interval(secs => $3),
                  last_report = $4::jsonb, last_report_at = clock_timestamp()
            WHERE id = $1 AND agent_signing_key = $2 AND role = 'standby' AND NOT fenced
              AND deleted_at IS NULL AND stop_confirmed_at IS NULL
            RETURNING lease_expires_at, NULL::uuid AS validator_id, NULL::int AS generation, NULL::text AS node_id`
        : `WITH h0 AS (
             SELECT id, validator_id FROM hosts
              WHERE id = $1 AND agent_signing_key = $2 AND role = 'assigned' AND NOT fenced
                AND deleted_at IS NULL AND stop_confirmed_at IS NULL
                AND generation = $5 AND lease_expires_at > clock_timestamp()
              FOR UPDATE
           ), v AS (
             SELECT id, state, generation, node_id FROM validators
              WHERE id = (SELECT validator_id FROM h0) AND host_id = $1 AND generation = $5
                AND node_id IS NOT NULL
                AND state NOT IN ('retiring', 'retired', 'failed', 'provisioning')
                AND (CASE WHEN $6 THEN state = 'active' AND node_id = $7 ELSE true END)
              FOR UPDATE
           )
           UPDATE hosts h SET lease_expires_at = clock_timestamp() + make_interval(secs => $3),
                  last_report = $4::jsonb, last_report_at = clock_timestamp()
             FROM v WHERE h.id = (SELECT id FROM h0)
           RETURNING h.lease_expires_at, v.id AS validator_id, v.generation, v.node_id`,
      generation === null
        ? [hostId, signingKey, ttlSeconds, JSON.stringify(report)]
        : [
            hostId,
            signingKey,
            ttlSeconds,
            JSON.stringify(report),
            generation,
            ready,
            report.nodeId ?? null,
          ],
    )) as [
      {
        lease_expires_at: Date;
        validator_id: string | null;
        generation: number | null;
        node_id: string | null;
      }[],
      number,
    ];
    const row = rows[0]?.[0];
    return row
      ? {
          leaseExpiresAt: row.lease_expires_at,
          validatorId: row.validator_id,
          generation: row.generation,
          nodeId: row.node_id,
        }
      : null;
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
  findInBatch(batchId: string, instanceId: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(HostEntity, { batchId, instanceId, deletedAt: IsNull() });
  }
  /** A batch's live hosts, in their batch order. */
  inBatch(batchId: string, tx?: EntityManager) {
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
    tx: EntityManager,
  ): Promise<number> {
    return resealTokenColumn('hosts', reseal, tx);
  }
  /** Live protocol-1 hosts (launched before host credentials): what keys:rotate warns about. */
  async countLiveProtocol1(tx?: EntityManager): Promise<number> {
    const rows = (await this.em(tx).query(
      `SELECT count(*)::int AS n FROM hosts WHERE agent_protocol = 1 AND deleted_at IS NULL`,
    )) as { n: number }[];
    return rows[0]?.n ?? 0;
  }
  findByClientToken(clientToken: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(HostEntity, { clientToken });
  }
  insert(row: Partial<HostEntity>, tx?: EntityManager) {
    const em = this.em(tx);
    return em.save(HostEntity, em.create(HostEntity, row));
  }
  update(id: string, patch: Partial<HostEntity>, tx?: EntityManager) {
    // jsonb columns confuse TypeORM's deep-partial type; the patch is a plain column map.
    return this.em(tx).update(HostEntity, { id }, patch as Parameters<EntityManager['update']>[2]);
  }
  /**
   * Every host that ever held this NodeID, across validators (a re-imported identity's former
   * holders included, deleted or pending deletion alike), except `hostId`.
   */
  async formerHoldersOfNodeId(nodeId: string, hostId: string, tx: EntityManager) {
    return tx
      .createQueryBuilder(HostEntity, 'h')
      .innerJoin(ValidatorEntity, 'v', 'v.id = h.validator_id')
      .where('v.node_id = :nodeId AND h.id <> :hostId', { nodeId, hostId })
      .getMany();
  }
  liveForValidator(validatorId: string, tx?: EntityManager) {
    return this.em(tx).find(HostEntity, { where: { validatorId, deletedAt: IsNull() } });
  }
  live(tx?: EntityManager) {
    return this.em(tx).find(HostEntity, {
      where: { deletedAt: IsNull(), instanceId: Not(IsNull()) },
    });
  }
  staleLeases(now: Date) {
    return this.ds.manager.find(HostEntity, {
      where: { deletedAt: IsNull(), leaseExpiresAt: LessThan(now) },
    });
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
  /** Usable standbys (live, not fenced, not unhealthy) per zone and network. */
  async standbyCounts(): Promise<{ zone: string; network: string; n: number }[]> {
    return (await this.ds.query(
      `SELECT zone, network, count(*)::int AS n FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health <> 'unhealthy'
        GROUP BY zone, network`,
    )) as { zone: string; network: string; n: number }[];
  }
  /**
   * Takes up to `count` usable standbys of one pool, newest and least ready first, under FOR UPDATE
   * SKIP LOCKED and only while still a standby (a failover claiming one wins), and marks them deleted.
   */
  async takeSurplusStandbys(
    network: string,
    zone: string,
    count: number,
    tx: EntityManager,
  ): Promise<{ id: string; instanceId: string | null }[]> {
    const rows = (await tx.query(
      `SELECT id, instance_id AS "instanceId" FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health <> 'unhealthy'
          AND network = $1 AND zone = $2
        ORDER BY (last_report->>'bootstrapped')::boolean IS TRUE, created_at DESC
        LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [network, zone, count],
    )) as { id: string; instanceId: string | null }[];
    if (!rows.length) return rows;
    await tx.query(
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
          AND (h.stop_confirmed_at IS NOT NULL OR h.lease_expires_at IS NULL
               OR h.lease_expires_at < now() - make_interval(secs => $1))
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
  async markReaped(ids: string[], tx?: EntityManager): Promise<void> {
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
   * Takes (FOR UPDATE SKIP LOCKED) the first synced standby of `network` in `zones`, in their order:
   * healthy, bootstrapped, with an instance, not fenced.
   */
  async takeSyncedStandby(
    network: string,
    zones: string[],
    tx: EntityManager,
  ): Promise<{ id: string; zone: string; instanceId: string } | undefined> {
    const [row] = (await tx.query(
      `SELECT id, zone, instance_id AS "instanceId" FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health = 'healthy'
          AND network = $1 AND zone = ANY($2) AND instance_id IS NOT NULL
          AND (last_report->>'bootstrapped')::boolean IS TRUE
        ORDER BY array_position($2, zone), created_at
        LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [network, zones],
    )) as { id: string; zone: string; instanceId: string }[];
    return row;
  }
  /** Host rows of a move attempt that never got an instance: gone, so a late launch is an orphan. */
  async abandonUnlaunched(
    validatorId: string,
    generation: number,
    tx: EntityManager,
  ): Promise<void> {
    await tx.update(
      HostEntity,
      { validatorId, generation, instanceId: IsNull(), deletedAt: IsNull() },
      { deletedAt: new Date(), fenced: true, cloudStatus: 'NotLaunched' },
    );
  }
  /**
   * A retired validator's hosts: every live one fenced; all but those whose instance deletion is
   * still pending (`pendingInstanceIds`) marked deleted.
   */
  async retireAllOf(
    validatorId: string,
    pendingInstanceIds: string[],
    tx: EntityManager,
  ): Promise<void> {
    await tx.update(HostEntity, { validatorId, deletedAt: IsNull() }, { fenced: true });
    await tx.query(
      `UPDATE hosts SET deleted_at = now(), cloud_status = 'Deleted', updated_at = now()
        WHERE validator_id = $1 AND deleted_at IS NULL
          AND (instance_id IS NULL OR NOT (instance_id = ANY($2)))`,
      [validatorId, pendingInstanceIds],
    );
  }
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

export interface NewEvent {
  type: string;
  message: string;
  projectId?: string | null;
  validatorId?: string | null;
  hostId?: string | null;
  zone?: string | null;
  data?: Record<string, unknown>;
}

export class EventRepository extends Repo {
  append(e: NewEvent, tx?: EntityManager) {
    const em = this.em(tx);
    return em.save(
      EventEntity,
      em.create(EventEntity, {
        type: e.type,
        message: e.message,
        projectId: e.projectId ?? null,
        validatorId: e.validatorId ?? null,
        hostId: e.hostId ?? null,
        zone: e.zone ?? null,
        data: e.data ?? {},
      }),
    );
  }
  /** Many events in one statement (a sweep that sees a zone go dark writes thousands). */
  async appendMany(events: NewEvent[], tx?: EntityManager): Promise<void> {
    if (!events.length) return;
    const col = <T>(f: (e: NewEvent) => T) => events.map(f);
    await this.em(tx).query(
      `INSERT INTO events (project_id, validator_id, host_id, zone, type, message, data)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[])`,
      [
        col((e) => e.projectId ?? null),
        col((e) => e.validatorId ?? null),
        col((e) => e.hostId ?? null),
        col((e) => e.zone ?? null),
        col((e) => e.type),
        col((e) => e.message),
        col((e) => JSON.stringify(e.data ?? {})),
      ],
    );
  }
  /** Events after a cursor (exclusive), oldest first. */
  list(q: { projectId: string; validatorId?: string; after?: string; limit: number }) {
    const qb = this.ds.manager
      .createQueryBuilder(EventEntity, 'e')
      .where('e.project_id = :p', { p: q.projectId });
    if (q.validatorId) qb.andWhere('e.validator_id = :v', { v: q.validatorId });
    if (q.after) qb.andWhere('e.id > :after', { after: q.after });
    return qb.orderBy('e.id', 'ASC').limit(q.limit).getMany();
  }
}

/** All repositories over one DataSource. */
/** A launch batch (launch_batches): validators launched by one RunInstances with Amount. */
export interface LaunchBatch {
  id: string;
  zone: string;
  instanceType: string;
  size: number;
  bootstrapTokenHash: string | null;
  bootstrapTokenSealed: Buffer | null;
  bootstrapExpiresAt: Date | null;
  instanceIds: string[] | null;
}

const batchOf = (r: Record<string, unknown>): LaunchBatch => ({
  id: r.id as string,
  zone: r.zone as string,
  instanceType: r.instance_type as string,
  size: r.size as number,
  bootstrapTokenHash: (r.bootstrap_token_hash as string | null) ?? null,
  bootstrapTokenSealed: (r.bootstrap_token_sealed as Buffer | null) ?? null,
  bootstrapExpiresAt: (r.bootstrap_expires_at as Date | null) ?? null,
  instanceIds: (r.instance_ids as string[] | null) ?? null,
});

export class LaunchBatchRepository extends Repo {
  async create(
    b: Pick<
      LaunchBatch,
      'id' | 'zone' | 'instanceType' | 'size' | 'bootstrapTokenHash' | 'bootstrapTokenSealed'
    >,
    tx: EntityManager,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO launch_batches (id, zone, instance_type, size, bootstrap_token_hash, bootstrap_token_sealed)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [b.id, b.zone, b.instanceType, b.size, b.bootstrapTokenHash, b.bootstrapTokenSealed],
    );
  }
  async findById(id: string, tx?: EntityManager): Promise<LaunchBatch | null> {
    const rows = (await this.em(tx).query(`SELECT * FROM launch_batches WHERE id = $1`, [
      id,
    ])) as Record<string, unknown>[];
    return rows[0] ? batchOf(rows[0]) : null;
  }
  async findByTokenHash(hash: string): Promise<LaunchBatch | null> {
    const rows = (await this.ds.query(
      `SELECT * FROM launch_batches WHERE bootstrap_token_hash = $1`,
      [hash],
    )) as Record<string, unknown>[];
    return rows[0] ? batchOf(rows[0]) : null;
  }
  /** Before each RunInstances attempt: the batch's token opens nothing after the TTL. */
  async armToken(id: string, ttlSeconds: number): Promise<void> {
    await this.ds.query(
      `UPDATE launch_batches SET bootstrap_expires_at = clock_timestamp() + make_interval(secs => $2)
        WHERE id = $1 AND bootstrap_token_sealed IS NOT NULL`,
      [id, ttlSeconds],
    );
  }
  /** The cloud's answer, stored before any host row is told its instance (a replay names the same). */
  async recordInstances(id: string, instanceIds: string[]): Promise<void> {
    await this.ds.transaction(async (tx) => {
      await tx.query(
        `UPDATE launch_batches SET instance_ids = $2, launched_at = coalesce(launched_at, now()) WHERE id = $1`,
        [id, instanceIds],
      );
      // Every member learns its instance in the same statement, so its agent can register at once.
      await tx.query(
        `UPDATE hosts SET instance_id = ($2::text[])[batch_index + 1], cloud_status = 'Pending', updated_at = now()
          WHERE batch_id = $1 AND instance_id IS NULL AND deleted_at IS NULL`,
        [id, instanceIds],
      );
    });
  }
  /** Spends the batch's token once every live host of it has bound its own key. */
  async spendIfAllBound(id: string, tx: EntityManager): Promise<void> {
    await tx.query(
      `UPDATE launch_batches SET bootstrap_token_hash = NULL, bootstrap_token_sealed = NULL
        WHERE id = $1 AND NOT EXISTS (
          SELECT 1 FROM hosts WHERE batch_id = $1 AND deleted_at IS NULL AND agent_signing_key IS NULL)`,
      [id],
    );
  }
  /** keys:rotate: re-seals every unspent batch token; `reseal` throws if the old key fails. */
  async resealTokens(
    reseal: (sealed: Buffer, batchId: string) => Buffer,
    tx: EntityManager,
  ): Promise<number> {
    return resealTokenColumn('launch_batches', reseal, tx);
  }
}

export class Repositories {
  readonly projects: ProjectRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly identities: IdentityRepository;
  readonly validators: ValidatorRepository;
  readonly hosts: HostRepository;
  readonly batches: LaunchBatchRepository;
  readonly events: EventRepository;
  readonly eventFeed: EventFeedRepository;
  readonly idempotency: IdempotencyRepository;
  readonly webhooks: WebhookRepository;
  readonly tenancy: TenancyRepository;
  readonly zones: ZoneRepository;
  readonly incidents: IncidentRepository;
  readonly failovers: FailoverRepository;
  readonly controlLoops: ControlLoopRepository;
  readonly standbyPools: StandbyPoolRepository;
  readonly catalog: InstanceTypeCatalogRepository;
  readonly retention: RetentionRepository;
  constructor(readonly ds: DataSource) {
    this.projects = new ProjectRepository(ds);
    this.apiKeys = new ApiKeyRepository(ds);
    this.identities = new IdentityRepository(ds);
    this.validators = new ValidatorRepository(ds);
    this.hosts = new HostRepository(ds);
    this.batches = new LaunchBatchRepository(ds);
    this.events = new EventRepository(ds);
    this.eventFeed = new EventFeedRepository(ds);
    this.idempotency = new IdempotencyRepository(ds);
    this.webhooks = new WebhookRepository(ds);
    this.tenancy = new TenancyRepository(ds);
    this.zones = new ZoneRepository(ds);
    this.incidents = new IncidentRepository(ds);
    this.failovers = new FailoverRepository(ds);
    this.controlLoops = new ControlLoopRepository(ds);
    this.standbyPools = new StandbyPoolRepository(ds);
    this.catalog = new InstanceTypeCatalogRepository(ds);
    this.retention = new RetentionRepository(ds);
  }
  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
  /** One round trip to Postgres (readiness). */
  async ping(): Promise<void> {
    await this.ds.query('SELECT 1');
  }
  /** A fresh UUID from Postgres, for a row whose id must be known before it is inserted. */
  async newId(): Promise<string> {
    const [row] = (await this.ds.query('SELECT gen_random_uuid() AS id')) as { id: string }[];
    return row!.id;
  }
  /**
   * The database's clock, now (`clock_timestamp()`, not the transaction's start). Leases, key grants
   * and verdicts are timed by it, so API replicas and workers on different machines share one clock.
   */
  async clock(tx?: EntityManager): Promise<Date> {
    const [row] = (await (tx ?? this.ds.manager).query(`SELECT clock_timestamp() AS now`)) as {
      now: Date;
    }[];
    return row!.now;
  }
}
