import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { deriveKey, loadConfigOrExit, type AppConfig } from '@snowline/config';
import {
  idempotencyResponseKey,
  masterKeyId,
  open,
  openEnvelope,
  openResponse,
  rewrapDataKey,
  seal,
  sealResponse,
  type StoredResponseRow,
} from '@snowline/domain';
import { createDataSource, Repositories } from '@snowline/persistence';

/**
 * `npm run keys:rotate [-- --new-key-file <path>]`: re-wraps every staking identity's data key (and
 * re-seals every webhook secret and every stored Idempotency-Key response, which sit under keys derived
 * from the master key) under a new master key, in one transaction; then swaps the key files. The sealed
 * key files themselves are not touched. Stored responses are re-sealed, not dropped: a client's retry
 * within its window must still replay, not run a create twice.
 */

const USAGE = `Usage: npm run keys:rotate [-- --new-key-file <path>]

Re-wraps every staking identity's data key under a new master key, in one transaction.
  --new-key-file <path>  the new key (32 bytes, base64); default: generated into <dataDir>/master-key.new
Stop the API and the worker first: they read the master key once, at start.`;

/** The database holds something the current master key cannot open: nothing was changed. */
export class RotationRefused extends Error {
  override readonly name = 'RotationRefused';
}

export interface RotateOptions {
  config: AppConfig;
  /** The new key (base64 file); when absent one is generated into `<dataDir>/master-key.new`. */
  newKeyFile?: string;
  now?: Date;
}

export interface RotateResult {
  oldKeyId: string;
  newKeyId: string;
  /** Identities re-wrapped now (those already under the new key, from an interrupted run, are skipped). */
  identities: number;
  webhooks: number;
  /** Stored Idempotency-Key responses re-sealed (expired ones are deleted, not counted). */
  idempotencyResponses: number;
  /** Unspent protocol-2 bootstrap tokens re-sealed. */
  bootstrapTokens: number;
  /** Live protocol-1 hosts, whose tokens keys:rotate cannot end (see AGENT_PROTOCOL1_UNTIL). */
  protocol1Hosts: number;
  /** Where the old key file was moved to (`null` when the key came from SNOWLINE_MASTER_KEY). */
  oldKeyBackup: string | null;
  /** The file that now holds the new key. */
  newKeyPath: string;
  /** What the operator must do next, one line each. */
  instructions: string[];
}

const WEBHOOK_PURPOSE = 'webhook-secret';
/** As the worker derives it (worker.module.ts BOOTSTRAP_KEY). */
const BOOTSTRAP_PURPOSE = 'bootstrap-token';

function readKey(path: string, what: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RotationRefused(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32)
    throw new RotationRefused(`${what} ${path} does not hold a 32-byte base64 key`);
  return key;
}

