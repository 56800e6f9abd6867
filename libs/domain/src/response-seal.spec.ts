import { randomBytes } from 'node:crypto';
import {
  idempotencyResponseKey,
  openResponse,
  sealResponse,
  type StoredResponseRow,
} from './response-seal';

describe('sealResponse', () => {
  const master = randomBytes(32);
  const key = idempotencyResponseKey(master);
  const row: StoredResponseRow = {
    projectId: '6f1c2d4e-0000-4000-8000-000000000001',
    key: 'k-1',
    method: 'POST',
    path: '/v1/webhooks',
    requestHash: 'abc',
    status: 201,
  };
  const body = { id: 'w1', secret: 'whsec_thisisthesecretvalue', n: [1, null] };

  it('should open to exactly the sealed body and not hold it readable', () => {
    const sealed = sealResponse(key, row, body);
    expect(sealed.toString('latin1')).not.toContain('whsec_');
    expect(openResponse(key, row, sealed)).toEqual(body);
    expect(openResponse(key, row, sealResponse(key, row, undefined))).toBeNull();
  });

  it('should derive a key that is neither the master key nor another purpose of it', () => {
    expect(key).toHaveLength(32);
    expect(key.equals(master)).toBe(false);
    expect(idempotencyResponseKey(master).equals(key)).toBe(true);
    expect(idempotencyResponseKey(randomBytes(32)).equals(key)).toBe(false);
  });

  it.each<[string, Partial<StoredResponseRow>]>([
    ['project', { projectId: '6f1c2d4e-0000-4000-8000-000000000002' }],
    ['key', { key: 'k-2' }],
    ['method', { method: 'PUT' }],
    ['path', { path: '/v1/api-keys' }],
    ['request hash', { requestHash: 'abd' }],
    ['status', { status: 200 }],
  ])('should refuse to open on another row (%s)', (_what, change) => {
    const sealed = sealResponse(key, row, body);
    expect(() => openResponse(key, { ...row, ...change }, sealed)).toThrow();
  });

  it('should refuse another key, a tampered blob and an unknown version', () => {
    const sealed = sealResponse(key, row, body);
    expect(() => openResponse(idempotencyResponseKey(randomBytes(32)), row, sealed)).toThrow();
    const flipped = Buffer.from(sealed);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    expect(() => openResponse(key, row, flipped)).toThrow();
    const v2 = Buffer.from(sealed);
    v2[0] = 2;
    expect(() => openResponse(key, row, v2)).toThrow(/version/);
  });
});
