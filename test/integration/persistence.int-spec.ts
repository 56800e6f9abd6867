import { DataSource } from 'typeorm';
import {
  createDataSource,
  decodeCursor,
  encodeCursor,
  Repositories,
  runMigrations,
} from '@snowline/persistence';
import { createTestDatabase } from '../support/db';

describe('persistence', () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;

  beforeAll(async () => {
    db = await createTestDatabase('persistence');
    ds = createDataSource(db.url);
    await ds.initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('should migrate up and down on a fresh database, and up again', async () => {
    const applied = await runMigrations(ds);
    expect(applied.length).toBeGreaterThan(0);
    const tables = async () =>
      (
        await ds.query(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
        )
      ).map((r: { table_name: string }) => r.table_name);
    expect(await tables()).toEqual(
      expect.arrayContaining([
        'api_keys',
        'events',
        'hosts',
        'projects',
        'staking_identities',
        'validators',
      ]),
    );
    for (let i = 0; i < applied.length; i++) await ds.undoLastMigration();
    expect(await tables()).toEqual(['migrations']);
    expect(await runMigrations(ds)).toEqual(applied);
    expect(await runMigrations(ds)).toEqual([]);
    repos = new Repositories(ds);
  });

  async function seedValidator(name: string) {
    const project =
      (await repos.projects.findDefault()) ?? (await repos.projects.create('default', true));
    const identity = await repos.identities.insert({
      projectId: project.id,
      nodeId: `NodeID-${name}`,
      blsPublicKey: '0x00',
      proofOfPossession: '0x00',
      wrappedDataKey: Buffer.from('w'),
      sealedKeys: Buffer.from('s'),
      masterKeyId: 'k',
      imported: false,
    });
    return repos.validators.insert({
      projectId: project.id,
      name,
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state: 'pending',
      identityId: identity.id,
      nodeId: identity.nodeId,
    });
  }

  it('should move state only along the table, and only once for concurrent movers', async () => {
    const v = await seedValidator('alpha');
    expect(await repos.validators.transition(v.id, 'active')).toBe(false); // pending → active is not allowed
    const results = await Promise.all(
      Array.from({ length: 5 }, () => repos.validators.transition(v.id, 'provisioning')),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await repos.validators.findById(v.id))?.state).toBe('provisioning');
  });

  it('should refuse two live validators with one name or one identity in a project', async () => {
    await seedValidator('beta');
    await expect(seedValidator('beta')).rejects.toThrow(/duplicate key/);
  });

  it('should page validators with a keyset cursor without gaps or repeats', async () => {
    for (let i = 0; i < 7; i++) await seedValidator(`page-${i}`);
    const project = await repos.projects.findDefault();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await repos.validators.listWithIdentities({
        projectId: project!.id,
        limit: 3,
        cursor: cursor ? decodeCursor(cursor) : null,
      });
      seen.push(...page.map((v) => v.id));
      const last = page[page.length - 1];
      cursor = page.length === 3 && last ? encodeCursor(last.createdAt, last.id) : null;
    } while (cursor);
    const all = await ds.query(`SELECT id FROM validators`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(all.length);
  });

  it('should reject a forged cursor', () => {
    expect(decodeCursor('not-a-cursor')).toBeNull();
    expect(decodeCursor(Buffer.from('2020-01-01T00:00:00Z|x').toString('base64url'))).toBeNull();
  });

  it('should store api keys hashed and find them by secret', async () => {
    const project = await repos.projects.findDefault();
    const secret = 'sl_test_abcdefghijklmnopqrstuvwxyz';
    await repos.apiKeys.create({ projectId: project!.id, name: 'k', scopes: ['admin'], secret });
    expect((await repos.apiKeys.findActiveBySecret(secret))?.projectId).toBe(project!.id);
    const dump = JSON.stringify(await ds.query('SELECT * FROM api_keys'));
    expect(dump).not.toContain(secret);
  });

  it('should append events and list them after a cursor', async () => {
    const project = await repos.projects.findDefault();
    const a = await repos.events.append({ type: 't', message: 'one', projectId: project!.id });
    await repos.events.append({ type: 't', message: 'two', projectId: project!.id });
    const after = await repos.events.list({ projectId: project!.id, after: a.id, limit: 10 });
    expect(after.map((e) => e.message)).toEqual(['two']);
  });
});