/** Writes a key file durably (0600, never over an existing file), so it is on disk before the DB refers to it. */
function writeKeyFile(path: string, key: Buffer): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, key.toString('base64') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export async function rotateMasterKey(opts: RotateOptions): Promise<RotateResult> {
  const { config } = opts;
  const fromEnv = config.masterKey !== undefined;
  const currentPath = join(config.dataDir, 'master-key');
  if (!fromEnv && !existsSync(currentPath)) {
    const hint = existsSync(`${currentPath}.new`)
      ? ` ${currentPath}.new exists: if an earlier rotation committed but did not swap the files, rename it to master-key.`
      : '';
    throw new RotationRefused(
      `no current master key: SNOWLINE_MASTER_KEY is not set and ${currentPath} does not exist.${hint}`,
    );
  }
  const current = config.masterKey ?? readKey(currentPath, 'the master key file');
  const generatedPath = join(config.dataDir, 'master-key.new');
  const newKeyPath = opts.newKeyFile ? resolve(opts.newKeyFile) : generatedPath;
  // An existing master-key.new is the key of an interrupted run: reuse it, so its rows stay readable.
  const resumed = !opts.newKeyFile && existsSync(generatedPath);
  let next: Buffer | null =
    opts.newKeyFile || resumed ? readKey(newKeyPath, 'the new key file') : null;
  if (next?.equals(current))
    throw new RotationRefused('the new master key is the current one; nothing to rotate');

  const ds = createDataSource(config.databaseUrl, { poolSize: 1 });
  await ds.initialize();
  let counts: {
    identities: number;
    webhooks: number;
    idempotencyResponses: number;
    bootstrapTokens: number;
    protocol1Hosts: number;
  };
  try {
    const repos = new Repositories(ds);
    counts = await repos.transaction(async (tx) => {
      const identities = await repos.identities.allLockedForRotation(tx);
      const webhooks = await repos.webhooks.allLockedForRotation(tx);
      const stored = await repos.idempotency.storedLockedForRotation(tx);
      const problems: string[] = [];
      // Verify everything before changing anything: a row the current key cannot open means the
      // operator has the wrong key, and re-wrapping the rest would only hide that.
      const opens = (key: Buffer, row: (typeof identities)[number]) => {
        try {
          const env = { wrappedDataKey: row.wrappedDataKey, sealed: row.sealedKeys };
          openEnvelope(key, env, row.id).fill(0);
          return true;
        } catch {
          return false;
        }
      };
      const todo = identities.filter((row) => {
        if (opens(current, row)) return true;
        // Already under the new key: an interrupted run committed it.
        if (next && row.masterKeyId === masterKeyId(next) && opens(next, row)) return false;
        problems.push(
          `identity ${row.id} (${row.nodeId}, wrapped under master key id ${row.masterKeyId})`,
        );
        return false;
      });
      const oldWebhookKey = deriveKey(current, WEBHOOK_PURPOSE);
      const webhookTodo = webhooks.filter((w) => {
        try {
          open(oldWebhookKey, w.secretSealed, w.id).fill(0);
          return true;
        } catch {
          // already under the new key (an interrupted run)?
        }
        try {
          if (next) {
            open(deriveKey(next, WEBHOOK_PURPOSE), w.secretSealed, w.id).fill(0);
            return false;
          }
        } catch {
          // neither
        }
        problems.push(`webhook ${w.id} (its signing secret)`);
        return false;
      });
      const rowOf = (r: (typeof stored)[number]): StoredResponseRow => ({
        ...r,
        status: r.responseStatus ?? 200,
      });
      const opensResponse = (key: Buffer, r: (typeof stored)[number]) => {
        try {
          openResponse(key, rowOf(r), r.responseSealed!);
          return true;
        } catch {
          return false;
        }
      };
      const oldResponseKey = idempotencyResponseKey(current);
      const storedTodo = stored.filter((r) => {
        if (opensResponse(oldResponseKey, r)) return true;
        if (next && opensResponse(idempotencyResponseKey(next), r)) return false;
        problems.push(`idempotency key ${r.key} of project ${r.projectId} (its stored response)`);
        return false;
      });
      if (problems.length) {
        throw new RotationRefused(
          `the current master key (id ${masterKeyId(current)}) does not open ${problems.length} row(s); nothing was changed:\n  ${problems.join('\n  ')}`,
        );
      }
      if (!next) {
        next = randomBytes(32);
        writeKeyFile(newKeyPath, next);
      }
      const newKey = next;
      const newId = masterKeyId(newKey);
      for (const row of todo) {
        const wrapped = rewrapDataKey(current, newKey, row.wrappedDataKey, row.id);
        await repos.identities.updateWrapping(row.id, wrapped, newId, tx);
      }
      const newWebhookKey = deriveKey(newKey, WEBHOOK_PURPOSE);
      for (const w of webhookTodo) {
        const secret = open(oldWebhookKey, w.secretSealed, w.id);
        try {
          await repos.webhooks.updateSecretSealed(w.id, seal(newWebhookKey, secret, w.id), tx);
        } finally {
          secret.fill(0);
        }
      }
      const newResponseKey = idempotencyResponseKey(newKey);
      for (const r of storedTodo) {
        const body = openResponse(oldResponseKey, rowOf(r), r.responseSealed!);
        const sealed = sealResponse(newResponseKey, rowOf(r), body);
        await repos.idempotency.updateSealed(r.projectId, r.key, sealed, tx);
      }
      // Unspent protocol-2 bootstrap tokens (random, kept sealed for RunInstances replays only).
      const oldBootstrapKey = deriveKey(current, BOOTSTRAP_PURPOSE);
      const newBootstrapKey = deriveKey(newKey, BOOTSTRAP_PURPOSE);
      const resealer = (aadOf: (id: string) => string) => (sealed: Buffer, id: string) => {
        const token = open(oldBootstrapKey, sealed, aadOf(id));
        try {
          return seal(newBootstrapKey, token, aadOf(id));
        } finally {
          token.fill(0);
        }
      };
      const bootstrapTokens =
        (await repos.hosts.resealBootstrapTokens(
          resealer((id) => `bootstrap-token:${id}`),
          tx,
        )) +
        (await repos.batches.resealTokens(
          resealer((id) => `batch-token:${id}`),
          tx,
        ));
      return {
        identities: todo.length,
        webhooks: webhookTodo.length,
        idempotencyResponses: storedTodo.length,
        bootstrapTokens,
        protocol1Hosts: await repos.hosts.countLiveProtocol1(tx),
      };
    });
  } finally {
    await ds.destroy();
  }
  const newKey = next as Buffer | null;
  if (!newKey) throw new Error('unreachable: the transaction always settles the new key');

  const result = {
    oldKeyId: masterKeyId(current),
    newKeyId: masterKeyId(newKey),
    ...counts,
  };
  if (fromEnv) {
    return {
      ...result,
      oldKeyBackup: null,
      newKeyPath,
      instructions: [
        `Set SNOWLINE_MASTER_KEY to the content of ${newKeyPath} wherever the API and the worker get their environment.`,
        'Restart the API and the worker (they read the master key only at start).',
        `Then move ${newKeyPath} into your secret store and delete it from this disk.`,
      ],
    };
  }
  const oldKeyBackup = `${currentPath}.old.${stamp(opts.now ?? new Date())}`;
  renameSync(currentPath, oldKeyBackup);
  chmodSync(oldKeyBackup, 0o600);
  if (newKeyPath === generatedPath) renameSync(generatedPath, currentPath);
  else writeKeyFile(currentPath, newKey);
  return {
    ...result,
    oldKeyBackup,
    newKeyPath: currentPath,
    instructions: [
      'Restart the API and the worker now (they read the master key only at start).',
      `Back up ${currentPath}; the old key is kept in ${oldKeyBackup} until you are sure, then delete it.`,
      'If you also keep the master key in SNOWLINE_MASTER_KEY somewhere, that value is now stale: update it to the new file content.',
    ],
  };
}

