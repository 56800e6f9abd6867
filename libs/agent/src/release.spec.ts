import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DownloadingReleaseInstaller,
  fetchVerified,
  ReleaseChecksumError,
  sha256Hex,
  type ReleaseSpec,
} from './release';

/** A fetch that serves fixed bytes (or a status) for any URL, counting calls. */
const serve = (bytes: Buffer | number) => {
  const calls: string[] = [];
  const f = (async (url: string) => {
    calls.push(url);
    return typeof bytes === 'number'
      ? new Response('nope', { status: bytes })
      : new Response(new Uint8Array(bytes));
  }) as unknown as typeof fetch;
  return { fetch: f, calls };
};

describe(fetchVerified.name, () => {
  const bytes = Buffer.from('snowline-sim avalanchego 1.15.3\n');
  const release = { version: '1.15.3', url: 'http://r.test/a.tgz', sha256: sha256Hex(bytes) };

  it('should return the bytes whose SHA-256 is the pinned one', async () => {
    await expect(fetchVerified(release, serve(bytes))).resolves.toEqual(bytes);
  });

  it.each<[string, Buffer | number, unknown]>([
    ['other bytes', Buffer.from('tampered'), ReleaseChecksumError],
    ['an HTTP error (worth a retry)', 404, Error],
  ])('should refuse %s', async (_label, served, type) => {
    const p = fetchVerified(release, serve(served));
    await expect(p).rejects.toBeInstanceOf(type);
    if (type === ReleaseChecksumError) await expect(p).rejects.toThrow('not the pinned');
  });

  it('should refuse a body past maxBytes as a mismatch', async () => {
    await expect(fetchVerified(release, { ...serve(bytes), maxBytes: 4 })).rejects.toBeInstanceOf(
      ReleaseChecksumError,
    );
  });
});

describe(DownloadingReleaseInstaller.name, () => {
  let dir: string;
  let tarball: Buffer;
  beforeAll(() => {
    // A tarball shaped like Ava Labs' (a folder holding the binary).
    const src = mkdtempSync(join(tmpdir(), 'release-src-'));
    mkdirSync(join(src, 'avalanchego-v1.15.3'));
    writeFileSync(join(src, 'avalanchego-v1.15.3', 'avalanchego'), '#!/bin/sh\necho 1.15.3\n', {
      mode: 0o755,
    });
    execFileSync('tar', ['-czf', join(src, 'r.tar.gz'), '-C', src, 'avalanchego-v1.15.3']);
    tarball = readFileSync(join(src, 'r.tar.gz'));
    rmSync(src, { recursive: true, force: true });
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'releases-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spec = (sha256: string): ReleaseSpec => ({
    version: '1.15.3',
    network: 'fuji',
    url: 'http://r.test/avalanchego-linux-amd64-v1.15.3.tar.gz',
    sha256,
  });

  it('should extract a verified release once and find its binary', async () => {
    const server = serve(tarball);
    const installer = new DownloadingReleaseInstaller({ dir, fetch: server.fetch });
    await installer.install(spec(sha256Hex(tarball)));
    await installer.install(spec(sha256Hex(tarball)));
    expect(server.calls).toHaveLength(1); // the second install reuses the first
    const binary = await installer.binaryOf('1.15.3');
    expect(binary).toBe(join(dir, '1.15.3', 'avalanchego-v1.15.3', 'avalanchego'));
  });

  it('should leave nothing behind when the hash does not match', async () => {
    const installer = new DownloadingReleaseInstaller({ dir, fetch: serve(tarball).fetch });
    await expect(installer.install(spec('0'.repeat(64)))).rejects.toBeInstanceOf(
      ReleaseChecksumError,
    );
    expect(existsSync(join(dir, '1.15.3'))).toBe(false);
    await expect(installer.binaryOf('1.15.3')).rejects.toThrow('no avalanchego binary');
  });
});
