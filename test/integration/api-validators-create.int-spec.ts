import { PlanRepository } from '@snowline/persistence';
import { startApiApp, type ApiApp } from '../support/api-app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

/**
 * The hot path of `POST /v1/validators`: the row and its `validator.created` event are written by one
 * statement, and the plan state serial is an append-only log (no per-project counter row that
 * concurrent creates would queue on).
 */
describe('Public API: POST /v1/validators (one statement, serial log)', () => {
  let h: ApiApp;
  let t: { projectId: string; key: string };
  let plans: PlanRepository;

  const create = (body: Json) =>
    h.api('/v1/validators', { method: 'POST', key: t.key, json: body });
  // A running worker adds its own events (identity generated, provisioning): count the creates' only.
  const counts = async () => {
    const [row] = (await h.repos.ds.query(
      `SELECT (SELECT count(*)::int FROM validators WHERE project_id = $1) AS validators,
              (SELECT count(*)::int FROM events WHERE project_id = $1 AND type = 'validator.created')
                AS events`,
      [t.projectId],
    )) as { validators: number; events: number }[];
    return row!;
  };

  beforeAll(async () => {
    h = await startApiApp('validators-create');
    t = await h.tenant('create', ['admin']);
    plans = new PlanRepository(h.repos.ds);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should write the validator and its validator.created event together', async () => {
    const r = await create({ network: 'fuji', name: 'one', labels: { team: 'core' } });
    expect(r.status).toBe(202);
    const v = (await r.json()) as Json;
    expect(v).toMatchObject({
      name: 'one',
      network: 'fuji',
      state: 'pending',
      nodeId: null,
      identitySource: 'generated',
      labels: { team: 'core' },
      zones: [],
      protected: false,
      generation: 0,
    });
    expect(Date.parse(v.createdAt)).not.toBeNaN();
    const events = (await h.repos.ds.query(
      `SELECT type, message, data FROM events WHERE validator_id = $1`,
      [v.id],
    )) as Json[];
    expect(events).toEqual([
      {
        type: 'validator.created',
        message: 'Validator one created; its staking identity is being generated',
        data: { network: 'fuji', nodeId: null, version: '1.15.3' },
      },
    ]);
  });

  it('should refuse a live name already taken with 409 and write nothing', async () => {
    const before = await counts();
    const serialBefore = await plans.serial(t.projectId);
    const r = await create({ network: 'fuji', name: 'one' });
    expect(r.status).toBe(409);
    expect(((await r.json()) as Json).detail).toBe(
      'A live validator named "one" already exists in this project.',
    );
    expect(await counts()).toEqual(before);
    expect(await plans.serial(t.projectId)).toBe(serialBefore);
  });

  it('should give generated names of 8 hex digits', async () => {
    const r = await create({ network: 'local' });
    expect(r.status).toBe(202);
    expect(((await r.json()) as Json).name).toMatch(/^local-[0-9a-f]{8}$/);
  });

  it('should count every one of concurrent creates in the serial, none lost', async () => {
    const before = await counts();
    const serialBefore = await plans.serial(t.projectId);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => create({ network: 'local', name: `burst-${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(202));
    expect(await counts()).toEqual({
      validators: before.validators + 24,
      events: before.events + 24,
    });
    expect(await plans.serial(t.projectId)).toBe(serialBefore + 24);
  });

  it('should make a plan stale when a create commits after the plan was computed', async () => {
    // Hold a create inside its statement (validators locked), compute a plan, then let it commit.
    const runner = h.repos.ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query('LOCK TABLE validators IN EXCLUSIVE MODE');
    let late: Promise<Response>;
    let planId: string;
    try {
      late = create({ network: 'local', name: 'late' });
      await new Promise((r) => setTimeout(r, 300));
      // Planning reads under REPEATABLE READ: it does not wait for the held create.
      const p = await h.api('/v1/plans', {
        method: 'POST',
        key: t.key,
        json: { validators: [{ name: 'planned', network: 'local' }], mode: 'apply' },
      });
      expect(p.status).toBe(201);
      planId = ((await p.json()) as Json).id;
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    expect((await late).status).toBe(202);
    const a = await h.api(`/v1/plans/${planId}/apply`, { method: 'POST', key: t.key, json: {} });
    expect(a.status).toBe(409);
    const body = (await a.json()) as Json;
    expect(body.code).toBe('stale_plan');
    expect(body.serial).toBe(body.planSerial + 1);
  });

  it('should keep the serial of another project apart', async () => {
    const other = await h.tenant('create-other', ['admin']);
    expect(await plans.serial(other.projectId)).toBe(0);
    const r = await h.api('/v1/validators', {
      method: 'POST',
      key: other.key,
      json: { network: 'local', name: 'elsewhere' },
    });
    expect(r.status).toBe(202);
    expect(await plans.serial(other.projectId)).toBe(1);
  });
});
