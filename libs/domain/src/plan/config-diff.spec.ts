import {
  configHasChanges,
  describeConfigDrift,
  diffStandbyPools,
  diffWebhooks,
  poolSettingsOf,
  summarizeConfig,
  type CurrentWebhook,
  type PoolAction,
  type PoolDiffInput,
  type WebhookAction,
  type WebhookDiffInput,
} from './config-diff';
import type { DesiredWebhook } from './spec';

const URL_A = 'https://hooks.example.com/a';
const URL_B = 'https://hooks.example.com/b';

const cur = (over: Partial<CurrentWebhook> = {}): CurrentWebhook => ({
  id: `wh-${over.name ?? 'pager'}`,
  name: 'pager',
  url: URL_A,
  events: [],
  enabled: true,
  description: '',
  secretEnv: 'PAGER_SECRET',
  secretVersion: 1,
  changedOutsideAt: null,
  ...over,
});
const want = (over: Partial<DesiredWebhook> = {}): DesiredWebhook => ({
  name: 'pager',
  url: URL_A,
  secretEnv: 'PAGER_SECRET',
  ...over,
});
const runHooks = (over: Partial<WebhookDiffInput>): WebhookAction[] =>
  diffWebhooks({ mode: 'apply', desired: [], current: [], ...over });

type HookRow = [
  string,
  Partial<WebhookDiffInput>,
  {
    action: WebhookAction['action'];
    reason: RegExp;
    fields?: string[];
    needsSecret?: boolean;
    drift?: RegExp | null;
    warning?: RegExp;
  },
];

