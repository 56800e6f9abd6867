import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  sign,
  verify,
  createCipheriv,
  createDecipheriv,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

/**
 * A host's own credential (agent protocol 2). The agent makes two key pairs on the instance: Ed25519
 * to sign every request after registration, X25519 so that the control plane can encrypt the staking
 * keys to this host alone. Only the public halves leave the instance; the bootstrap token in UserData
 * is spent by the registration that binds them, so a copy of UserData opens nothing.
 */
export const hostKeysSchema = z.object({
  version: z.literal(1),
  /** PKCS#8 DER, base64. */
  signingKey: z.string().min(1),
  encryptionKey: z.string().min(1),
  /** The host this key pair was registered for (set once the control plane accepted it). */
  boundHostId: z.string().uuid().nullable(),
  /** A batch launch's member: the batch whose UserData it came with (its host id came at register). */
  boundBatchId: z.string().uuid().optional(),
});
export type HostKeys = z.infer<typeof hostKeysSchema>;

/** Where an agent keeps its HostKeys: the instance's disk (0600), so a restart keeps its identity. */
export interface HostKeyStore {
  load(): Promise<HostKeys | null>;
  save(keys: HostKeys): Promise<void>;
}

export function generateHostKeys(): HostKeys {
  const der = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'der' }).toString('base64');
  return {
    version: 1,
    signingKey: der(generateKeyPairSync('ed25519').privateKey),
    encryptionKey: der(generateKeyPairSync('x25519').privateKey),
    boundHostId: null,
  };
}

const privateKey = (b64: string) =>
  createPrivateKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs8' });
const spki = (k: KeyObject) =>
  createPublicKey(k).export({ type: 'spki', format: 'der' }).toString('base64');

/** The public halves, as the agent sends them at registration (SPKI DER, base64). */
export function hostPublicKeys(keys: HostKeys): { signingKey: string; encryptionKey: string } {
  return {
    signingKey: spki(privateKey(keys.signingKey)),
    encryptionKey: spki(privateKey(keys.encryptionKey)),
  };
}

/** Parses a public key sent at registration; throws with a message naming what is wrong. */
export function parsePublicKey(b64: string, type: 'ed25519' | 'x25519'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new Error(`not a DER SubjectPublicKeyInfo (base64)`);
  }
  if (key.asymmetricKeyType !== type) throw new Error(`expected an ${type} key`);
  return key;
}

/** A short fingerprint of a public key (what events and the instance identity audience name). */
export const keyFingerprint = (spkiB64: string) =>
  createHash('sha256').update(Buffer.from(spkiB64, 'base64')).digest('base64url').slice(0, 22);

/** A file store: JSON, mode 0600, written atomically. */
export function fileHostKeyStore(path: string): HostKeyStore {
  return {
    load: () => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve(null);
        throw err;
      }
      return Promise.resolve(hostKeysSchema.parse(JSON.parse(text)));
    },
    save: (keys) => {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(keys), { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, path);
      return Promise.resolve();
    },
  };
}

export function memoryHostKeyStore(initial: HostKeys | null = null): HostKeyStore & {
  keys: HostKeys | null;
} {
  const store = {
    keys: initial,
    load: () => Promise.resolve(store.keys),
    save: (k: HostKeys) => {
      store.keys = k;
      return Promise.resolve();
    },
  };
  return store;
}

// ---------------------------------------------------------------------------------------------
// Signed requests

export const SIGNATURE_SCHEME = 'Snowline-Host';

const signedText = (method: string, path: string, hostId: string, ts: number, body: string) =>
  [
    'snowline-agent-v2',
    method.toUpperCase(),
    path,
    hostId,
    String(ts),
    createHash('sha256').update(body, 'utf8').digest('hex'),
  ].join('\n');

/** `Authorization: Snowline-Host hostId=…, ts=…, sig=…` over method, path, host, time and body. */
export function signRequest(
  keys: HostKeys,
  req: { method: string; path: string; hostId: string; body: string; now?: number },
): string {
  return requestSigner(keys)(req);
}

