import { DataSource, EntityManager, IsNull, Not } from 'typeorm';
import {
  ApiKeyEntity,
  IdempotencyKeyEntity,
  ProjectEntity,
  WebhookDeliveryEntity,
  WebhookEntity,
  type DeliveryAttempt,
} from './entities';

/** Project-less events every tenant may see: infrastructure only (zone status, incidents). */
export const isZoneWideEvent = (type: string) =>
  type.startsWith('zone.') || type.startsWith('incident.');
/** The same test in SQL, on the events table or its alias (`e.` in the webhook fan-out). */
const zoneWideSql = (t = '') => `(${t}type LIKE 'zone.%' OR ${t}type LIKE 'incident.%')`;
const ZONE_WIDE_SQL = zoneWideSql();

/** A position in the commit-ordered event feed: (writing transaction id, event id). */
export interface FeedPosition {
  txId: string;
  id: string;
}
export const FEED_START: FeedPosition = { txId: '0', id: '0' };

export interface FeedEvent {
  id: string;
  txId: string;
  projectId: string | null;
  validatorId: string | null;
  hostId: string | null;
  zone: string | null;
  type: string;
  message: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

interface FeedRow {
  id: string;
  tx_id: string;
  project_id: string | null;
  validator_id: string | null;
  host_id: string | null;
  zone: string | null;
  type: string;
  message: string;
  data: Record<string, unknown>;
  created_at: Date;
}
const toFeedEvent = (r: FeedRow): FeedEvent => ({
  id: r.id,
  txId: r.tx_id,
  projectId: r.project_id,
  validatorId: r.validator_id,
  hostId: r.host_id,
  zone: r.zone,
  type: r.type,
  message: r.message,
  data: r.data,
  createdAt: r.created_at,
});

/** Events after the position ($1 tx, $2 id) that are safe to pass (see EventFeedRepository). */
const SAFE_AFTER = `(tx_id, id) > ($1::xid8, $2::bigint)
          AND tx_id < pg_snapshot_xmin(pg_current_snapshot())`;

/**
 * Reads events in commit order. ORDER BY names `events.` columns: the bare `id`/`tx_id` would be the
 * `::text` output columns, which sort "100" before "99" (issue 21: an SSE event sent twice, a webhook
 * cursor stepping over ids). Only events whose transaction finished before every transaction still
 * running began (tx_id < snapshot xmin) are passed, so a cursor never jumps over a late commit.
 */
export class EventFeedRepository {
  constructor(private readonly ds: DataSource) {}

  async after(
    from: FeedPosition,
    opts: {
      limit: number;
      projectId?: string;
      upTo?: FeedPosition;
      types?: string[];
      /** The last `limit` events instead of the first (still returned in commit order). */
      newest?: boolean;
    },
    tx?: EntityManager,
  ): Promise<FeedEvent[]> {
    const params: unknown[] = [from.txId, from.id, opts.limit];
    let where = '';
    if (opts.projectId) {
      params.push(opts.projectId);
      // Zone-wide events (zone status, incidents) carry no project and no tenant data: every tenant sees them.
      where += ` AND (project_id = $${params.length} OR (project_id IS NULL AND ${ZONE_WIDE_SQL}))`;
    }
    if (opts.upTo) {
      params.push(opts.upTo.txId, opts.upTo.id);
      where += ` AND (tx_id, id) <= ($${params.length - 1}::xid8, $${params.length}::bigint)`;
    }
    if (opts.types?.length) {
      params.push(opts.types);
      where += ` AND type = ANY($${params.length}::text[])`;
    }
    const rows: FeedRow[] = await (tx ?? this.ds.manager).query(
      `SELECT id::text, tx_id::text, project_id, validator_id, host_id, zone, type, message, data, created_at
         FROM events
        WHERE ${SAFE_AFTER}${where}
        ORDER BY ${opts.newest ? 'events.tx_id DESC, events.id DESC' : 'events.tx_id, events.id'}
        LIMIT $3`,
      params,
    );
    if (opts.newest) rows.reverse();
    return rows.map(toFeedEvent);
  }

