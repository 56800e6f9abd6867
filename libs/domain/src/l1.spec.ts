import { cb58Encode } from '@snowline/avalanche';
import {
  evaluateL1Staking,
  feeDaysLeft,
  L1_MIN_FEE_PRICE,
  l1Events,
  l1PeriodKey,
  PRIMARY_NETWORK_SUBNET_ID,
  subnetIdProblem,
  type L1Observation,
  type L1Settings,
} from './l1';
import type { StakingConditions, StakingView } from './staking';

/** vms/platformvm/service.md (v1.15.0-fuji), platform.getCurrentValidators' example: a real subnet id. */
const DOC_SUBNET = '2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
/** Encoded by libs/avalanche's cb58 (an independent implementation). */
const SUBNET = cb58Encode(Buffer.alloc(32, 7));
const DAY = 86_400;

describe(subnetIdProblem.name, () => {
  it.each<[string, string]>([
    ['the example in AvalancheGo’s platform API docs', DOC_SUBNET],
    ['a cb58 of 32 bytes', SUBNET],
    ['one with a leading zero byte', cb58Encode(Buffer.from([0, ...Buffer.alloc(31, 9)]))],
  ])('should accept %s', (_what, id) => {
    expect(subnetIdProblem(id)).toBeNull();
  });

  it.each<[string, string, RegExp]>([
    ['empty', '', /is empty/],
    ['a non-base58 character (0)', DOC_SUBNET.replace('2', '0'), /"0" is not a base58 character/],
    ['a space', `${DOC_SUBNET} `, /" " is not a base58 character/],
    ['a typo (checksum)', DOC_SUBNET.replace('bRC', 'bRD'), /wrong cb58 checksum/],
    ['a character missing', DOC_SUBNET.slice(1), /decodes to 35 bytes|checksum/],
    ['a 20-byte id (a short id, e.g. a NodeID’s)', cb58Encode(Buffer.alloc(20, 1)), /24 bytes/],
    ['a 64-byte payload', cb58Encode(Buffer.alloc(64, 1)), /characters|68 bytes/],
    ['the primary network', PRIMARY_NETWORK_SUBNET_ID, /primary network/],
    ['a NodeID', 'NodeID-7Xhw2mDxuDS44j42TCB6U5579esbSt3Lg', /is a NodeID/],
  ])('should refuse %s, saying why', (_what, id, why) => {
    expect(subnetIdProblem(id)).toMatch(why);
  });

  it('should agree that AvalancheGo’s primary network id is the all-zero id', () => {
    expect(cb58Encode(Buffer.alloc(32))).toBe(PRIMARY_NETWORK_SUBNET_ID);
  });
});

describe(feeDaysLeft.name, () => {
  it.each<[string, bigint, bigint, number]>([
    ['a week at the minimum price', 512n * 7n * BigInt(DAY), 512n, 7],
    ['one AVAX at 512 nAVAX/s (~22.6 days)', 1_000_000_000n, 512n, 1_953_125 / DAY],
    ['whole seconds only (fee.State.SecondsRemaining)', 512n * 10n + 511n, 512n, 10 / DAY],
    ['twice the price, half the days', 512n * 7n * BigInt(DAY), 1024n, 3.5],
    ['local’s 1 nAVAX/s minimum', BigInt(DAY), 1n, 1],
    ['a spent balance', 0n, 512n, 0],
    ['less than one second of fee', 511n, 512n, 0],
    ['a negative balance (never from a node)', -5n, 512n, 0],
    ['a price of 0 (never from a node)', 1n, 0n, Infinity],
  ])('should count %s', (_what, balance, price, days) => {
    expect(feeDaysLeft(balance, price)).toBeCloseTo(days, 12);
  });

  it('should keep the minimum prices of the genesis files', () => {
    expect(L1_MIN_FEE_PRICE).toEqual({ mainnet: 512n, fuji: 512n, local: 1n });
  });
});

const T0 = Date.UTC(2026, 8, 1);
const settings: L1Settings = { staleAfterMs: 180_000, balanceLowDays: 7 };
const obs = (o: Partial<L1Observation> = {}): L1Observation => ({
  kind: 'peer',
  observedAt: T0,
  pchainTime: T0,
  registered: true,
  validationId: 'v1',
  balance: String(512 * 10 * DAY),
  weight: '20',
  startMs: T0 - 1000,
  feePrice: '512',
  ...o,
});

