import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  newStandardSecret,
  SIGNATURE_HEADER,
  signatureHeaders,
  signPayload,
  signStandard,
  standardKeyOf,
  verifySignature,
} from './signature';

describe(signPayload.name, () => {
  const body = JSON.stringify({ id: '1', type: 'validator.created' });

  it('should match a known HMAC-SHA256 vector', () => {
    // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    expect(signPayload('whsec_test', '{"a":1}', 1700000000)).toBe(
      't=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789',
    );
  });

  it.each([
    ['the right secret and a fresh timestamp', 'whsec_a', body, 1000, true],
    ['another secret', 'whsec_b', body, 1000, false],
    ['a changed body', 'whsec_a', body + ' ', 1000, false],
    ['a stale timestamp', 'whsec_a', body, 1000 + 301, false],
  ])('should verify with %s: %s', (_, secret, received, now, ok) => {
    const header = signPayload('whsec_a', body, 1000);
    expect(verifySignature(secret, received, header, now)).toBe(ok);
  });

  it('should refuse a malformed header', () => {
    expect(verifySignature('whsec_a', body, 'garbage', 1000)).toBe(false);
    expect(verifySignature('whsec_a', body, 't=1000,v1=zz', 1000)).toBe(false);
  });
});

describe(signStandard.name, () => {
  it('should match the Standard Webhooks reference vector', () => {
    // libraries/javascript/src/webhook.test.ts in github.com/standard-webhooks/standard-webhooks
    const key = standardKeyOf('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')!;
    expect(
      signStandard(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe(standardKeyOf.name, () => {
  it.each([
    ['a new secret', newStandardSecret(), 32],
    ['24 bytes, no padding', `whsec_${randomBytes(24).toString('base64')}`, 24],
    ['64 bytes', `whsec_${randomBytes(64).toString('base64')}`, 64],
  ])('should take %s', (_, secret, bytes) => {
    expect(standardKeyOf(secret)?.length).toBe(bytes);
  });

  it.each([
    ['no prefix', randomBytes(32).toString('base64')],
    ['a hex secret_env value', randomBytes(32).toString('hex')],
    ['base64url characters', 'whsec_' + 'ab-_'.repeat(8)],
    ['missing padding', 'whsec_' + randomBytes(32).toString('base64').replace(/=+$/, '')],
    ['non-canonical trailing bits', 'whsec_' + 'A'.repeat(42) + 'B='],
    ['too short a key (16 bytes)', `whsec_${randomBytes(16).toString('base64')}`],
    ['too long a key (65 bytes)', `whsec_${randomBytes(65).toString('base64')}`],
    ['spaces', 'whsec_ ' + randomBytes(30).toString('base64')],
  ])('should refuse %s', (_, secret) => {
    expect(standardKeyOf(secret)).toBeNull();
  });
});

describe(signatureHeaders.name, () => {
  const body = JSON.stringify({ id: '42', type: 'validator.created' });
  const now = Math.floor(Date.now() / 1000);

  it('should give a new secret the three standard headers, which the standardwebhooks package accepts', () => {
    const secret = newStandardSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const h = signatureHeaders(secret, '42', now, body);
    expect(h).toMatchObject({ 'webhook-id': '42', 'webhook-timestamp': String(now) });
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, h)).toEqual(JSON.parse(body));
    // and the old header still verifies, for receivers written before
    expect(verifySignature(secret, body, h[SIGNATURE_HEADER]!)).toBe(true);
  });

  it.each([
    ['another secret', () => newStandardSecret(), '42', body],
    ['another id', undefined, '43', body],
    ['a changed body', undefined, '42', body + ' '],
  ])('should fail standardwebhooks verification with %s', (_, otherSecret, id, received) => {
    const secret = newStandardSecret();
    const h = { ...signatureHeaders(secret, '42', now, body), 'webhook-id': id };
    expect(() => new Webhook(otherSecret?.() ?? secret).verify(received, h)).toThrow(
      'No matching signature found',
    );
  });

  it('should keep an arbitrary secret on Snowline-Signature only', () => {
    const secret = randomBytes(32).toString('hex');
    const h = signatureHeaders(secret, '42', now, body);
    expect(Object.keys(h)).toEqual([SIGNATURE_HEADER]);
    expect(verifySignature(secret, body, h[SIGNATURE_HEADER]!)).toBe(true);
  });
});