  /**
   * Which transactions have committed as of now (Postgres's current snapshot), to tell the events a
   * new stream must not replay (committed before it connected, but not yet past the feed's horizon)
   * from those it must deliver.
   */
  async committedNow(): Promise<(txId: string) => boolean> {
    const rows: { s: string }[] = await this.ds.query(`SELECT pg_current_snapshot()::text AS s`);
    const [xmin, xmax, xip] = rows[0]!.s.split(':');
    const lo = BigInt(xmin!);
    const hi = BigInt(xmax!);
    const running = new Set((xip ?? '').split(',').filter(Boolean));
    // pg_visible_in_snapshot, for a committed writer: before xmin, or before xmax and not running.
    return (txId) => {
      const x = BigInt(txId);
      return x < lo || (x < hi && !running.has(txId));
    };
  }

  /** The position of the newest event that is safe to pass (the feed's head now). */
  async head(): Promise<FeedPosition> {
    const rows: { tx_id: string; id: string }[] = await this.ds.query(
      `SELECT tx_id::text, id::text FROM events
        WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.tx_id DESC, events.id DESC LIMIT 1`,
    );
    return rows[0] ? { txId: rows[0].tx_id, id: rows[0].id } : FEED_START;
  }

  /** Where a client that last saw event `id` resumes; null when the id is not one of the project's events. */
  async positionOf(projectId: string, id: string): Promise<FeedPosition | null> {
    const rows: { tx_id: string }[] = await this.ds.query(
      `SELECT tx_id::text FROM events WHERE id = $1::bigint AND (project_id = $2 OR (project_id IS NULL AND ${ZONE_WIDE_SQL}))`,
      [id, projectId],
    );
    return rows[0] ? { txId: rows[0].tx_id, id } : null;
  }

  /**
   * One step of the durable webhook fan-out: under the cursor row's lock, turn the next safe events into
   * deliveries for matching webhooks and advance the cursor. Returns the new delivery ids (to enqueue).
   */
  async fanOutToWebhooks(limit: number): Promise<{ deliveryIds: string[]; events: number }> {
    return this.ds.transaction(async (tx) => {
      const cur: { tx_id: string; event_id: string }[] = await tx.query(
        `SELECT tx_id::text, event_id::text FROM event_cursors WHERE name = 'webhooks' FOR UPDATE SKIP LOCKED`,
      );
      if (!cur[0]) return { deliveryIds: [], events: 0 }; // another replica holds it
      // Only positions: the events' content goes from table to table inside Postgres.
      const events: { txId: string; id: string }[] = await tx.query(
        `SELECT tx_id::text AS "txId", id::text AS id FROM events
          WHERE ${SAFE_AFTER} ORDER BY events.tx_id, events.id LIMIT $3`,
        [cur[0].tx_id, cur[0].event_id, limit],
      );
      const last = events[events.length - 1];
      if (!last) return { deliveryIds: [], events: 0 };
      const inserted: { id: string }[] = await tx.query(
        `INSERT INTO webhook_deliveries (webhook_id, project_id, event_id, event_type, payload, status, next_attempt_at)
         SELECT w.id, w.project_id, e.id, e.type,
                jsonb_build_object('id', e.id::text, 'type', e.type, 'message', e.message,
                  'validatorId', e.validator_id, 'hostId', e.host_id, 'zone', e.zone, 'data', e.data,
                  'createdAt', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                'pending', now()
           FROM events e
           JOIN webhooks w ON (w.project_id = e.project_id OR (e.project_id IS NULL AND ${zoneWideSql('e.')}))
                AND w.deleted_at IS NULL AND w.enabled
                AND (cardinality(w.event_types) = 0 OR e.type = ANY(w.event_types))
                AND w.created_at <= e.created_at
          WHERE e.id = ANY($1::bigint[])
         ON CONFLICT DO NOTHING
         RETURNING id`,
        [events.map((e) => e.id)],
      );
      await tx.query(
        `UPDATE event_cursors SET tx_id = $1::xid8, event_id = $2::bigint, updated_at = now() WHERE name = 'webhooks'`,
        [last.txId, last.id],
      );
      return { deliveryIds: inserted.map((r) => r.id), events: events.length };
    });
  }
}

export type IdempotencyBegin =
  | { kind: 'acquired' }
  | { kind: 'replay'; status: number; sealed: Buffer | null }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

export class IdempotencyRepository {
  constructor(private readonly ds: DataSource) {}

