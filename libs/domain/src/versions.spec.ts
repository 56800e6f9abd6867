import {
  activationKey,
  canonicalVersion,
  compareVersionStrings,
  judgeUpgrade,
  mergeCalendar,
  missedActivation,
  nextActivation,
  parseUpgradeEntry,
  reportedVersion,
  survives,
  versionRefusal,
  type NetworkUpgrade,
  type Survival,
  type UpgradeVerdict,
  type VersionFacts,
} from './versions';
import type { Network } from './validator-state';

const at = (iso: string) => Date.parse(iso);
const up = (network: Network, name: string, iso: string, minVersion: string): NetworkUpgrade => ({
  network,
  name,
  activatesAt: at(iso),
  minVersion,
  source: 'test',
});

const GRANITE_FUJI = up('fuji', 'Granite', '2025-10-29T15:00:00Z', '1.14.0-fuji');
const GRANITE_MAIN = up('mainnet', 'Granite', '2025-11-19T16:00:00Z', '1.14.0');
const HELICON_FUJI = up('fuji', 'Helicon', '2026-07-28T15:00:00Z', '1.15.0-fuji');
const HELICON_MAIN = up('mainnet', 'Helicon', '2026-09-22T15:00:00Z', '1.15.0');
const CALENDAR = [GRANITE_FUJI, GRANITE_MAIN, HELICON_FUJI, HELICON_MAIN];

describe(canonicalVersion.name, () => {
  it.each<[string, string | null]>([
    ['1.15.0', '1.15.0'],
    ['v1.15.0', '1.15.0'],
    [' 1.15.0 ', '1.15.0'],
    ['1.15.0-fuji', '1.15.0-fuji'],
    ['v1.15.0-fuji-rc.4', '1.15.0-fuji-rc.4'],
    ['1.15.0-rc.0', '1.15.0-rc.0'],
    ['1.15', null],
    ['1.15.0.1', null],
    ['01.15.0', null],
    ['1.15.0-beta', null],
    ['1.13.0-slowhandler', null],
    ['1.14.0-fuji-l1-backport-rc.0', null],
    ['latest', null],
    ['', null],
  ])('should read %j as %j', (text, expected) => {
    expect(canonicalVersion(text)).toBe(expected);
  });
});

describe(reportedVersion.name, () => {
  it.each<[string | null | undefined, string | null]>([
    ['avalanchego/1.15.3', '1.15.3'],
    ['v1.15.0-fuji', '1.15.0-fuji'],
    ['1.14.2', '1.14.2'],
    [null, null],
    [undefined, null],
    ['avalanchego/unknown', null],
    ['subnet-evm/0.8.0x', null],
  ])('should turn the report %j into %j (unknown stays unknown)', (text, expected) => {
    expect(reportedVersion(text)).toBe(expected);
  });
});

describe(compareVersionStrings.name, () => {
  it.each<[string, string, -1 | 0 | 1]>([
    ['1.14.2', '1.15.0', -1],
    ['1.15.0', '1.14.2', 1],
    ['1.15.0', 'v1.15.0', 0],
    ['1.9.16', '1.10.0', -1],
    ['1.15.0-fuji', '1.15.0', -1],
    ['1.15.0-fuji', '1.15.0-fuji', 0],
    ['1.15.0-fuji-rc.4', '1.15.0-fuji', -1],
    ['1.15.0-fuji-rc.0', '1.15.0-fuji-rc.4', -1],
    ['1.15.0-fuji', '1.15.0-rc.0', -1],
    ['1.15.0-rc.9', '1.15.0', -1],
    ['1.15.1-fuji', '1.15.0', 1],
    ['2.0.0', '1.99.99', 1],
  ])('should order %s against %s as %i', (a, b, expected) => {
    expect(compareVersionStrings(a, b)).toBe(expected);
  });

  it('should throw on a string that is not a version', () => {
    expect(() => compareVersionStrings('1.15.0', 'latest')).toThrow('not an AvalancheGo version');
  });
});

