import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blsPublicFromSecret, blsSecretKeyProblem, verifyProofOfPossession } from './bls';

/**
 * staking/local/signer1.key of ava-labs/avalanchego; the public key and PoP below are what a real
 * avalanchego/1.11.11 local node with that key reported (NodeID-7Xhw…, `ash avalanche node info`, Ash docs).
 */
const SIGNER1 = {
  secret: readFileSync(join(__dirname, '__fixtures__', 'signer1.key')),
  publicKey:
    '0x900c9b119b5c82d781d4b49be78c3fc7ae65f2b435b7ed9e3a8b9a03e475edff86d8a64827fec8db23a6f236afbf127d',
  pop: '0x8bfd6d4d2086b2b8115d8f72f94095fefe5a6c07876b2accf51a811adf520f389e74a3d2152a6d90b521e2be58ffe468043dc5ea68b4c44410eb67f8dc24f13ed4f194000764c0e922cd254a3588a4962b1cb4db7de4bb9cda9d9d4d6b03f3d2',
};

/** Independent pair (no secret): the `info.getNodeID` example in Avalanche's "add a validator" docs. */
const DOCS_NODE_POP = {
  publicKey:
    '0x8f95423f7142d00a48e1014a3de8d28907d420dc33b3052a6dee03a3f2941a393c2351e354704ca66a3fc29870282e15',
  pop: '0x86a3ab4c45cfe31cae34c1d06f212434ac71b1be6cfe046c80c162e057614a94a5bc9f1ded1a7029deb0ba4ca7c9b71411e293438691be79c2dbf19d1ca7c3eadb9c756246fc5de5b7b89511c7d7302ae051d9e03d7991138299b5ed6a570a98',
};

describe('blsPublicFromSecret', () => {
  it('should reproduce the public key and PoP AvalancheGo reports for local signer1.key', () => {
    expect(SIGNER1.secret).toHaveLength(32);
    expect(blsPublicFromSecret(SIGNER1.secret)).toEqual({
      blsPublicKey: SIGNER1.publicKey,
      proofOfPossession: SIGNER1.pop,
    });
  });

  it('should reject a zero or out-of-range secret', () => {
    expect(() => blsPublicFromSecret(Buffer.alloc(32))).toThrow(RangeError);
    expect(() => blsPublicFromSecret(Buffer.alloc(32, 0xff))).toThrow(RangeError);
    expect(() => blsPublicFromSecret(Buffer.alloc(31, 1))).toThrow(RangeError);
  });

  it('should name the problem with a secret', () => {
    expect(blsSecretKeyProblem(Buffer.alloc(32))).toMatch(/zero/);
    expect(blsSecretKeyProblem(Buffer.alloc(32, 0xff))).toMatch(/order/);
    expect(blsSecretKeyProblem(Buffer.alloc(16, 1))).toMatch(/32 bytes/);
    expect(blsSecretKeyProblem(SIGNER1.secret)).toBeNull();
  });
});

describe('verifyProofOfPossession', () => {
  it('should accept the signer1 vector and the independent docs vector', () => {
    expect(verifyProofOfPossession(SIGNER1.publicKey, SIGNER1.pop)).toBe(true);
    expect(verifyProofOfPossession(DOCS_NODE_POP.publicKey, DOCS_NODE_POP.pop)).toBe(true);
  });

  it('should reject a PoP that belongs to another key', () => {
    expect(verifyProofOfPossession(SIGNER1.publicKey, DOCS_NODE_POP.pop)).toBe(false);
    expect(verifyProofOfPossession(DOCS_NODE_POP.publicKey, SIGNER1.pop)).toBe(false);
  });

  it('should reject malformed input without throwing', () => {
    expect(verifyProofOfPossession('0x1234', SIGNER1.pop)).toBe(false);
    expect(verifyProofOfPossession(SIGNER1.publicKey, '0x' + '00'.repeat(96))).toBe(false);
    expect(verifyProofOfPossession(SIGNER1.publicKey.slice(2), SIGNER1.pop)).toBe(false);
    expect(verifyProofOfPossession('0x' + 'zz'.repeat(48), SIGNER1.pop)).toBe(false);
  });

  it('should reject the identity public key with the identity signature', () => {
    const infinityG1 = '0xc0' + '00'.repeat(47);
    const infinityG2 = '0xc0' + '00'.repeat(95);
    expect(verifyProofOfPossession(infinityG1, infinityG2)).toBe(false);
  });

  it('should verify what it produces for random keys', () => {
    for (let i = 1; i <= 3; i++) {
      const { blsPublicKey, proofOfPossession } = blsPublicFromSecret(Buffer.alloc(32, i));
      expect(blsPublicKey).toMatch(/^0x[0-9a-f]{96}$/);
      expect(proofOfPossession).toMatch(/^0x[0-9a-f]{192}$/);
      expect(verifyProofOfPossession(blsPublicKey, proofOfPossession)).toBe(true);
    }
  });
});