describe(evaluateL1Staking.name, () => {
  it('should be unknown with nothing observed', () => {
    expect(evaluateL1Staking('fuji', SUBNET, [], T0, settings)).toMatchObject({
      status: 'unknown',
      ageMs: null,
      l1: null,
    });
  });

  it('should count days of fee left from the balance and the price the node reported', () => {
    const v = evaluateL1Staking('fuji', SUBNET, [obs({ feePrice: '1024' })], T0, settings);
    expect(v).toMatchObject({ status: 'registered', registered: true, ageMs: 0, observers: 1 });
    expect(v.l1).toEqual({
      subnetId: SUBNET,
      validationId: 'v1',
      weight: '20',
      startMs: T0 - 1000,
      balance: String(512 * 10 * DAY),
      feePrice: '1024',
      feeSource: 'node',
      daysLeft: 5,
      active: true,
      low: true,
    });
  });

  it('should assume the network’s minimum price when no node reported one, and say so', () => {
    const v = evaluateL1Staking('mainnet', SUBNET, [obs({ feePrice: null })], T0, settings);
    expect(v.l1).toMatchObject({ feePrice: '512', feeSource: 'minimum', daysLeft: 10, low: false });
    const local = evaluateL1Staking('local', SUBNET, [obs({ feePrice: null })], T0, settings);
    expect(local.l1).toMatchObject({ feePrice: '1', daysLeft: 512 * 10 });
  });

  it('should take the balance from the newest P-chain time (the least left), the price from any', () => {
    const v = evaluateL1Staking(
      'fuji',
      SUBNET,
      [
        obs({ pchainTime: T0 - 60_000, balance: String(512 * 9 * DAY), feePrice: '512' }),
        obs({ kind: 'self', pchainTime: T0, balance: String(512 * 6 * DAY), feePrice: null }),
      ],
      T0,
      settings,
    );
    expect(v.pchainTime).toBe(T0);
    expect(v.l1).toMatchObject({ daysLeft: 6, feeSource: 'node', low: true });
    expect(v.observers).toBe(2);
  });

  it('should be inactive, with 0 days, once the balance is spent', () => {
    const v = evaluateL1Staking('fuji', SUBNET, [obs({ balance: '0' })], T0, settings);
    expect(v.l1).toMatchObject({ active: false, daysLeft: 0, low: true });
  });

  it('should be not_registered when the L1 does not list it', () => {
    const v = evaluateL1Staking(
      'fuji',
      SUBNET,
      [obs({ registered: false, validationId: null, balance: null })],
      T0,
      settings,
    );
    expect(v).toMatchObject({ status: 'not_registered', registered: false, l1: null });
  });

  it('should be unknown when every observation is stale, keeping what it last said', () => {
    const v = evaluateL1Staking('fuji', SUBNET, [obs()], T0 + 180_001, settings);
    expect(v).toMatchObject({ status: 'unknown', lastStatus: 'registered', ageMs: 180_001 });
    expect(v.l1).toMatchObject({ daysLeft: 10 });
  });

  it('should judge on fresh observations only while there are any', () => {
    const v = evaluateL1Staking(
      'fuji',
      SUBNET,
      [
        obs({ observedAt: T0 - 200_000, pchainTime: T0 + 10, balance: '0' }),
        obs({ observedAt: T0, pchainTime: T0, balance: String(512 * 8 * DAY) }),
      ],
      T0,
      settings,
    );
    expect(v.l1).toMatchObject({ daysLeft: 8, active: true });
  });
});

describe(l1Events.name, () => {
  const view = (daysLeft: number, o: Partial<StakingView> = {}, validationId = 'v1') =>
    ({
      status: 'registered',
      registered: true,
      l1: { validationId, daysLeft, low: daysLeft < 7 },
      ...o,
    }) as StakingView;
  const none: StakingConditions = { periodKey: null, raised: [] };
  const low: StakingConditions = { periodKey: l1PeriodKey('v1'), raised: ['l1.balance_low'] };
  const armed: StakingConditions = { periodKey: l1PeriodKey('v1'), raised: [] };

  it.each<[string, StakingConditions, StakingView, string[], StakingConditions]>([
    ['plenty left: nothing', none, view(30), [], armed],
    ['first drop below the setting: raised', armed, view(6.9), ['l1.balance_low'], low],
    ['a first view already low: raised', none, view(2), ['l1.balance_low'], low],
    ['still low next round: not again', low, view(6), [], low],
    ['spent (inactive): not again', low, view(0), [], low],
    ['topped up to the setting: armed again', low, view(7), [], armed],
    [
      'a new validation: armed again, and low',
      low,
      view(1, {}, 'v2'),
      ['l1.balance_low'],
      {
        periodKey: l1PeriodKey('v2'),
        raised: ['l1.balance_low'],
      },
    ],
    ['unknown: nothing changes', armed, view(1, { status: 'unknown' }), [], armed],
    ['not registered: nothing changes', low, view(1, { registered: false, l1: null }), [], low],
  ])('%s', (_what, prev, v, events, next) => {
    expect(l1Events(prev, v)).toEqual({ events, next });
  });
});
