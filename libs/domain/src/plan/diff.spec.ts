import {
  describeStateChanges,
  diffValidators,
  hasChanges,
  summarize,
  unmanagedValidators,
  type CurrentValidator,
  type DiffInput,
  type PlanAction,
} from './diff';
import type { DesiredValidator } from './spec';

const TYPE = 'ecs.g7.2xlarge';
const NODE_A = 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg';
const NODE_B = 'NodeID-MFrZFVCXPv5iCn6M9K6XduxGTYp891xXZ';

const cur = (over: Partial<CurrentValidator> = {}): CurrentValidator => ({
  id: `id-${over.name ?? 'a'}`,
  name: 'a',
  network: 'fuji',
  instanceType: TYPE,
  zones: [],
  labels: {},
  protected: false,
  state: 'active',
  stateReason: null,
  nodeId: NODE_A,
  identitySource: 'generated',
  changedOutsideAt: null,
  ...over,
});
const want = (over: Partial<DesiredValidator> = {}): DesiredValidator => ({
  name: 'a',
  network: 'fuji',
  ...over,
});
const run = (over: Partial<DiffInput>): PlanAction[] =>
  diffValidators({ mode: 'apply', desired: [], current: [], defaultInstanceType: TYPE, ...over });

type Row = [
  string,
  Partial<DiffInput>,
  Pick<PlanAction, 'action'> & { reason: RegExp; refused?: RegExp | null; drift?: RegExp | null },
];

