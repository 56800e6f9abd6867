import { signPayload, verifySignature } from './signature';

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
