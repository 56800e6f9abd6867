import { DataSource } from 'typeorm';
import { inTransaction, managerOf, type Tx } from './tx';

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
    tx?: Tx,
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
    const rows: FeedRow[] = await (tx ? managerOf(tx) : this.ds.manager).query(
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
    return inTransaction(this.ds, async (tx) => {
      const cur: { tx_id: string; event_id: string }[] = await managerOf(tx).query(
        `SELECT tx_id::text, event_id::text FROM event_cursors WHERE name = 'webhooks' FOR UPDATE SKIP LOCKED`,
      );
      if (!cur[0]) return { deliveryIds: [], events: 0 }; // another replica holds it
      // Only positions: the events' content goes from table to table inside Postgres.
      const events: { txId: string; id: string }[] = await managerOf(tx).query(
        `SELECT tx_id::text AS "txId", id::text AS id FROM events
          WHERE ${SAFE_AFTER} ORDER BY events.tx_id, events.id LIMIT $3`,
        [cur[0].tx_id, cur[0].event_id, limit],
      );
      const last = events[events.length - 1];
      if (!last) return { deliveryIds: [], events: 0 };
      const inserted: { id: string }[] = await managerOf(tx).query(
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
      await managerOf(tx).query(
        `UPDATE event_cursors SET tx_id = $1::xid8, event_id = $2::bigint, updated_at = now() WHERE name = 'webhooks'`,
        [last.txId, last.id],
      );
      return { deliveryIds: inserted.map((r) => r.id), events: events.length };
    });
  }
}
