import { X509Certificate } from 'node:crypto';
import { ripemd160 } from '@noble/hashes/legacy';
import { sha256 } from '@noble/hashes/sha2';
import { cb58Decode, cb58Encode } from './cb58';

export const NODE_ID_PREFIX = 'NodeID-';

/** NodeID = "NodeID-" + cb58(ripemd160(sha256(DER of staker.crt))). */
export function nodeIdFromCertDer(der: Uint8Array): string {
  return NODE_ID_PREFIX + cb58Encode(ripemd160(sha256(Uint8Array.from(der))));
}

/** Throws if the PEM holds no parseable certificate. */
export function nodeIdFromCertPem(pem: string): string {
  return nodeIdFromCertDer(new X509Certificate(pem).raw);
}

/** True for "NodeID-" + a cb58 string with a valid checksum around 20 bytes. */
export function isNodeId(s: string): boolean {
  if (!s.startsWith(NODE_ID_PREFIX)) return false;
  try {
    return cb58Decode(s.slice(NODE_ID_PREFIX.length)).length === 20;
  } catch {
    return false;
  }
}
