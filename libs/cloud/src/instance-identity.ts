/**
 * ECS instance identity: the document an instance's metadata service serves, and its PKCS#7 signature.
 *
 * What Alibaba documents (https://www.alibabacloud.com/help/en/ecs/user-guide/use-instance-identities,
 * zh: https://help.aliyun.com/document_detail/67254.html):
 * - `GET http://100.100.100.200/latest/dynamic/instance-identity/document` returns the JSON document
 *   (owner-account-id, or account-id on older pages, instance-id, mac, region-id, serial-number,
 *   zone-id, instance-type, image-id, private-ipv4 / private-ip).
 * - `GET .../instance-identity/pkcs7?audience=<value>` returns the signature. The documented check is
 *   `openssl smime -verify -in signature -inform PEM -content document -certfile cert -noverify`,
 *   after wrapping the response in `-----BEGIN PKCS7-----` / `-----END PKCS7-----` lines: so the
 *   response is bare base64 (no armour) and the signature is DETACHED (the document goes in -content).
 * - With an audience, "before verifying, append the audience to the end of the document as
 *   `"audience":"<value>"`, joined with a comma": the signed text is the served document with that one
 *   member appended. The verifier therefore takes the document as a second argument (see below) and
 *   rebuilds the signed text itself from the audience it expects, so a signature made for another
 *   audience (or none) cannot verify.
 * The certificate is Alibaba's published one: the caller pins it (`certPem`); certificates carried in
 * the message are ignored, the signer must be that certificate.
 */
