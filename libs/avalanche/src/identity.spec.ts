import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyProofOfPossession } from './bls';
import { generateIdentity, IdentityValidationError, importIdentity } from './identity';
import { nodeIdFromCertPem } from './node-id';

const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name));

function expectInvalid(fn: () => unknown, field: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IdentityValidationError);
    expect((err as IdentityValidationError).field).toBe(field);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected IdentityValidationError');
}

describe(generateIdentity.name, () => {
  let id: Awaited<ReturnType<typeof generateIdentity>>;
  beforeAll(async () => {
    id = await generateIdentity();
  });

  it('should make an ECDSA P-256 self-signed cert whose NodeID matches', () => {
    const cert = new X509Certificate(id.stakerCrt);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.raw.length).toBeLessThanOrEqual(2048);
    expect(id.nodeId).toBe(nodeIdFromCertPem(id.stakerCrt));
    expect(id.stakerKey).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('should make a 32-byte BLS key with a valid PoP', () => {
    expect(id.signerKey).toHaveLength(32);
    expect(verifyProofOfPossession(id.blsPublicKey, id.proofOfPossession)).toBe(true);
  });

  it('should re-import what it generated to the same public identity', () => {
    const again = importIdentity({
      stakerCrt: id.stakerCrt,
      stakerKey: id.stakerKey,
      signerKey: id.signerKey.toString('base64'),
    });
    expect(again.nodeId).toBe(id.nodeId);
    expect(again.blsPublicKey).toBe(id.blsPublicKey);
    expect(again.proofOfPossession).toBe(id.proofOfPossession);
  });

  it('should make distinct identities', async () => {
    const other = await generateIdentity();
    expect(other.nodeId).not.toBe(id.nodeId);
    expect(other.signerKey.equals(id.signerKey)).toBe(false);
  });
});

describe(importIdentity.name, () => {
  let id: Awaited<ReturnType<typeof generateIdentity>>;
  let valid: { stakerCrt: string; stakerKey: string; signerKey: string };
  beforeAll(async () => {
    id = await generateIdentity();
    valid = {
      stakerCrt: id.stakerCrt,
      stakerKey: id.stakerKey,
      signerKey: id.signerKey.toString('base64'),
    };
  });

  it('should accept the RSA-4096 staker1.crt and then refuse a key from another identity', () => {
    // Reaching the key check proves the certificate passed (RSA-4096, e=65537, ≤ 2 KiB).
    expectInvalid(
      () => importIdentity({ ...valid, stakerCrt: fixture('staker1.crt').toString() }),
      'stakerKey',
      /does not belong to staker.crt/,
    );
  });

  it('should accept an RSA-2048 / e=65537 pair given as PKCS#1 and normalise the key to PKCS#8', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const cert = await selfSignedRsaCert(privateKey);
    const out = importIdentity({
      stakerCrt: cert,
      stakerKey: pkcs1,
      signerKey: fixture('signer1.key').toString('base64'),
    });
    expect(out.stakerKey).toContain('-----BEGIN PRIVATE KEY-----');
    expect(out.nodeId).toBe(nodeIdFromCertPem(cert));
    expect(out.blsPublicKey).toBe(
      '0x900c9b119b5c82d781d4b49be78c3fc7ae65f2b435b7ed9e3a8b9a03e475edff86d8a64827fec8db23a6f236afbf127d',
    );
  });

  it.each([
    ['not PEM', 'hello', /PEM certificate/],
    [
      'garbage PEM',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      /could not be parsed/,
    ],
  ])('should reject a cert that is %s', (_label, stakerCrt, message) => {
    expectInvalid(() => importIdentity({ ...valid, stakerCrt }), 'stakerCrt', message);
  });

  it('should reject a cert with an RSA-3072 key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const cert = await selfSignedRsaCert(privateKey);
    expectInvalid(
      () => importIdentity({ ...valid, stakerCrt: cert }),
      'stakerCrt',
      /3072-bit.*2048 or 4096/,
    );
  });

  it('should reject a cert with RSA exponent 3', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const cert = await selfSignedRsaCert(privateKey);
    expectInvalid(
      () => importIdentity({ ...valid, stakerCrt: cert }),
      'stakerCrt',
      /exponent 3.*65537/,
    );
  });

  it('should reject a cert larger than 2 KiB', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cert = await selfSignedRsaCert(privateKey, 'x'.repeat(1500));
    expectInvalid(() => importIdentity({ ...valid, stakerCrt: cert }), 'stakerCrt', /at most 2048/);
  });

  it('should reject a cert on another EC curve', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const cert = await selfSignedEcCert(privateKey);
    expectInvalid(() => importIdentity({ ...valid, stakerCrt: cert }), 'stakerCrt', /P-256 only/);
  });

  it('should reject a key that is not PEM or does not parse', () => {
    expectInvalid(
      () => importIdentity({ ...valid, stakerKey: 'nope' }),
      'stakerKey',
      /PEM private key/,
    );
    expectInvalid(
      () =>
        importIdentity({
          ...valid,
          stakerKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
        }),
      'stakerKey',
      /could not be parsed/,
    );
  });

  it('should reject a key that does not match the cert', async () => {
    const other = await generateIdentity();
    expectInvalid(
      () => importIdentity({ ...valid, stakerKey: other.stakerKey }),
      'stakerKey',
      /does not belong/,
    );
  });

  it.each([
    ['not base64', '!!!', /base64/],
    ['empty', '', /base64/],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64'), /exactly 32 bytes, got 31/],
    ['zero', Buffer.alloc(32).toString('base64'), /zero/],
    ['above the group order', Buffer.alloc(32, 0xff).toString('base64'), /group order/],
  ])('should reject a signer key that is %s', (_label, signerKey, message) => {
    expectInvalid(() => importIdentity({ ...valid, signerKey }), 'signerKey', message);
  });

  it('should never put key material in an error message', () => {
    const bad = Buffer.alloc(31, 7).toString('base64');
    try {
      importIdentity({ ...valid, signerKey: bad });
    } catch (err) {
      expect((err as Error).message).not.toContain(bad);
    }
  });
});

async function selfSigned(
  privateKey: KeyObject,
  alg: { name: string; hash: string; namedCurve?: string },
  cn: string,
): Promise<string> {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const keys = {
    publicKey: await webcrypto.subtle.importKey('spki', spki, alg, true, ['verify']),
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, true, ['sign']),
  };
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    { serialNumber: '01', name: `CN=${cn}`, keys, signingAlgorithm: alg },
    webcrypto,
  );
  return cert.toString('pem');
}

const selfSignedRsaCert = (k: KeyObject, cn = 'test') =>
  selfSigned(k, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, cn);
const selfSignedEcCert = (k: KeyObject) =>
  selfSigned(k, { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }, 'test');
