import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase } from '@snowline/persistence';

const BASE = process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** A fresh database per suite, so suites never collide with each other or with `npm start`. */
export async function createTestDatabase(
  tag: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `snowline_test_${tag.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = `${BASE}/${name}`;
  await ensureDatabase(url);
  return { url, drop: () => dropDatabase(url) };
}
