import fc from 'fast-check';
import { base58Decode, base58Encode, cb58Decode, cb58Encode, Cb58Error } from './cb58';

describe('cb58', () => {
  it('should round-trip any payload, leading zeros included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect([...cb58Decode(cb58Encode(bytes))]).toEqual([...bytes]);
        expect([...base58Decode(base58Encode(bytes))]).toEqual([...bytes]);
      }),
      { numRuns: 500 },
    );
  });

  it('should encode the known NodeID payload of staker1', () => {
    // ripemd160(sha256(staker1 DER)) — cross-checked against the NodeID AvalancheGo prints.
    const payload = cb58Decode('7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg');
    expect(payload).toHaveLength(20);
    expect(cb58Encode(payload)).toBe('7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg');
  });

  it('should throw on a bad checksum', () => {
    const s = cb58Encode(Buffer.from('hello avalanche'));
    const tampered = s.slice(0, -1) + (s.endsWith('2') ? '3' : '2');
    expect(() => cb58Decode(tampered)).toThrow(Cb58Error);
  });

  it('should throw on characters outside the alphabet', () => {
    expect(() => cb58Decode('0OIl')).toThrow(Cb58Error);
  });

  it('should throw on input shorter than a checksum', () => {
    expect(() => cb58Decode('1')).toThrow(Cb58Error);
  });
});
