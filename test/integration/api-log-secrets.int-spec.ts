import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { generateIdentity } from '@snowline/avalanche';
import { IdentityService } from '../../apps/api/src/identities/identity.service';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, unknown>;

/** Every line the API logs (pino, at trace) during a session that handles every kind of secret. */
describe('API logs never hold a secret', () => {
  let h: ApiApp;
  let receiver: Server;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(503).end('down')); // failing receiver: warn logs
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    h = await startApiApp(
      'logs',
      {
        LOG_LEVEL: 'trace',
        WEBHOOK_RETRY_BASE_MS: '100',
        WEBHOOK_MAX_ATTEMPTS: '2',
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', // the receiver is on 127.0.0.1
      },
      { logStream: sink },
    );
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await new Promise((r) => receiver.close(r));
  });

  it('should log requests with their correlation id and no key, webhook or staking secret', async () => {
    const secrets: [string, string][] = [['admin key', h.adminKey]];
    const json = async (r: Response) => (await r.json()) as Json;

    const project = await json(
      await h.api('/v1/projects', { method: 'POST', json: { name: 'logs' } }),
    );
    const key = await json(
      await h.api(`/v1/projects/${project.id as string}/api-keys`, {
        method: 'POST',
        json: { name: 'logs key', scopes: ['admin'] },
      }),
    );
    secrets.push(['API key secret', key.key as string]);
    const tk = key.key as string;

    const port = (receiver.address() as AddressInfo).port;
    const hook = await json(
      await h.api('/v1/webhooks', {
        method: 'POST',
        key: tk,
        json: { url: `http://127.0.0.1:${port}/hook` },
      }),
    );
    secrets.push(['webhook secret', hook.secret as string]);
    expect(
      (await h.api(`/v1/webhooks/${hook.id as string}/test`, { method: 'POST', key: tk })).status,
    ).toBe(202);

    // A generated identity (the worker's generator makes it) and an imported one (keys in the
    // request body).
    const gen = await h.api('/v1/validators', {
      method: 'POST',
      key: tk,
      headers: { 'Idempotency-Key': 'logs-1' },
      json: { network: 'fuji', name: 'gen-1' },
    });
    expect(gen.status).toBe(202);
    const imp = await generateIdentity();
    const pemBody = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
    secrets.push(['staker.key', pemBody(imp.stakerKey)]);
    secrets.push(['signer.key', imp.signerKey.toString('base64')]);
    const imported = await h.api('/v1/validators', {
      method: 'POST',
      key: tk,
      json: {
        network: 'fuji',
        name: 'imp-1',
        identity: {
          stakerCrt: imp.stakerCrt,
          stakerKey: imp.stakerKey,
          signerKey: imp.signerKey.toString('base64'),
        },
      },
    });
    expect(imported.status).toBe(202);
    // The same identity again (409) and a broken one (400): error paths log too.
    const again = await h.api('/v1/validators', {
      method: 'POST',
      key: tk,
      json: {
        network: 'fuji',
        identity: {
          stakerCrt: imp.stakerCrt,
          stakerKey: imp.stakerKey,
          signerKey: imp.signerKey.toString('base64'),
        },
      },
    });
    expect(again.status).toBe(409);

    // A wrong key (401) and a revoked key.
    const wrong = `sl_key_${'x'.repeat(32)}`;
    secrets.push(['a wrong key sent by a client', wrong]);
    expect((await h.api('/v1/validators', { key: wrong })).status).toBe(401);
    const keyId = key.id as string;
    await h.api(`/v1/projects/${project.id as string}/api-keys/${keyId}`, { method: 'DELETE' });
    expect((await h.api('/v1/validators', { key: tk })).status).toBe(401);

    // Wait for the generated identity (made by the worker's generator running beside the API), and
    // add its keys to the secrets the logs must not hold.
    const genId = (await json(gen)).id as string;
    let identityId: string | null = null;
    for (let i = 0; i < 200 && !identityId; i++) {
      await new Promise((r) => setTimeout(r, 50));
      identityId = (await h.repos.validators.findById(genId))!.identityId;
    }
    expect(identityId).not.toBeNull();
    const made = h.app.get(IdentityService).open((await h.repos.identities.findById(identityId!))!);
    secrets.push(['generated staker.key', pemBody(made.stakerKey)]);
    secrets.push(['generated signer.key', made.signerKey.toString('base64')]);
    secrets.push(['generated signer.key (hex)', made.signerKey.toString('hex')]);

    // Wait for the failing delivery to be retried and given up (the project's only key is revoked
    // now, so look in the database).
    const deadline = Date.now() + 20_000;
    let failed = 0;
    while (!failed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const rows = (await h.repos.ds.query(
        `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'failed'`,
        [hook.id],
      )) as { n: number }[];
      failed = rows[0]!.n;
    }
    expect(failed).toBeGreaterThan(0);

    const out = lines.join('');
    expect(out).toMatch(/"requestId":"[0-9a-f-]{36}"/);
    expect(out).toContain('webhook delivery failed');
    for (const [what, secret] of secrets) {
      expect(secret.length).toBeGreaterThan(16);
      if (out.includes(secret)) throw new Error(`the logs contain the ${what}`);
      // Not even its first 24 characters (a truncated secret is still a leak).
      expect(out).not.toContain(secret.slice(0, 24));
    }
    expect(out).not.toMatch(/authorization/i);
  }, 60_000);
});
