import { randomUUID } from 'node:crypto';
import { idleNodeReport } from '../support/agent';
import { startApiApp, type ApiApp } from '../support/api-app';

jest.setTimeout(60_000);

/**
 * Issue 18 point 5: unauthenticated agent requests are capped per client address — past
 * AGENT_AUTH_FAILURES_PER_MINUTE failures the address gets 429 with Retry-After, before any lookup.
 */
describe('agent authentication failures per address', () => {
  let h: ApiApp;
  beforeAll(async () => {
    h = await startApiApp('agent-auth-cap', { AGENT_AUTH_FAILURES_PER_MINUTE: '5' });
  });
  afterAll(async () => h?.stop());

  const lease = (token: string | null) =>
    h.api('/v1/agent/lease', {
      method: 'POST',
      key: null,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      json: {
        hostId: randomUUID(),
        generation: null,
        node: idleNodeReport(),
      },
    });

  it('should answer 401 to the first failures, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await lease(i % 2 ? null : `guess-${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const capped = await lease('guess-again');
    expect(capped.status).toBe(429);
    expect(Number(capped.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await capped.json()) as { detail: string; retryAfterSeconds: number };
    expect(body.detail).toMatch(
      /^Too many failed agent authentications from .+; retry after \d+ s\.$/,
    );
    expect(body.retryAfterSeconds).toBe(Number(capped.headers.get('retry-after')));
  });
});
