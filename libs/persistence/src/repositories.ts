import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { DataSource, EntityManager, In, IsNull, LessThan, Not } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { statesLeadingTo, type ValidatorState } from '@snowline/domain';
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
  findByNodeId(nodeId: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(StakingIdentityEntity, { nodeId });
  }
  insert(row: Omit<StakingIdentityEntity, 'id' | 'createdAt'>, tx?: EntityManager) {
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
export type ValidatorWithIdentity = ValidatorEntity & { identity: IdentityPublic | null };

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
  v.created_at, v.updated_at, i.bls_public_key, i.proof_of_possession, i.imported`;
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
  };
}

function fromViewRow(r: ValidatorViewRow): ValidatorWithIdentity {
  return {
    ...fromListRow(r as unknown as ValidatorListRow),
    projectId: r[20],
    identityId: r[21],
    hostId: r[22],
    attempt: r[23],
  };
}

export class ValidatorRepository extends Repo {
  findById(id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(ValidatorEntity, { id });
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
                                 state, identity_id, node_id)
         VALUES ($1, $2, $3, $4, $5::text[], $6::jsonb, $7, 'pending', $8, $9)
         RETURNING *
       ), e AS (
         INSERT INTO events (project_id, validator_id, type, message, data)
         SELECT v.project_id, v.id, $10, $11, $12::jsonb FROM v
       )
       SELECT ${VALIDATOR_VIEW_COLUMNS} FROM v LEFT JOIN staking_identities i ON i.id = v.identity_id`,
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
      `SELECT ${VALIDATOR_LIST_COLUMNS} FROM validators v
         LEFT JOIN staking_identities i ON i.id = v.identity_id
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
      `SELECT ${VALIDATOR_VIEW_COLUMNS} FROM validators v
         LEFT JOIN staking_identities i ON i.id = v.identity_id
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
}

export class HostRepository extends Repo {
  findById(id: string, tx?: EntityManager) {
    return this.em(tx).findOneBy(HostEntity, { id });
  }
  findByTokenHash(bootstrapTokenHash: string) {
    return this.ds.manager.findOneBy(HostEntity, { bootstrapTokenHash });
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
export class Repositories {
  readonly projects: ProjectRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly identities: IdentityRepository;
  readonly validators: ValidatorRepository;
  readonly hosts: HostRepository;
  readonly events: EventRepository;
  readonly eventFeed: EventFeedRepository;
  readonly idempotency: IdempotencyRepository;
  readonly webhooks: WebhookRepository;
  readonly tenancy: TenancyRepository;
  constructor(readonly ds: DataSource) {
    this.projects = new ProjectRepository(ds);
    this.apiKeys = new ApiKeyRepository(ds);
    this.identities = new IdentityRepository(ds);
    this.validators = new ValidatorRepository(ds);
    this.hosts = new HostRepository(ds);
    this.events = new EventRepository(ds);
    this.eventFeed = new EventFeedRepository(ds);
    this.idempotency = new IdempotencyRepository(ds);
    this.webhooks = new WebhookRepository(ds);
    this.tenancy = new TenancyRepository(ds);
  }
  transaction<T>(fn: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}