describe(diffValidators.name, () => {
  const table: Row[] = [
    [
      'a new name is created',
      { desired: [want()] },
      { action: 'create', reason: /not in the project yet/ },
    ],
    [
      'an identical validator is a no-op',
      { desired: [want()], current: [cur()] },
      { action: 'no-op', reason: /matches/ },
    ],
    [
      'no instance type in the file means the default type',
      { desired: [want({ instanceType: undefined })], current: [cur({ instanceType: TYPE })] },
      { action: 'no-op', reason: /matches/ },
    ],
    [
      'a label change is an update in place',
      {
        desired: [want({ labels: { team: 'ops' } })],
        current: [cur({ labels: { team: 'core' } })],
      },
      { action: 'update', reason: /update in place: labels/ },
    ],
    [
      'zones compare as sets',
      { desired: [want({ zones: ['z-c', 'z-b'] })], current: [cur({ zones: ['z-b', 'z-c'] })] },
      { action: 'no-op', reason: /matches/ },
    ],
    [
      'a zone policy change is an update in place',
      { desired: [want({ zones: ['z-b'] })], current: [cur()] },
      { action: 'update', reason: /zones/ },
    ],
    [
      'prevent_destroy toggles protection in place',
      { desired: [want({ preventDestroy: true })], current: [cur()] },
      { action: 'update', reason: /prevent_destroy/ },
    ],
    [
      'a network change replaces',
      { desired: [want({ network: 'mainnet' })], current: [cur()] },
      { action: 'replace', reason: /network cannot change in place \(fuji → mainnet\)/ },
    ],
    [
      'another L1 replaces',
      { desired: [want({ subnetId: 'L1y' })], current: [cur({ subnetId: 'L1x' })] },
      { action: 'replace', reason: /subnet_id cannot change in place \(L1x → L1y\)/ },
    ],
    [
      'an L1 for a primary-network validator replaces',
      { desired: [want({ subnetId: 'L1y' })], current: [cur()] },
      {
        action: 'replace',
        reason: /subnet_id cannot change in place \(primary network → L1y\)/,
      },
    ],
    [
      'dropping the L1 replaces',
      { desired: [want()], current: [cur({ subnetId: 'L1x' })] },
      { action: 'replace', reason: /subnet_id cannot change in place \(L1x → primary network\)/ },
    ],
    [
      'the same L1 is a no-op',
      { desired: [want({ subnetId: 'L1x' })], current: [cur({ subnetId: 'L1x' })] },
      { action: 'no-op', reason: /matches/ },
    ],
    [
      'an instance type change replaces',
      { desired: [want({ instanceType: 'ecs.g7.4xlarge' })], current: [cur()] },
      { action: 'replace', reason: /instance type cannot change in place/ },
    ],
    [
      'a different imported identity replaces',
      { desired: [want({ identity: { nodeId: NODE_B } })], current: [cur()] },
      { action: 'replace', reason: /identity cannot change in place/ },
    ],
    [
      'the same imported identity is a no-op',
      {
        desired: [want({ identity: { nodeId: NODE_A } })],
        current: [cur({ identitySource: 'imported' })],
      },
      { action: 'no-op', reason: /matches/ },
    ],
    [
      'a protected validator with prevent_destroy refuses replacement',
      {
        desired: [want({ network: 'mainnet', preventDestroy: true })],
        current: [cur({ protected: true })],
      },
      { action: 'replace', reason: /network/, refused: /prevent_destroy: true/ },
    ],
    [
      'a validator missing from the file is deleted',
      { desired: [], current: [cur()] },
      { action: 'delete', reason: /not in snowline.yaml/ },
    ],
    [
      'a protected validator missing from the file is refused',
      { desired: [], current: [cur({ protected: true })] },
      { action: 'delete', reason: /not in snowline.yaml/, refused: /protected/ },
    ],
    [
      'a retiring validator missing from the file needs nothing',
      { desired: [], current: [cur({ state: 'retiring' })] },
      { action: 'no-op', reason: /already retiring/ },
    ],
    [
      'a failed validator (instance lost) is replaced, with the cause',
      {
        desired: [want()],
        current: [cur({ state: 'failed', stateReason: 'InstanceLost: i-123 is gone' })],
      },
      {
        action: 'replace',
        reason: /it failed \(InstanceLost: i-123 is gone\)/,
        drift: /failed: InstanceLost/,
      },
    ],
    [
      'a validator failing over is left alone, with the cause shown',
      {
        desired: [want()],
        current: [cur({ state: 'failing_over', stateReason: 'zone cn-hongkong-c dark' })],
      },
      { action: 'no-op', reason: /matches/, drift: /failing over: zone cn-hongkong-c dark/ },
    ],
    [
      'a console edit shows as drift with its time',
      {
        desired: [want()],
        current: [cur({ labels: { x: 'y' }, changedOutsideAt: '2025-11-26T10:00:00.000Z' })],
      },
      {
        action: 'update',
        reason: /labels/,
        drift: /changed outside snowline.yaml at 2025-11-26T10:00/,
      },
    ],
    [
      'a validator retired in the console is created again, with the cause',
      { desired: [want()], retiredOutside: { a: '2025-11-26T10:00:00.000Z' } },
      { action: 'create', reason: /retired outside snowline.yaml/, drift: /retired outside/ },
    ],
    [
      'a name still retiring cannot be created yet',
      { desired: [want()], current: [cur({ state: 'retiring' })] },
      { action: 'create', reason: /being retired/, refused: /still retiring/ },
    ],
    [
      'destroy deletes the file’s validators',
      { mode: 'destroy', desired: [want()], current: [cur()] },
      { action: 'delete', reason: /destroy/ },
    ],
    [
      'destroy refuses prevent_destroy',
      {
        mode: 'destroy',
        desired: [want({ preventDestroy: true })],
        current: [cur({ protected: true })],
      },
      { action: 'delete', reason: /destroy/, refused: /prevent_destroy: true in snowline.yaml/ },
    ],
    [
      'destroy after prevent_destroy was removed drops the protection first',
      { mode: 'destroy', desired: [want()], current: [cur({ protected: true })] },
      { action: 'delete', reason: /protection is dropped first/, refused: null },
    ],
  ];

  it.each(table)('should plan: %s', (_, input, expected) => {
    const actions = run(input);
    expect(actions).toHaveLength(1);
    const [a] = actions as [PlanAction];
    expect(a.action).toBe(expected.action);
    expect(a.reason).toMatch(expected.reason);
    if (expected.refused !== undefined) {
      if (expected.refused === null) expect(a.refused).toBeNull();
      else expect(a.refused).toMatch(expected.refused);
    } else expect(a.refused).toBeNull();
    if (expected.drift !== undefined) {
      if (expected.drift === null) expect(a.drift).toBeNull();
      else expect(a.drift).toMatch(expected.drift);
    }
  });

  it('should leave validators not in the file alone when destroying', () => {
    expect(run({ mode: 'destroy', desired: [], current: [cur()] })).toEqual([]);
  });

  it('should warn that a replaced generated identity gets a new NodeID', () => {
    const [a] = run({ desired: [want({ network: 'mainnet' })], current: [cur()] });
    expect(a!.warnings.join()).toMatch(/new NodeID/);
  });

  it('should prefer the live validator of a name over a failed one', () => {
    const actions = run({
      desired: [want()],
      current: [cur({ id: 'old', state: 'failed' }), cur({ id: 'new', state: 'active' })],
    });
    expect(actions.map((a) => [a.action, a.validatorId])).toEqual([['no-op', 'new']]);
  });

  it('should order actions by name and count them', () => {
    const actions = run({
      desired: [want({ name: 'c' }), want({ name: 'b', labels: { k: 'v' } })],
      current: [cur({ name: 'b' }), cur({ name: 'a' })],
    });
    expect(actions.map((a) => `${a.action}:${a.name}`)).toEqual([
      'delete:a',
      'update:b',
      'create:c',
    ]);
    expect(summarize(actions)).toEqual({
      create: 1,
      update: 1,
      replace: 0,
      delete: 1,
      noop: 0,
      refused: 0,
      adopt: 0,
    });
    expect(hasChanges(actions)).toBe(true);
    expect(hasChanges(run({ desired: [want()], current: [cur()] }))).toBe(false);
  });

  it('should never carry key material: only NodeIDs', () => {
    const text = JSON.stringify(
      run({ desired: [want({ identity: { nodeId: NODE_B } })], current: [cur()] }),
    );
    expect(text).not.toMatch(/PRIVATE KEY|stakerKey|signerKey/);
  });
});

