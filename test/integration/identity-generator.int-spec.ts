import { Client } from 'pg';
import { generateIdentity, type GeneratedIdentity } from '@snowline/avalanche';
import { IdentityGeneratorService } from '../../apps/api/src/identities/identity-generator.service';
import { startApiApp, type ApiApp } from '../support/api-app';

/** Background identity generation keeps no transaction open while the key math runs. */
describe('identity generator', () => {
  let h: ApiApp;
  let pg: Client;
  beforeAll(async () => {
    h = await startApiApp('identgen');
    pg = new Client({ connectionString: h.databaseUrl });
    await pg.connect();
  }, 60_000);
  afterAll(async () => {
    await pg?.end();
    await h?.stop();
  });

  it('should generate with no transaction open, then attach the identity in a short one', async () => {
    // Hold generation until the test has looked at the database.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let calls = 0;
    const svc = h.app.get(IdentityGeneratorService);
    type Threads = { generate(): Promise<GeneratedIdentity>; close(): Promise<void> };
    (svc as unknown as { threads: Threads }).threads = {
      generate: async () => {
        calls++;
        await held;
        return generateIdentity();
      },
      close: async () => undefined,
    };

    const r = await h.api('/v1/validators', { method: 'POST', json: { network: 'fuji' } });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as { id: string };
    for (let i = 0; i < 100 && calls === 0; i++) await new Promise((s) => setTimeout(s, 50));
    expect(calls).toBeGreaterThan(0);

    // Generation is under way: no session of this database holds a transaction (or an xid that would
    // hold back the event feed's horizon).
    const { rows } = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (state LIKE 'idle in transaction%' OR backend_xid IS NOT NULL)`,
    );
    expect(rows[0]!.n).toBe(0);

    release();
    let nodeId: string | null = null;
    for (let i = 0; i < 200 && !nodeId; i++) {
      await new Promise((s) => setTimeout(s, 50));
      nodeId = ((await (await h.api(`/v1/validators/${id}`)).json()) as { nodeId: string | null })
        .nodeId;
    }
    expect(nodeId).toMatch(/^NodeID-/);
  }, 30_000);
});
