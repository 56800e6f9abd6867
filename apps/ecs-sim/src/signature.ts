import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** ACS3-HMAC-SHA256, as the Alibaba Cloud SDK (openapi-core) computes it; see shared/reference/alibaba-ecs.md. */
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** RFC 3986 encoding: encodeURIComponent plus the four characters it leaves alone. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface SignableRequest {
  method: string;
  /** The path without the query string, e.g. `/`. */
  pathname: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Header names in any case; only the signed ones are used. */
  headers: Record<string, string | string[] | undefined>;
  body?: Buffer | string;
}

function headerValue(headers: SignableRequest['headers'], name: string): string {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== lower || v === undefined) continue;
    return (Array.isArray(v) ? [...v].sort().join(',') : v).trim();
  }
  return '';
}

export function canonicalRequest(req: SignableRequest, signedHeaders: string[]): string {
  const query = Object.keys(req.query)
    .sort()
    .map((k) => `${rfc3986(k)}=${rfc3986(req.query[k] ?? '')}`)
    .join('&');
  const names = signedHeaders.map((h) => h.toLowerCase()).sort();
  const headers = names.map((h) => `${h}:${headerValue(req.headers, h)}\n`).join('');
  return [
    req.method.toUpperCase(),
    req.pathname || '/',
    query,
    headers,
    names.join(';'),
    sha256Hex(req.body ?? ''),
  ].join('\n');
}

export function stringToSign(canonical: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
}

export function signature(secret: string, req: SignableRequest, signedHeaders: string[]): string {
  return createHmac('sha256', secret)
    .update(stringToSign(canonicalRequest(req, signedHeaders)))
    .digest('hex');
}

/** The headers the SDK signs: host, content-type and every x-acs-* header present. */
export function defaultSignedHeaders(headers: SignableRequest['headers']): string[] {
  return Object.keys(headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
}

export function authorizationHeader(
  accessKeyId: string,
  secret: string,
  req: SignableRequest,
  signedHeaders = defaultSignedHeaders(req.headers),
): string {
  const names = signedHeaders.map((h) => h.toLowerCase()).sort();
  return `${ACS3_ALGORITHM} Credential=${accessKeyId},SignedHeaders=${names.join(';')},Signature=${signature(secret, req, names)}`;
}

export interface ParsedAuthorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(value: string | undefined): ParsedAuthorization | null {
  if (!value) return null;
  const space = value.indexOf(' ');
  if (space < 0) return null;
  const algorithm = value.slice(0, space);
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const sig = fields.get('Signature');
  if (!accessKeyId || signedHeaders === undefined || !sig) return null;
  return {
    algorithm,
    accessKeyId,
    signedHeaders: signedHeaders.split(';').filter(Boolean),
    signature: sig,
  };
}

export type VerifyResult =
  { ok: true; accessKeyId: string } | { ok: false; status: number; code: string; message: string };

/** Verifies a request against the known key pairs (accessKeyId → secret). */
export function verifyRequest(
  req: SignableRequest,
  secrets: ReadonlyMap<string, string>,
): VerifyResult {
  const auth = parseAuthorization(headerValue(req.headers, 'authorization'));
  if (!auth) {
    return {
      ok: false,
      status: 400,
      code: 'IncompleteSignature',
      message: 'The request signature does not conform to Aliyun standards.',
    };
  }
  if (auth.algorithm !== ACS3_ALGORITHM) {
    return {
      ok: false,
      status: 400,
      code: 'InvalidSignatureMethod',
      message: `The signature method ${auth.algorithm} is not supported.`,
    };
  }
  const secret = secrets.get(auth.accessKeyId);
  if (secret === undefined) {
    return {
      ok: false,
      status: 404,
      code: 'InvalidAccessKeyId.NotFound',
      message: 'Specified access key is not found.',
    };
  }
  const required = ['host', 'x-acs-action', 'x-acs-version'];
  const signed = new Set(auth.signedHeaders.map((h) => h.toLowerCase()));
  if (required.some((h) => !signed.has(h))) {
    return {
      ok: false,
      status: 400,
      code: 'IncompleteSignature',
      message: `SignedHeaders must include ${required.join(', ')}.`,
    };
  }
  const expected = Buffer.from(signature(secret, req, [...signed]), 'utf8');
  const given = Buffer.from(auth.signature.toLowerCase(), 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return {
      ok: false,
      status: 400,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return { ok: true, accessKeyId: auth.accessKeyId };
}
