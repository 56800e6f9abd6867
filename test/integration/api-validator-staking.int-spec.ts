import {
  evaluateStaking,
  FUJI_HELICON_TIME,
  registrationRules,
  stakingRulesFor,
  type StakingObservation,
  type StakingView,
} from '@snowline/domain';
import { startApiApp, type ApiApp } from '../support/api-app';

jest.setTimeout(60_000);

type Json = Record<string, unknown>;
const H = 3_600_000;
/** A 12 h Fuji stake that started after Helicon: 90 %, a 1.2 h budget. */
const START = FUJI_HELICON_TIME + 100 * 24 * H;
const SETTINGS = { staleAfterMs: 180_000, atRiskFraction: 0.5, periodEndingMs: 24 * H };

/** What two standbys said of a validator, six hours into its stake, at `uptime`. */
const peers = (uptime: number, registered = true): StakingObservation[] =>
  [0, 1].map(() => ({
    kind: 'peer',
    observedAt: Date.now(),
    pchainTime: START + 6 * H,
    registered,
    stake: registered
      ? {
          txId: 'tx-12h',
          startMs: START,
          endMs: START + 12 * H,
          weight: '1000000000',
          autoRenew: true,
        }
      : null,
    uptime: registered ? uptime : null,
  }));

/**
 * Issue 22 point 4: the validator resource's `staking` block and `GET /v1/validators/:id/staking`,
 * read from the stored evaluation (`validator_staking`) as the worker writes it: a current view with
 * its figures, a stale one as `unknown` with its age and its last figures apart (never as current,
 * never 0), a validator the P-chain does not list, one never evaluated; and the registration inputs.
 */
