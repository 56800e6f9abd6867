import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { SIGNATURE_HEADER, verifySignature } from '../../apps/api/src/webhooks/signature';
import { WebhooksService } from '../../apps/api/src/webhooks/webhooks.service';
import { startApiApp, type ApiApp } from '../support/api-app';
import { waitFor } from '../support/stack';

type Json = Record<string, unknown>;
type Hit = { path: string; headers: IncomingMessage['headers']; body: string };

describe('Webhook deliveries signed with Standard Webhooks', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  let server: Server;
  let base: string;
  const hits: Hit[] = [];
  const failFirst = new Set<string>(); // paths whose first delivery answers 500

  const create = async (path: string) =>
    (await (
      await h.api('/v1/webhooks', {
        method: 'POST',
        key: t.key,
        json: { url: base + path, eventTypes: ['validator.created'] },
      })
    ).json()) as Json;
  const launch = async (name: string) => {
    const r = await h.api('/v1/validators', {
      method: 'POST',
      key: t.key,
      json: { network: 'fuji', name },
    });
    expect(r.status).toBe(202);
  };
  const hitsFor = (path: string) => hits.filter((x) => x.path === path);

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const path = req.url ?? '';
        hits.push({ path, headers: req.headers, body });
        const fail = failFirst.delete(path);
        res.writeHead(fail ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await startApiApp('stdwebhooks', {
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', // the receiver is on 127.0.0.1
    });
    t = await h.tenant('stdwh', ['webhooks:write', 'validators:write']);
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    server?.close();
  });

  it('should sign a new webhook’s deliveries so a Standard Webhooks verifier accepts them, with one webhook-id across retries', async () => {
    const hook = await create('/std');
    const secret = hook.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);

    failFirst.add('/std');
    await launch('std-hooked');
    await waitFor('a retried delivery', async () => hitsFor('/std').length >= 2, 20_000, 50);
    const got = hitsFor('/std');
    const wh = new Webhook(secret);
    for (const hit of got) {
      expect(wh.verify(hit.body, hit.headers as Record<string, string>)).toMatchObject({
        type: 'validator.created',
      });
      // the old header rides along for receivers written before the standard scheme
      expect(verifySignature(secret, hit.body, String(hit.headers['snowline-signature']))).toBe(
        true,
      );
    }
    const ids = new Set(got.map((x) => x.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBe(got[0]!.headers['snowline-event-id']);
    expect([...ids][0]).toBe((JSON.parse(got[0]!.body) as Json).id);
    // a delivery verified with another secret, or a changed body, is refused
    expect(() =>
      new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(
        got[0]!.body,
        got[0]!.headers as Record<string, string>,
      ),
    ).toThrow();
    expect(() =>
      wh.verify(got[0]!.body.replace('validator.created', 'validator.deleted'), {
        ...(got[0]!.headers as Record<string, string>),
      }),
    ).toThrow();
  });

  it('should keep an arbitrary secret_env secret on Snowline-Signature until it rotates to a whsec_ secret', async () => {
    const service = h.app.get(WebhooksService);
    const legacySecret = randomBytes(32).toString('hex'); // what `openssl rand -hex 32` gives
    const w = await service.createManaged(
      t.projectId,
      {
        name: 'pager',
        url: `${base}/legacy`,
        eventTypes: ['validator.created'],
        secretEnv: 'PAGER_SECRET',
        secretVersion: 1,
      },
      legacySecret,
    );
    hits.length = 0;
    await launch('legacy-hooked');
    await waitFor('a legacy delivery', async () => hitsFor('/legacy').length >= 1, 20_000, 50);
    const [old] = hitsFor('/legacy');
    expect(old!.headers['webhook-signature']).toBeUndefined();
    expect(old!.headers['webhook-id']).toBeUndefined();
    expect(
      verifySignature(
        legacySecret,
        old!.body,
        String(old!.headers[SIGNATURE_HEADER.toLowerCase()]),
      ),
    ).toBe(true);

    const rotated = `whsec_${randomBytes(32).toString('base64')}`;
    await service.updateManaged(
      t.projectId,
      w.id,
      {},
      { secret: rotated, secretEnv: 'PAGER_SECRET_V2', secretVersion: 2 },
    );
    hits.length = 0;
    await launch('rotated-hooked');
    await waitFor('a rotated delivery', async () => hitsFor('/legacy').length >= 1, 20_000, 50);
    const [now] = hitsFor('/legacy');
    expect(
      new Webhook(rotated).verify(now!.body, now!.headers as Record<string, string>),
    ).toMatchObject({ type: 'validator.created' });
  });
});
