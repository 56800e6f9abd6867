import { randomBytes } from 'node:crypto';
import { dropDatabase, openDatabase } from '@snowline/persistence';

const BASE = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** Start-up says what it did to the database, one line each: created, migrated (or up to date). */
describe(openDatabase.name, () => {
  const name = `snowline_test_open_${randomBytes(4).toString('hex')}`;
  const url = `${BASE}/${name}`;
  // The migration lock holds one connection while migrations run on another: a pool of 2.
  afterAll(() => dropDatabase(url));

  it('should log the database it created and the migrations it applied, then nothing pending', async () => {
    const first: string[] = [];
    const ds = await openDatabase(url, { poolSize: 2, log: (l) => first.push(l) });
    await ds.destroy();
    expect(first).toHaveLength(2);
    expect(first[0]).toBe(`Created database ${name}`);
    expect(first[1]).toMatch(
      new RegExp(`^Database ${name}: applied \\d+ migrations \\(Initial\\d+ … \\w+\\d+\\)$`),
    );

    const again: string[] = [];
    const ds2 = await openDatabase(url, { poolSize: 2, log: (l) => again.push(l) });
    await ds2.destroy();
    expect(again).toEqual([`Database ${name}: schema up to date (no pending migrations)`]);
  }, 60_000);
});
