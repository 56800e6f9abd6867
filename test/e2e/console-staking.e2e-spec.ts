import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../support/browser';
import { AvalancheNodeClient } from '@snowline/avalanche';
import { FAST_CLOCKS, getValidator, injectFault } from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(240_000);

const SHOTS = join(__dirname, '..', '..', 'test-results', 'console');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** Fuji since Helicon: the shortest stake, 12 h; at 90 % it may be down 1.2 h. */
const STAKE_SECONDS = 12 * 3600;

declare const window: object;
declare const document: object;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/**
 * Issue 22's surfaces in the browser, on real processes and the simulated P-chain: the staking card
 * (its budget bar, and unknown — no bar — once the view goes stale) and the fleet sorted by risk.
 */
describe('Web console: staking', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const browserErrors: string[] = [];
  const a11y: Record<string, AxeViolation[]> = {};
  const ids: Record<string, string> = {};

  const axe = async (name: string) => {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const r = await (
        window as unknown as {
          axe: { run: (ctx: object, o: object) => Promise<{ violations: AxeViolation[] }> };
        }
      ).axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.map((n) => ({ target: n.target })),
      }));
    });
    a11y[name] = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    await page.screenshot({ path: join(SHOTS, `staking-${name}.png`), fullPage: true });
  };

  const launch = async (name: string, zone: string) => {
    const r = await stack.api('/v1/validators', {
      method: 'POST',
      json: { network: 'fuji', name, zones: [zone] },
    });
    expect(r.status).toBe(202);
    ids[name] = ((await r.json()) as Json).id as string;
  };
  const active = (name: string) =>
    waitFor(
      `${name} active`,
      async () => (await getValidator(stack, ids[name]!)).state === 'active',
      60_000,
      300,
    );
  /** Registers it for a 12 h stake from now, by its node's P-chain clock (as staking.e2e does). */
  const register = async (name: string) => {
    const v = (await (await stack.api(`/v1/validators/${ids[name]}`)).json()) as Json;
    const node = new AvalancheNodeClient(`${stack.simUrl}/_nodes/${v.instanceId as string}`);
    const now = Math.floor((await node.getTimestamp()).getTime() / 1000);
    const res = await fetch(`${stack.simUrl}/_sim/pchain/validators`, {
      method: 'POST',
      body: JSON.stringify({
        nodeId: v.nodeId,
        blsPublicKey: v.blsPublicKey,
        proofOfPossession: v.proofOfPossession,
        weight: '2000000000000',
        endTime: now + STAKE_SECONDS,
      }),
    });
    expect(res.status).toBe(201);
  };
  const staking = async (name: string) =>
    ((await (await stack.api(`/v1/validators/${ids[name]}`)).json()) as Json).staking as Json;
  const stakingIs = (name: string, ok: (s: Json) => boolean, timeoutMs = 60_000) =>
    waitFor(
      `${name}'s staking`,
      async () => {
        const s = await staking(name);
        return ok(s) ? s : undefined;
      },
      timeoutMs,
      300,
    );
  /** The validators table as shown, top to bottom: each row's name and staking status. */
  const rowsByStatus = (table: Locator) =>
    table
      .locator('tbody tr[data-validator]')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.querySelector('th a')?.textContent ?? '',
          tr.querySelector('[data-staking-status]')?.getAttribute('data-staking-status') ?? '',
        ]),
      );
  const detail = async (name: string) => {
    await page.goto(`${stack.apiUrl}/validators/${ids[name]}`);
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    return page.getByRole('region', { name: 'Staking' });
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack('console-staking', {
      ...FAST_CLOCKS,
      // 1 s of wall time = 200 s of P-chain time: the 1.2 h budget lasts 21.6 s.
      SIM_TIME_SCALE: '0.005',
      STANDBY_POOL: '0',
      STAKING_REPORT_SECONDS: '1',
      STAKING_AT_RISK_BUDGET_PERCENT: '50',
    });
    browser = await launchBrowser();
    page = browser.page;
    page.on('console', (m) => {
      if (m.type() === 'error') browserErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (err) => browserErrors.push(`page error: ${err.message}`));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);

  it('should show the staking card with the budget as a bar, from the network’s view', async () => {
    // One validator per zone, each the others' observer; `spare` never registers.
    await launch('pinned', 'cn-hongkong-b');
    await launch('steady', 'cn-hongkong-c');
    await launch('spare', 'cn-hongkong-d');
    for (const n of ['pinned', 'steady', 'spare']) await active(n);
    await register('pinned');
    await register('steady');
    for (const n of ['pinned', 'steady'])
      await stakingIs(n, (s) => s.status === 'ok' && s.uptime?.source === 'peer');
    await stakingIs('spare', (s) => s.status === 'not_registered');

    await page.goto(`${stack.apiUrl}/`);
    await page.getByLabel('API key').fill(stack.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    const card = await detail('steady');
    await card.locator('.badge[data-value="ok"]').waitFor();
    expect(await card.locator('[data-fact="requirement"]').textContent()).toMatch(
      /^90 % uptime.*at or after Helicon on fuji/,
    );
    expect(await card.locator('[data-fact="uptime"]').textContent()).toMatch(
      /^\d+(\.\d+)? %by [12] peers?$/,
    );
    const meter = card.getByRole('meter', { name: /Downtime budget/ });
    const budget = (await staking('steady')).budget as Json;
    const max = Number(await meter.getAttribute('max'));
    // The bar's scale is the budget, ~1.2 h of a 12 h stake that began a little after `now`.
    expect(max).toBeGreaterThan(0.1 * STAKE_SECONDS - 200);
    expect(max).toBeLessThanOrEqual(0.1 * STAKE_SECONDS);
    expect(max).toBe(budget.totalSeconds);
    expect(Number(await meter.getAttribute('value'))).toBeGreaterThan(0.9 * max);
    expect(await meter.getAttribute('aria-valuetext')).toMatch(/^1 h \d+ min of 1 h \d+ min left/);
    expect(await card.locator('#budget-label').textContent()).toMatch(
      /^Downtime budget: 1 h \d+ min of 1 h \d+ min left \(\d+ %\)$/,
    );
    expect(await card.locator('[data-fact="stake"]').textContent()).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d UTC → \d{4}-\d\d-\d\d \d\d:\d\d UTC$/,
    );
    expect(await card.locator('[data-fact="reward"]').textContent()).toBe(
      'on trackstake 2000 AVAX',
    );
    await axe('card-ok');

    const spare = await detail('spare');
    await spare.locator('.badge[data-value="not_registered"]').waitFor();
    expect(await spare.getByRole('meter').count()).toBe(0);
    expect(await spare.locator('[data-fact="budget"]').textContent()).toMatch(/^none/);
  });

  it('should sort the fleet by risk, a lost reward first, as its zone stays dark', async () => {
    await injectFault(stack, { kind: 'zone-power-loss', zone: 'cn-hongkong-b' });
    await stakingIs('pinned', (s) => s.status === 'lost', 90_000);

    await page.goto(`${stack.apiUrl}/validators`);
    await page.getByRole('heading', { name: 'Validators', level: 1 }).waitFor();
    await page.getByLabel('Sort').selectOption('risk');
    await page.waitForURL(/sort=risk/);
    await page.locator('caption', { hasText: 'most at risk first' }).waitFor();
    const table = page.getByRole('table');
    await table.locator('tr[data-validator] [data-staking-status="lost"]').waitFor();
    const order = await rowsByStatus(table);
    expect(order).toEqual([
      ['pinned', 'lost'],
      ['steady', 'ok'],
      ['spare', 'not_registered'],
    ]);
    expect(
      await table.locator(`tr[data-validator="${ids.pinned}"] .staking-risk`).textContent(),
    ).toMatch(/^reward lostnone left: \d+ (s|min)/);
    // Newest first again without the sort.
    await page.getByLabel('Sort').selectOption('');
    await page.waitForURL((u) => !u.search.includes('sort='));
    const newest = await table
      .locator('tbody tr[data-validator] th a')
      .evaluateAll((as) => as.map((a) => a.textContent));
    expect(newest).toEqual(['spare', 'steady', 'pinned']);
    await page.getByLabel('Sort').selectOption('risk');
    await axe('validators-by-risk');

    const card = await detail('pinned');
    await card.locator('.badge[data-value="lost"]').waitFor();
    const meter = card.getByRole('meter', { name: /Downtime budget/ });
    expect(Number(await meter.getAttribute('value'))).toBe(0);
    expect(await card.locator('#budget-label').textContent()).toMatch(
      /^Downtime budget: none left: .+ over its 1 h \d+ min$/,
    );
    expect(await card.locator('[data-fact="reward"]').textContent()).toMatch(
      /^lost for this period/,
    );
    await axe('card-lost');
  });

  it('should say unknown, with its age and no bar, once the view goes stale', async () => {
    // Without the worker nobody judges the reports again: past 3 reports the view is stale.
    const worker = stack.procs.worker!;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.kill('SIGTERM');
    });
    const s = await stakingIs('steady', (x) => x.status === 'unknown', 30_000);
    expect(s).toMatchObject({ budget: null, uptime: null, lastKnown: { status: 'ok' } });
    const card = await detail('steady');
    await card.locator('.badge[data-value="unknown"]').waitFor();
    expect(await card.getByRole('meter').count()).toBe(0);
    expect(await card.locator('.staking-unknown').textContent()).toMatch(
      /^unknown — the last view is \d+ s ago, older than 3 s$/,
    );
    expect(await card.locator('[data-last-known]').textContent()).toMatch(
      /^Then it was on track, 1 h \d+ min of 1 h \d+ min left \(\d+ %\), uptime [\d.]+ %\. Not current/,
    );
    await axe('card-unknown');

    await page.goto(`${stack.apiUrl}/validators?sort=risk`);
    const table = page.getByRole('table');
    await table.locator('tr[data-validator]').first().waitFor();
    // Every view is stale now: all unknown, none shown as a 0 budget; by the last budget they had.
    const cells = await rowsByStatus(table);
    expect(cells).toEqual([
      ['pinned', 'unknown'],
      ['steady', 'unknown'],
      ['spare', 'unknown'],
    ]);
    expect(
      await table.locator(`tr[data-validator="${ids.steady}"] .staking-risk`).textContent(),
    ).toMatch(/^unknownlast view \d+ s ago \(then on track\)$/);
  });

  it('should have no console errors and no serious accessibility violations', () => {
    expect(browserErrors).toEqual([]);
    expect(Object.keys(a11y).sort()).toEqual([
      'card-lost',
      'card-ok',
      'card-unknown',
      'validators-by-risk',
    ]);
    expect(a11y).toEqual(Object.fromEntries(Object.keys(a11y).map((k) => [k, []])));
  });
});
