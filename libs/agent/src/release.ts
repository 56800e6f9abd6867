import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * How an AvalancheGo version reaches a host: a pinned release, fetched and checked by SHA-256.
 * The worker names it in UserData (version, network, URL, hash — from AVALANCHEGO_RELEASES); the
 * agent downloads it, refuses it unless the hash matches, and only then may its node run. One image
 * (ECS_IMAGE_ID, the agent and its runtime) serves every version, and a host keeps its synced chain
 * data across a version change: a rollout swaps a binary, never a disk.
 */
export const releaseSchema = z.object({
  version: z.string().min(1).max(64),
  network: z.enum(['fuji', 'mainnet', 'local']),
  url: z.string().url().max(2048),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex'),
});
export type ReleaseSpec = z.infer<typeof releaseSchema>;

/** The downloaded bytes are not the pinned release: never retried, never run. */
export class ReleaseChecksumError extends Error {
  override readonly name = 'ReleaseChecksumError';
}

/** Port: put a release on this host so that its node runs it. Resolves once it is usable. */
export abstract class ReleaseInstaller {
  abstract install(release: ReleaseSpec): Promise<void>;
}

export const sha256Hex = (data: Uint8Array): string =>
  createHash('sha256').update(data).digest('hex');

/**
 * Downloads `url`, hashing as it reads, and returns the bytes only when their SHA-256 is `sha256`.
 * Throws ReleaseChecksumError on a mismatch (or a body larger than `maxBytes`); anything else thrown
 * (network, HTTP status, timeout) is worth a retry.
 */
export async function fetchVerified(
  release: Pick<ReleaseSpec, 'url' | 'sha256' | 'version'>,
  opts: { fetch?: typeof fetch; timeoutMs?: number; maxBytes?: number } = {},
): Promise<Buffer> {
  const max = opts.maxBytes ?? 1 << 30;
  const res = await (opts.fetch ?? fetch)(release.url, {
    signal: AbortSignal.timeout(opts.timeoutMs ?? 600_000),
  });
  if (!res.ok || !res.body) throw new Error(`GET ${release.url}: HTTP ${res.status}`);
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max)
      throw new ReleaseChecksumError(
        `avalanchego ${release.version}: ${release.url} is larger than ${max} bytes`,
      );
    hash.update(chunk);
    chunks.push(Buffer.from(chunk));
  }
  const got = hash.digest('hex');
  if (got !== release.sha256)
    throw new ReleaseChecksumError(
      `avalanchego ${release.version}: ${release.url} has SHA-256 ${got}, not the pinned ${release.sha256}; not running it`,
    );
  return Buffer.concat(chunks);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(0, 2000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err.trim()}`)),
    );
  });
}

/**
 * A real host's installer: `<dir>/<version>/` holds the extracted tarball once verified (an existing
 * one is reused, so a rollback to the previous version downloads nothing). The verified archive is
 * written beside it first; a mismatch leaves nothing behind.
 */
export class DownloadingReleaseInstaller extends ReleaseInstaller {
  constructor(private readonly opts: { dir: string; fetch?: typeof fetch; timeoutMs?: number }) {
    super();
  }

  /** Where a version's files are once installed. */
  pathOf(version: string): string {
    return join(this.opts.dir, version.replace(/[^0-9A-Za-z.-]/g, '_'));
  }

  /** The avalanchego binary of an installed version: at the top of the tarball or one folder down. */
  async binaryOf(version: string): Promise<string> {
    const root = this.pathOf(version);
    const candidates = [join(root, 'avalanchego')];
    for (const e of await readdir(root, { withFileTypes: true }).catch(() => []))
      if (e.isDirectory()) candidates.push(join(root, e.name, 'avalanchego'));
    for (const c of candidates)
      if (
        await stat(c).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        return c;
    throw new Error(`avalanchego ${version}: no avalanchego binary in ${root}`);
  }

  async install(release: ReleaseSpec): Promise<void> {
    const target = this.pathOf(release.version);
    const done = join(target, '.sha256');
    const installed = await stat(done).then(
      () => true,
      () => false,
    );
    if (installed) return;
    const bytes = await fetchVerified(release, this.opts);
    await mkdir(this.opts.dir, { recursive: true, mode: 0o755 });
    const partial = `${target}.partial`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const archive = `${partial}.tar.gz`;
    try {
      await writeFile(archive, bytes, { mode: 0o600 });
      await run('tar', ['-xzf', archive, '-C', partial]);
      await writeFile(join(partial, '.sha256'), `${release.sha256}\n`);
      await rm(target, { recursive: true, force: true });
      await rename(partial, target);
    } finally {
      await rm(archive, { force: true });
      await rm(partial, { recursive: true, force: true });
    }
  }
}