describe(describeStateChanges.name, () => {
  it('should name what changed since a plan was computed', () => {
    const before = [cur({ name: 'a' }), cur({ name: 'b' }), cur({ name: 'c' })];
    const after = [
      cur({ name: 'a', labels: { team: 'ops' } }),
      cur({ name: 'b', state: 'retiring' }),
      cur({ name: 'd' }),
    ];
    expect(describeStateChanges(before, after)).toEqual([
      'a: labels {} → team=ops',
      'b: deleted',
      'c: retired',
      'd: created',
    ]);
  });

  describe('ownership: the file owns what it made', () => {
    const rest = cur({ name: 'rest', id: 'id-rest', managed: false });
    type OwnRow = [string, Partial<DiffInput>, string[], string[]];
    const rows: OwnRow[] = [
      ['leave an unmanaged validator the file does not name alone', {}, [], ['rest']],
      ['retire it with prune', { prune: true }, ['delete:rest'], []],
      ['never prune in destroy mode', { mode: 'destroy', prune: true }, [], ['rest']],
      [
        'offer to adopt a named one, and never creates a second',
        { desired: [want({ name: 'rest' })] },
        ['no-op:rest'],
        ['rest'],
      ],
      [
        'adopt a named one when asked',
        { desired: [want({ name: 'rest' })], adopt: ['rest'] },
        ['adopt:rest'],
        [],
      ],
      [
        'adopt and update in place',
        { desired: [want({ name: 'rest', labels: { k: 'v' } })], adopt: ['rest'] },
        ['adopt:update:rest'],
        [],
      ],
      [
        'leave a named one alone in destroy mode',
        { mode: 'destroy', desired: [want({ name: 'rest' })] },
        [],
        ['rest'],
      ],
    ];
    it.each(rows)('should %s', (_, over, actions, unmanaged) => {
      const out = run({ current: [rest], ...over });
      expect(
        out.map((a) =>
          [a.adopt ? 'adopt' : '', a.adopt && a.action === 'no-op' ? '' : a.action, a.name]
            .filter(Boolean)
            .join(':'),
        ),
      ).toEqual(actions);
      expect(out.every((a) => a.action !== 'create')).toBe(true);
      expect(unmanagedValidators([rest], out).map((u) => u.name)).toEqual(unmanaged);
    });

    it('should count an adoption as a change', () => {
      const out = run({ current: [rest], desired: [want({ name: 'rest' })], adopt: ['rest'] });
      expect(hasChanges(out)).toBe(true);
      expect(summarize(out).adopt).toBe(1);
      expect(hasChanges(run({ current: [rest], desired: [want({ name: 'rest' })] }))).toBe(false);
    });

    it('should refuse to adopt one whose network differs, and not replace it', () => {
      const [a] = run({
        current: [rest],
        desired: [want({ name: 'rest', network: 'mainnet' })],
        adopt: ['rest'],
      });
      expect(a).toMatchObject({ action: 'no-op', adopt: false, unmanaged: true });
      expect(a!.refused).toMatch(/cannot be adopted: its network differs/);
    });

    it('should refuse to prune a protected one', () => {
      const [a] = run({ current: [{ ...rest, protected: true }], prune: true });
      expect(a).toMatchObject({ action: 'delete', unmanaged: true });
      expect(a!.refused).toMatch(/protected/);
    });

    it('should still retire a managed validator the file no longer names', () => {
      const out = run({ current: [rest, cur({ name: 'mine', managed: true })] });
      expect(out.map((a) => `${a.action}:${a.name}`)).toEqual(['delete:mine']);
    });
  });
});