/**
 * signRequest with the key parsed once: parsing PKCS#8 costs ~10× the Ed25519 signature, which
 * matters to a caller signing for many hosts (bench:fleet's load generator).
 */
export function requestSigner(
  keys: HostKeys,
): (req: { method: string; path: string; hostId: string; body: string; now?: number }) => string {
  const key = privateKey(keys.signingKey);
  return (req) => {
    const ts = req.now ?? Date.now();
    const sig = sign(
      null,
      Buffer.from(signedText(req.method, req.path, req.hostId, ts, req.body)),
      key,
    );
    return `${SIGNATURE_SCHEME} hostId=${req.hostId}, ts=${ts}, sig=${sig.toString('base64url')}`;
  };
}

export interface ParsedSignature {
  hostId: string;
  ts: number;
  sig: Buffer;
}

/** Null when the header is not of this scheme or is malformed. */
export function parseSignatureHeader(header: string | undefined): ParsedSignature | null {
  const m =
    /^Snowline-Host\s+hostId=([0-9a-f-]{36}),\s*ts=(\d{1,16}),\s*sig=([A-Za-z0-9_-]{40,120})$/i.exec(
      header ?? '',
    );
  if (!m) return null;
  return { hostId: m[1].toLowerCase(), ts: Number(m[2]), sig: Buffer.from(m[3], 'base64url') };
}

/** True when `sig` is the host's signature over this request. The caller checks `ts` freshness. */
export function verifyRequestSignature(
  publicKey: KeyObject,
  parsed: ParsedSignature,
  req: { method: string; path: string; body: string },
): boolean {
  try {
    return verify(
      null,
      Buffer.from(signedText(req.method, req.path, parsed.hostId, parsed.ts, req.body)),
      publicKey,
      parsed.sig,
    );
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Keys encrypted to the host: X25519 (ephemeral-static) + HKDF-SHA256 + AES-256-GCM

export const sealedKeysSchema = z.object({
  alg: z.literal('X25519-HKDF-SHA256-A256GCM'),
  /** The sender's ephemeral X25519 public key, SPKI DER base64. */
  epk: z.string(),
  iv: z.string(),
  ciphertext: z.string(),
  tag: z.string(),
});
export type SealedKeys = z.infer<typeof sealedKeysSchema>;

function contentKey(shared: Buffer, epk: string, recipient: string, aad: string): Buffer {
  const info = Buffer.from(`snowline-keys-v1\n${aad}`);
  const salt = createHash('sha256').update(`${epk}\n${recipient}`).digest();
  return Buffer.from(hkdfSync('sha256', shared, salt, info, 32));
}

/** Encrypts to the host's X25519 public key (SPKI base64); `aad` binds it to host and generation. */
export function sealToHost(recipientSpkiB64: string, plaintext: Buffer, aad: string): SealedKeys {
  const recipient = parsePublicKey(recipientSpkiB64, 'x25519');
  const eph = generateKeyPairSync('x25519');
  const epk = spki(eph.privateKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: recipient });
  const key = contentKey(shared, epk, recipientSpkiB64, aad);
  shared.fill(0);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  key.fill(0);
  return {
    alg: 'X25519-HKDF-SHA256-A256GCM',
    epk,
    iv: iv.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Opens what sealToHost made for this host; throws when it was not made for it or was altered. */
export function openFromControlPlane(keys: HostKeys, sealed: SealedKeys, aad: string): Buffer {
  const mine = privateKey(keys.encryptionKey);
  const shared = diffieHellman({
    privateKey: mine,
    publicKey: parsePublicKey(sealed.epk, 'x25519'),
  });
  const key = contentKey(shared, sealed.epk, spki(mine), aad);
  shared.fill(0);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  try {
    return Buffer.concat([
      decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
      decipher.final(),
    ]);
  } finally {
    key.fill(0);
  }
}

/** What the sealed staking keys are bound to: a copy for another host or generation does not open. */
export const keysAad = (hostId: string, generation: number) =>
  `host=${hostId};generation=${generation}`;