describe(versionRefusal.name, () => {
  it.each<[string, Network, string | null]>([
    ['1.15.0', 'mainnet', null],
    ['1.15.0', 'fuji', null],
    ['1.15.0-fuji', 'fuji', null],
    ['1.15.0-fuji', 'local', null],
    ['1.15.0-fuji', 'mainnet', 'refuses to run mainnet'],
    ['1.15.0-fuji-rc.4', 'mainnet', 'refuses to run mainnet'],
    ['nightly', 'fuji', 'is not an AvalancheGo version'],
  ])('should judge %s on %s', (version, network, refusal) => {
    const got = versionRefusal(version, network);
    if (refusal === null) expect(got).toBeNull();
    else expect(got).toContain(refusal);
  });
});

describe(survives.name, () => {
  it.each<[string | null, NetworkUpgrade, Survival]>([
    ['1.15.0-fuji', HELICON_FUJI, 'survives'],
    ['1.15.0', HELICON_FUJI, 'survives'],
    ['1.15.3', HELICON_FUJI, 'survives'],
    ['1.15.0-fuji-rc.4', HELICON_FUJI, 'outdated'],
    ['1.14.2', HELICON_FUJI, 'outdated'],
    ['1.15.0', HELICON_MAIN, 'survives'],
    ['1.15.0-rc.0', HELICON_MAIN, 'outdated'],
    ['1.15.0-fuji', HELICON_MAIN, 'outdated'],
    ['1.16.0-fuji', HELICON_MAIN, 'outdated'],
    ['1.14.2', HELICON_MAIN, 'outdated'],
    ['1.14.0', GRANITE_MAIN, 'survives'],
    [null, HELICON_MAIN, 'unknown'],
    ['garbage', HELICON_MAIN, 'unknown'],
  ])('should say %s is %s against the activation %o', (version, upgrade, expected) => {
    expect(survives(version, upgrade)).toBe(expected);
  });
});

describe(nextActivation.name, () => {
  it.each<[string, Network, string, NetworkUpgrade | null]>([
    ['before Granite on Fuji', 'fuji', '2025-10-01T00:00:00Z', GRANITE_FUJI],
    ['between Granite and Helicon on Fuji', 'fuji', '2026-01-01T00:00:00Z', HELICON_FUJI],
    ['one millisecond before Helicon', 'mainnet', '2026-09-22T14:59:59.999Z', HELICON_MAIN],
    ['at the instant of Helicon (already active)', 'mainnet', '2026-09-22T15:00:00Z', null],
    ['after every activation', 'fuji', '2026-12-03T00:00:00Z', null],
    ['a network with no calendar', 'local', '2025-01-01T00:00:00Z', null],
  ])('should find the next activation %s', (_label, network, now, expected) => {
    expect(nextActivation(CALENDAR, network, at(now))).toEqual(expected);
  });

  it('should pick the earliest of several future activations, whatever their order', () => {
    const later = up('fuji', 'Zeta', '2027-06-01T00:00:00Z', '1.16.0');
    const sooner = up('fuji', 'Eta', '2027-03-01T00:00:00Z', '1.15.9');
    expect(nextActivation([later, sooner], 'fuji', at('2027-01-01T00:00:00Z'))).toBe(sooner);
  });
});

describe(missedActivation.name, () => {
  it.each<[string, Network, string | null, string, NetworkUpgrade | null]>([
    ['1.14.2 on Fuji before Helicon', 'fuji', '1.14.2', '2026-07-28T14:59:59Z', null],
    ['1.14.2 on Fuji at Helicon', 'fuji', '1.14.2', '2026-07-28T15:00:00Z', HELICON_FUJI],
    ['1.15.0-fuji on Fuji after Helicon', 'fuji', '1.15.0-fuji', '2026-12-01T00:00:00Z', null],
    [
      '1.13.0 on mainnet after both (the latest missed)',
      'mainnet',
      '1.13.0',
      '2026-12-01T00:00:00Z',
      HELICON_MAIN,
    ],
    ['1.13.0 on mainnet between them', 'mainnet', '1.13.0', '2026-01-01T00:00:00Z', GRANITE_MAIN],
    ['an unknown version', 'mainnet', null, '2026-12-01T00:00:00Z', null],
    ['a network without a calendar', 'local', '1.0.0', '2026-12-01T00:00:00Z', null],
  ])('should say which activation %s missed', (_label, network, version, now, expected) => {
    expect(missedActivation(CALENDAR, network, version, at(now))).toEqual(expected);
  });
});

