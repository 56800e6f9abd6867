import { createHash } from 'node:crypto';
import { managerOf, type Tx } from './tx';
import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Statement names by SQL text: one hash per distinct text, not per call. */
const statementNames = new Map<string, string>();

export abstract class Repo {
  constructor(protected readonly ds: DataSource) {}
  protected em(tx?: Tx): EntityManager {
    return tx ? managerOf(tx) : this.ds.manager;
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
    tx?: Tx,
  ): Promise<T[]> {
    if (tx)
      return ((await managerOf(tx).query(text, values)) as object[]).map(
        (r) => Object.values(r) as T,
      );
    let name = statementNames.get(text);
    if (!name) {
      name = `sl_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
      statementNames.set(text, name);
    }
    const pool = (this.ds.driver as PostgresDriver).master as Pool;
    return (await pool.query({ name, text, values, rowMode: 'array' })).rows as T[];
  }
}

/** keys:rotate: re-seals every unspent `bootstrap_token_sealed` of a table, rows locked until `tx` ends. */
export async function resealTokenColumn(
  table: 'hosts' | 'launch_batches',
  reseal: (sealed: Buffer, id: string) => Buffer,
  tx: Tx,
): Promise<number> {
  const rows = (await managerOf(tx).query(
    `SELECT id, bootstrap_token_sealed FROM ${table} WHERE bootstrap_token_sealed IS NOT NULL FOR UPDATE`,
  )) as { id: string; bootstrap_token_sealed: Buffer }[];
  for (const r of rows) {
    await managerOf(tx).query(`UPDATE ${table} SET bootstrap_token_sealed = $2 WHERE id = $1`, [
      r.id,
      reseal(r.bootstrap_token_sealed, r.id),
    ]);
  }
  return rows.length;
}
