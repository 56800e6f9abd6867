import { canonicalJson, requestFingerprint } from './canonical-json';

describe(canonicalJson.name, () => {
  it.each([
    [{ b: 1, a: [2, { d: 1, c: null }] }, '{"a":[2,{"c":null,"d":1}],"b":1}'],
    [undefined, 'null'],
    ['x', '"x"'],
    [{ a: undefined, b: 2 }, '{"b":2}'],
  ])('should canonicalise %j', (input, out) => {
    expect(canonicalJson(input)).toBe(out);
  });

  it('should give the same fingerprint for reordered keys and a different one for another path', () => {
    const a = requestFingerprint('post', '/v1/validators', { network: 'fuji', name: 'x' });
    expect(requestFingerprint('POST', '/v1/validators', { name: 'x', network: 'fuji' })).toBe(a);
    expect(requestFingerprint('POST', '/v1/webhooks', { name: 'x', network: 'fuji' })).not.toBe(a);
  });
});
