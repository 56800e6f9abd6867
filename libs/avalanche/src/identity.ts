// @peculiar/x509 depends on tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { blsPublicFromSecret, blsSecretKeyProblem, BLS_SECRET_KEY_LENGTH } from './bls';
import { nodeIdFromCertDer } from './node-id';

/** The three files that make a validator *this* validator. Never log, never return from an API. */
export interface StakingKeyMaterial {
  /** PEM certificate (staker.crt) */
  stakerCrt: string;
  /** PEM PKCS#8 private key (staker.key) */
  stakerKey: string;
  /** raw 32-byte BLS secret (signer.key) */
  signerKey: Buffer;
}

/** What may be shown and stored in clear. */
export interface PublicIdentity {
  /** NodeID-… */
  nodeId: string;
  /** 0x + 96 hex (48-byte compressed G1) */
  blsPublicKey: string;
  /** 0x + 192 hex (96-byte compressed G2) */
  proofOfPossession: string;
}

export type GeneratedIdentity = StakingKeyMaterial & PublicIdentity;

/** AvalancheGo refuses staking certificates larger than this (staking.MaxCertificateLen). */
export const MAX_CERT_DER_BYTES = 2 * 1024;
const ALLOWED_RSA_BITS = [2048, 4096];
const RSA_EXPONENT = 65537n;

export type IdentityField = 'stakerCrt' | 'stakerKey' | 'signerKey';

export class IdentityValidationError extends Error {
  override readonly name = 'IdentityValidationError';
  constructor(
    readonly field: IdentityField,
    message: string,
  ) {
    super(message);
  }
}

/** A fresh identity as AvalancheGo ≥ 1.11.6 makes one: self-signed ECDSA P-256 cert, random BLS key. */
export async function generateIdentity(): Promise<GeneratedIdentity> {
  const crypto = webcrypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '00',
      // AvalancheGo uses an empty subject and issuer; the peculiar generator needs a name, so keep it neutral.
      name: 'CN=avalanchego',
      notBefore: new Date('2000-01-01T00:00:00Z'),
      notAfter: new Date(Date.now() + 100 * 365 * 24 * 3600 * 1000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.BasicConstraintsExtension(false, undefined, true),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const stakerCrt = cert.toString('pem') + '\n';
  const stakerKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

  let signerKey: Buffer;
  do signerKey = randomBytes(BLS_SECRET_KEY_LENGTH);
  while (blsSecretKeyProblem(signerKey) !== null);

  return {
    stakerCrt,
    stakerKey,
    signerKey,
    nodeId: nodeIdFromCertDer(new Uint8Array(cert.rawData)),
    ...blsPublicFromSecret(signerKey),
  };
}

function parseCert(pem: string): X509Certificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new IdentityValidationError(
      'stakerCrt',
      'staker.crt must be a PEM certificate starting with "-----BEGIN CERTIFICATE-----"',
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new IdentityValidationError(
      'stakerCrt',
      'staker.crt could not be parsed as an X.509 certificate; paste the whole file content',
    );
  }
  if (cert.raw.length > MAX_CERT_DER_BYTES) {
    throw new IdentityValidationError(
      'stakerCrt',
      `staker.crt is ${cert.raw.length} bytes (DER); AvalancheGo accepts at most ${MAX_CERT_DER_BYTES}`,
    );
  }
  const problem = publicKeyProblem(cert.publicKey);
  if (problem) throw new IdentityValidationError('stakerCrt', `staker.crt ${problem}`);
  return cert;
}

function publicKeyProblem(key: KeyObject): string | null {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    return details.namedCurve === 'prime256v1'
      ? null
      : `uses EC curve ${details.namedCurve ?? 'unknown'}; AvalancheGo accepts ECDSA P-256 only`;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (!ALLOWED_RSA_BITS.includes(bits)) {
      return `has a ${bits}-bit RSA key; AvalancheGo accepts RSA 2048 or 4096 bits`;
    }
    if (details.publicExponent !== RSA_EXPONENT) {
      return `has RSA exponent ${String(details.publicExponent)}; AvalancheGo requires 65537`;
    }
    return null;
  }
  return `has a ${key.asymmetricKeyType ?? 'unknown'} key; AvalancheGo accepts ECDSA P-256 or RSA (2048/4096)`;
}

function parseKey(pem: string, cert: X509Certificate): KeyObject {
  if (typeof pem !== 'string' || !/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) {
    throw new IdentityValidationError(
      'stakerKey',
      'staker.key must be an unencrypted PEM private key ("-----BEGIN PRIVATE KEY-----", or the RSA/EC variants)',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new IdentityValidationError(
      'stakerKey',
      'staker.key could not be parsed as a private key; it must be unencrypted PEM',
    );
  }
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(key)).equals(spki(cert.publicKey))) {
    throw new IdentityValidationError(
      'stakerKey',
      'staker.key does not belong to staker.crt (their public keys differ); upload the pair from the same node',
    );
  }
  return key;
}

function parseSignerKey(b64: string): Buffer {
  const compact = typeof b64 === 'string' ? b64.replace(/\s+/g, '') : '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0 || compact === '') {
    throw new IdentityValidationError(
      'signerKey',
      'signer.key must be base64 of the raw 32-byte file (e.g. `base64 -w0 staking/signer.key`)',
    );
  }
  const raw = Buffer.from(compact, 'base64');
  const problem = blsSecretKeyProblem(raw);
  if (problem) {
    throw new IdentityValidationError(
      'signerKey',
      `signer.key ${problem}; it must be AvalancheGo's raw 32-byte BLS secret key, base64-encoded`,
    );
  }
  return raw;
}

/** Validate user-supplied key files and derive the public identity; throws IdentityValidationError. */
export function importIdentity(input: {
  stakerCrt: string;
  stakerKey: string;
  signerKey: string;
}): GeneratedIdentity {
  const cert = parseCert(input.stakerCrt);
  const key = parseKey(input.stakerKey, cert);
  const signerKey = parseSignerKey(input.signerKey);
  return {
    stakerCrt: cert.toString().trim() + '\n',
    stakerKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    signerKey,
    nodeId: nodeIdFromCertDer(cert.raw),
    ...blsPublicFromSecret(signerKey),
  };
}