describe(diffWebhooks.name, () => {
  const table: HookRow[] = [
    [
      'a new name is created and needs its secret',
      { desired: [want()] },
      { action: 'create', reason: /not in the project yet/, needsSecret: true, drift: null },
    ],
    [
      'an identical webhook is a no-op',
      { desired: [want()], current: [cur()] },
      { action: 'no-op', reason: /matches snowline\.yaml/, needsSecret: false },
    ],
    [
      'absent optional fields mean the API defaults (every event, enabled, no description)',
      {
        desired: [want({ events: undefined, enabled: undefined, description: undefined })],
        current: [cur({ events: [], enabled: true, description: '' })],
      },
      { action: 'no-op', reason: /matches/ },
    ],
    [
      'a url change is an update in place, without a new secret',
      { desired: [want({ url: URL_B })], current: [cur()] },
      { action: 'update', reason: /update in place: url$/, fields: ['url'], needsSecret: false },
    ],
    [
      'events compare as sets',
      {
        desired: [want({ events: ['zone.dark', 'validator.failed'] })],
        current: [cur({ events: ['validator.failed', 'zone.dark'] })],
      },
      { action: 'no-op', reason: /matches/ },
    ],
    [
      'an events filter, enabled and description change together',
      {
        desired: [want({ events: ['validator.failed'], enabled: false, description: 'pager' })],
        current: [cur()],
      },
      {
        action: 'update',
        reason: /update in place: events, enabled, description/,
        fields: ['events', 'enabled', 'description'],
      },
    ],
    [
      'a raised secret_version rotates the secret from secret_env',
      { desired: [want({ secretVersion: 2, secretEnv: 'NEW_SECRET' })], current: [cur()] },
      {
        action: 'update',
        reason: /secret_version \(the signing secret rotates to \$NEW_SECRET\)/,
        fields: ['secretVersion'],
        needsSecret: true,
      },
    ],
    [
      'a new secret_env without a new secret_version keeps the secret and says so',
      { desired: [want({ secretEnv: 'OTHER' })], current: [cur()] },
      {
        action: 'no-op',
        reason: /matches/,
        warning: /secret_env changed \(PAGER_SECRET → OTHER\) but secret_version did not/,
      },
    ],
    [
      'a managed webhook no longer in the file is deleted',
      { current: [cur()] },
      { action: 'delete', reason: /not in snowline\.yaml/ },
    ],
    [
      'a change made in the console shows as drift',
      {
        desired: [want()],
        current: [cur({ url: URL_B, changedOutsideAt: '2025-11-26T10:00:00.000Z' })],
      },
      {
        action: 'update',
        reason: /url/,
        drift: /changed outside snowline\.yaml at 2025-11-26T10:00:00\.000Z/,
      },
    ],
    [
      'a managed webhook deleted in the console is created again, as drift',
      { desired: [want()], deletedOutside: { pager: '2025-11-26T11:00:00.000Z' } },
      {
        action: 'create',
        reason: /deleted outside snowline\.yaml at 2025-11-26T11:00:00\.000Z; create it again/,
        drift: /deleted outside/,
      },
    ],
    [
      'a webhook made outside the file with the same url is left alone, with a warning',
      {
        desired: [want()],
        unmanaged: [{ id: 'wh-manual', url: URL_A, description: '' }],
      },
      {
        action: 'create',
        reason: /not in the project yet/,
        warning: /webhook wh-manual \(made outside snowline\.yaml\) already posts to/,
      },
    ],
    [
      'destroy deletes the webhooks the file names',
      { mode: 'destroy', desired: [want()], current: [cur()] },
      { action: 'delete', reason: /^destroy$/ },
    ],
  ];

  it.each(table)('should plan: %s', (_, input, expected) => {
    const [a] = runHooks(input);
    expect(a).toBeDefined();
    expect(a!.action).toBe(expected.action);
    expect(a!.reason).toMatch(expected.reason);
    if (expected.fields) expect(a!.changes.map((c) => c.field)).toEqual(expected.fields);
    if (expected.needsSecret !== undefined) expect(a!.needsSecret).toBe(expected.needsSecret);
    if (expected.drift === null) expect(a!.drift).toBeNull();
    else if (expected.drift) expect(a!.drift).toMatch(expected.drift);
    if (expected.warning) expect(a!.warnings.join('\n')).toMatch(expected.warning);
    else expect(a!.warnings).toEqual([]);
  });

  it('should never touch a webhook the file does not name, and order by name', () => {
    const actions = runHooks({
      desired: [want({ name: 'zz' }), want({ name: 'aa' })],
      current: [cur({ name: 'mm' })],
      unmanaged: [{ id: 'wh-x', url: 'https://elsewhere.example.com/', description: '' }],
    });
    expect(actions.map((a) => `${a.action} ${a.name}`)).toEqual([
      'create aa',
      'delete mm',
      'create zz',
    ]);
    expect(JSON.stringify(actions)).not.toContain('wh-x');
  });

  it('should carry no secret, only the variable that holds it', () => {
    const [a] = runHooks({ desired: [want({ secretVersion: 3 })], current: [cur()] });
    expect(a!.desired).toEqual({
      name: 'pager',
      url: URL_A,
      secretEnv: 'PAGER_SECRET',
      secretVersion: 3,
    });
  });
});

const runPools = (over: Partial<PoolDiffInput>): PoolAction[] =>
  diffStandbyPools({ desired: {}, settings: [], defaults: { fuji: 1 }, ...over });

type PoolRow = [
  string,
  Partial<PoolDiffInput>,
  Pick<PoolAction, 'action' | 'before' | 'after' | 'beforeSource' | 'afterSource'> & {
    reason: RegExp;
  },
];

