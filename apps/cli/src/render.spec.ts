import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  configHasChanges,
  diffStandbyPools,
  diffValidators,
  diffWebhooks,
  hasChanges,
  summarize,
  summarizeConfig,
  type CurrentValidator,
  type CurrentWebhook,
  type DiffInput,
  type PoolDiffInput,
  type WebhookDiffInput,
} from '@snowline/domain';
import { run, webhookSecrets, type Io } from './cli';
import { loadFile, whereInFile } from './load';
import {
  avax,
  feeDays,
  human,
  renderPlan,
  renderResults,
  renderStaking,
  type PlanBody,
  type StakingRow,
} from './render';
import { colourWanted, makeStyle } from './style';

const GOLDEN = join(__dirname, '__golden__');
/** A domain value as the CLI receives it: the JSON the API sends, read by its declared type. */
const sent = <T>(x: unknown): T => JSON.parse(JSON.stringify(x)) as T;
const TYPE = 'ecs.g7.2xlarge';
const NODE_A = 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg';
const NODE_B = 'NodeID-MFrZFVCXPv5iCn6M9K6XduxGTYp891xXZ';

/** Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it. */
function golden(name: string, actual: string) {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const cur = (over: Partial<CurrentValidator>): CurrentValidator => ({
  id: `00000000-0000-4000-8000-${(over.name ?? 'x').padStart(12, '0').slice(-12)}`,
  name: 'x',
  network: 'fuji',
  instanceType: TYPE,
  zones: [],
  labels: {},
  protected: false,
  state: 'active',
  stateReason: null,
  nodeId: NODE_A,
  identitySource: 'generated',
  ...over,
});

function planBody(input: Partial<DiffInput>, mode: 'apply' | 'destroy' = 'apply'): PlanBody {
  const actions = diffValidators({
    mode,
    desired: [],
    current: [],
    defaultInstanceType: TYPE,
    ...input,
  });
  return {
    id: '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b',
    mode,
    status: 'planned',
    serial: 7,
    changes: hasChanges(actions),
    summary: summarize(actions),
    actions: sent(actions),
    // A validators-only plan, as the API answers it.
    unmanagedValidators: [],
    webhooks: null,
    unmanagedWebhooks: [],
    webhooksHidden: false,
    standbyPools: null,
    configSummary: summarizeConfig([], []),
    results: [],
    createdAt: '2025-11-26T10:00:00.000Z',
    appliedAt: null,
    settledAt: null,
  };
}

const noColour = makeStyle(false);

describe(renderPlan.name, () => {
  it('should render every kind of action, with reasons, drift and warnings (golden)', () => {
    const plan = planBody({
      desired: [
        { name: 'fuji-new', network: 'fuji', labels: { team: 'core' }, preventDestroy: true },
        {
          name: 'fuji-imported',
          network: 'fuji',
          instanceType: 'ecs.g7.4xlarge',
          zones: ['cn-hongkong-b', 'cn-hongkong-c'],
          identity: { nodeId: NODE_B },
        },
        { name: 'fuji-labels', network: 'fuji', labels: { team: 'ops', env: 'prod' } },
        { name: 'fuji-bigger', network: 'fuji', instanceType: 'ecs.g7.4xlarge' },
        { name: 'fuji-lost', network: 'fuji' },
        { name: 'fuji-moving', network: 'fuji' },
        { name: 'fuji-same', network: 'fuji' },
      ],
      current: [
        cur({
          name: 'fuji-labels',
          labels: { team: 'core', old: 'yes' },
          changedOutsideAt: '2025-11-26T10:00:00.000Z',
        }),
        cur({ name: 'fuji-bigger' }),
        cur({
          name: 'fuji-lost',
          state: 'failed',
          stateReason: 'instance i-2ze0 disappeared from cn-hongkong-c',
        }),
        cur({
          name: 'fuji-moving',
          state: 'failing_over',
          stateReason: 'zone cn-hongkong-c dark',
        }),
        cur({ name: 'fuji-same' }),
        cur({ name: 'fuji-gone' }),
        cur({ name: 'fuji-kept', protected: true }),
      ],
    });
    golden('plan-all-actions.txt', renderPlan(plan, noColour, { file: 'snowline.yaml' }));
  });

  it('should render a plan with no changes (golden)', () => {
    const plan = planBody({
      desired: [{ name: 'fuji-a', network: 'fuji' }],
      current: [cur({ name: 'fuji-a' })],
    });
    golden('plan-no-changes.txt', renderPlan(plan, noColour, { file: 'snowline.yaml' }));
  });

  it('should render a version change and a deadline warning on a no-op (golden)', () => {
    const DAY = 86_400_000;
    const now = Date.parse('2027-01-01T00:00:00Z');
    const plan = planBody({
      desired: [
        { name: 'fuji-a', network: 'fuji', version: '1.16.0', upgrade: 'before-deadline' },
        { name: 'fuji-b', network: 'fuji' },
        { name: 'fuji-c', network: 'fuji', version: '1.15.3' },
      ],
      current: [
        cur({
          name: 'fuji-a',
          version: '1.15.3',
          upgradePolicy: 'manual',
          runningVersion: '1.15.3',
        }),
        cur({ name: 'fuji-b', version: '1.15.3', upgradePolicy: 'manual', runningVersion: null }),
      ],
      versions: {
        calendar: [
          {
            network: 'fuji',
            name: 'Zeta',
            activatesAt: now + 10 * DAY,
            minVersion: '1.16.0',
            source: 'test',
          },
        ],
        defaultVersion: { fuji: '1.16.0', mainnet: '1.16.0', local: '1.16.0' },
        now,
        windowMs: 30 * DAY,
      },
    });
    golden('plan-versions.txt', renderPlan(plan, noColour, { file: 'snowline.yaml' }));
  });

  it('should render a destroy refused by prevent_destroy (golden)', () => {
    const plan = planBody(
      {
        desired: [
          { name: 'fuji-a', network: 'fuji', preventDestroy: true },
          { name: 'fuji-b', network: 'fuji' },
        ],
        current: [cur({ name: 'fuji-a', protected: true }), cur({ name: 'fuji-b' })],
      },
      'destroy',
    );
    golden('destroy-refused.txt', renderPlan(plan, noColour, { file: 'snowline.yaml' }));
  });

  it('should render webhook and standby pool actions, unmanaged webhooks and no secret (golden)', () => {
    const hook = (over: Partial<CurrentWebhook>): CurrentWebhook => ({
      id: `9a8b7c6d-5e4f-4a3b-8c2d-${(over.name ?? 'x').padStart(12, '0').slice(-12)}`,
      name: 'x',
      url: 'https://hooks.example.com/snowline',
      events: [],
      enabled: true,
      description: '',
      secretEnv: 'PAGER_WEBHOOK_SECRET',
      secretVersion: 1,
      ...over,
    });
    const hooks: WebhookDiffInput = {
      mode: 'apply',
      desired: [
        {
          name: 'pager',
          url: 'https://hooks.example.com/snowline',
          events: ['validator.failed', 'zone.dark'],
          description: 'on-call',
          secretEnv: 'PAGER_WEBHOOK_SECRET',
        },
        { name: 'audit', url: 'https://audit.example.com/v2', secretEnv: 'AUDIT_SECRET' },
        {
          name: 'chat',
          url: 'https://chat.example.com/in',
          secretEnv: 'CHAT_SECRET',
          secretVersion: 2,
        },
        { name: 'same', url: 'https://same.example.com/', secretEnv: 'SAME_SECRET' },
      ],
      current: [
        hook({
          name: 'audit',
          url: 'https://audit.example.com/v1',
          secretEnv: 'AUDIT_SECRET',
          changedOutsideAt: '2025-11-26T10:00:00.000Z',
        }),
        hook({ name: 'chat', url: 'https://chat.example.com/in', secretEnv: 'CHAT_SECRET' }),
        hook({ name: 'old', url: 'https://old.example.com/' }),
        hook({ name: 'same', url: 'https://same.example.com/', secretEnv: 'SAME_SECRET' }),
      ],
      unmanaged: [
        {
          id: '1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b',
          url: 'https://manual.example.com/hook',
          description: 'made in the console',
        },
      ],
    };
    const pools: PoolDiffInput = {
      desired: { fuji: { 'cn-hongkong-b': 2, 'cn-hongkong-c': 1 } },
      settings: [
        { network: 'fuji', zone: 'cn-hongkong-c', size: 1 },
        { network: 'fuji', zone: 'cn-hongkong-d', size: 3 },
      ],
      defaults: { fuji: 1 },
    };
    const webhooks = diffWebhooks(hooks);
    const standbyPools = diffStandbyPools(pools);
    const base = planBody({
      desired: [{ name: 'fuji-a', network: 'fuji' }],
      current: [cur({ name: 'fuji-a' })],
    });
    const plan: PlanBody = {
      ...base,
      changes: base.changes || configHasChanges(webhooks, standbyPools),
      webhooks: sent(webhooks),
      unmanagedWebhooks: hooks.unmanaged ?? [],
      standbyPools,
      configSummary: summarizeConfig(webhooks, standbyPools),
    };
    const text = renderPlan(plan, noColour, { file: 'snowline.yaml' });
    golden('plan-webhooks-pools.txt', text);
    expect(text).not.toMatch(/whsec_/);
  });

  it('should count webhooks and pools when nothing changes (golden)', () => {
    const webhooks = diffWebhooks({
      mode: 'apply',
      desired: [{ name: 'pager', url: 'https://hooks.example.com/', secretEnv: 'S' }],
      current: [
        {
          id: 'wh-1',
          name: 'pager',
          url: 'https://hooks.example.com/',
          events: [],
          enabled: true,
          description: '',
          secretEnv: 'S',
          secretVersion: 1,
        },
      ],
    });
    const standbyPools = diffStandbyPools({
      desired: { fuji: { 'cn-hongkong-b': 2 } },
      settings: [{ network: 'fuji', zone: 'cn-hongkong-b', size: 2 }],
      defaults: { fuji: 1 },
    });
    const base = planBody({
      desired: [{ name: 'fuji-a', network: 'fuji' }],
      current: [cur({ name: 'fuji-a' })],
    });
    const plan: PlanBody = {
      ...base,
      webhooks: sent(webhooks),
      unmanagedWebhooks: [],
      standbyPools,
      configSummary: summarizeConfig(webhooks, standbyPools),
    };
    golden('plan-webhooks-no-changes.txt', renderPlan(plan, noColour, { file: 'snowline.hcl' }));
  });

  it('should render apply results (golden)', () => {
    const plan: PlanBody = {
      ...planBody({}),
      status: 'failed',
      results: [
        { name: 'fuji-a', action: 'create', validatorId: 'v1', outcome: 'done', state: 'active' },
        { name: 'fuji-b', action: 'update', validatorId: 'v2', outcome: 'done' },
        {
          name: 'fuji-c',
          action: 'create',
          validatorId: 'v3',
          outcome: 'failed',
          detail: 'QuotaExceeded: the account reached its ECS instance quota',
        },
        { kind: 'webhook', name: 'pager', action: 'create', validatorId: null, outcome: 'done' },
        {
          kind: 'standby_pool',
          name: 'fuji/cn-hongkong-b',
          action: 'update',
          validatorId: null,
          outcome: 'done',
        },
      ],
    };
    golden('apply-results.txt', renderResults(plan, noColour));
  });

  it('should colour only when asked and allowed', () => {
    const plan = planBody({ desired: [{ name: 'a', network: 'fuji' }] });
    expect(renderPlan(plan, makeStyle(true))).toContain('\u001b[32m');
    expect(renderPlan(plan, noColour)).not.toContain('\u001b[');
    expect(colourWanted({}, true)).toBe(true);
    expect(colourWanted({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colourWanted({ NO_COLOR: '' }, true)).toBe(true);
    expect(colourWanted({}, false)).toBe(false);
    expect(colourWanted({ TERM: 'dumb' }, true)).toBe(false);
    expect(colourWanted({}, true, false)).toBe(false);
  });
});

describe(renderStaking.name, () => {
  type Block = NonNullable<StakingRow['staking']>;
  const FIGURES = {
    pchainTime: '2026-12-01T06:00:00.000Z',
    registered: true,
    txId: 'tx-1',
    startTime: '2026-12-01T00:00:00.000Z',
    endTime: '2026-12-01T12:00:00.000Z',
    weight: '1000000000',
    autoRenew: false,
    requirement: { value: 0.9, basis: 'helicon', heliconActivatesAt: null, reason: '90 %' },
    periodEnding: false,
    l1: null,
  } as const;
  const block = (
    status: Block['status'],
    uptime: number | null,
    leftSeconds: number | null,
    over: Partial<Block> = {},
  ): Block => ({
    status,
    observedAt: '2026-12-01T06:00:00.000Z',
    ageSeconds: 12,
    staleAfterSeconds: 180,
    ...FIGURES,
    uptime: uptime === null ? null : { value: uptime, source: 'peer', observers: 2 },
    budget:
      leftSeconds === null
        ? null
        : {
            totalSeconds: 4320,
            usedSeconds: 4320 - leftSeconds,
            leftSeconds,
            leftFraction: leftSeconds / 4320,
          },
    reward:
      status === 'ok' ? 'on_track' : status === 'at_risk' || status === 'lost' ? status : null,
    lastKnown: null,
    ...over,
  });
  const NOTHING = {
    ...Object.fromEntries(Object.keys(FIGURES).map((k) => [k, null])),
    uptime: null,
    budget: null,
    reward: null,
  } as unknown as Partial<Block>;
  const rows: StakingRow[] = [
    { name: 'fuji-ok', staking: block('ok', 0.9975, 4212) },
    {
      name: 'fuji-stale',
      staking: block('unknown', null, null, {
        ...NOTHING,
        ageSeconds: 725,
        lastKnown: { ...block('ok', 0.99, 4000), status: 'ok' } as Block['lastKnown'],
      }),
    },
    { name: 'fuji-lost', staking: block('lost', 0.8, -1800) },
    { name: 'fuji-risk', staking: block('at_risk', 0.93, 1737) },
    {
      name: 'fuji-own',
      staking: block('ok', 0.999, 4300, {
        uptime: { value: 0.999, source: 'self', observers: 1 },
      }),
    },
    {
      name: 'fuji-unlisted',
      staking: block('not_registered', null, null, { ...NOTHING, registered: false }),
    },
    {
      name: 'fuji-new',
      staking: block('unknown', null, null, { ...NOTHING, ageSeconds: null, observedAt: null }),
    },
    { name: 'fuji-old-api' },
  ];

  it('should list staking least budget left first, unknown apart with its age (golden)', () => {
    golden('status-staking.txt', renderStaking(rows, noColour));
  });

  it('should keep the columns when coloured', () => {
    const coloured = renderStaking(rows, makeStyle(true));
    expect(coloured).toContain('\u001b[31m');
    const plain = coloured.replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '');
    expect(plain).toBe(renderStaking(rows, noColour));
  });

  it('should print nothing without validators', () => {
    expect(renderStaking([], noColour)).toBe('');
  });

  const SUBNET = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
  type L1 = NonNullable<Block['l1']>;
  const fee = (over: Partial<L1>): L1 => ({
    subnetId: SUBNET,
    validationId: 'val-1',
    balance: '2500000000',
    feePrice: '512',
    feeSource: 'node',
    daysLeft: 56.51,
    active: true,
    low: false,
    lowBelowDays: 14,
    ...over,
  });
  const l1Block = (l1: L1): Block =>
    block('registered', null, null, {
      ...NOTHING,
      pchainTime: FIGURES.pchainTime,
      registered: true,
      l1,
    });
  const l1Rows: StakingRow[] = [
    { name: 'fuji-ok', staking: block('ok', 0.9975, 4212) },
    { name: 'l1-healthy', subnetId: SUBNET, staking: l1Block(fee({})) },
    {
      name: 'l1-low',
      subnetId: SUBNET,
      // 13.99 days of fee at 512 nAVAX/s: under 14, and never shown as 14.
      staking: l1Block(fee({ balance: '618872832', daysLeft: 13.99, low: true })),
    },
    {
      name: 'l1-spent',
      subnetId: SUBNET,
      staking: l1Block(fee({ balance: '0', daysLeft: 0, active: false, low: true })),
    },
    {
      name: 'l1-free',
      subnetId: SUBNET,
      staking: l1Block(fee({ balance: '5000000000', feePrice: '0', daysLeft: null })),
    },
    {
      name: 'l1-stale',
      subnetId: SUBNET,
      staking: block('unknown', null, null, {
        ...NOTHING,
        ageSeconds: 725,
        lastKnown: {
          ...l1Block(fee({ balance: '618872832', daysLeft: 13.99, low: true })),
          status: 'registered',
        } as Block['lastKnown'],
      }),
    },
    {
      name: 'l1-new',
      subnetId: SUBNET,
      staking: block('unknown', null, null, { ...NOTHING, ageSeconds: null, observedAt: null }),
    },
  ];

  it("should show an L1 validator's fee balance, LOW, inactive, and unknown never as 0 (golden)", () => {
    const text = renderStaking(l1Rows, noColour);
    golden('status-staking-l1.txt', text);
    const line = (name: string) => text.split('\n').find((l) => l.includes(`${name} `))!;
    expect(line('l1-low')).toContain('0.6188 AVAX, 13.9 d LOW');
    expect(line('l1-stale')).toContain('unknown (last 12 min ago)');
    expect(line('l1-stale')).not.toMatch(/AVAX|\b0 d/);
    expect(line('fuji-ok')).toMatch(/ - +12 s ago$/);
  });

  it('should add no L1 column to a primary-network fleet', () => {
    expect(renderStaking(rows, noColour)).not.toContain('L1 BALANCE');
  });

  it('should keep the L1 column aligned when coloured, LOW in yellow', () => {
    const coloured = renderStaking(l1Rows, makeStyle(true));
    expect(coloured).toContain('\u001b[33m0.6188 AVAX, 13.9 d LOW');
    const plain = coloured.replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '');
    expect(plain).toBe(renderStaking(l1Rows, noColour));
  });

  it.each([
    ['0', '0 AVAX'],
    ['1', '< 0.0001 AVAX'],
    ['99999', '< 0.0001 AVAX'],
    ['100000', '0.0001 AVAX'],
    ['619315200', '0.6193 AVAX'],
    ['999999999', '0.9999 AVAX'],
    ['2500000000', '2.5 AVAX'],
    ['1000000000000', '1000 AVAX'],
    // Past 2^53: a float would print …012.3457 (rounded up) or lose the last digits.
    ['123456789012345678901', '123456789012.3456 AVAX'],
  ])('should write %s nAVAX as %s', (n, text) => expect(avax(n)).toBe(text));

  it.each([
    [13.99, '13.9 d'],
    [13.9, '13.9 d'],
    [14, '14 d'],
    [0.09, '0 d'],
    [0, '0 d'],
    [365.25, '365.2 d'],
  ])('should write %s days of fee as %s, rounded down', (d, text) => expect(feeDays(d)).toBe(text));

  it.each([
    [50, '50 s'],
    [2100, '35 min'],
    [17280, '4.8 h'],
    [-1800, '-30 min'],
    [31_536_000, '365 d'],
  ])('should write %i s as %s', (secs, text) => expect(human(secs)).toBe(text));
});

describe(run.name, () => {
  const io = (env: NodeJS.ProcessEnv = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const fake: Io = {
      out: (s) => void out.push(s),
      err: (s) => void err.push(s),
      env,
      stdoutIsTTY: false,
      stdinIsTTY: false,
      readLine: () => Promise.resolve(''),
    };
    return { fake, out, err };
  };
  const dir = mkdtempSync(join(tmpdir(), 'snowline-cli-'));
  const env = { SNOWLINE_URL: 'http://127.0.0.1:9', SNOWLINE_API_KEY: 'sl_key_xxxxxxxxxxxxxxxx' };

  it('should name file:line:column and exit 1 for a bad file, before any network call', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'validators:\n  a:\n    netwrk: fuji\n');
    const { fake, err } = io(env);
    expect(await run(['plan', '-f', file], fake)).toBe(1);
    expect(err.join('')).toContain(
      `${file}:3:5: unknown field "netwrk" in validators.a; did you mean "network"?`,
    );
  });

  it('should name file:line:column of a bad snowline.hcl and exit 1, before any network call', async () => {
    const file = join(dir, 'bad.hcl');
    writeFileSync(file, 'validator "a" {\n  network = "fuji"\n  lables = {}\n}\n');
    const { fake, err } = io(env);
    expect(await run(['plan', '-f', file], fake)).toBe(1);
    expect(err.join('')).toContain(
      `${file}:3:3: unknown field "lables" in validators.a; did you mean "labels"?`,
    );
    writeFileSync(file, 'validator "a" {\n  network = "fuji\n}\n');
    const syntax = io(env);
    expect(await run(['plan', '-f', file], syntax.fake)).toBe(1);
    expect(syntax.err.join('')).toContain(`${file}:2:13: HCL syntax error: unterminated string`);
  });

  it('should read each needed webhook secret from its variable, and name the variable when unset', () => {
    const create = diffWebhooks({
      mode: 'apply',
      desired: [
        { name: 'pager', url: 'https://a.example.com/', secretEnv: 'PAGER_SECRET' },
        { name: 'same', url: 'https://b.example.com/', secretEnv: 'SAME_SECRET' },
      ],
      current: [
        {
          id: 'wh-same',
          name: 'same',
          url: 'https://b.example.com/',
          events: [],
          enabled: true,
          description: '',
          secretEnv: 'SAME_SECRET',
          secretVersion: 1,
        },
      ],
    });
    const plan: PlanBody = { ...planBody({}), webhooks: sent(create) };
    const good = 'x'.repeat(40);
    expect(webhookSecrets(plan, { PAGER_SECRET: good })).toEqual({ pager: good });
    expect(() => webhookSecrets(plan, {})).toThrow(
      /webhooks\.pager: this apply creates the webhook and needs its signing secret in \$PAGER_SECRET, which is not set/,
    );
    const short = 'tooshort-secret';
    let message = '';
    try {
      webhookSecrets(plan, { PAGER_SECRET: short });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/\$PAGER_SECRET must hold 32–256 printable characters/);
    expect(message).not.toContain(short);
  });

  it('should say how to log in when there are no credentials', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'validators: {}\n');
    const { fake, err } = io({ HOME: dir });
    expect(await run(['plan', '-f', file], fake)).toBe(1);
    expect(err.join('')).toMatch(/Not logged in: run `snowline login/);
    // A file without `version:` is read as version 1, with a warning saying what to add.
    expect(err.join('')).toContain(
      `Warning: ${file}: no \`version:\` in the file; reading it as version 1 — add \`version: 1\` at the top`,
    );
  });

  it('should name both file names when neither is here', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'snowline-nofile-'));
    const cwd = process.cwd();
    process.chdir(empty);
    try {
      const { fake, err } = io(env);
      expect(await run(['plan'], fake)).toBe(1);
      expect(err.join('')).toMatch(
        /No snowline\.yaml or snowline\.hcl in .*; .* or name it with -f/,
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('should give a server-side error about a field its file:line:column', () => {
    for (const [name, text] of [
      ['f.yaml', 'version: 1\nvalidators:\n  a:\n    network: fuji\n    zones: [cn-x]\n'],
      ['f.hcl', 'version = 1\nvalidator "a" {\n  network = "fuji"\n  zones = ["cn-x"]\n}\n'],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const f = loadFile(file);
      const where = name.endsWith('yaml') ? `${file}:5:12` : `${file}:4:11`;
      expect(whereInFile(f, 'validators.a.zones: cn-x not configured; use any of …')).toBe(where);
      expect(whereInFile(f, 'validators.0.zones must be a list')).toBe(where);
      expect(whereInFile(f, 'validators.b.zones: no such validator')).toBeNull();
      expect(whereInFile(f, 'The project is locked by …')).toBeNull();
    }
  });

  it('should name the server it cannot reach and exit 1', async () => {
    const file = join(dir, 'ok.yaml');
    const { fake, err } = io(env);
    expect(await run(['apply', '-f', file], fake)).toBe(1);
    expect(err.join('')).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it('should print the JSON Schema', async () => {
    const { fake, out } = io();
    expect(await run(['schema'], fake)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ title: 'snowline.yaml' });
  });

  it('should exit 1 with usage for an unknown command or flag', async () => {
    expect(await run(['plna'], io().fake)).toBe(1);
    expect(await run(['plan', '--bogus'], io().fake)).toBe(1);
  });
});
