import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InstanceIdentityError,
  generateIdentitySigner,
  signInstanceIdentity,
  verifyInstanceIdentity,
  withAudience,
  type InstanceIdentityFailure,
} from './instance-identity';

const doc = {
  'owner-account-id': '1234567890123456',
  'instance-id': 'i-bp1abcdefghijklmnopq',
  mac: '00:16:3e:12:34:56',
  'region-id': 'cn-hongkong',
  'serial-number': '4acd2b47-b328-4762-852f-998b5cd2b4d4',
  'zone-id': 'cn-hongkong-c',
  'instance-type': 'ecs.g7.xlarge',
  'image-id': 'ubuntu_22_04_x64_20G_alibase_20240101.vhd',
  'private-ipv4': '172.16.0.12',
};
const docText = JSON.stringify(doc);

const signer = generateIdentitySigner({ commonName: 'test-identity' });
const other = generateIdentitySigner({ commonName: 'test-identity' }); // same name, other key/serial

function refusal(fn: () => unknown): InstanceIdentityFailure {
  try {
    fn();
  } catch (err) {
    if (err instanceof InstanceIdentityError) return err.reason;
    throw err;
  }
  throw new Error('expected a refusal');
}

/** A temp dir for openssl's files, removed afterwards whatever happens. */
function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'snowline-iid-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const openssl = (args: string[]): string =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('instance identity', () => {
  it('should round-trip a document without an audience', () => {
    const signed = signInstanceIdentity({ document: doc }, signer);
    expect(signed.document).toBe(docText);
    expect(signed.pkcs7).not.toContain('-----'); // bare base64, as the metadata service returns it
    expect(verifyInstanceIdentity(signed.pkcs7, docText, { certPem: signer.certPem })).toEqual(doc);
  });

  it('should round-trip with an audience, from the served document or the signed text', () => {
    const signed = signInstanceIdentity({ document: doc, audience: 'nonce-1' }, signer);
    expect(signed.document).toBe(docText.slice(0, -1) + ',"audience":"nonce-1"}');
    const opts = { certPem: signer.certPem, audience: 'nonce-1' };
    expect(verifyInstanceIdentity(signed.pkcs7, docText, opts)).toEqual({
      ...doc,
      audience: 'nonce-1',
    });
    expect(verifyInstanceIdentity(signed.pkcs7, signed.document, opts).audience).toBe('nonce-1');
    // PEM armour, as Alibaba's openssl recipe adds it, is accepted too
    const pem = `-----BEGIN PKCS7-----\n${signed.pkcs7}\n-----END PKCS7-----\n`;
    expect(verifyInstanceIdentity(pem, docText, opts)['instance-id']).toBe(doc['instance-id']);
  });

  it('should refuse a tampered document', () => {
    const signed = signInstanceIdentity({ document: doc }, signer);
    const tampered = JSON.stringify({ ...doc, 'instance-id': 'i-someoneelse' });
    expect(refusal(() => verifyInstanceIdentity(signed.pkcs7, tampered, signer))).toBe(
      'content-mismatch',
    );
  });

  it('should refuse a signature by another certificate, even one the message carries', () => {
    const signed = signInstanceIdentity({ document: doc }, other);
    expect(refusal(() => verifyInstanceIdentity(signed.pkcs7, docText, signer))).toBe(
      'wrong-signer',
    );
  });

  it('should refuse a flipped signature byte', () => {
    const der = Buffer.from(signInstanceIdentity({ document: doc }, signer).pkcs7, 'base64');
    der[der.length - 10] ^= 0x01; // inside the RSA signature, the SignerInfo's last field
    expect(refusal(() => verifyInstanceIdentity(der.toString('base64'), docText, signer))).toBe(
      'bad-signature',
    );
  });

  it.each([
    ['signed for another audience', 'nonce-A', docText, 'content-mismatch'],
    [
      'document claims another audience',
      'nonce-A',
      withAudience(docText, 'nonce-A'),
      'audience-mismatch',
    ],
    ['signed without an audience', undefined, docText, 'audience-missing'],
  ] as const)('should refuse an audience mismatch: %s', (_, signedFor, sent, reason) => {
    const signed = signInstanceIdentity({ document: doc, audience: signedFor }, signer);
    const opts = { certPem: signer.certPem, audience: 'nonce-B' };
    expect(refusal(() => verifyInstanceIdentity(signed.pkcs7, sent, opts))).toBe(reason);
  });

  it('should refuse garbage, a detached signature without its document, and an expired cert', () => {
    expect(refusal(() => verifyInstanceIdentity('not base64!', docText, signer))).toBe('malformed');
    expect(refusal(() => verifyInstanceIdentity('MAMCAQE=', docText, signer))).toBe('malformed');
    const signed = signInstanceIdentity({ document: doc }, signer);
    expect(refusal(() => verifyInstanceIdentity(signed.pkcs7, null, signer))).toBe('malformed');
    const later = { certPem: signer.certPem, now: new Date(Date.now() + 3651 * 86_400_000) };
    expect(refusal(() => verifyInstanceIdentity(signed.pkcs7, docText, later))).toBe(
      'certificate-expired',
    );
  });

  it('should verify what `openssl smime -sign` produces, detached and embedded', () => {
    const signedText = withAudience(docText, 'nonce-ossl');
    withTmp((dir) => {
      writeFileSync(join(dir, 'doc.json'), signedText);
      writeFileSync(join(dir, 'key.pem'), signer.keyPem);
      writeFileSync(join(dir, 'cert.pem'), signer.certPem);
      const sign = (extra: string[]) =>
        openssl([
          ...'smime -sign -binary -md sha256 -outform PEM'.split(' '),
          ...['-in', join(dir, 'doc.json'), '-signer', join(dir, 'cert.pem')],
          ...['-inkey', join(dir, 'key.pem'), ...extra],
        ]);
      const opts = { certPem: signer.certPem, audience: 'nonce-ossl' };

      const detached = sign([]);
      expect(verifyInstanceIdentity(detached, docText, opts)).toEqual({
        ...doc,
        audience: 'nonce-ossl',
      });
      expect(refusal(() => verifyInstanceIdentity(detached, docText, signer))).toBe(
        'content-mismatch', // no audience expected: the served document alone is not what was signed
      );

      // -nodetach carries the content: it is taken from the message, a different document refused
      const embedded = sign(['-nodetach']);
      expect(verifyInstanceIdentity(embedded, null, opts).audience).toBe('nonce-ossl');
      expect(verifyInstanceIdentity(embedded, docText, opts)['instance-id']).toBe(
        doc['instance-id'],
      );
      const forged = JSON.stringify({ ...doc, 'zone-id': 'cn-hongkong-b' });
      expect(refusal(() => verifyInstanceIdentity(embedded, forged, opts))).toBe(
        'content-mismatch',
      );
      expect(refusal(() => verifyInstanceIdentity(embedded, null, other))).toBe('wrong-signer');

      // `openssl cms -sign` (streamed, BER indefinite lengths) too
      const cms = openssl([
        ...'cms -sign -binary -nodetach -stream -md sha256 -outform PEM'.split(' '),
        ...['-in', join(dir, 'doc.json'), '-signer', join(dir, 'cert.pem')],
        ...['-inkey', join(dir, 'key.pem')],
      ]);
      expect(verifyInstanceIdentity(cms, null, opts).audience).toBe('nonce-ossl');
    });
  });

  it("should produce what Alibaba's documented `openssl smime -verify` accepts", () => {
    const signed = signInstanceIdentity({ document: doc, audience: 'nonce-2' }, signer);
    withTmp((dir) => {
      // the recipe: wrap the /pkcs7 response in PEM lines, rebuild the document with the audience
      writeFileSync(
        join(dir, 'signature'),
        `-----BEGIN PKCS7-----\n${signed.pkcs7}\n-----END PKCS7-----\n`,
      );
      writeFileSync(join(dir, 'document'), withAudience(docText, 'nonce-2'));
      writeFileSync(join(dir, 'cert.cer'), signer.certPem);
      const verify = (certFile: string) =>
        openssl([
          ...['smime', '-verify', '-in', join(dir, 'signature'), '-inform', 'PEM'],
          ...['-content', join(dir, 'document'), '-certfile', join(dir, certFile), '-noverify'],
        ]);
      expect(verify('cert.cer')).toBe(signed.document);

      writeFileSync(join(dir, 'document'), withAudience(docText, 'nonce-3'));
      expect(() => verify('cert.cer')).toThrow(/digest failure|signature failure|Verify error/i);
    });
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('snowline-iid-'))).toEqual([]);
  });
});
