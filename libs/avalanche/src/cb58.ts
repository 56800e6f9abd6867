import { sha256 } from '@noble/hashes/sha2';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const INDEX: Record<string, number> = Object.fromEntries([...ALPHABET].map((c, i) => [c, i]));
const CHECKSUM_LEN = 4;

export class Cb58Error extends Error {
  override readonly name = 'Cb58Error';
}

/** Bitcoin-alphabet base58; leading zero bytes become leading '1's. */
export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  return '1'.repeat(zeros) + out;
}

export function base58Decode(s: string): Buffer {
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  let n = 0n;
  for (const c of s) {
    const v = INDEX[c];
    if (v === undefined) throw new Cb58Error(`invalid base58 character ${JSON.stringify(c)}`);
    n = n * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return Buffer.from([...new Array<number>(zeros).fill(0), ...body]);
}

/** cb58 = base58(payload ‖ last 4 bytes of sha256(payload)), as AvalancheGo's formatting.CB58. */
export function cb58Encode(payload: Uint8Array): string {
  const checksum = sha256(Uint8Array.from(payload)).subarray(-CHECKSUM_LEN);
  return base58Encode(Buffer.concat([payload, checksum]));
}

/** Inverse of cb58Encode; throws Cb58Error on a bad alphabet, length or checksum. */
export function cb58Decode(s: string): Buffer {
  const raw = base58Decode(s);
  if (raw.length < CHECKSUM_LEN) throw new Cb58Error('cb58 string too short for a checksum');
  const payload = raw.subarray(0, raw.length - CHECKSUM_LEN);
  const checksum = raw.subarray(raw.length - CHECKSUM_LEN);
  const expected = sha256(Uint8Array.from(payload)).subarray(-CHECKSUM_LEN);
  if (!Buffer.from(expected).equals(checksum)) throw new Cb58Error('cb58 checksum mismatch');
  return Buffer.from(payload);
}
