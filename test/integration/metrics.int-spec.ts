import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluateStaking,
  FUJI_HELICON_TIME,
  type Network,
  type StakingObservation,
} from '@snowline/domain';
import { startApiApp, type ApiApp } from '../support/api-app';

/**
 * The operator's `/metrics`: fleet series from Postgres (validators by state and staking status,
 * zones by status, standby pools against target, open incidents), lease renewal latency, the
 * exposition format's content type, and promtool's verdict on the scrape and on the shipped alert
 * rules.
 */
const PROMETHEUS_DIR = join(__dirname, '..', '..', 'deploy', 'prometheus');
const DASHBOARD = join(__dirname, '..', '..', 'deploy', 'grafana', 'snowline.json');
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** promtool with `args` (stdin: `input`); fails the test with promtool's own words on any problem. */
function promtool(args: string[], input?: string): string {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', cwd: PROMETHEUS_DIR });
  if (r.error)
    throw new Error(`promtool not runnable (Debian package prometheus): ${r.error.message}`);
  const out = `${r.stdout}${r.stderr}`;
  expect({ args, status: r.status, out }).toEqual({ args, status: 0, out });
  return out;
}

/** The value of one series line, `name{labels} value`; undefined when the scrape lacks it. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const H = 3_600_000;
/** A 12 h stake that started after Helicon (90 %): a 4,320 s budget; observed 6 h in. */
const START = FUJI_HELICON_TIME + 100 * 24 * H;
const SETTINGS = { staleAfterMs: 180_000, atRiskFraction: 0.5, periodEndingMs: 24 * H };
const peers = (uptime: number, registered = true): StakingObservation[] =>
  [0, 1].map(() => ({
    kind: 'peer',
    observedAt: Date.now(),
    pchainTime: START + 6 * H,
    registered,
    stake: registered
      ? { txId: 'tx-12h', startMs: START, endMs: START + 12 * H, weight: '1', autoRenew: false }
      : null,
    uptime: registered ? uptime : null,
  }));

/** Waits until every validator has its NodeID (the identity generator's, within a second or so). */
async function identitiesAttached(h: ApiApp): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [{ n }] = (await h.repos.ds.query(
      `SELECT count(*)::int AS n FROM validators WHERE node_id IS NULL`,
    )) as [{ n: number }];
    if (!n) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('validators still without a NodeID after 10 s');
}

/**
 * A validator with a NodeID (the identity generator's) and the view its peers' `uptime` gives, stored
 * `ageMs` ago (null: never evaluated). Budget left at 6 h: 0.99 → 4,104 s, 0.97 → 3,672 s,
 * 0.89 → 1,944 s (at risk), 0.85 → 1,080 s (at risk), 0.7 → −2,160 s (lost).
 */
async function stakingValidator(
  h: ApiApp,
  name: string,
  network: Network,
  view: { uptime: number; registered?: boolean; ageMs?: number } | null,
): Promise<string> {
  const r = await h.api('/v1/validators', { method: 'POST', json: { network, name } });
  expect(r.status).toBe(202);
  const { id } = (await r.json()) as { id: string };
  await identitiesAttached(h);
  if (!view) return id;
  const [{ nodeId }] = (await h.repos.ds.query(
    `SELECT node_id AS "nodeId" FROM validators WHERE id = $1`,
    [id],
  )) as [{ nodeId: string }];
  const now = Date.now();
  await h.repos.staking.saveViews([
    {
      validatorId: id,
      projectId: h.defaultProjectId,
      network,
      nodeId: nodeId!,
      subnetId: null,
      view: evaluateStaking(network, peers(view.uptime, view.registered), now, SETTINGS),
      observedAt: new Date(now - (view.ageMs ?? 0)),
      balance: null,
      conditions: { periodKey: null, raised: [] },
    },
  ]);
  return id;
}

/** Every PromQL expression of the dashboard, with Grafana's variables filled in. */
function dashboardExprs(): string[] {
  interface Panel {
    targets?: { expr: string }[];
    panels?: Panel[];
  }
  const walk = (ps: Panel[]): string[] =>
    ps.flatMap((p) => [...(p.targets ?? []).map((t) => t.expr), ...walk(p.panels ?? [])]);
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return walk(dash.panels).map((e) =>
    e.replaceAll('$__rate_interval', '5m').replaceAll('$job', 'snowline'),
  );
}

/** snowline_* metric names an expression reads (a histogram's _bucket/_count/_sum: its own name). */
const metricNames = (expr: string) =>
  [...expr.matchAll(/\bsnowline_\w+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''));

