import { randomBytes } from 'node:crypto';
import { open, openEnvelope, rewrapDataKey, seal, sealEnvelope } from './envelope';
import { placementOrder } from './placement';
import { canTransition, statesLeadingTo, VALIDATOR_STATES } from './validator-state';

describe('validator state table', () => {
  it.each([
    ['pending', 'provisioning', true],
    ['provisioning', 'syncing', true],
    ['syncing', 'active', true],
    ['active', 'failing_over', true],
    ['syncing', 'failing_over', true],
    ['failing_over', 'active', true],
    ['active', 'retiring', true],
    ['retiring', 'retired', true],
    ['pending', 'active', false],
    ['retired', 'pending', false],
    ['retiring', 'active', false],
  ] as const)('should say %s → %s is %s', (from, to, ok) => {
    expect(canTransition(from, to)).toBe(ok);
  });

  it('should let nothing leave retired', () => {
    for (const s of VALIDATOR_STATES) expect(canTransition('retired', s)).toBe(false);
    expect(statesLeadingTo('retired')).toEqual(['retiring']);
  });
});

describe(placementOrder.name, () => {
  const configured = ['z-b', 'z-c', 'z-d'];
  it.each([
    [{ configured, allowed: [] }, ['z-b', 'z-c', 'z-d']],
    [{ configured, allowed: ['z-d', 'z-c'] }, ['z-c', 'z-d']],
    [{ configured, allowed: [], blocked: ['z-b'] }, ['z-c', 'z-d']],
    [{ configured, allowed: [], load: { 'z-b': 2, 'z-c': 1 } }, ['z-d', 'z-c', 'z-b']],
    [{ configured, allowed: [], avoid: ['z-b'] }, ['z-c', 'z-d', 'z-b']],
    [{ configured, allowed: ['z-x'] }, []],
  ])('should order %j as %j', (input, expected) => {
    expect(placementOrder(input)).toEqual(expected);
  });
});

describe('envelope encryption', () => {
  const master = randomBytes(32);
  const secret = Buffer.from('-----BEGIN PRIVATE KEY-----abc');

  it('should round-trip and hide the plaintext', () => {
    const env = sealEnvelope(master, secret, 'identity-1');
    expect(env.sealed.includes(secret)).toBe(false);
    expect(openEnvelope(master, env, 'identity-1')).toEqual(secret);
  });

  it('should refuse another owner id, a wrong key or a flipped bit', () => {
    const env = sealEnvelope(master, secret, 'identity-1');
    expect(() => openEnvelope(master, env, 'identity-2')).toThrow();
    expect(() => openEnvelope(randomBytes(32), env, 'identity-1')).toThrow();
    const tampered = Buffer.from(env.sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => openEnvelope(master, { ...env, sealed: tampered }, 'identity-1')).toThrow();
    expect(() => open(master, seal(master, secret, 'a').subarray(0, 10), 'a')).toThrow(/too short/);
  });

  it('should re-wrap a data key under a new master key', () => {
    const env = sealEnvelope(master, secret, 'id');
    const next = randomBytes(32);
    const rewrapped = rewrapDataKey(master, next, env.wrappedDataKey, 'id');
    expect(openEnvelope(next, { wrappedDataKey: rewrapped, sealed: env.sealed }, 'id')).toEqual(
      secret,
    );
    expect(() =>
      openEnvelope(master, { wrappedDataKey: rewrapped, sealed: env.sealed }, 'id'),
    ).toThrow();
  });
});
