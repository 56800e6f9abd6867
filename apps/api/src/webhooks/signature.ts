import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header of Snowline's own scheme, kept for secrets that are not Standard Webhooks secrets. */
export const SIGNATURE_HEADER = 'Snowline-Signature';

/** Standard Webhooks (https://www.standardwebhooks.com): secret prefix and the three headers. */
export const STANDARD_SECRET_PREFIX = 'whsec_';
export const STANDARD_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;
/** The spec asks for keys of 24 to 64 bytes. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const NEW_KEY_BYTES = 32;

/** A new signing secret: `whsec_` + base64 of 32 random bytes, what Standard Webhooks verifiers take. */
export function newStandardSecret(): string {
  return STANDARD_SECRET_PREFIX + randomBytes(NEW_KEY_BYTES).toString('base64');
}

/**
 * The HMAC key of a Standard Webhooks secret (`whsec_` + canonical base64 of 24–64 bytes), or null
 * for any other string. Strict on purpose: official verifiers reject base64url or bad padding, and a
 * secret they cannot load must keep the scheme its receiver already verifies.
 */
export function standardKeyOf(secret: string): Buffer | null {
  if (!secret.startsWith(STANDARD_SECRET_PREFIX)) return null;
  const b64 = secret.slice(STANDARD_SECRET_PREFIX.length);
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  const key = Buffer.from(b64, 'base64');
  if (key.toString('base64') !== b64) return null;
  return key.length >= MIN_KEY_BYTES && key.length <= MAX_KEY_BYTES ? key : null;
}

/** `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, the Standard Webhooks signature. */
export function signStandard(key: Buffer, msgId: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * The signature headers of one delivery attempt. A Standard Webhooks secret gets `webhook-id` (stable
 * across retries, so receivers can deduplicate), `webhook-timestamp` and `webhook-signature`, plus
 * `Snowline-Signature` so receivers written before the standard scheme keep verifying; any other
 * secret (an arbitrary `secret_env` value, a pre-standard API secret) gets `Snowline-Signature` only.
 */
export function signatureHeaders(
  secret: string,
  msgId: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  const legacy = { [SIGNATURE_HEADER]: signPayload(secret, body, timestamp) };
  const key = standardKeyOf(secret);
  if (!key) return legacy;
  return {
    [STANDARD_HEADERS.id]: msgId,
    [STANDARD_HEADERS.timestamp]: String(timestamp),
    [STANDARD_HEADERS.signature]: signStandard(key, msgId, timestamp, body),
    ...legacy,
  };
}

/**
 * `Snowline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` — Stripe's
 * recipe: the timestamp is signed with the body, so a captured delivery cannot be replayed later.
 */
export function signPayload(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** The receiver's side of `Snowline-Signature` (docs/api.md): true when it matches and is fresh. */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  const parts = Object.fromEntries(
    header.split(',').map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
    }),
  );
  const t = Number(parts['t']);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signPayload(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(String(parts['v1'] ?? ''), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