describe(judgeUpgrade.name, () => {
  const DAY = 86_400_000;
  const facts = (over: Partial<VersionFacts> = {}): VersionFacts => ({
    network: 'mainnet',
    desiredVersion: '1.15.0',
    runningVersion: '1.15.0',
    ...over,
  });
  const BEFORE = at('2026-09-01T00:00:00Z');
  it.each<[string, VersionFacts, number, number, UpgradeVerdict['kind'], string | null]>([
    ['spec and host survive', facts(), BEFORE, 30 * DAY, 'survives', null],
    [
      'the spec names an outdated version',
      facts({ desiredVersion: '1.14.2', runningVersion: '1.14.2' }),
      BEFORE,
      30 * DAY,
      'upgrade_required',
      'spec',
    ],
    [
      'the spec is outdated and the host unknown',
      facts({ desiredVersion: '1.14.2', runningVersion: null }),
      BEFORE,
      30 * DAY,
      'upgrade_required',
      'spec',
    ],
    [
      'a Fuji build named for mainnet',
      facts({ desiredVersion: '1.15.0-fuji' }),
      BEFORE,
      30 * DAY,
      'upgrade_required',
      'spec',
    ],
    [
      'the spec survives, the host lags',
      facts({ runningVersion: '1.14.2' }),
      BEFORE,
      30 * DAY,
      'upgrade_required',
      'running',
    ],
    [
      'the spec survives, the host is unknown',
      facts({ runningVersion: null }),
      BEFORE,
      30 * DAY,
      'unknown',
      null,
    ],
    [
      'the activation is beyond the window',
      facts({ desiredVersion: '1.14.2' }),
      BEFORE,
      7 * DAY,
      'none',
      null,
    ],
    [
      'the activation has passed',
      facts({ desiredVersion: '1.14.2' }),
      at('2026-09-22T15:00:00Z'),
      30 * DAY,
      'none',
      null,
    ],
  ])('should judge: %s', (_label, v, now, windowMs, kind, cause) => {
    const verdict = judgeUpgrade(v, CALENDAR, now, windowMs);
    expect(verdict.kind).toBe(kind);
    if (verdict.kind === 'upgrade_required') {
      expect(verdict.cause).toBe(cause);
      expect(verdict.upgrade).toBe(HELICON_MAIN);
      expect(verdict.message).toContain('Helicon activates on mainnet at 2026-09-22T15:00:00Z');
    }
  });
});

describe(parseUpgradeEntry.name, () => {
  it('should read network/Name/time/version', () => {
    expect(parseUpgradeEntry('fuji/Test/2027-01-01T00:00:00Z/v1.16.0', 'env')).toEqual({
      network: 'fuji',
      name: 'Test',
      activatesAt: at('2027-01-01T00:00:00Z'),
      minVersion: '1.16.0',
      source: 'env',
    });
  });

  it.each<[string, string]>([
    ['fuji/Test/2027-01-01T00:00:00Z', 'four parts'],
    ['devnet/Test/2027-01-01T00:00:00Z/1.16.0', 'network must be one of'],
    ['fuji/Te st/2027-01-01T00:00:00Z/1.16.0', 'the name must be a word'],
    ['fuji/Test/2027-01-01/1.16.0', 'ISO 8601 with a zone'],
    ['fuji/Test/2027-13-45T00:00:00Z/1.16.0', 'is not a time'],
    ['fuji/Test/2027-01-01T00:00:00Z/latest', 'is not an AvalancheGo version'],
  ])('should refuse %j, saying %j', (text, message) => {
    expect(() => parseUpgradeEntry(text, 'env')).toThrow(message);
  });
});

describe(mergeCalendar.name, () => {
  it('should let a configured entry reschedule a seeded one and add the others, in time order', () => {
    const moved = up('mainnet', 'Helicon', '2026-10-01T15:00:00Z', '1.15.0');
    const extra = up('fuji', 'Test', '2026-08-01T00:00:00Z', '1.15.1');
    expect(mergeCalendar(CALENDAR, [moved, extra])).toEqual([
      GRANITE_FUJI,
      GRANITE_MAIN,
      HELICON_FUJI,
      extra,
      moved,
    ]);
  });

  it('should key an activation by network, name and instant (a new date is a new activation)', () => {
    expect(activationKey(HELICON_MAIN)).toBe('mainnet/Helicon/2026-09-22T15:00:00.000Z');
  });
});