describe(diffStandbyPools.name, () => {
  const table: PoolRow[] = [
    [
      'a zone grown above the env default',
      { desired: { fuji: { 'z-b': 2 } } },
      {
        action: 'update',
        before: 1,
        after: 2,
        beforeSource: 'default',
        afterSource: 'setting',
        reason: /grow from 1 standby \(STANDBY_POOL default\) to 2 standbys/,
      },
    ],
    [
      'a stored size shrunk (surplus idle standbys are deleted)',
      { desired: { fuji: { 'z-b': 0 } }, settings: [{ network: 'fuji', zone: 'z-b', size: 2 }] },
      {
        action: 'update',
        before: 2,
        after: 0,
        beforeSource: 'setting',
        afterSource: 'setting',
        reason: /shrink from 2 standbys to 0 standbys; surplus idle standbys are deleted/,
      },
    ],
    [
      'a stored size equal to the file is a no-op',
      { desired: { fuji: { 'z-b': 2 } }, settings: [{ network: 'fuji', zone: 'z-b', size: 2 }] },
      {
        action: 'no-op',
        before: 2,
        after: 2,
        beforeSource: 'setting',
        afterSource: 'setting',
        reason: /matches/,
      },
    ],
    [
      'a size equal to the default is still stored (STANDBY_POOL stops moving it)',
      { desired: { fuji: { 'z-b': 1 } } },
      {
        action: 'update',
        before: 1,
        after: 1,
        beforeSource: 'default',
        afterSource: 'setting',
        reason: /keep 1 standby as a setting/,
      },
    ],
    [
      'a stored zone the file leaves out goes back to the default',
      { desired: { fuji: {} }, settings: [{ network: 'fuji', zone: 'z-c', size: 3 }] },
      {
        action: 'update',
        before: 3,
        after: 1,
        beforeSource: 'setting',
        afterSource: 'default',
        reason:
          /not in snowline\.yaml: back to the STANDBY_POOL default \(3 standbys → 1 standby\)/,
      },
    ],
    [
      'a network without a default starts from 0',
      { desired: { mainnet: { 'z-b': 1 } } },
      {
        action: 'update',
        before: 0,
        after: 1,
        beforeSource: 'default',
        afterSource: 'setting',
        reason: /grow from 0 standbys/,
      },
    ],
  ];

  it.each(table)('should plan: %s', (_, input, expected) => {
    const actions = runPools(input);
    expect(actions).toHaveLength(1);
    const { reason, ...rest } = expected;
    expect(actions[0]).toMatchObject(rest);
    expect(actions[0]!.reason).toMatch(reason);
  });

  it('should list every pair the file or the setting names, ordered', () => {
    const actions = runPools({
      desired: { fuji: { 'z-c': 1, 'z-b': 2 } },
      settings: [{ network: 'mainnet', zone: 'z-b', size: 1 }],
    });
    expect(actions.map((a) => `${a.action} ${a.network}/${a.zone}`)).toEqual([
      'update fuji/z-b',
      'update fuji/z-c',
      'update mainnet/z-b',
    ]);
    expect(poolSettingsOf({ fuji: { 'z-c': 1, 'z-b': 2 } })).toEqual([
      { network: 'fuji', zone: 'z-b', size: 2 },
      { network: 'fuji', zone: 'z-c', size: 1 },
    ]);
  });
});

describe(describeConfigDrift.name, () => {
  it('should say which webhook or pool changed between plan and apply', () => {
    const planned = {
      webhooks: runHooks({ desired: [want({ url: URL_B })], current: [cur()] }),
      pools: runPools({ desired: { fuji: { 'z-b': 2 } } }),
    };
    expect(describeConfigDrift(planned, planned)).toEqual([]);
    const now = {
      webhooks: runHooks({
        desired: [want({ url: URL_B })],
        current: [cur({ url: 'https://x.example.com/' })],
      }),
      pools: runPools({
        desired: { fuji: { 'z-b': 2 } },
        settings: [{ network: 'fuji', zone: 'z-b', size: 3 }],
      }),
    };
    expect(describeConfigDrift(planned, now)).toEqual([
      'standby pool fuji/z-b: now 3 (setting), planned from 1 (default)',
      expect.stringMatching(/^webhook pager: changed since the plan \(now: update/),
    ]);
  });
});

describe(summarizeConfig.name, () => {
  it('should count webhook and pool actions, and see changes in either', () => {
    const hooks = runHooks({
      desired: [want(), want({ name: 'b' })],
      current: [cur({ name: 'b' })],
    });
    const pools = runPools({ desired: { fuji: { 'z-b': 2 } } });
    expect(summarizeConfig(hooks, pools)).toEqual({
      webhooks: { create: 1, update: 0, delete: 0, noop: 1 },
      standbyPools: { update: 1, noop: 0 },
    });
    expect(configHasChanges(hooks, [])).toBe(true);
    expect(
      configHasChanges(
        [hooks[0]!].filter((a) => a.action === 'no-op'),
        [],
      ),
    ).toBe(false);
  });
});
