import { startApiApp, type ApiApp } from '../support/api-app';
import { waitFor } from '../support/stack';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies
const json = async (r: Response) => (await r.json()) as Json;

/**
 * `snowline apply` follows a version change to the end (issue 23, point 3): the update's result stays
 * pending, the plan applying and the project locked, until the rolling upgrade has moved the
 * validator onto a host that runs the new version; a move that rolled back fails the plan, with why.
 * No worker here: the test plays the rollout's part on the rows.
 */
describe('Plans API: a version change is applied once it has rolled', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  beforeAll(async () => {
    h = await startApiApp('plans_rolling', { AVALANCHEGO_VERSION: '1.15.2' });
    t = await h.tenant('rolling', ['admin']);
  }, 60_000);
  afterAll(async () => h?.stop());

  const plan = async (version: string) => {
    const r = await h.api('/v1/plans', {
      method: 'POST',
      key: t.key,
      json: { validators: [{ name: 'roll', network: 'fuji', version }] },
    });
    expect(r.status).toBe(201);
    return json(r);
  };
  const applyAndGet = async (id: string) => {
    expect(
      (await h.api(`/v1/plans/${id}/apply`, { method: 'POST', key: t.key, json: {} })).status,
    ).toBe(200);
    return async () => json(await h.api(`/v1/plans/${id}`, { key: t.key }));
  };
  /** What the worker would have done: the validator active on a host that reports `running`. */
  const runs = async (id: string, running: string) => {
    // Its identity first (the generator runs in this process): no validator is active without one.
    await waitFor(
      'its identity',
      async () =>
        (
          (await h.repos.ds.query(`SELECT node_id FROM validators WHERE id = $1`, [id])) as {
            node_id: string | null;
          }[]
        )[0]?.node_id ?? undefined,
      30_000,
      100,
    );
    const [host] = (await h.repos.ds.query(
      `INSERT INTO hosts (role, validator_id, zone, instance_type, client_token, running_version, generation)
       VALUES ('assigned', $1, 'cn-hongkong-b', 'ecs.g7.2xlarge', 'sl-' || gen_random_uuid(), $2, 1) RETURNING id`,
      [id, running],
    )) as { id: string }[];
    await h.repos.ds.query(`UPDATE validators SET state = 'active', host_id = $2 WHERE id = $1`, [
      id,
      host!.id,
    ]);
  };

  it('should stay applying until the validator runs the new version, then be applied', async () => {
    const created = await plan('1.15.2');
    const first = await applyAndGet(created.id);
    const id = (await first()).results[0].validatorId as string;
    await runs(id, '1.15.2');
    expect((await first()).status).toBe('applied');

    const p = await plan('1.15.3');
    expect(p.actions[0].reason).toBe(
      'update in place: avalanchego 1.15.2 → 1.15.3 (rolling, via standby)',
    );
    const get = await applyAndGet(p.id);
    const applying = await get();
    expect(applying).toMatchObject({ status: 'applying' });
    expect(applying.results[0]).toMatchObject({
      action: 'update',
      outcome: 'pending',
      rollingTo: '1.15.3',
    });
    expect((await h.api('/v1/plans/lock', { key: t.key })).status).toBe(200); // still held

    await runs(id, '1.15.3'); // the rollout moved it
    const done = await get();
    expect(done.status).toBe('applied');
    expect(done.results[0]).toMatchObject({ outcome: 'done', state: 'active' });
    expect((await h.api('/v1/plans/lock', { key: t.key })).status).toBe(404);
  });

  it('should fail the apply when the move rolled back, saying so', async () => {
    const p = await plan('1.15.1');
    const get = await applyAndGet(p.id);
    const id = (await get()).results[0].validatorId as string;
    // The watchdog's rollback: the spec goes back to the version it left.
    await h.repos.ds.query(`UPDATE validators SET avalanchego_version = '1.15.3' WHERE id = $1`, [
      id,
    ]);
    const failed = await get();
    expect(failed.status).toBe('failed');
    expect(failed.results[0]).toMatchObject({ outcome: 'failed', rollingTo: '1.15.1' });
    expect(failed.results[0].detail).toMatch(
      /^the upgrade to 1\.15\.1 did not complete: the validator now asks for 1\.15\.3/,
    );
  });
});
