import { bls12_381 } from '@noble/curves/bls12-381';

/** AvalancheGo (min-pk): proofs of possession sign the compressed public key under this DST. */
export const BLS_POP_DST = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
export const BLS_SECRET_KEY_LENGTH = 32;
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;

const sigs = bls12_381.longSignatures;
const CURVE_ORDER = bls12_381.params.r;

/** noble checks `instanceof Uint8Array`; Buffers from another realm (e.g. Jest's sandbox) fail that. */
const u8 = (b: Uint8Array): Uint8Array => Uint8Array.from(b);

const toHex = (b: Uint8Array): string => '0x' + Buffer.from(b).toString('hex');

function fromHex(s: string, len: number): Uint8Array | null {
  const m = /^0x([0-9a-fA-F]*)$/.exec(s);
  if (!m || m[1].length !== len * 2) return null;
  return u8(Buffer.from(m[1], 'hex'));
}

/** Why a 32-byte string is not a usable BLS secret, or null when it is (big-endian scalar in [1, r)). */
export function blsSecretKeyProblem(secret: Uint8Array): string | null {
  if (secret.length !== BLS_SECRET_KEY_LENGTH) {
    return `must be exactly ${BLS_SECRET_KEY_LENGTH} bytes, got ${secret.length}`;
  }
  const scalar = BigInt('0x' + Buffer.from(secret).toString('hex'));
  if (scalar === 0n) return 'is zero, which is not a valid BLS secret key';
  if (scalar >= CURVE_ORDER) return 'is not below the BLS12-381 group order';
  return null;
}

/** Public key (48-byte compressed G1) and proof of possession (96-byte compressed G2), both 0x-hex. */
export function blsPublicFromSecret(secret: Uint8Array): {
  blsPublicKey: string;
  proofOfPossession: string;
} {
  const problem = blsSecretKeyProblem(secret);
  if (problem) throw new RangeError(`BLS secret key ${problem}`);
  const sk = u8(secret);
  const publicKey = sigs.getPublicKey(sk).toBytes(true);
  const pop = sigs.sign(sigs.hash(publicKey, BLS_POP_DST), sk).toBytes(true);
  return { blsPublicKey: toHex(publicKey), proofOfPossession: toHex(pop) };
}

/** False (never throws) for malformed hex, off-curve points or a wrong proof. */
export function verifyProofOfPossession(blsPublicKey: string, proofOfPossession: string): boolean {
  const pk = fromHex(blsPublicKey, BLS_PUBLIC_KEY_LENGTH);
  const pop = fromHex(proofOfPossession, BLS_SIGNATURE_LENGTH);
  if (!pk || !pop) return false;
  try {
    // An identity public key would "verify" any identity signature; blst's KeyValidate rejects it too.
    if (bls12_381.G1.Point.fromBytes(pk).is0()) return false;
    return sigs.verify(pop, sigs.hash(pk, BLS_POP_DST), pk);
  } catch {
    return false;
  }
}
