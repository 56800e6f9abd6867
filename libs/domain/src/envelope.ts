import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Envelope encryption (AES-256-GCM): each secret has its own data key, wrapped by the master key.
 * Sealed blobs are iv(12) ‖ tag(16) ‖ ciphertext. The additional data binds a blob to its owner id,
 * so a sealed blob copied onto another row fails to open.
 */
const IV = 12;
const TAG = 16;

export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV + TAG) throw new Error('sealed blob is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(IV, IV + TAG));
  return Buffer.concat([decipher.update(sealed.subarray(IV + TAG)), decipher.final()]);
}

/** A short, non-secret id for a master key, so rows say which key wrapped them. */
export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256')
    .update('snowline-master-key-id')
    .update(masterKey)
    .digest('hex')
    .slice(0, 16);
}

export interface Envelope {
  wrappedDataKey: Buffer;
  sealed: Buffer;
}

export function sealEnvelope(masterKey: Buffer, plaintext: Buffer, aad: string): Envelope {
  const dataKey = randomBytes(32);
  try {
    return {
      wrappedDataKey: seal(masterKey, dataKey, `dk:${aad}`),
      sealed: seal(dataKey, plaintext, aad),
    };
  } finally {
    dataKey.fill(0);
  }
}

export function openEnvelope(masterKey: Buffer, env: Envelope, aad: string): Buffer {
  const dataKey = open(masterKey, env.wrappedDataKey, `dk:${aad}`);
  try {
    return open(dataKey, env.sealed, aad);
  } finally {
    dataKey.fill(0);
  }
}

/** Key rotation: re-wrap a data key under a new master key without touching the sealed data. */
export function rewrapDataKey(
  oldMaster: Buffer,
  newMaster: Buffer,
  wrapped: Buffer,
  aad: string,
): Buffer {
  const dataKey = open(oldMaster, wrapped, `dk:${aad}`);
  try {
    return seal(newMaster, dataKey, `dk:${aad}`);
  } finally {
    dataKey.fill(0);
  }
}