async function main(): Promise<void> {
  let newKeyFile: string | undefined;
  try {
    const { values } = parseArgs({
      options: { 'new-key-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    newKeyFile = values['new-key-file'];
  } catch (err) {
    process.stderr.write(`keys:rotate: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(1);
  }
  const config = loadConfigOrExit();
  try {
    const r = await rotateMasterKey({ config, newKeyFile });
    process.stdout.write(
      [
        `keys:rotate: master key ${r.oldKeyId} → ${r.newKeyId}: re-wrapped ${r.identities} identit${r.identities === 1 ? 'y' : 'ies'}, re-sealed ${r.webhooks} webhook secret(s), ${r.idempotencyResponses} stored idempotent response(s) and ${r.bootstrapTokens} unspent bootstrap token(s), in one transaction.`,
        ...(r.protocol1Hosts
          ? [
              `Warning: ${r.protocol1Hosts} live host(s) still speak agent protocol 1: their bootstrap tokens (derived from the old key) stay valid until those hosts are replaced or AGENT_PROTOCOL1_UNTIL passes (docs/identities.md, "Host credentials").`,
            ]
          : []),
        `The new key is in ${r.newKeyPath}.`,
        'Now:',
        ...r.instructions.map((l, i) => `  ${i + 1}. ${l}`),
        '',
      ].join('\n'),
    );
  } catch (err) {
    if (err instanceof RotationRefused)
      process.stderr.write(`keys:rotate: refused: ${err.message}\n`);
    else process.stderr.write(`keys:rotate: failed: ${String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  }
}

if (require.main === module) void main();
