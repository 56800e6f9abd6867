import { createPrivateKey } from 'node:crypto';
import { Client } from 'pg';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(150_000);

type Json = Record<string, unknown>;

/** Every form in which the imported secret keys could leak, each with a name for the failure message. */
function needlesOf(id: GeneratedIdentity): Record<string, string> {
  const key = createPrivateKey(id.stakerKey);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const pemBody = id.stakerKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  // Each long line of the PEM too (a PEM in JSON or a log keeps its line breaks, escaped).
  const lines = id.stakerKey.split('\n').filter((l) => l.length >= 32 && !l.startsWith('-----'));
  const d = key.export({ format: 'jwk' }).d!;
  return {
    'staker.key PEM body': pemBody,
    ...Object.fromEntries(lines.map((l, i) => [`staker.key PEM line ${i + 1}`, l])),
    'staker.key DER base64': der.toString('base64'),
    'staker.key DER hex': der.toString('hex'),
    'staker.key scalar base64url': d,
    'staker.key scalar hex': Buffer.from(d, 'base64url').toString('hex'),
    'signer.key base64': id.signerKey.toString('base64'),
    'signer.key base64url': id.signerKey.toString('base64url'),
    'signer.key hex': id.signerKey.toString('hex'),
    'signer.key raw bytes': id.signerKey.toString('latin1'),
    'staker.key DER raw bytes': der.toString('latin1'),
  };
}

/** Names of the needles found in `haystack` (case-insensitive for hex). */
function leaks(haystack: string, needles: Record<string, string>): string[] {
  const lower = haystack.toLowerCase();
  return Object.entries(needles)
    .filter(([name, n]) =>
      name.endsWith('hex') ? lower.includes(n.toLowerCase()) : haystack.includes(n),
    )
    .map(([name]) => name);
}

/** Every row of every table, bytea rendered both as hex and as raw text. */
async function dumpDatabase(url: string): Promise<{ text: string; tables: string[] }> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const tables = (
      await pg.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
      )
    ).rows.map((r) => r.table_name);
    const out: string[] = [];
    for (const t of tables) {
      const { rows } = await pg.query(`SELECT * FROM "${t.replace(/"/g, '""')}"`);
      for (const row of rows as Json[]) {
        out.push(
          `${t}: ` +
            JSON.stringify(row, (_k, v: unknown) => {
              if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
                const b = Buffer.from((v as { data: number[] }).data);
                return { hex: b.toString('hex'), text: b.toString('latin1') };
              }
              return v;
            }),
        );
        // JSON escapes control characters: keep an unescaped copy of the raw bytes as well.
        for (const v of Object.values(row)) if (Buffer.isBuffer(v)) out.push(v.toString('latin1'));
      }
    }
    return { text: out.join('\n'), tables };
  } finally {
    await pg.end();
  }
}

describe('acceptance 4: no key material in responses, events, logs or the database', () => {
  let stack: Stack;
  let identity: GeneratedIdentity;
  let needles: Record<string, string>;
  const responses: string[] = [];

  /** Every API call goes through here, so every response body is searched. */
  const call = async (path: string, init?: Parameters<Stack['api']>[1]) => {
    const res = await stack.api(path, init);
    const text = await res.text();
    responses.push(`${init?.method ?? 'GET'} ${path} → ${res.status} ${text}`);
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
  };

  beforeAll(async () => {
    [stack, identity] = await Promise.all([startStack('keysafety'), generateIdentity()]);
    needles = needlesOf(identity);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('should launch an imported identity, run and retire it without its keys ever showing', async () => {
    const created = await call('/v1/validators', {
      method: 'POST',
      json: {
        network: 'fuji',
        name: 'imported-1',
        identity: {
          stakerCrt: identity.stakerCrt,
          stakerKey: identity.stakerKey,
          signerKey: identity.signerKey.toString('base64'),
        },
      },
    });
    expect(created.status).toBe(202);
    expect(created.body.nodeId).toBe(identity.nodeId);
    const id = created.body.id as string;

    const active = await waitFor(
      'the imported validator to become active',
      async () => {
        const v = await call(`/v1/validators/${id}`);
        if (v.body.state === 'failed') throw new Error(`failed: ${JSON.stringify(v.body)}`);
        return v.body.state === 'active' ? v.body : undefined;
      },
      60_000,
      500,
    );
    // The node really runs this identity: the simulator derived the NodeID from the delivered cert.
    const nodes = (await (await fetch(`${stack.simUrl}/_sim/nodes`)).json()) as Json[];
    expect(
      nodes.filter((n) => n.nodeId === identity.nodeId && n.running).map((n) => n.instanceId),
    ).toEqual([active.instanceId]);

    await call('/v1/validators');
    await call(`/v1/validators/${id}/events`);
    expect((await call(`/v1/validators/${id}`, { method: 'DELETE' })).status).toBe(202);
    await waitFor(
      'the validator to be retired',
      async () => (await call(`/v1/validators/${id}`)).body.state === 'retired',
      30_000,
      500,
    );

    // The whole event feed, every page.
    const events: Json[] = [];
    let after: string | null = null;
    do {
      const page = await call(`/v1/events?limit=100${after ? `&after=${after}` : ''}`);
      expect(page.status).toBe(200);
      events.push(...(page.body.items as Json[]));
      after = page.body.nextCursor as string | null;
    } while (after);
    const eventTypes = events.map((e) => e.type);
    expect(eventTypes).toEqual(
      expect.arrayContaining(['host.keys_delivered', 'validator.active', 'validator.retired']),
    );

    // Give the processes a moment to flush their last log lines.
    await new Promise((r) => setTimeout(r, 500));
    const db = await dumpDatabase(stack.databaseUrl);
    expect(db.tables).toEqual(
      expect.arrayContaining(['staking_identities', 'validators', 'hosts', 'events']),
    );

    const haystacks: Record<string, string> = {
      'API responses': responses.join('\n'),
      events: JSON.stringify(events),
      'api log': stack.logs.api!.join('\n'),
      'worker log': stack.logs.worker!.join('\n'),
      'ecs-sim log': stack.logs['ecs-sim']!.join('\n'),
      database: db.text,
    };
    // Negative controls: the haystacks are the real thing (they name the validator; the logs are
    // there), and the search finds a key when it is there.
    for (const name of ['API responses', 'events', 'database'])
      expect({ name, hasNodeId: haystacks[name]!.includes(identity.nodeId) }).toEqual({
        name,
        hasNodeId: true,
      });
    for (const name of ['api', 'worker', 'ecs-sim'])
      expect({ name, lines: stack.logs[name]!.length > 0 }).toEqual({ name, lines: true });
    expect(leaks(`x${identity.signerKey.toString('hex').toUpperCase()}x`, needles)).toEqual([
      'signer.key hex',
    ]);
    expect(leaks(JSON.stringify({ k: identity.stakerKey }), needles)).toEqual(
      expect.arrayContaining(['staker.key PEM line 1', 'staker.key PEM line 2']),
    );

    const found = Object.fromEntries(
      Object.entries(haystacks).map(([name, text]) => [name, leaks(text, needles)]),
    );
    expect(found).toEqual({
      'API responses': [],
      events: [],
      'api log': [],
      'worker log': [],
      'ecs-sim log': [],
      database: [],
    });
  });
});
