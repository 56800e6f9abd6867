import type { DataSource } from 'typeorm';

/** Rows one retention statement deleted. */
type Count = { n: number }[];

/**
 * Deletes what has aged out (the worker's retention loop), `limit` rows a statement so that no
 * statement holds locks or WAL for long. Age is judged by the database's clock (`now()`), the clock
 * that wrote the timestamps. Each method is one autocommit statement and returns how many it deleted.
 */
export class RetentionRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Events created more than `days` ago, never one the webhook fan-out has not passed yet (its cursor
   * in `event_cursors`). SSE and `after=` resume from an event id: a cursor older than the window
   * finds its event gone and gets a 400, by design; a live stream is at the head, far from old rows.
   */
  async events(days: number, limit: number): Promise<number> {
    const rows = (await this.ds.query(
      `WITH d AS (
         DELETE FROM events WHERE id IN (
           SELECT e.id FROM events e
            WHERE e.created_at < now() - make_interval(days => $1)
              AND NOT EXISTS (SELECT 1 FROM event_cursors c WHERE (e.tx_id, e.id) > (c.tx_id, c.event_id))
            LIMIT $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [days, limit],
    )) as Count;
    return rows[0]!.n;
  }

  /** Webhook deliveries created more than `days` ago that are finished (never a pending one). */
  async webhookDeliveries(days: number, limit: number): Promise<number> {
    const rows = (await this.ds.query(
      `WITH d AS (
         DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries
            WHERE created_at < now() - make_interval(days => $1) AND status <> 'pending'
            LIMIT $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [days, limit],
    )) as Count;
    return rows[0]!.n;
  }

  /**
   * Host rows whose instance was deleted more than `days` ago and whose lease, if it had one, ran out
   * as long ago. Never a live host or one pending deletion (`deleted_at` is set only once the instance
   * is gone), the host a validator points to, nor one in a running failover. The key grant asks every
   * former holder of a NodeID whose lease ran out more than the skew margin (seconds) ago: a lease over
   * for a day or more answers "yes" with or without its row, so dropping the row changes no grant.
   */
  async hosts(days: number, limit: number): Promise<number> {
    const rows = (await this.ds.query(
      `WITH d AS (
         DELETE FROM hosts WHERE id IN (
           SELECT h.id FROM hosts h
            WHERE h.deleted_at < now() - make_interval(days => $1)
              AND (h.lease_expires_at IS NULL OR h.lease_expires_at < now() - make_interval(days => $1))
              AND NOT EXISTS (SELECT 1 FROM validators v WHERE v.host_id = h.id)
              AND NOT EXISTS (SELECT 1 FROM failovers f
                               WHERE f.status = 'running' AND h.id IN (f.from_host_id, f.to_host_id))
            LIMIT $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [days, limit],
    )) as Count;
    return rows[0]!.n;
  }

  /** Launch batches created more than `days` ago that no host row names any more. */
  async launchBatches(days: number, limit: number): Promise<number> {
    const rows = (await this.ds.query(
      `WITH d AS (
         DELETE FROM launch_batches WHERE id IN (
           SELECT b.id FROM launch_batches b
            WHERE b.created_at < now() - make_interval(days => $1)
              AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.batch_id = b.id)
            LIMIT $2)
         RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [days, limit],
    )) as Count;
    return rows[0]!.n;
  }
}
