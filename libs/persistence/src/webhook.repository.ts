import { DataSource, EntityManager, IsNull } from 'typeorm';
import { managerOf, type Tx } from './tx';
import { WebhookDeliveryEntity, WebhookEntity, type DeliveryAttempt } from './entities';

export interface DeliveryPage {
  cursor?: { createdAt: Date; id: string } | null;
  limit: number;
}

export class WebhookRepository {
  constructor(private readonly ds: DataSource) {}

  insert(row: Partial<WebhookEntity>, tx?: Tx) {
    const em = tx ? managerOf(tx) : this.ds.manager;
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
  async allLockedForRotation(tx: Tx) {
    await managerOf(tx).query('LOCK TABLE webhooks IN EXCLUSIVE MODE');
    return managerOf(tx).find(WebhookEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }
  async updateSecretSealed(id: string, secretSealed: Buffer, tx: Tx): Promise<void> {
    await managerOf(tx).update(WebhookEntity, { id }, { secretSealed });
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
