import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fileHostKeyStore,
  generateHostKeys,
  hostPublicKeys,
  keysAad,
  openFromControlPlane,
  parsePublicKey,
  parseSignatureHeader,
  sealToHost,
  signRequest,
  verifyRequestSignature,
} from './host-credential';

const HOST = '6f1c8a1e-6d0c-4f39-8c55-0a3f1c2b9d10';

describe('host credential', () => {
  const keys = generateHostKeys();
  const pub = hostPublicKeys(keys);
  const req = { method: 'POST', path: '/v1/agent/lease', body: '{"hostId":"x"}' };

  it('should verify its own signature and nothing altered', () => {
    const header = signRequest(keys, { ...req, hostId: HOST, now: 1_700_000_000_000 });
    const parsed = parseSignatureHeader(header)!;
    expect(parsed).toMatchObject({ hostId: HOST, ts: 1_700_000_000_000 });
    const key = parsePublicKey(pub.signingKey, 'ed25519');
    expect(verifyRequestSignature(key, parsed, req)).toBe(true);
    expect(verifyRequestSignature(key, parsed, { ...req, body: '{"hostId":"y"}' })).toBe(false);
    expect(verifyRequestSignature(key, parsed, { ...req, path: '/v1/agent/keys' })).toBe(false);
    expect(verifyRequestSignature(key, { ...parsed, ts: parsed.ts + 1 }, req)).toBe(false);
    const other = parsePublicKey(hostPublicKeys(generateHostKeys()).signingKey, 'ed25519');
    expect(verifyRequestSignature(other, parsed, req)).toBe(false);
  });

  it.each([
    [undefined],
    ['Bearer abc'],
    [`Snowline-Host hostId=${HOST}, ts=12, sig=short`],
    [`Snowline-Host hostId=not-a-uuid, ts=12, sig=${'A'.repeat(86)}`],
  ])('should not parse %p as a signature', (header) => {
    expect(parseSignatureHeader(header)).toBeNull();
  });

  it('should refuse public keys of the wrong kind', () => {
    expect(() => parsePublicKey(pub.encryptionKey, 'ed25519')).toThrow(/expected an ed25519 key/);
    expect(() => parsePublicKey('bm90IGEga2V5', 'x25519')).toThrow(/SubjectPublicKeyInfo/);
  });

  it('should seal to the host key alone, bound to host and generation', () => {
    const secret = Buffer.from('staking keys');
    const sealed = sealToHost(pub.encryptionKey, secret, keysAad(HOST, 3));
    expect(JSON.stringify(sealed)).not.toContain(secret.toString('base64'));
    expect(openFromControlPlane(keys, sealed, keysAad(HOST, 3))).toEqual(secret);
    expect(() => openFromControlPlane(keys, sealed, keysAad(HOST, 4))).toThrow();
    expect(() => openFromControlPlane(generateHostKeys(), sealed, keysAad(HOST, 3))).toThrow();
    const flipped = { ...sealed, ciphertext: Buffer.from('xx').toString('base64') };
    expect(() => openFromControlPlane(keys, flipped, keysAad(HOST, 3))).toThrow();
  });

  it('should keep the keys in a 0600 file that a restart reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-keys-'));
    try {
      const path = join(dir, 'state', 'host-keys.json');
      const store = fileHostKeyStore(path);
      expect(await store.load()).toBeNull();
      await store.save({ ...keys, boundHostId: HOST });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(await fileHostKeyStore(path).load()).toEqual({ ...keys, boundHostId: HOST });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