  /** Claim a key for a request, or say why not. Expired keys and abandoned in-flight claims are taken over. */
  async begin(input: {
    projectId: string;
    key: string;
    requestHash: string;
    method: string;
    path: string;
    lockMs: number;
    ttlMs: number;
  }): Promise<IdempotencyBegin> {
    for (let i = 0; i < 3; i++) {
      const claimed: unknown[] = await this.ds.query(
        `INSERT INTO idempotency_keys AS k (project_id, key, request_hash, method, path, state, locked_until, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'in_flight', now() + $6 * interval '1 millisecond', now() + $7 * interval '1 millisecond')
         ON CONFLICT (project_id, key) DO UPDATE
            SET request_hash = EXCLUDED.request_hash, method = EXCLUDED.method, path = EXCLUDED.path,
                state = 'in_flight', locked_until = EXCLUDED.locked_until, response_status = NULL,
                response_sealed = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
          WHERE k.expires_at < now()
             OR (k.state = 'in_flight' AND k.locked_until < now() AND k.request_hash = EXCLUDED.request_hash)
         RETURNING 1`,
        [
          input.projectId,
          input.key,
          input.requestHash,
          input.method,
          input.path,
          input.lockMs,
          input.ttlMs,
        ],
      );
      if (claimed.length) return { kind: 'acquired' };
      const row = await this.ds.manager.findOneBy(IdempotencyKeyEntity, {
        projectId: input.projectId,
        key: input.key,
      });
      if (!row) continue; // released between the two statements: try to claim again
      if (row.requestHash !== input.requestHash) return { kind: 'mismatch' };
      if (row.state === 'in_flight') return { kind: 'in_flight' };
      return { kind: 'replay', status: row.responseStatus ?? 200, sealed: row.responseSealed };
    }
    return { kind: 'in_flight' };
  }

  /** Stores the first response; its body arrives sealed (the caller holds the key). */
  async complete(projectId: string, key: string, status: number, sealed: Buffer): Promise<void> {
    await this.ds.query(
      `UPDATE idempotency_keys SET state = 'done', locked_until = NULL, response_status = $3, response_sealed = $4
        WHERE project_id = $1 AND key = $2`,
      [projectId, key, status, sealed],
    );
  }

  /** The request failed without an effect: forget the key so a corrected retry may use it. */
  async release(projectId: string, key: string): Promise<void> {
    await this.ds.query(
      `DELETE FROM idempotency_keys WHERE project_id = $1 AND key = $2 AND state = 'in_flight'`,
      [projectId, key],
    );
  }

  /** keys:rotate: drops expired rows and returns the stored responses still in their window, locked. */
  async storedLockedForRotation(tx: EntityManager) {
    await tx.query('LOCK TABLE idempotency_keys IN EXCLUSIVE MODE');
    await tx.query(`DELETE FROM idempotency_keys WHERE expires_at < now()`);
    return tx.find(IdempotencyKeyEntity, {
      where: { responseSealed: Not(IsNull()) },
      order: { projectId: 'ASC', key: 'ASC' },
    });
  }
  async updateSealed(
    projectId: string,
    key: string,
    responseSealed: Buffer,
    tx: EntityManager,
  ): Promise<void> {
    await tx.update(IdempotencyKeyEntity, { projectId, key }, { responseSealed });
  }

  async purgeExpired(): Promise<number> {
    const res: [unknown[], number] = await this.ds.query(
      `DELETE FROM idempotency_keys WHERE expires_at < now()`,
    );
    return Array.isArray(res) ? (res[1] ?? 0) : 0;
  }
}

export interface DeliveryPage {
  cursor?: { createdAt: Date; id: string } | null;
  limit: number;
}

export class WebhookRepository {
  constructor(private readonly ds: DataSource) {}