import {
  X509Certificate,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import {
  DerError,
  Tag,
  bitString,
  ctx,
  decode,
  expectTag,
  integer,
  nul,
  octets,
  oid,
  readOctets,
  readOid,
  readUnsigned,
  seq,
  setOf,
  time,
  tlv,
  utf8,
  type DerNode,
} from './der';

/** The document as parsed; only instance-id is required, the rest is what ECS serves. */
export interface InstanceIdentityDocument {
  'instance-id': string;
  'owner-account-id'?: string;
  'account-id'?: string;
  'region-id'?: string;
  'zone-id'?: string;
  'instance-type'?: string;
  'image-id'?: string;
  'serial-number'?: string;
  mac?: string;
  'private-ipv4'?: string;
  'private-ip'?: string;
  audience?: string;
  [field: string]: unknown;
}

export type InstanceIdentityFailure =
  | 'malformed' // not base64 / not a PKCS#7 SignedData we understand / document not a JSON object
  | 'wrong-signer' // signed by someone other than the pinned certificate
  | 'bad-signature' // names the pinned certificate but the signature does not verify
  | 'content-mismatch' // the document is not what was signed (tampered, or another audience)
  | 'audience-missing' // an audience was expected but the signature was made without one
  | 'audience-mismatch' // the signed document names another audience
  | 'certificate-expired'; // the pinned certificate is not valid at `now`

export class InstanceIdentityError extends Error {
  constructor(
    readonly reason: InstanceIdentityFailure,
    message: string,
  ) {
    super(`instance identity refused (${reason}): ${message}`);
    this.name = new.target.name;
  }
}

export interface IdentitySigner {
  keyPem: string;
  certPem: string;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
} as const;

const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  [OID.sha256]: 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

// Signature algorithms crypto.verify handles given the certificate's key: RSA PKCS#1 v1.5 and ECDSA.
const SIGNATURES = new Set([
  OID.rsaEncryption,
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  OID.sha256WithRSA,
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
  '1.2.840.10045.2.1', // id-ecPublicKey (some signers put the key OID here)
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3',
  '1.2.840.10045.4.3.4',
]);

/**
 * The signed text: the document with `"audience":"<value>"` appended as its last member, the way
 * Alibaba tells verifiers to rebuild it. One function for the simulator's signer and the verifier.
 */
export function withAudience(documentText: string, audience: string): string {
  const text = documentText.trimEnd();
  if (!text.endsWith('}'))
    throw new InstanceIdentityError('malformed', 'document is not a JSON object');
  const body = text.slice(0, -1).trimEnd();
  const sep = body.endsWith('{') ? '' : ',';
  return `${body}${sep}"audience":${JSON.stringify(audience)}}`;
}

/**
 * For the ECS simulator: sign a document the way the metadata service does. `document` in the result
 * is the exact signed text (with the audience appended when given); the simulator's /document
 * endpoint serves `JSON.stringify(document)` (no audience), its /pkcs7 endpoint serves `pkcs7`:
 * bare base64 (64-column lines) of a DER SignedData, detached, SHA-256 + RSA, signer's cert included.
 */
export function signInstanceIdentity(
  input: { document: object; audience?: string; signingTime?: Date },
  signer: IdentitySigner,
): { document: string; pkcs7: string } {
  if ('audience' in input.document)
    throw new Error('the document must not carry an audience; pass it as `audience`');
  const plain = JSON.stringify(input.document);
  const text = input.audience === undefined ? plain : withAudience(plain, input.audience);
  const content = Buffer.from(text, 'utf8');

  const cert = new X509Certificate(signer.certPem);
  const { issuer, serial } = certificateIssuerAndSerial(cert.raw);
  const attrs = [
    seq(oid(OID.contentType), setOf(oid(OID.data))),
    seq(oid(OID.signingTime), setOf(time(input.signingTime ?? new Date()))),
    seq(oid(OID.messageDigest), setOf(octets(createHash('sha256').update(content).digest()))),
  ];
  const signedAttrs = setOf(...attrs); // DER of the SET is what gets signed (RFC 5652 5.4)
  const signature = cryptoSign('sha256', signedAttrs, createPrivateKey(signer.keyPem));
  const signerInfo = seq(
    integer(1),
    seq(issuer, integer(serial)),
    seq(oid(OID.sha256), nul()),
    tlv(ctx(0), signedAttrs.subarray(headerLength(signedAttrs))), // [0] IMPLICIT SET
    seq(oid(OID.rsaEncryption), nul()),
    octets(signature),
  );
  const signedData = seq(
    integer(1),
    setOf(seq(oid(OID.sha256), nul())),
    seq(oid(OID.data)), // no eContent: detached, as Alibaba's
    tlv(ctx(0), cert.raw),
    setOf(signerInfo),
  );
  const der = seq(oid(OID.signedData), tlv(ctx(0), signedData));
  const pkcs7 = (der.toString('base64').match(/.{1,64}/g) ?? []).join('\n');
  return { document: text, pkcs7 };
}

export interface VerifyInstanceIdentityOptions {
  /** The certificate that must have signed (Alibaba's published one; the simulator's in tests). */
  certPem: string;
  /** The nonce the control plane handed out; when set, the signed document must carry it. */
  audience?: string;
  now?: Date;
}

/**
 * Verify an instance identity and return the signed document. `pkcs7` is the metadata response
 * (bare base64, or PEM-armoured). `document` is the /document response as the instance sent it:
 * Alibaba's signature is detached, so the document cannot come from the message; the verifier
 * appends the expected audience itself, so the document may be sent with or without it. If a message
 * does carry its content (`openssl smime -sign -nodetach`), that content is what is verified and
 * returned; `document`, when also given, must then equal it. Pass `null` to take it from the message.
 */
export function verifyInstanceIdentity(
  pkcs7: string,
  document: string | null,
  opts: VerifyInstanceIdentityOptions,
): InstanceIdentityDocument {
  const cert = new X509Certificate(opts.certPem);
  const now = opts.now ?? new Date();
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo))
    throw new InstanceIdentityError(
      'certificate-expired',
      `the pinned certificate is valid from ${cert.validFrom} to ${cert.validTo}, not at ${now.toISOString()}`,
    );

  const message = parseSignedData(pkcs7);
  const pinned = certificateIssuerAndSerial(cert.raw);
  if (!message.issuer.equals(pinned.issuer) || !message.serial.equals(pinned.serial))
    throw new InstanceIdentityError(
      'wrong-signer',
      'the signature was not made by the pinned certificate (issuer/serial differ)',
    );
  if (!cryptoVerify(message.hash, message.signedBytes, cert.publicKey, message.signature))
    throw new InstanceIdentityError(
      'bad-signature',
      'the signature does not verify with the pinned certificate',
    );

  let text: string;
  if (message.content) {
    text = message.content.toString('utf8');
    if (document !== null && document !== text && expected(document, opts.audience) !== text)
      throw new InstanceIdentityError(
        'content-mismatch',
        'the document sent differs from the one signed',
      );
  } else {
    if (document === null)
      throw new InstanceIdentityError(
        'malformed',
        'the signature is detached: the document must be sent with it',
      );
    text = expected(document, opts.audience);
  }

  // Without signed attributes the signature covers the content itself; with them, its digest.
  const digest = createHash(message.hash).update(text, 'utf8').digest();
  if (message.messageDigest && !message.messageDigest.equals(digest)) {
    if (opts.audience !== undefined && document !== null && !message.content) {
      const plain = createHash(message.hash).update(withoutAudience(document), 'utf8').digest();
      if (message.messageDigest.equals(plain))
        throw new InstanceIdentityError(
          'audience-missing',
          `an audience was expected but the signature was made without one`,
        );
    }
    throw new InstanceIdentityError(
      'content-mismatch',
      opts.audience === undefined
        ? 'the document is not the one that was signed'
        : 'the document with this audience is not the one that was signed (altered, or signed for another audience)',
    );
  }

  const parsed = parseDocument(text);
  if (opts.audience !== undefined) {
    if (parsed.audience === undefined)
      throw new InstanceIdentityError(
        'audience-missing',
        'an audience was expected but the signed document has none',
      );
    if (parsed.audience !== opts.audience)
      throw new InstanceIdentityError(
        'audience-mismatch',
        'the signed document names another audience',
      );
  }
  return parsed;
}