describe('diffValidators: versions and deadlines', () => {
  const NOW = Date.parse('2027-01-01T00:00:00Z');
  const DAY = 86_400_000;
  const versions = {
    calendar: [
      {
        network: 'fuji' as const,
        name: 'Zeta',
        activatesAt: NOW + 10 * DAY,
        minVersion: '1.16.0',
        source: 'test',
      },
    ],
    defaultVersion: { fuji: '1.16.0', mainnet: '1.16.0', local: '1.16.0' },
    now: NOW,
    windowMs: 30 * DAY,
  };
  const v = (over: Partial<CurrentValidator> = {}) =>
    cur({ version: '1.16.0', upgradePolicy: 'manual', runningVersion: '1.16.0', ...over });

  it.each<[string, Partial<DiffInput>, string, RegExp | null, RegExp[]]>([
    [
      'a file that names no version keeps the validator’s',
      { desired: [want()], current: [v({ version: '1.15.3', runningVersion: '1.15.3' })] },
      'no-op',
      /matches/,
      [/avalanchego 1\.15\.3 will not survive Zeta: .*the spec names 1\.15\.3/],
    ],
    [
      'a new version is an update in place, rolled via a standby',
      {
        desired: [want({ version: '1.16.0' })],
        current: [v({ version: '1.15.3', runningVersion: '1.15.3' })],
      },
      'update',
      /^update in place: avalanchego 1\.15\.3 → 1\.16\.0 \(rolling, via standby\)$/,
      // What runs is 1.15.3 until the rollout has moved it: the deadline is still a warning.
      [/avalanchego 1\.15\.3 will not survive Zeta: .*its host runs 1\.15\.3/],
    ],
    [
      'the upgrade policy is an update in place',
      { desired: [want({ upgrade: 'before-deadline' })], current: [v()] },
      'update',
      /^update in place: upgrade$/,
      [],
    ],
    [
      'a new validator without a version gets the default, which survives',
      { desired: [want()] },
      'create',
      null,
      [],
    ],
    [
      'a new validator on an old version is warned',
      { desired: [want({ version: '1.15.3' })] },
      'create',
      null,
      [/avalanchego 1\.15\.3 will not survive Zeta/],
    ],
    [
      'an unknown running version is not warned about',
      { desired: [want()], current: [v({ runningVersion: null })] },
      'no-op',
      null,
      [],
    ],
    [
      'a snapshot from before versions changes nothing',
      { desired: [want({ version: '1.16.0' })], current: [cur()] },
      'no-op',
      null,
      [],
    ],
  ])('%s', (_label, input, action, reason, warnings) => {
    const [a] = run({ ...input, versions });
    expect(a!.action).toBe(action);
    if (reason) expect(a!.reason).toMatch(reason);
    expect(a!.warnings).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(a!.warnings[i]).toMatch(w));
  });

  it('should not warn beyond the window, nor in a destroy plan', () => {
    const old = { desired: [want({ version: '1.15.3' })] };
    expect(run({ ...old, versions: { ...versions, windowMs: 5 * DAY } })[0]!.warnings).toEqual([]);
    expect(
      run({ mode: 'destroy', desired: [want()], current: [v({ version: '1.15.3' })], versions }),
    ).toMatchObject([
      { action: 'delete', warnings: [expect.stringContaining('stops validating')] },
    ]);
  });

  it('should report a version changed outside the file as a state change', () => {
    expect(describeStateChanges([v({ version: '1.15.3' })], [v()])).toEqual([
      'a: avalanchego 1.15.3 → 1.16.0',
    ]);
  });
});