  insert(row: Partial<WebhookEntity>, tx?: EntityManager) {
    const em = tx ?? this.ds.manager;
    return em.save(WebhookEntity, em.create(WebhookEntity, row));
  }
  findForProject(projectId: string, id: string) {
    return this.ds.manager.findOneBy(WebhookEntity, { id, projectId, deletedAt: IsNull() });
  }
  findById(id: string) {
    return this.ds.manager.findOneBy(WebhookEntity, { id });
  }
  listForProject(projectId: string) {
    return this.ds.manager.find(WebhookEntity, {
      where: { projectId, deletedAt: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }
  async update(id: string, patch: Partial<WebhookEntity>): Promise<void> {
    await this.ds.manager.update(
      WebhookEntity,
      { id },
      patch as Parameters<EntityManager['update']>[2],
    );
  }
  /** Key rotation: every webhook (deleted ones too), with writes blocked until `tx` ends. */
  async allLockedForRotation(tx: EntityManager) {
    await tx.query('LOCK TABLE webhooks IN EXCLUSIVE MODE');
    return tx.find(WebhookEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }
  async updateSecretSealed(id: string, secretSealed: Buffer, tx: EntityManager): Promise<void> {
    await tx.update(WebhookEntity, { id }, { secretSealed });
  }
  async softDelete(projectId: string, id: string): Promise<boolean> {
    const res = await this.ds.manager.update(
      WebhookEntity,
      { id, projectId, deletedAt: IsNull() },
      { deletedAt: new Date(), enabled: false },
    );
    return (res.affected ?? 0) > 0;
  }

  insertDelivery(row: Partial<WebhookDeliveryEntity>) {
    return this.ds.manager.save(
      WebhookDeliveryEntity,
      this.ds.manager.create(WebhookDeliveryEntity, row),
    );
  }
  findDelivery(id: string) {
    return this.ds.manager.findOneBy(WebhookDeliveryEntity, { id });
  }
  /** A webhook's delivery log, newest first. */
  deliveries(webhookId: string, page: DeliveryPage) {
    const qb = this.ds.manager
      .createQueryBuilder(WebhookDeliveryEntity, 'd')
      .where('d.webhook_id = :w', { w: webhookId });
    if (page.cursor) {
      qb.andWhere('(d.created_at, d.id) < (:ts, :cid)', {
        ts: page.cursor.createdAt,
        cid: page.cursor.id,
      });
    }
    return qb
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(page.limit)
      .getMany();
  }
  /** Records one attempt; `status` moves only from pending, so a duplicate job cannot undo a result. */
  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    outcome: { status: 'pending' | 'succeeded' | 'failed'; nextAttemptAt?: Date },
    expectedAttempts: number,
  ): Promise<boolean> {
    const res: [unknown[], number] = await this.ds.query(
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1, last_status_code = $2, last_error = $3,
              attempt_log = attempt_log || $4::jsonb, status = $5,
              next_attempt_at = COALESCE($6, next_attempt_at),
              delivered_at = CASE WHEN $5 = 'succeeded' THEN now() ELSE delivered_at END
        WHERE id = $1 AND status = 'pending' AND attempts = $7`,
      [
        id,
        attempt.statusCode,
        attempt.error,
        JSON.stringify([attempt]),
        outcome.status,
        outcome.nextAttemptAt ?? null,
        expectedAttempts,
      ],
    );
    return (res[1] ?? 0) > 0;
  }
  /** Pending deliveries whose job may have been lost (Redis flushed, enqueue failed). */
  async overdue(olderThanMs: number, limit: number): Promise<{ id: string; attempts: number }[]> {
    return this.ds.query(
      `SELECT id, attempts FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at < now() - $1 * interval '1 millisecond'
        ORDER BY next_attempt_at LIMIT $2`,
      [olderThanMs, limit],
    );
  }
}

/** Project and key administration (additive to ProjectRepository / ApiKeyRepository). */
export class TenancyRepository {
  constructor(private readonly ds: DataSource) {}

  listProjects() {
    return this.ds.manager.find(ProjectEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }
  findKeyForProject(projectId: string, id: string) {
    return this.ds.manager.findOneBy(ApiKeyEntity, { id, projectId });
  }
  async revokeKey(projectId: string, id: string): Promise<ApiKeyEntity | null> {
    await this.ds.manager.update(
      ApiKeyEntity,
      { id, projectId, revokedAt: IsNull() },
      { revokedAt: new Date() },
    );
    return this.findKeyForProject(projectId, id);
  }
}
