import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../support/browser';
import { startStack, waitFor, type Stack } from '../support/stack';

const SHOTS = join(__dirname, '..', '..', 'test-results', 'console');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// Browser globals, for the callbacks that run in the page. Declared here, module-scoped: the DOM lib
// would leak into the whole program.
declare const window: object;
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };
declare const innerWidth: number;
declare const sessionStorage: { getItem(key: string): string | null };
type Document = typeof document;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe('Web console', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const browserErrors: string[] = [];
  // The deliberate wrong-key sign-in makes Chromium log its 401; that one is expected.
  let expect401 = false;
  const a11y: Record<string, AxeViolation[]> = {};

  const shot = async (name: string) => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const axe = async (name: string) => {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const r = await (
        window as unknown as {
          axe: { run: (ctx: Document, o: object) => Promise<{ violations: AxeViolation[] }> };
        }
      ).axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target })),
      }));
    });
    a11y[name] = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  };
  /** An event list as shown: id, timestamp and the age text of each row, top to bottom. */
  const rows = async (list: string) => {
    // One read of the whole list: row locators are by position, so reading them one by one while a
    // live event is prepended shifts the rows under the loop (one event read twice, one missed).
    const raw = await page.locator(`${list} li[data-event-id]`).evaluateAll((lis) =>
      lis.map((li) => {
        const time = li.querySelector('time');
        return {
          id: li.getAttribute('data-event-id') ?? '',
          at: time?.getAttribute('datetime') ?? '',
          text: time?.textContent ?? '',
        };
      }),
    );
    return raw.map(({ id, at, text }) => {
      const [, h = '0', m = '0', sec = '0'] =
        /^(?:(\d+) h ?)?(?:(\d+) min ?)?(?:(\d+) s)? ago$/.exec(text.trim()) ?? [];
      return { id, at, age: Number(h) * 3600 + Number(m) * 60 + Number(sec) };
    });
  };
  /** Each event once, newest first, and every age later than it was `earlier` (issue 21 point 2). */
  const expectTimeline = async (list: string, earlier?: Awaited<ReturnType<typeof rows>>) => {
    const now = await rows(list);
    const ids = now.map((r) => r.id);
    expect({ list, duplicates: ids.filter((id, i) => ids.indexOf(id) !== i) }).toEqual({
      list,
      duplicates: [],
    });
    // Commit order, newest first; createdAt is the writer's start, so allow a second between writers.
    const late = now.filter(
      (r, i) => i > 0 && Date.parse(r.at) > Date.parse(now[i - 1]!.at) + 1000,
    );
    expect({ list, outOfOrder: late }).toEqual({ list, outOfOrder: [] });
    for (const r of earlier ?? []) {
      const later = now.find((x) => x.id === r.id);
      if (later)
        expect({ id: r.id, ticked: later.age > r.age }).toEqual({ id: r.id, ticked: true });
    }
    return now;
  };
  const nav = (label: string) => page.getByRole('navigation').getByRole('link', { name: label });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack('console', {
      LEASE_TTL_SECONDS: '8',
      LEASE_RENEW_SECONDS: '1',
      CLOCK_SKEW_MARGIN_SECONDS: '1',
      SWEEP_INTERVAL_SECONDS: '1',
      FAILOVER_GRACE_SECONDS: '1',
      STANDBY_POOL: 'fuji=2',
      SIM_BOOTSTRAP_SECONDS: '1',
      // A test network upgrade 20 days out (inside UPGRADE_WARNING_DAYS) that 1.15.3 survives.
      NETWORK_UPGRADES: `fuji/Testicon/${new Date(Date.now() + 20 * 86_400_000).toISOString()}/1.15.3`,
    });
    browser = await launchBrowser();
    page = browser.page;
    page.on('console', (m) => {
      if (expect401 && /status of 401/.test(m.text())) return;
      if (m.type() === 'error') browserErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (err) => browserErrors.push(`page error: ${err.message}`));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);

  it('should serve the console at / while the API keeps its paths', async () => {
    const html = await fetch(`${stack.apiUrl}/validators/whatever`, {
      headers: { accept: 'text/html' },
    });
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<div id="root">');
    const api404 = await fetch(`${stack.apiUrl}/v1/nope`, { headers: { accept: 'text/html' } });
    expect(api404.status).toBe(404);
    expect(api404.headers.get('content-type')).toContain('problem+json');
    expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${stack.apiUrl}/docs-json`)).status).toBe(200);
  });

  it('should sign in with an API key kept out of the URL', async () => {
    await page.goto(`${stack.apiUrl}/`);
    await page.getByRole('heading', { name: /Snowline/ }).waitFor();
    await axe('sign-in');
    await shot('01-sign-in');
    expect401 = true;
    await page.getByLabel('API key').fill('sl_admin_test_not_a_real_key_000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('unknown or revoked').waitFor();
    expect401 = false;
    await page.getByLabel('API key').fill(stack.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    expect(page.url()).not.toContain(stack.adminKey);
    expect(await page.evaluate(() => sessionStorage.getItem('snowline.apiKey'))).toBe(
      stack.adminKey,
    );
    await page.getByText('Live', { exact: true }).waitFor();
    // Every configured zone gets a card; once the sweeper has run, each says how old its observation is.
    await waitFor('zone cards observed', async () =>
      (await page.locator('article.zone .observed').allTextContents()).every((t) =>
        /Observed \d/.test(t),
      ),
    );
    expect(await page.locator('article.zone').count()).toBe(3);
    await axe('overview');
    await shot('02-overview');
  }, 60_000);

  let validatorId = '';
  let firstZone = '';

  it('should launch a validator and show it becoming active without a reload', async () => {
    await nav('Launch').click();
    await page.getByRole('heading', { name: 'Launch a validator', level: 1 }).waitFor();
    await page.getByLabel('Name (optional)').fill('console-1');
    await axe('launch');
    await shot('03-launch');
    const posted = page.waitForRequest(
      (r) => r.url().endsWith('/v1/validators') && r.method() === 'POST',
    );
    await page.getByRole('button', { name: 'Launch validator' }).click();
    const req = await posted;
    expect(req.headers()['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    await page.waitForURL(/\/validators\/[0-9a-f-]{36}$/);
    validatorId = page.url().split('/').pop()!;
    await page
      .locator('h1 .badge[data-value="active"]')
      .waitFor({ timeout: 90_000 })
      .catch(async (err: Error) => {
        await shot('fail-launch');
        throw err;
      });
    firstZone = (await page.locator('.zone-value').textContent())!.trim();
    expect(firstZone).toMatch(/^cn-hongkong-/);
    await page.getByRole('button', { name: 'Copy NodeID' }).waitFor();
    await page.getByText('Proof of possession').waitFor();
    // Host history: the host it runs on, in the zone it was placed in.
    const hosts = page.getByRole('table', { name: /hosts? this validator has run on/ });
    const currentHost = hosts.locator('tr[data-tenure="current"]');
    await currentHost.waitFor();
    expect((await currentHost.getByRole('rowheader').textContent())!.trim()).toBe(firstZone);
    expect(await currentHost.locator('code').textContent()).toMatch(/^i-/);
    // Current health checks of that host: a row per check, each with a result and an age.
    const checks = page.getByRole('table', { name: /Latest observations of/ });
    await checks.getByRole('rowheader', { name: 'Node healthy' }).waitFor();
    await checks.locator('tr[data-check="node_healthy"][data-status="pass"]').waitFor();
    expect(await checks.locator('tbody tr').count()).toBe(6);
    expect(await checks.locator('tr[data-check="verdict"] td').nth(2).textContent()).toMatch(
      /^\d+ (s|min)( \d+ s)? ago$/,
    );
    await axe('validator-detail');
    await shot('04-validator-detail');

    await nav('Validators').click();
    await page.locator(`tr[data-validator="${validatorId}"][data-state="active"]`).waitFor();
    await axe('validators');
    await shot('05-validators');
  }, 150_000);

  it('should show a zone going dark, an incident and the failover live', async () => {
    await nav('Overview').click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const before = page.url();
    const fault = await fetch(`${stack.simUrl}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'zone-power-loss', zone: firstZone }),
    });
    expect(fault.ok).toBe(true);
    const card = page.locator(`article.zone[data-zone="${firstZone}"]`);
    await card
      .locator('.badge[data-value="impaired"], .badge[data-value="dark"]')
      .waitFor({ timeout: 60_000 });
    await card.getByRole('link', { name: 'open incident' }).waitFor({ timeout: 30_000 });
    // Through the failover the recent events stay each once, in order, with ages ticking.
    let seen = await expectTimeline('ol.events');
    for (let i = 0; i < 3; i++) {
      await page.waitForTimeout(2500);
      seen = await expectTimeline('ol.events', seen);
    }
    await shot('06-overview-zone-down');
    // A smaller picture of the same moment for the README (docs/console-overview.png).
    await page.setViewportSize({ width: 1024, height: 620 });
    await page.screenshot({ path: join(SHOTS, 'readme-overview.png') });
    await page.setViewportSize({ width: 1280, height: 900 });

    await nav('Incidents').click();
    const incident = page.locator(`article.incident-open[data-zone="${firstZone}"]`);
    await incident.waitFor({ timeout: 30_000 });
    await incident.getByRole('link', { name: 'console-1' }).waitFor({ timeout: 30_000 });

    // The validator moves to a standby in another zone and is active again, all without a reload.
    await waitFor(
      'the failover to show on the incident',
      async () => {
        const text = (await incident.locator('.affected').textContent()) ?? '';
        return (
          /active/.test(text) && !text.includes(`now in ${firstZone}`) && /now in cn-/.test(text)
        );
      },
      120_000,
      500,
    );
    await axe('incidents');
    await shot('07-incidents');

    await incident.getByRole('link', { name: 'console-1' }).click();
    await page.locator('h1 .badge[data-value="active"]').waitFor({ timeout: 30_000 });
    const zone = (await page.locator('.zone-value').textContent())!.trim();
    expect(zone).not.toBe(firstZone);
    await page.getByText('failover.completed').first().waitFor({ timeout: 30_000 });
    const timeline = 'section[aria-labelledby="timeline-h"] ol.events';
    const first = await expectTimeline(timeline);
    await page.waitForTimeout(2500);
    await expectTimeline(timeline, first);
    // A verdict and the last report, each with its own age; the report is seconds old.
    const health = page.locator('.facts .health');
    await health.locator('[data-last-report]:not([data-last-report=""])').waitFor();
    expect(await health.textContent()).toMatch(/last report \d+ s ago/);
    const history = page.getByRole('table', { name: /hosts this validator has run on/ });
    const replaced = history.locator('tr[data-tenure="replaced"]');
    await replaced.waitFor({ timeout: 30_000 });
    expect((await replaced.getByRole('rowheader').textContent())!.trim()).toBe(firstZone);
    expect(await replaced.locator('.host-reason').textContent()).toMatch(/^failed over to cn-/);
    const holder = history.locator('tr[data-tenure="current"]');
    expect((await holder.getByRole('rowheader').textContent())!.trim()).toBe(zone);
    await shot('08-validator-after-failover');
    expect(page.url()).not.toBe(before);
    // One document the whole time: navigation and updates never reloaded the page.
    expect(
      await page.evaluate(
        () =>
          (
            performance as unknown as { getEntriesByType: (t: string) => unknown[] }
          ).getEntriesByType('navigation').length,
      ),
    ).toBe(1);
  }, 240_000);

  it('should plan a snowline.yaml and apply it from the browser, following it until settled', async () => {
    await nav('Plans').click();
    await page.getByRole('heading', { name: 'Plans', level: 1 }).waitFor();
    await page.getByText('No plan yet.').waitFor();
    const yaml = page.getByLabel('snowline.yaml');
    // A mistake is reported where it is, as the CLI reports it, and nothing is sent.
    await yaml.fill('version: 1\nvalidators:\n  plan-1:\n    netwrk: fuji\n');
    await page.getByRole('button', { name: 'Plan', exact: true }).click();
    await page.getByRole('alert').getByText('unknown field "netwrk"', { exact: false }).waitFor();
    await page
      .getByRole('button', { name: /snowline\.yaml:4:5/ })
      .first()
      .click();
    expect(await yaml.evaluate((el: { selectionStart: number }) => el.selectionStart)).toBe(37);

    // The file is the truth for the project: it names console-1 too, so nothing is deleted.
    await yaml.fill(
      'version: 1\nvalidators:\n  console-1:\n    network: fuji\n  plan-1:\n    network: fuji\n    labels:\n      team: console\n',
    );
    await page.getByRole('button', { name: 'Plan', exact: true }).click();
    const created = page.locator('tr[data-name="plan-1"][data-action="create"]');
    await created.waitFor();
    await created.getByText('not in the project yet').waitFor();
    expect(await page.locator('tr[data-action="delete"], tr[data-action="replace"]').count()).toBe(
      0,
    );
    await page.locator('[data-status="planned"]').waitFor();
    await axe('plans');
    await shot('11-plans');

    const applied = page.waitForRequest(
      (r) => /\/v1\/plans\/[0-9a-f-]{36}\/apply$/.test(r.url()) && r.method() === 'POST',
    );
    await page.getByRole('button', { name: 'Apply plan' }).click();
    expect((await applied).headers()['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    await page
      .locator('[data-status="applied"]')
      .waitFor({ timeout: 120_000 })
      .catch(async (err: Error) => {
        await shot('fail-plans');
        throw err;
      });
    await created.locator('.progress .badge[data-value="active"]').waitFor();
    await axe('plans-applied');
    await shot('12-plans-applied');

    await created.getByRole('link', { name: 'plan-1' }).click();
    await page.locator('h1 .badge[data-value="active"]').waitFor({ timeout: 30_000 });
    await nav('Validators').click();
    await page.locator('tr[data-state="active"]', { hasText: 'plan-1' }).waitFor();
  }, 180_000);

  it('should warn of a network-upgrade deadline in a banner, and launch on a chosen version', async () => {
    await nav('Launch').click();
    await page.getByRole('heading', { name: 'Launch a validator', level: 1 }).waitFor();
    await page.getByLabel('Name (optional)').fill('behind-1');
    await page.getByLabel('AvalancheGo version').selectOption('1.15.2');
    await page.getByLabel('Upgrades').selectOption('before-deadline');
    await axe('launch-version');
    await page.getByRole('button', { name: 'Launch validator' }).click();
    await page.getByRole('heading', { name: 'behind-1', level: 1 }).waitFor();
    const banner = page.getByRole('region', { name: 'Network upgrade deadline' });
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.textContent()).toMatch(
      /Testicon activates on fuji in (19|20) days.*needs AvalancheGo 1\.15\.3 or later.*1 validator will not survive it.*behind-1: its spec names 1\.15\.2/,
    );
    const facts = page.locator('dt:text("AvalancheGo") + dd');
    await facts.getByText('upgrade before deadlines').waitFor();
    expect(await facts.textContent()).toContain('1.15.2');
    await axe('upgrade-banner');
    await shot('11-upgrade-banner');
    // Retired, it no longer counts: the banner goes.
    const id = page.url().split('/').at(-1)!;
    expect((await stack.api(`/v1/validators/${id}`, { method: 'DELETE' })).status).toBe(202);
    await banner.waitFor({ state: 'detached', timeout: 70_000 });
  }, 120_000);

  it('should work at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await nav('Overview').click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await axe('overview-phone');
    await shot('09-overview-phone');
    const pageOverflows = () =>
      page.evaluate(() => document.documentElement.scrollWidth > innerWidth);
    await nav('Validators').click();
    await page.locator(`tr[data-validator="${validatorId}"]`).waitFor();
    expect(await pageOverflows()).toBe(false);
    // Each validator is a card of labelled fields, not a row to scroll sideways through.
    const row = page.locator(`tr[data-validator="${validatorId}"]`);
    const wrap = page.locator('.table-wrap').first();
    expect(
      await wrap.evaluate(
        (el: { scrollWidth: number; clientWidth: number }) => el.scrollWidth <= el.clientWidth,
      ),
    ).toBe(true);
    expect((await row.boundingBox())!.width).toBeLessThanOrEqual(390);
    await axe('validators-phone');
    await shot('10-validators-phone');

    await row.getByRole('link', { name: 'console-1' }).click();
    await page.locator('h1 .badge[data-value="active"]').waitFor();
    await page.locator('table.hosts tr[data-tenure="current"]').waitFor();
    await page.locator('table.checks tr[data-check="verdict"]').waitFor();
    expect(await pageOverflows()).toBe(false);
    for (const table of ['table.hosts', 'table.checks']) {
      const box = (await page.locator(table).boundingBox())!;
      expect({ table, right: box.x + box.width <= 390 }).toEqual({ table, right: true });
    }
    await axe('validator-detail-phone');
    await shot('13-validator-detail-phone');
  }, 60_000);

  it('should have no console errors and no serious accessibility violations', () => {
    expect(browserErrors).toEqual([]);
    expect(Object.keys(a11y).length).toBeGreaterThanOrEqual(8);
    expect(a11y).toEqual(Object.fromEntries(Object.keys(a11y).map((k) => [k, []])));
  });
});