describe('validator staking (block and route)', () => {
  let h: ApiApp;
  const ids: Record<'known' | 'stale' | 'unregistered' | 'never', string> = {
    known: '',
    stale: '',
    unregistered: '',
    never: '',
  };
  const save = (validatorId: string, view: StakingView, observedAt: Date) =>
    h.repos.staking.saveViews([
      {
        validatorId,
        projectId: h.defaultProjectId,
        network: 'fuji',
        nodeId: `NodeID-${validatorId.slice(0, 8)}`,
        subnetId: null,
        view,
        observedAt,
        balance: null,
        conditions: { periodKey: null, raised: [] },
      },
    ]);
  const get = async (path: string, key?: string) => {
    const r = await h.api(path, key === undefined ? {} : { key });
    return { status: r.status, body: (await r.json()) as Json };
  };

  beforeAll(async () => {
    h = await startApiApp('validator-staking');
    for (const name of Object.keys(ids) as (keyof typeof ids)[]) {
      const r = await h.api('/v1/validators', { method: 'POST', json: { network: 'fuji', name } });
      expect(r.status).toBe(202);
      ids[name] = ((await r.json()) as { id: string }).id;
    }
    // The worker's identity generator gives it a NodeID and BLS key within a second or so.
    for (let i = 0; i < 100 && !(await get(`/v1/validators/${ids.known}`)).body.nodeId; i++)
      await new Promise((r) => setTimeout(r, 100));
    const now = Date.now();
    // 97 % after 6 h: 0.18 h down of a 1.2 h budget (85 % left).
    await save(ids.known, evaluateStaking('fuji', peers(0.97), now, SETTINGS), new Date(now));
    // Stored as at risk ten minutes ago, and nothing since (the worker stopped, say).
    await save(
      ids.stale,
      evaluateStaking('fuji', peers(0.89), now, SETTINGS),
      new Date(now - 600_000),
    );
    await save(
      ids.unregistered,
      evaluateStaking('fuji', peers(0, false), now, SETTINGS),
      new Date(now),
    );
  });
  afterAll(async () => h?.stop());

  it('should show a current view with its figures, the requirement and why', async () => {
    const { status, body } = await get(`/v1/validators/${ids.known}`);
    expect(status).toBe(200);
    const s = body.staking as Json;
    expect(s).toMatchObject({
      status: 'ok',
      registered: true,
      txId: 'tx-12h',
      startTime: new Date(START).toISOString(),
      endTime: new Date(START + 12 * H).toISOString(),
      weight: '1000000000',
      autoRenew: true,
      pchainTime: new Date(START + 6 * H).toISOString(),
      requirement: { value: 0.9, basis: 'helicon', heliconActivatesAt: '2026-07-28T15:00:00.000Z' },
      uptime: { value: 0.97, source: 'peer', observers: 2 },
      // 1.2 h = 4320 s; 3 % of 6 h = 648 s used.
      budget: { totalSeconds: 4320, usedSeconds: 648, leftSeconds: 3672, leftFraction: 0.85 },
      reward: 'on_track',
      periodEnding: false,
      staleAfterSeconds: 180,
      lastKnown: null,
    });
    expect((s.requirement as Json).reason).toMatch(/^90 %: .*at or after Helicon on fuji/);
    expect(s.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(s.ageSeconds).toBeLessThan(30);
  });

  it('should show a stale view as unknown with its age, its last figures apart', async () => {
    const s = (await get(`/v1/validators/${ids.stale}`)).body.staking as Json;
    expect(s).toMatchObject({
      status: 'unknown',
      registered: null,
      uptime: null,
      budget: null,
      requirement: null,
      reward: null,
      lastKnown: {
        status: 'at_risk',
        uptime: { value: 0.89, source: 'peer', observers: 2 },
        budget: { totalSeconds: 4320, usedSeconds: 2376, leftSeconds: 1944, leftFraction: 0.45 },
        reward: 'at_risk',
      },
    });
    expect(s.ageSeconds).toBeGreaterThanOrEqual(600);
    expect(s.ageSeconds).toBeLessThan(660);
  });

  it('should say a validator the P-chain does not list is not registered', async () => {
    const s = (await get(`/v1/validators/${ids.unregistered}`)).body.staking as Json;
    expect(s).toMatchObject({
      status: 'not_registered',
      registered: false,
      txId: null,
      requirement: null,
      uptime: null,
      budget: null,
      reward: null,
      periodEnding: null,
      lastKnown: null,
    });
  });

  it('should show one never evaluated as unknown without an age', async () => {
    const s = (await get(`/v1/validators/${ids.never}`)).body.staking as Json;
    expect(s).toMatchObject({
      status: 'unknown',
      ageSeconds: null,
      observedAt: null,
      lastKnown: null,
    });
  });

  it('should carry the block on every item of the list', async () => {
    const { body } = await get('/v1/validators?limit=100');
    const byId = new Map((body.items as Json[]).map((v) => [v.id, (v.staking as Json).status]));
    expect(Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, byId.get(id)]))).toEqual({
      known: 'ok',
      stale: 'unknown',
      unregistered: 'not_registered',
      never: 'unknown',
    });
  });

  it('should return the block and the registration inputs on /staking', async () => {
    const v = (await get(`/v1/validators/${ids.known}`)).body;
    expect(v.nodeId).toMatch(/^NodeID-/);
    const before = Date.now();
    const { status, body } = await get(`/v1/validators/${ids.known}/staking`);
    expect(status).toBe(200);
    expect(body.staking).toEqual(
      expect.objectContaining({ status: 'ok', budget: (v.staking as Json).budget }),
    );
    const reg = body.registration as Json;
    const rules = registrationRules(
      'fuji',
      Date.parse(reg.rulesAt as string),
      stakingRulesFor(h.config.avalanchego.calendar),
    );
    expect(Date.parse(reg.rulesAt as string)).toBeGreaterThanOrEqual(before - 1);
    expect(reg).toEqual({
      transaction: 'AddPermissionlessValidatorTx',
      network: 'fuji',
      nodeId: v.nodeId,
      blsPublicKey: v.blsPublicKey,
      proofOfPossession: v.proofOfPossession,
      rulesAt: reg.rulesAt,
      minStakeDurationSeconds: rules.minStakeDurationMs / 1000,
      maxStakeDurationSeconds: 365 * 24 * 3600,
      minStake: '1000000000',
      maxStake: '3000000000000000',
      uptimeRequirement: rules.uptimeRequirement,
      heliconActive: rules.heliconActive,
      heliconActivatesAt: '2026-07-28T15:00:00.000Z',
      source: expect.stringContaining('genesis/genesis_{mainnet,fuji,local}.go'),
    });
    // After Fuji's Helicon: 12 h (ACP-273), 90 %.
    if (rules.heliconActive) expect(reg.minStakeDurationSeconds).toBe(12 * 3600);
    expect(body).toMatchObject({ validatorId: ids.known, name: 'known' });
  });

  it('should keep /staking to its project and its scope', async () => {
    const other = await h.tenant('staking-other', ['validators:read']);
    expect((await get(`/v1/validators/${ids.known}/staking`, other.key)).status).toBe(404);
    const events = await h.tenant('staking-events', ['events:read']);
    expect((await get(`/v1/validators/${ids.known}/staking`, events.key)).status).toBe(403);
    const bad = await get('/v1/validators/not-a-uuid/staking');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/UUID/);
  });
});
