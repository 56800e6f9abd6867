import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

/** Errors that say what to fix: the nearest field name, the media type, the key that was sent. */
describe('Public API: errors that say what to fix', () => {
  let h: ApiApp;
  let key: string;

  beforeAll(async () => {
    h = await startApiApp('api-errors');
    ({ key } = await h.tenant('errors', ['admin']));
  }, 60_000);
  afterAll(async () => h?.stop());

  const detail = async (r: Response) => ((await r.json()) as Json).detail as string;

  it.each<[string, Json, RegExp]>([
    [
      'a misspelt field',
      { network: 'local', lables: {} },
      /property lables should not exist — did you mean labels\?/,
    ],
    [
      'a camel-case slip',
      { network: 'local', instancetype: 'ecs.g7.2xlarge' },
      /did you mean instanceType\?/,
    ],
    [
      'a misspelt nested field',
      { network: 'local', identity: { stakerKy: 'x' } },
      /property stakerKy should not exist — did you mean stakerKey\?/,
    ],
  ])('should suggest the nearest field for %s', async (_what, body, message) => {
    const r = await h.api('/v1/validators', { method: 'POST', key, json: body });
    expect(r.status).toBe(400);
    expect(await detail(r)).toMatch(message);
  });

  it('should not suggest a name for a field nothing resembles', async () => {
    const r = await h.api('/v1/validators', {
      method: 'POST',
      key,
      json: { network: 'local', zzzzzzzzzz: 1 },
    });
    expect(r.status).toBe(400);
    expect(await detail(r)).toMatch(/property zzzzzzzzzz should not exist$/);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'no Content-Type',
      {},
      /must be JSON: send it with `Content-Type: application\/json` \(no Content-Type was sent\)/,
    ],
    ['text/plain', { 'content-type': 'text/plain' }, /\(got `text\/plain`\)/],
    [
      'a form',
      { 'content-type': 'application/x-www-form-urlencoded' },
      /got `application\/x-www-form-urlencoded`/,
    ],
  ])('should answer 415 to a body sent with %s', async (_what, headers, message) => {
    const r = await h.api('/v1/validators', {
      method: 'POST',
      key,
      headers,
      body: new TextEncoder().encode(JSON.stringify({ network: 'local' })),
    });
    expect(r.status).toBe(415);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await detail(r)).toMatch(message);
  });

  it('should take a JSON body with a charset, and a bodiless POST, as before', async () => {
    const ok = await h.api('/v1/validators', {
      method: 'POST',
      key,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ network: 'local' }),
    });
    expect(ok.status).toBe(202);
    const empty = await h.api('/v1/validators', { method: 'POST', key });
    expect(empty.status).toBe(400);
    expect(await detail(empty)).toMatch(/network must be one of/);
  });

  it.each<[string, string | null, number, RegExp]>([
    ['no key', null, 401, /Send an API key as `Authorization: Bearer <key>`/],
    [
      'an unknown key',
      'sl_live_this_key_was_never_issued_0123456789',
      401,
      /^API key not recognised/,
    ],
    ['a short wrong key', 'wrong', 401, /^API key not recognised/],
  ])('should answer %s with what to fix', async (_what, sent, status, message) => {
    const r = await h.api('/v1/validators', { key: sent });
    expect(r.status).toBe(status);
    expect(await detail(r)).toMatch(message);
  });

  it('should name the scheme when the header is not a Bearer token', async () => {
    const r = await h.api('/v1/validators', {
      key: null,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(r.status).toBe(401);
    expect(await detail(r)).toMatch(/must be `Bearer <key>`/);
  });
});
