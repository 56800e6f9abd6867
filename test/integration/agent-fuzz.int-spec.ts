import { randomBytes, randomUUID } from 'node:crypto';
import Ecs20140526 from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import fc from 'fast-check';
import {
  AGENT_PATHS,
  generateHostKeys,
  hostPublicKeys,
  signRequest,
  type HostKeys,
} from '@snowline/agent';
import { sha256Hex } from '@snowline/persistence';
import { startEcsSim, type EcsSim } from '../../apps/ecs-sim/src/sim';
import { idleNodeReport } from '../support/agent';
import { startApiApp, type ApiApp } from '../support/api-app';
import { instanceIdentityFor, launchProtocol2Host } from '../support/protocol2-host';

jest.setTimeout(120_000);

const KEY_ID = 'agentfuzz-key';
const SECRET = 'agentfuzz-secret';
/** What a refused agent request may answer (429 only under a low cap, tested apart). */
const REFUSALS = [400, 401, 403, 409, 413, 415, 425];
const ROUTES = [AGENT_PATHS.register, AGENT_PATHS.lease, AGENT_PATHS.keys] as const;

/**
 * Issue 18: the agent routes of protocol 2 under hostile and concurrent requests. Random bodies,
 * `Authorization` headers and content types are refused with a 4xx and change no host row; a
 * bootstrap token raced by eight registrations binds exactly one key; concurrent renewals by the
 * bound key all pass; a reimaged instance raced by eight new keys binds exactly one.
 * Real API, Postgres and simulator (identity documents); fixed seeds, so a failure replays.
 */
