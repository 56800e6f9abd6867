import { hkdfSync } from 'node:crypto';
import { open, seal } from './envelope';

/**
 * Replayable `Idempotency-Key` responses (which may carry a new API key or webhook secret) rest
 * sealed: AES-256-GCM under a key derived from the master key with HKDF-SHA256, the additional data
 * bound to the row, so a copy moved onto another row, project, key, route or status fails to open.
 * Stored as version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */
const VERSION = 1;
const HKDF_INFO = 'snowline:idempotency-response:v1';

/** The row fields a sealed response is bound to. */
export interface StoredResponseRow {
  projectId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  status: number;
}

export function idempotencyResponseKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), HKDF_INFO, 32));
}

// JSON of the fields (not a joined string), so no separator inside a key or path can shift them.
const aadOf = (r: StoredResponseRow) =>
  `idem:v${VERSION}:${JSON.stringify([r.projectId, r.key, r.method, r.path, r.requestHash, r.status])}`;

export function sealResponse(key: Buffer, row: StoredResponseRow, body: unknown): Buffer {
  const plain = Buffer.from(JSON.stringify(body ?? null), 'utf8');
  try {
    return Buffer.concat([Buffer.from([VERSION]), seal(key, plain, aadOf(row))]);
  } finally {
    plain.fill(0);
  }
}

/** The body the first answer carried; throws when the blob is not this row's under this key. */
export function openResponse(key: Buffer, row: StoredResponseRow, sealed: Buffer): unknown {
  if (sealed[0] !== VERSION) throw new Error(`unknown sealed response version ${sealed[0]}`);
  return JSON.parse(open(key, sealed.subarray(1), aadOf(row)).toString('utf8')) as unknown;
}
