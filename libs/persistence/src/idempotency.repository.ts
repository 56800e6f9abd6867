import { DataSource, IsNull, Not } from 'typeorm';
import { managerOf, type Tx } from './tx';
import { IdempotencyKeyEntity } from './entities';

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
  async storedLockedForRotation(tx: Tx) {
    await managerOf(tx).query('LOCK TABLE idempotency_keys IN EXCLUSIVE MODE');
    await managerOf(tx).query(`DELETE FROM idempotency_keys WHERE expires_at < now()`);
    return managerOf(tx).find(IdempotencyKeyEntity, {
      where: { responseSealed: Not(IsNull()) },
      order: { projectId: 'ASC', key: 'ASC' },
    });
  }
  async updateSealed(
    projectId: string,
    key: string,
    responseSealed: Buffer,
    tx: Tx,
  ): Promise<void> {
    await managerOf(tx).update(IdempotencyKeyEntity, { projectId, key }, { responseSealed });
  }

  async purgeExpired(): Promise<number> {
    const res: [unknown[], number] = await this.ds.query(
      `DELETE FROM idempotency_keys WHERE expires_at < now()`,
    );
    return Array.isArray(res) ? (res[1] ?? 0) : 0;
  }
}
