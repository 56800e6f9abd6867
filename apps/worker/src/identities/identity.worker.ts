import 'reflect-metadata'; // @peculiar/x509 needs it
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { generateIdentity } from '@snowline/avalanche';

/**
 * Generates staking identities off the worker's event loop (health loop, failover, jobs). The thread
 * runs at the lowest CPU priority (Linux nice values are per thread): the rest always goes first.
 */
try {
  setPriority(19);
} catch {
  // not permitted on this platform: the thread still keeps the event loop free
}

parentPort?.on('message', (job: { id: number }) => {
  generateIdentity().then(
    (identity) => {
      parentPort?.postMessage({ id: job.id, identity });
      identity.signerKey.fill(0); // the parent received a copy
    },
    (err: unknown) =>
      parentPort?.postMessage({
        id: job.id,
        error: err instanceof Error ? err.message : String(err),
      }),
  );
});