describe('agent routes under fuzz and concurrency (agent protocol 2)', () => {
  let sim: EcsSim;
  let h: ApiApp;
  let ecs: Ecs20140526;

  interface Launched {
    hostId: string;
    token: string;
    instanceId: string;
  }

  async function launchHost(app: ApiApp): Promise<Launched> {
    const l = await launchProtocol2Host(ecs, sim.url, app);
    return { hostId: l.host.id, token: l.token, instanceId: l.instanceId };
  }

  const identityFor = (keys: HostKeys, hostId: string, instanceId: string) =>
    instanceIdentityFor(sim.url, keys, hostId, instanceId);

  const send = async (
    app: ApiApp,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> => {
    const res = await fetch(new URL(path, app.url), {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, text: await res.text() };
  };
  const signedPost = (app: ApiApp, keys: HostKeys, path: string, hostId: string, body: unknown) => {
    const text = JSON.stringify(body);
    return send(app, path, text, {
      'content-type': 'application/json',
      authorization: signRequest(keys, { method: 'POST', path, hostId, body: text }),
    });
  };
  const register = async (app: ApiApp, l: Launched, keys: HostKeys, token: string | null) =>
    send(
      app,
      AGENT_PATHS.register,
      JSON.stringify({
        hostId: l.hostId,
        instanceId: l.instanceId,
        ...hostPublicKeys(keys),
        instanceIdentity: await identityFor(keys, l.hostId, l.instanceId),
      }),
      {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    );

  /** Every host row and every event, hashed: what a refused request must leave as it was. */
  const fingerprint = async (app: ApiApp): Promise<string> =>
    (
      await app.repos.ds.query(
        `SELECT (SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM hosts x)
             || '|' || (SELECT count(*) FROM events)::text AS f`,
      )
    )[0].f as string;

  beforeAll(async () => {
    sim = await startEcsSim({
      port: 0,
      accessKeyId: KEY_ID,
      accessKeySecret: SECRET,
      timeScale: 0.05,
      hostFactory: () => null,
    });
    h = await startApiApp('agent_fuzz', {
      ECS_SIM_HOST: '127.0.0.1',
      ECS_SIM_PORT: String(sim.port),
      LEASE_TTL_SECONDS: '6',
      LEASE_RENEW_SECONDS: '1',
      AGENT_AUTH_FAILURES_PER_MINUTE: '1000000',
    });
    ecs = new Ecs20140526(
      new $OpenApiUtil.Config({
        accessKeyId: KEY_ID,
        accessKeySecret: SECRET,
        regionId: 'cn-hongkong',
        endpoint: `127.0.0.1:${sim.port}`,
        protocol: 'http',
      }),
    );
  });
  afterAll(async () => {
    await h?.stop();
    await sim?.close();
  });

  /** Hostile requests to the three routes, around one bound host and one with its token unspent. */
  function hostileRequest(bound: Launched, fresh: Launched) {
    const hostIds = fc.oneof(
      fc.constantFrom(bound.hostId, fresh.hostId, bound.hostId.toUpperCase()),
      fc.uuid(),
      fc.string(),
      fc.constant(''),
    );
    const junk = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.string({ minLength: 300, maxLength: 3000 }),
      fc.constantFrom('', '\u0000', "' OR 1=1 --", '__proto__', 'A'.repeat(44), '1e309', '-1'),
      fc.base64String({ minLength: 40, maxLength: 200 }),
    );
    const node = fc.oneof(
      fc.constant(idleNodeReport()),
      fc.anything(),
      fc.record({
        running: fc.oneof(fc.boolean(), fc.anything()),
        nodeId: fc.oneof(fc.constant(null), junk),
        healthy: fc.oneof(fc.constant(null), fc.boolean(), fc.anything()),
        bootstrapped: fc.oneof(fc.constant(null), fc.boolean()),
        observedAt: fc.oneof(fc.constant(new Date().toISOString()), junk),
        error: fc.oneof(fc.constant(null), junk, fc.string({ minLength: 501, maxLength: 600 })),
      }),
    );
    const keyLike = fc.oneof(
      junk,
      // Well-formed public keys of the wrong type, or swapped.
      fc.constant(null).map(() => hostPublicKeys(generateHostKeys()).encryptionKey),
      fc.constant(null).map(() => hostPublicKeys(generateHostKeys()).signingKey),
    );
    const body = fc.oneof(
      fc.record(
        {
          hostId: hostIds,
          instanceId: fc.oneof(fc.constantFrom(bound.instanceId, fresh.instanceId), junk),
          // Never a valid Ed25519 + X25519 pair together, so nothing here may bind.
          signingKey: fc.oneof(
            junk,
            fc.constant(null).map(() => hostPublicKeys(generateHostKeys()).encryptionKey),
          ),
          encryptionKey: keyLike,
          instanceIdentity: fc.oneof(
            fc.anything(),
            fc.record({ document: junk, pkcs7: junk }),
            fc.record({
              document: fc.constant('{"instance-id":"x"}'),
              pkcs7: fc.base64String({ maxLength: 2000 }),
            }),
          ),
          generation: fc.oneof(fc.integer(), fc.constant(null), fc.anything()),
          node,
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    // Bodies the schemas accept, so that the request reaches authentication. A register body has a
    // real key pair but never a genuine identity document: with any token it must not bind.
    const knownHost = fc.oneof(fc.constantFrom(bound.hostId, fresh.hostId), fc.uuid());
    const wellFormed = [
      fc.record({
        hostId: knownHost,
        instanceId: fc.oneof(
          fc.constantFrom(bound.instanceId, fresh.instanceId),
          fc.string({ minLength: 1, maxLength: 100 }),
        ),
        signingKey: fc.constant(null).map(() => hostPublicKeys(generateHostKeys()).signingKey),
        encryptionKey: fc
          .constant(null)
          .map(() => hostPublicKeys(generateHostKeys()).encryptionKey),
        instanceIdentity: fc.option(
          fc.record({
            document: fc.oneof(
              fc.string({ minLength: 2, maxLength: 8000 }),
              fc.constant(null).map(() => JSON.stringify({ 'instance-id': fresh.instanceId })),
            ),
            pkcs7: fc.oneof(
              fc.string({ minLength: 1, maxLength: 200 }),
              fc.base64String({ minLength: 4, maxLength: 20_000 }),
            ),
          }),
          { nil: undefined },
        ),
      }),
      fc.record({
        hostId: knownHost,
        generation: fc.oneof(fc.constant(null), fc.nat()),
        node: fc.constant(null).map(() => idleNodeReport()),
      }),
      fc.record({ hostId: knownHost, generation: fc.nat() }),
    ] as const; // by route, in ROUTES order
    const rawBody = fc.oneof(
      body.map((v) => {
        try {
          return JSON.stringify(v) ?? 'null';
        } catch {
          return '{}';
        }
      }),
      fc.string(),
      fc.constantFrom('{', '[1,', 'null', '1', '"x"', '{"a":1}}', '\ufeff{}', ''),
      fc.constant(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`),
      fc.constant(null).map(() => `{"hostId":"${'x'.repeat(2_000_000)}"}`), // past the body limit
    );
    const unknown = generateHostKeys();
    const sig = fc.base64String({ minLength: 40, maxLength: 120 });
    const authorization = fc.oneof(
      fc.constant(undefined),
      junk.filter((s) => /^[\x20-\x7e]*$/.test(s)),
      fc.constantFrom(`Bearer ${bound.token}`, `Bearer ${fresh.token}`, 'Bearer', 'Bearer  '),
      fc.base64String({ maxLength: 200 }).map((t) => `Bearer ${t}`),
      fc
        .record({
          hostId: fc.oneof(fc.constantFrom(bound.hostId, fresh.hostId), fc.uuid(), junk),
          ts: fc.oneof(
            fc.constant(null).map(() => String(Date.now())),
            fc.integer().map(String),
            fc.constantFrom('99999999999999999', '1e12', '-1', ''),
          ),
          sig: fc.oneof(
            sig.map((s) => s.replace(/[+/=]/g, '_')),
            junk,
          ),
          sep: fc.constantFrom(', ', ',', ' ', ',  '),
        })
        .map((f) =>
          `Snowline-Host hostId=${f.hostId}${f.sep}ts=${f.ts}${f.sep}sig=${f.sig}`.replace(
            /[^\x20-\x7e]/g,
            '?',
          ),
        ),
      // A well-formed signature, by a key no host registered.
      fc.constantFrom(...ROUTES).map((path) => ({ path })),
      fc.constant(`Snowline-Host hostId=${bound.hostId}, ts=${Date.now()}, sig=${'A'.repeat(86)}`),
      fc.constant(`${'Bearer '}${'x'.repeat(7000)}`),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      '',
    );
    const common = { authorization, unknownKey: fc.constant(unknown) };
    return fc.oneof(
      // Anything at all: mostly refused by the parser or the schema.
      fc.record({
        path: fc.constantFrom(...ROUTES),
        body: fc.option(rawBody, { nil: undefined }),
        contentType,
        ...common,
      }),
      // A body the route's schema accepts: what is left to refuse it is authentication.
      {
        weight: 2,
        arbitrary: fc.nat({ max: ROUTES.length - 1 }).chain((i) =>
          fc.record({
            path: fc.constant(ROUTES[i]!),
            body: (wellFormed[i] as fc.Arbitrary<unknown>).map((v) => JSON.stringify(v)),
            contentType: fc.constant('application/json'),
            ...common,
          }),
        ),
      },
    );
  }

  /** Sends one hostile request; the authorization `{ path }` means: sign it with an unknown key. */
  const sendHostile = async (
    app: ApiApp,
    bound: Launched,
    r: {
      path: string;
      body: string | undefined;
      authorization: string | undefined | { path: string };
      unknownKey: HostKeys;
      contentType: string;
    },
  ) => {
    const headers: Record<string, string> = {};
    if (r.contentType) headers['content-type'] = r.contentType;
    if (typeof r.authorization === 'string') headers.authorization = r.authorization;
    else if (r.authorization) {
      headers.authorization = signRequest(r.unknownKey, {
        method: 'POST',
        path: r.authorization.path,
        hostId: bound.hostId,
        body: r.body ?? '',
      });
    }
    return send(app, r.path, r.body, headers);
  };

  it('should answer every hostile request with a 4xx and change no host row', async () => {
    const bound = await launchHost(h);
    const fresh = await launchHost(h);
    const keys = generateHostKeys();
    expect((await register(h, bound, keys, bound.token)).status).toBe(200);
    const baseline = await fingerprint(h);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest(bound, fresh), async (r) => {
        const res = await sendHostile(h, bound, r);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const auth =
          typeof r.authorization === 'string' ? r.authorization.slice(0, 120) : r.authorization;
        const refused = REFUSALS.includes(res.status);
        expect({ path: r.path, auth, status: res.status, refused }).toEqual({
          path: r.path,
          auth,
          status: res.status,
          refused: true,
        });
      }),
      { numRuns: 300, seed: 18_2026, endOnFailure: true },
    );
    process.stdout.write(`agent fuzz statuses: ${JSON.stringify([...statuses].sort())}\n`);
    expect(await fingerprint(h)).toBe(baseline);
    // The fresh host's token is still unspent, and the bound key still renews.
    const row = await h.repos.hosts.findById(fresh.hostId);
    expect(row?.bootstrapTokenHash).toBe(sha256Hex(fresh.token));
    const renewed = await signedPost(h, keys, AGENT_PATHS.lease, bound.hostId, {
      hostId: bound.hostId,
      generation: null,
      node: idleNodeReport(),
    });
    expect(renewed.status).toBe(200);
  });

  /** The register bodies for `keys`, each with its own identity document, made before the race. */
  const registerBodies = (l: Launched, keys: HostKeys[]) =>
    Promise.all(
      keys.map(async (k) =>
        JSON.stringify({
          hostId: l.hostId,
          instanceId: l.instanceId,
          ...hostPublicKeys(k),
          instanceIdentity: await identityFor(k, l.hostId, l.instanceId),
        }),
      ),
    );
  const eventCount = async (type: string, hostId: string) =>
    Number(
      (
        await h.repos.ds.query(
          `SELECT count(*)::int AS n FROM events WHERE type = $1 AND host_id = $2`,
          [type, hostId],
        )
      )[0].n,
    );

  it('should bind exactly one key when eight registrations race one bootstrap token', async () => {
    for (let round = 0; round < 3; round++) {
      const l = await launchHost(h);
      const keys = Array.from({ length: 8 }, () => generateHostKeys());
      const bodies = await registerBodies(l, keys);
      const answers = await Promise.all(
        bodies.map((b) =>
          send(h, AGENT_PATHS.register, b, {
            'content-type': 'application/json',
            authorization: `Bearer ${l.token}`,
          }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      // The token is spent (401); a loser that read it spent goes on as a reimage and finds a fresh
      // key in place (425).
      expect(statuses.filter((s) => s !== 200 && s !== 401 && s !== 425)).toEqual([]);
      const winner = keys[statuses.indexOf(200)]!;
      const row = await h.repos.hosts.findById(l.hostId);
      expect(row).toMatchObject({
        agentSigningKey: hostPublicKeys(winner).signingKey,
        agentEncryptionKey: hostPublicKeys(winner).encryptionKey,
        bootstrapTokenHash: null,
      });
      expect(await eventCount('host.registered', l.hostId)).toBe(1);
      // Only the winner's key speaks for the host.
      for (const k of keys) {
        const r = await signedPost(h, k, AGENT_PATHS.lease, l.hostId, {
          hostId: l.hostId,
          generation: null,
          node: idleNodeReport(),
        });
        expect(r.status).toBe(k === winner ? 200 : 401);
      }
    }
  });

  it('should renew every one of sixteen concurrent leases signed by the bound key', async () => {
    const l = await launchHost(h);
    const keys = generateHostKeys();
    expect((await register(h, l, keys, l.token)).status).toBe(200);
    const before = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 16 }, () =>
        signedPost(h, keys, AGENT_PATHS.lease, l.hostId, {
          hostId: l.hostId,
          generation: null,
          node: idleNodeReport(),
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(200));
    const expiries = answers.map((a) =>
      Date.parse((JSON.parse(a.text) as { leaseExpiresAt: string }).leaseExpiresAt),
    );
    for (const e of expiries) expect(e).toBeGreaterThan(before);
    const row = await h.repos.hosts.findById(l.hostId);
    expect(row?.fenced).toBe(false);
    // The row holds the latest renewal's expiry (they are serialised by the row lock).
    expect(row?.leaseExpiresAt?.getTime()).toBe(Math.max(...expiries));
    expect(row?.agentSigningKey).toBe(hostPublicKeys(keys).signingKey);
  });

  it('should bind exactly one new key when eight reimage registrations race', async () => {
    for (let round = 0; round < 3; round++) {
      const l = await launchHost(h);
      const old = generateHostKeys();
      expect((await register(h, l, old, l.token)).status).toBe(200);
      await h.repos.ds.query(
        `UPDATE hosts SET lease_expires_at = now() - interval '1 second',
                          agent_key_bound_at = now() - interval '1 hour' WHERE id = $1`,
        [l.hostId],
      );
      const keys = Array.from({ length: 8 }, () => generateHostKeys());
      const bodies = await registerBodies(l, keys);
      const answers = await Promise.all(
        bodies.map((b) => send(h, AGENT_PATHS.register, b, { 'content-type': 'application/json' })),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s !== 200)).toEqual(Array(7).fill(425)); // a fresh key holds it
      const winner = keys[statuses.indexOf(200)]!;
      expect((await h.repos.hosts.findById(l.hostId))?.agentSigningKey).toBe(
        hostPublicKeys(winner).signingKey,
      );
      expect(await eventCount('host.rebound', l.hostId)).toBe(1);
      for (const k of [old, ...keys]) {
        const r = await signedPost(h, k, AGENT_PATHS.lease, l.hostId, {
          hostId: l.hostId,
          generation: null,
          node: idleNodeReport(),
        });
        expect(r.status).toBe(k === winner ? 200 : 401);
      }
    }
  });

  it('should answer 429 once an address passes a low failure cap, and still never 5xx', async () => {
    const capped = await startApiApp('agent_fuzz_cap', { AGENT_AUTH_FAILURES_PER_MINUTE: '5' });
    try {
      const ghost = (): Launched => ({
        hostId: randomUUID(),
        token: randomBytes(32).toString('base64url'),
        instanceId: `i-${randomBytes(8).toString('hex')}`,
      });
      const [a, b] = [ghost(), ghost()];
      const baseline = await fingerprint(capped);
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(hostileRequest(a, b), async (r) => {
          const res = await sendHostile(capped, a, r);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect([...REFUSALS, 429]).toContain(res.status);
        }),
        { numRuns: 200, seed: 18_429, endOnFailure: true },
      );
      process.stdout.write(
        `agent fuzz statuses (cap 5): ${JSON.stringify([...statuses].sort())}\n`,
      );
      expect(statuses.get(401) ?? 0).toBeLessThanOrEqual(6); // the cap, plus what refilled meanwhile
      expect(statuses.get(429) ?? 0).toBeGreaterThan(50);
      expect(await fingerprint(capped)).toBe(baseline);
    } finally {
      await capped.stop();
    }
  });
});
