import type { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';

declare const txBrand: unique symbol;

/**
 * A transaction under way, as the apps hold it (`Repositories.transaction` hands one out): opaque,
 * it runs no SQL itself, so all a service can do with it is pass it to repository methods (STYLE 7).
 */
export interface Tx {
  readonly [txBrand]: 'Tx';
}

/** Inside libs/persistence only: the transaction's EntityManager as a Tx, and back. */
export const txOf = (em: EntityManager): Tx => em as unknown as Tx;
export const managerOf = (tx: Tx): EntityManager => tx as unknown as EntityManager;

/** Runs `fn` in a transaction of `ds` (at `isolation` if given), handing it the transaction as a Tx. */
export function inTransaction<T>(
  ds: DataSource,
  fn: (tx: Tx) => Promise<T>,
  isolation?: IsolationLevel,
): Promise<T> {
  const run = (em: EntityManager) => fn(txOf(em));
  return isolation ? ds.transaction(isolation, run) : ds.transaction(run);
}
