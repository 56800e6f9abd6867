import { Writable } from 'node:stream';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;

/**
 * Issue 18, point 2: a replayable Idempotency-Key response rests sealed. A create of an API key and
 * of a webhook replays with its secret, while no table row and no log line holds either secret.
 */
describe('Idempotency-Key responses at rest', () => {
  let h: ApiApp;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const post = (path: string, json: unknown, idem: string, key?: string) =>
    h.api(path, { method: 'POST', json, key, headers: { 'idempotency-key': idem } });

  /** Every row of every table in schema public, as JSON text (bytea as \x hex). */
  const dumpDatabase = async () => {
    const tables: { table_name: string }[] = await h.repos.ds.query(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const out: string[] = [];
    for (const { table_name } of tables) {
      const rows: { j: string }[] = await h.repos.ds.query(
        `SELECT row_to_json(t)::text AS j FROM public."${table_name}" t`,
      );
      out.push(...rows.map((r) => `${table_name} ${r.j}`));
    }
    return { tables: tables.map((t) => t.table_name), text: out.join('\n') };
  };

  beforeAll(async () => {
    h = await startApiApp(
      'idem_sealed',
      { LOG_LEVEL: 'trace', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, // its webhook is on 127.0.0.1
      { logStream: sink },
    );
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should replay new API key and webhook secrets while neither rests in any table or log', async () => {
    const project = (await (
      await h.api('/v1/projects', { method: 'POST', json: { name: 'sealed' } })
    ).json()) as Json;
    const keyPath = `/v1/projects/${project.id as string}/api-keys`;
    const keyReq = { name: 'sealed key', scopes: ['admin'] };
    const k1 = await post(keyPath, keyReq, 'idem-key-1');
    expect(k1.status).toBe(201);
    const keyBody = (await k1.json()) as Json;
    const apiKey = keyBody.key as string;
    expect(apiKey.length).toBeGreaterThan(24);
    const k2 = await post(keyPath, keyReq, 'idem-key-1');
    expect(k2.status).toBe(201);
    expect(k2.headers.get('idempotent-replayed')).toBe('true');
    expect(await k2.json()).toEqual(keyBody);

    const hookReq = { url: 'http://127.0.0.1:9/hook', description: 'sealed' };
    const w1 = await post('/v1/webhooks', hookReq, 'idem-hook-1', apiKey);
    expect(w1.status).toBe(201);
    const hookBody = (await w1.json()) as Json;
    const hookSecret = hookBody.secret as string;
    expect(hookSecret).toMatch(/^whsec_/);
    const w2 = await post('/v1/webhooks', hookReq, 'idem-hook-1', apiKey);
    expect(w2.status).toBe(201);
    expect(w2.headers.get('idempotent-replayed')).toBe('true');
    expect(await w2.json()).toEqual(hookBody);
    expect(Number((await h.repos.ds.query('SELECT count(*) AS n FROM webhooks'))[0].n)).toBe(1);

    const dump = await dumpDatabase();
    expect(dump.tables).toEqual(
      expect.arrayContaining(['idempotency_keys', 'api_keys', 'webhooks']),
    );
    // The rows that replayed are there (so the search below looked at them), sealed.
    const idem: { key: string; sealed: Buffer | null }[] = await h.repos.ds.query(
      `SELECT key, response_sealed AS sealed FROM idempotency_keys WHERE key LIKE 'idem-%' ORDER BY key`,
    );
    expect(idem.map((r) => r.key)).toEqual(['idem-hook-1', 'idem-key-1']);
    for (const r of idem) expect(r.sealed?.length).toBeGreaterThan(29);
    expect(dump.text).toContain('idem-hook-1');

    const logs = lines.join('');
    expect(logs).toMatch(/"requestId"/);
    for (const [what, secret] of [
      ['API key secret', apiKey],
      ['webhook secret', hookSecret],
    ] as const) {
      // Also as bytea would show it (hex) and base64, and not even its first 24 characters.
      const forms = [
        secret,
        secret.slice(0, 24),
        Buffer.from(secret).toString('hex'),
        Buffer.from(secret).toString('base64'),
      ];
      for (const form of forms) {
        if (dump.text.includes(form)) throw new Error(`the database holds the ${what}`);
        if (logs.includes(form)) throw new Error(`the logs hold the ${what}`);
      }
    }
  }, 60_000);

  it('should answer 500 and not run again when a stored response does not open on its row', async () => {
    // Move the webhook row's sealed body onto the API key row: its additional data no longer fits.
    await h.repos.ds.query(
      `UPDATE idempotency_keys SET response_sealed =
         (SELECT response_sealed FROM idempotency_keys WHERE key = 'idem-hook-1')
        WHERE key = 'idem-key-1'`,
    );
    const keysBefore = Number((await h.repos.ds.query('SELECT count(*) AS n FROM api_keys'))[0].n);
    const project = (await h.repos.ds.query(`SELECT id FROM projects WHERE name = 'sealed'`))[0];
    const r = await post(
      `/v1/projects/${project.id as string}/api-keys`,
      { name: 'sealed key', scopes: ['admin'] },
      'idem-key-1',
    );
    expect(r.status).toBe(500);
    expect(((await r.json()) as Json).detail).toMatch(/cannot be read/);
    expect(Number((await h.repos.ds.query('SELECT count(*) AS n FROM api_keys'))[0].n)).toBe(
      keysBefore,
    );
  });
});