/** A self-signed RSA-2048 certificate and key: the simulator's stand-in for Alibaba's certificate. */
export function generateIdentitySigner(
  opts: { commonName?: string; validDays?: number; now?: Date } = {},
): IdentitySigner {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = opts.now ?? new Date();
  const name = seq(setOf(seq(oid(OID.commonName), utf8(opts.commonName ?? 'snowline-ecs-sim'))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive, 16 bytes: RFC 5280 allows up to 20
  const sigAlg = seq(oid(OID.sha256WithRSA), nul());
  const tbs = seq(
    tlv(ctx(0), integer(2)), // v3
    integer(serial),
    sigAlg,
    name,
    seq(
      time(new Date(now.getTime() - 60_000)),
      time(new Date(now.getTime() + (opts.validDays ?? 3650) * 86_400_000)),
    ),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const cert = seq(tbs, sigAlg, bitString(cryptoSign('sha256', tbs, privateKey)));
  const certPem = `-----BEGIN CERTIFICATE-----\n${(cert.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certPem };
}

// ---- internals ----

function expected(document: string, audience: string | undefined): string {
  if (audience === undefined) return document;
  const present = parseDocument(document).audience;
  if (present === undefined) return withAudience(document, audience);
  if (present !== audience)
    throw new InstanceIdentityError('audience-mismatch', 'the document names another audience');
  return document;
}

/** The document as served, if the caller sent it with the audience already appended. */
function withoutAudience(document: string): string {
  return document.replace(/,?\s*"audience"\s*:\s*"(?:[^"\\]|\\.)*"\s*}\s*$/, '}');
}

function parseDocument(text: string): InstanceIdentityDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InstanceIdentityError('malformed', 'the signed document is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InstanceIdentityError('malformed', 'the signed document is not a JSON object');
  const doc = value as Record<string, unknown>;
  if (typeof doc['instance-id'] !== 'string' || doc['instance-id'] === '')
    throw new InstanceIdentityError('malformed', 'the signed document has no instance-id');
  if (doc.audience !== undefined && typeof doc.audience !== 'string')
    throw new InstanceIdentityError('malformed', 'the signed document has a non-string audience');
  return doc as InstanceIdentityDocument;
}

function headerLength(der: Buffer): number {
  return der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
}

function certificateIssuerAndSerial(certDer: Buffer): { issuer: Buffer; serial: Buffer } {
  const tbs = decode(certDer).children()[0].children();
  const i = tbs[0].tag === ctx(0) ? 1 : 0; // [0] version is optional (v1)
  return {
    serial: readUnsigned(tbs[i]),
    issuer: expectTag(tbs[i + 2], Tag.SEQUENCE, 'issuer').raw,
  };
}

interface ParsedSignedData {
  content?: Buffer;
  issuer: Buffer;
  serial: Buffer;
  hash: string;
  /** What the signature covers: the DER SET of signed attributes, or the content itself. */
  signedBytes: Buffer;
  messageDigest?: Buffer;
  signature: Buffer;
}

function parseSignedData(pkcs7: string): ParsedSignedData {
  const b64 = pkcs7.replace(/-----(BEGIN|END) [A-Z0-9 #]+-----/g, '').replace(/\s+/g, '');
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new InstanceIdentityError('malformed', 'the signature is not base64');
  try {
    return readSignedData(decode(Buffer.from(b64, 'base64')));
  } catch (err) {
    if (err instanceof DerError)
      throw new InstanceIdentityError('malformed', `not a PKCS#7 SignedData: ${err.message}`);
    throw err;
  }
}

function readSignedData(contentInfo: DerNode): ParsedSignedData {
  const [type, wrapped] = expectTag(contentInfo, Tag.SEQUENCE, 'ContentInfo').children();
  if (readOid(type) !== OID.signedData) throw new DerError('ContentInfo is not signedData');
  const sd = expectTag(
    expectTag(wrapped, ctx(0), 'content').children()[0],
    Tag.SEQUENCE,
    'SignedData',
  );
  const parts = sd.children();
  const encap = expectTag(parts[2], Tag.SEQUENCE, 'encapContentInfo').children();
  if (readOid(encap[0]) !== OID.data) throw new DerError('the signed content is not id-data');
  const content = encap[1]
    ? readOctets(expectTag(encap[1], ctx(0), 'eContent').children()[0])
    : undefined;
  const signerInfos = expectTag(parts[parts.length - 1], Tag.SET, 'signerInfos').children();
  if (signerInfos.length !== 1)
    throw new DerError(`expected exactly one signer, found ${signerInfos.length}`);

  const si = expectTag(signerInfos[0], Tag.SEQUENCE, 'SignerInfo').children();
  const sid = expectTag(
    si[1],
    Tag.SEQUENCE,
    'issuerAndSerialNumber (a key-id signer is not supported)',
  ).children();
  const hash = DIGESTS[readOid(si[2].children()[0])];
  if (!hash) throw new DerError('unsupported digest algorithm');
  let k = 3;
  let signedBytes: Buffer | undefined;
  let messageDigest: Buffer | undefined;
  if (si[k]?.tag === ctx(0)) {
    const attrsNode = si[k++];
    signedBytes = tlv(Tag.SET, attrsNode.content); // signed as a DER SET, not as [0]
    for (const attr of attrsNode.children()) {
      const [attrType, values] = attr.children();
      const t = readOid(attrType);
      if (t === OID.messageDigest) messageDigest = readOctets(values.children()[0]);
      if (t === OID.contentType && readOid(values.children()[0]) !== OID.data)
        throw new DerError('the contentType attribute is not id-data');
    }
    if (!messageDigest) throw new DerError('signed attributes without a messageDigest');
  }
  const sigAlg = readOid(si[k++].children()[0]);
  if (!SIGNATURES.has(sigAlg)) throw new DerError(`unsupported signature algorithm ${sigAlg}`);
  const signature = readOctets(expectTag(si[k], Tag.OCTET_STRING, 'signature'));
  if (!signedBytes) {
    if (!content) throw new DerError('a detached signature without signed attributes');
    signedBytes = content; // no attributes: the signature is over the content itself
  }
  return {
    content,
    issuer: sid[0].raw,
    serial: readUnsigned(sid[1]),
    hash,
    signedBytes,
    messageDigest,
    signature,
  };
}