describe('Operator metrics', () => {
  let h: ApiApp;
  let zones: string[];
  let leaseStatus = 0;
  beforeAll(async () => {
    h = await startApiApp('metrics');
    zones = h.config.cloud.zones;
    for (const name of ['m-one', 'm-two', 'm-three']) {
      const r = await h.api('/v1/validators', { method: 'POST', json: { network: 'fuji', name } });
      expect(r.status).toBe(202);
    }
    // Its NodeID first: a failed validator keeps it, and its staking is still tracked.
    await identitiesAttached(h);
    await h.repos.ds.query(
      `UPDATE validators SET state = 'failed' WHERE id = (SELECT id FROM validators WHERE name = 'm-one')`,
    );
    // Staking on fuji: 2 ok, 1 at risk, 1 lost, 1 not registered; unknown: the three above (never
    // evaluated) and one stored at risk ten minutes ago, with the least budget of all (1,080 s).
    await stakingValidator(h, 's-ok', 'fuji', { uptime: 0.97 });
    await stakingValidator(h, 's-ok2', 'fuji', { uptime: 0.99 });
    await stakingValidator(h, 's-risk', 'fuji', { uptime: 0.89 });
    await stakingValidator(h, 's-lost', 'fuji', { uptime: 0.7 });
    await stakingValidator(h, 's-stale', 'fuji', { uptime: 0.85, ageMs: 600_000 });
    await stakingValidator(h, 's-unreg', 'fuji', { uptime: 0, registered: false });
    // Retired: counted nowhere, its last view (at risk, 1,080 s) in no minimum.
    const retired = await stakingValidator(h, 's-retired', 'fuji', { uptime: 0.85 });
    await h.repos.ds.query(`UPDATE validators SET state = 'retired' WHERE id = $1`, [retired]);
    await stakingValidator(h, 's-main', 'mainnet', { uptime: 0.99 });
    const at = new Date();
    const zone = (z: string, status: 'healthy' | 'impaired' | 'dark') =>
      h.repos.zones.record(
        {
          zone: z,
          status,
          placementAllowed: status === 'healthy',
          reason: status === 'healthy' ? null : 'test',
          hosts: 3,
          judged: true,
          unhealthy: status === 'healthy' ? 0 : 3,
          healthySweeps: status === 'healthy' ? 3 : 0,
        },
        0,
        at,
        at,
      );
    await zone(zones[0]!, 'healthy');
    await zone(zones[1]!, 'dark');
    // zones[2] is never judged: unknown.
    await h.repos.incidents.openOrRefreshZone(zones[1]!, 'critical', 'dark in a test', []);
    const standby = (i: number, ready: boolean) =>
      h.repos.hosts.insert({
        id: crypto.randomUUID(),
        role: 'standby',
        zone: zones[0]!,
        network: 'fuji',
        instanceType: 'ecs.g7.xlarge',
        clientToken: `sl-metrics-${i}`,
        bootstrapTokenHash: `hash-${i}`,
        generation: null,
        instanceId: ready ? `i-metrics-${i}` : null,
        health: ready ? 'healthy' : 'unknown',
        lastReport: ready ? { running: true, healthy: true, bootstrapped: true } : null,
      });
    await standby(1, true);
    await standby(2, false);
    // A renewal the API refuses (a bad request, no bearer) is still a renewal it served, and timed.
    leaseStatus = (await h.api('/v1/agent/lease', { method: 'POST', key: null, json: {} })).status;
    expect(leaseStatus).toBeGreaterThanOrEqual(400);
  }, 60_000);
  afterAll(async () => h?.stop());

  it('should serve the exposition format with the fleet series, no per-validator label', async () => {
    const res = await h.api('/metrics', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
    const text = await res.text();
    expect(sample(text, 'snowline_validators{state="failed"}')).toBe(1);
    expect(sample(text, 'snowline_validators{state="pending"}')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'snowline_validators{state="failing_over"}')).toBe(0);
    const all = text
      .split('\n')
      .filter((l) => l.startsWith('snowline_validators{'))
      .reduce((n, l) => n + Number(l.split(' ')[1]), 0);
    expect(all).toBe(11);
    expect(sample(text, 'snowline_zones{status="healthy"}')).toBe(1);
    expect(sample(text, 'snowline_zones{status="dark"}')).toBe(1);
    expect(sample(text, 'snowline_zones{status="unknown"}')).toBe(1);
    expect(sample(text, `snowline_zone_status{zone="${zones[1]}",status="dark"}`)).toBe(1);
    expect(sample(text, `snowline_zone_status{zone="${zones[1]}",status="healthy"}`)).toBe(0);
    expect(sample(text, `snowline_zone_status{zone="${zones[2]}",status="unknown"}`)).toBe(1);
    const pool = `{network="fuji",zone="${zones[0]}"}`;
    expect(sample(text, `snowline_standby_pool_hosts${pool}`)).toBe(2);
    expect(sample(text, `snowline_standby_pool_ready${pool}`)).toBe(1);
    expect(sample(text, `snowline_standby_pool_target${pool}`)).toBe(h.config.standbyPool['fuji']);
    expect(sample(text, `snowline_standby_pool_ready{network="fuji",zone="${zones[1]}"}`)).toBe(0);
    expect(sample(text, 'snowline_incidents_open{kind="zone-impaired"}')).toBe(1);
    expect(sample(text, 'snowline_incidents_open{kind="control-plane-suspect"}')).toBe(0);
    const staking = (network: string, status: string) =>
      sample(text, `snowline_staking_validators{network="${network}",status="${status}"}`);
    expect(
      Object.fromEntries(
        ['unknown', 'not_registered', 'registered', 'ok', 'at_risk', 'lost'].map((st) => [
          st,
          staking('fuji', st),
        ]),
      ),
    ).toEqual({ unknown: 4, not_registered: 1, registered: 0, ok: 2, at_risk: 1, lost: 1 });
    expect(staking('mainnet', 'ok')).toBe(1);
    expect(staking('mainnet', 'unknown')).toBe(0);
    expect(staking('local', 'unknown')).toBe(0);
    // At stake (ok, at risk) and current: not the stale one, the lost one or the retired one.
    expect(sample(text, 'snowline_staking_budget_left_min_seconds{network="fuji"}')).toBe(1944);
    expect(sample(text, 'snowline_staking_budget_left_min_seconds{network="mainnet"}')).toBe(4104);
    expect(sample(text, 'snowline_staking_uptime_min_ratio{network="fuji"}')).toBeCloseTo(0.89, 9);
    expect(sample(text, 'snowline_staking_uptime_min_ratio{network="mainnet"}')).toBeCloseTo(
      0.99,
      9,
    );
    expect(text).not.toMatch(/^snowline_staking_\w+_min_\w+\{network="local"\}/m);
    expect(
      sample(text, `snowline_agent_lease_renewal_duration_seconds_count{status="${leaseStatus}"}`),
    ).toBe(1);
    expect(text).not.toContain('snowline_validator_state');
    expect(text).not.toContain('snowline_validator_staking');
    expect(text).not.toMatch(/validator(_id)?="/);
    promtool(['check', 'metrics'], text);
    // The dashboard and the alert rules read only metrics this API exposes.
    const exposed = new Set([...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]));
    const rules = readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8');
    const read = [...dashboardExprs(), rules].flatMap(metricNames);
    expect(read.length).toBeGreaterThan(20);
    expect([...new Set(read)].filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('should add one series per validator only when METRICS_PER_VALIDATOR is on', async () => {
    const p = await startApiApp('metrics-pv', { METRICS_PER_VALIDATOR: 'true' });
    try {
      const id = await stakingValidator(p, 'pv-one', 'fuji', { uptime: 0.97 });
      const stale = await stakingValidator(p, 'pv-stale', 'fuji', { uptime: 0.97, ageMs: 600_000 });
      const unregistered = await stakingValidator(p, 'pv-unreg', 'fuji', {
        uptime: 0,
        registered: false,
      });
      const text = await (await p.api('/metrics', { key: null })).text();
      expect(text).toMatch(
        new RegExp(`^snowline_validator_state\\{validator="${id}",state="\\w+",zone=""\\} 1$`, 'm'),
      );
      const one = `{validator="${id}",network="fuji"}`;
      expect(sample(text, `snowline_validator_staking_budget_left_seconds${one}`)).toBe(3672);
      expect(sample(text, `snowline_validator_staking_uptime_ratio${one}`)).toBeCloseTo(0.97, 9);
      // Unknown: no series (neither 0 nor its last figures); not registered: no figure to give.
      for (const other of [stale, unregistered])
        expect(text).not.toMatch(
          new RegExp(`^snowline_validator_staking_\\w+\\{validator="${other}"`, 'm'),
        );
      expect(text.match(/^snowline_validator_staking_\w+\{/gm)).toHaveLength(2);
      promtool(['check', 'metrics'], text);
    } finally {
      await p.stop();
    }
  }, 60_000);

  it('should ship alert rules that promtool checks and their unit tests pass', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'])).toContain('SUCCESS');
    expect(promtool(['test', 'rules', 'alerts.test.yml'])).toContain('SUCCESS');
  });

  it('should ship a dashboard whose every query is valid PromQL', () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(15);
    // promtool parses expressions in rule files only: one recording rule per query.
    const dir = mkdtempSync(join(tmpdir(), 'snowline-dashboard-'));
    try {
      const rules = exprs.map(
        (e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e)}`,
      );
      writeFileSync(
        join(dir, 'q.yml'),
        `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`,
      );
      expect(promtool(['check', 'rules', join(dir, 'q.yml')])).toContain(
        `${exprs.length} rules found`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
