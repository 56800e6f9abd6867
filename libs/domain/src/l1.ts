/**
 * L1 validators (ACP-77), pure: what an L1's id looks like, how long a validator's balance pays its
 * continuous fee, and when Snowline says so.
 *
 * Checked in ava-labs/avalanchego at tag v1.15.0-fuji: ids/id.go (`FromString`: cb58 of exactly 32
 * bytes), utils/cb58/cb58.go (base58 of payload ‖ last 4 bytes of sha256(payload)), config/config.go
 * (`getTrackedSubnets`: `track-subnets` refuses the primary network), genesis/genesis_{mainnet,fuji,
 * local}.go (`ValidatorFeeConfig.MinPrice`), vms/platformvm/validators/fee/fee.go (`SecondsRemaining`:
 * funds ÷ price while the excess is 0) and vms/platformvm/service.go (`GetValidatorFeeState`: the
 * current price; `convertL1ValidatorToAPI`: balance = EndAccumulatedFee − accrued fees, 0 once
 * deactivated).
 *
 * Browser-safe (the console parses snowline.yaml with libs/domain/src/plan): no Node APIs.
 */
import { sha256 } from '@noble/hashes/sha2';
import type { Network } from './validator-state';
import type { StakingConditions, StakingSettings, StakingView } from './staking';

/** constants.PrimaryNetworkID = ids.Empty, cb58-encoded. */
export const PRIMARY_NETWORK_SUBNET_ID = '11111111111111111111111111111111LpoYY';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ID_LEN = 32;
const CHECKSUM_LEN = 4;
/** A cb58 of 36 bytes is at most 50 characters (and at least 36, all leading zeros). */
export const SUBNET_ID_RE = /^[1-9A-HJ-NP-Za-km-z]{36,50}$/;

function base58Decode(s: string): Uint8Array | null {
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  let n = 0n;
  for (const c of s) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return null;
    n = n * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body]);
}

/**
 * Why `id` is not an L1 (subnet) id, or null when it is one: AvalancheGo's `ids.FromString` decodes
 * cb58 (checksum included) to exactly 32 bytes; the primary network's id (ids.Empty) is not an L1
 * (`track-subnets` refuses it: "cannot track primary network").
 */
export function subnetIdProblem(id: string): string | null {
  const example = 'e.g. 2bRCr6B4MiEfSjidDwxDpdCyviwnfUVqB2HGwhm947w9YYqb7r';
  if (id.length === 0) return `is empty; name the L1's subnet id (${example})`;
  if (id.startsWith('NodeID-')) return `is a NodeID; name the L1's subnet id (${example})`;
  const bad = [...id].find((c) => !ALPHABET.includes(c));
  if (bad !== undefined)
    return `${JSON.stringify(bad)} is not a base58 character (cb58 has no 0, O, I, l, spaces or punctuation; ${example})`;
  if (id.length > 64) return `is ${id.length} characters; a cb58 subnet id has at most 50`;
  const raw = base58Decode(id)!;
  if (raw.length !== ID_LEN + CHECKSUM_LEN)
    return `decodes to ${raw.length} bytes; a subnet id is cb58 of 32 bytes plus a 4-byte checksum (36 bytes, ${example})`;
  const payload = raw.subarray(0, ID_LEN);
  const sum = sha256(payload).subarray(-CHECKSUM_LEN);
  if (sum.some((b, i) => b !== raw[ID_LEN + i]))
    return 'has a wrong cb58 checksum (a typo, or a character missing?)';
  if (payload.every((b) => b === 0))
    return `is the primary network's id; leave subnetId out for a primary-network validator`;
  return null;
}

// ---- The continuous fee ---------------------------------------------------------------------------

/**
 * genesis_{mainnet,fuji}.go `ValidatorFeeConfig.MinPrice = 512 * units.NanoAvax` (per second per
 * active L1 validator); genesis_local.go: 1 nAVAX. The price the P-chain charges now is
 * MinPrice × e^(excess / ExcessConversionConstant) (`platform.getValidatorFeeState` `price`): the
 * minimum while no more than `Target` (10,000) L1 validators are active.
 */
export const L1_MIN_FEE_PRICE: Readonly<Record<Network, bigint>> = {
  mainnet: 512n,
  fuji: 512n,
  local: 1n,
};

const NAVAX_PER_AVAX = 1_000_000_000n;
const AVAX_DECIMALS = 4;

/**
 * nAVAX (a decimal string) as AVAX, truncated to 4 decimals in BigInt — never rounded up, and a
 * positive balance under the last decimal never reads as 0. Not digits: said as it came, in nAVAX.
 */
export function formatAvax(navax: string): string {
  if (!/^\d+$/.test(navax)) return `${navax} nAVAX`;
  const n = BigInt(navax);
  const unit = NAVAX_PER_AVAX / 10n ** BigInt(AVAX_DECIMALS);
  if (n > 0n && n < unit) return `< 0.${'0'.repeat(AVAX_DECIMALS - 1)}1 AVAX`;
  const whole = n / NAVAX_PER_AVAX;
  const frac = ((n % NAVAX_PER_AVAX) / unit)
    .toString()
    .padStart(AVAX_DECIMALS, '0')
    .replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''} AVAX`;
}

const DAY_S = 86_400;

/**
 * Days of fee a balance (nAVAX) pays at a price (nAVAX per second): whole seconds, as the P-chain's
 * fee.State.SecondsRemaining counts them at zero excess (funds ÷ price), divided into days. A higher
 * price later (more active L1 validators) shortens it; the figure is "at today's price".
 */
export function feeDaysLeft(balance: bigint, pricePerSecond: bigint): number {
  if (balance <= 0n) return 0;
  if (pricePerSecond <= 0n) return Infinity;
  return Number(balance / pricePerSecond) / DAY_S;
}

/** What one node's P-chain said of one L1 validator, in one staking report. */
export interface L1Observation {
  /** `self`: the validator's own node; `peer`: another Snowline node on its network. */
  kind: 'self' | 'peer';
  /** The control plane's clock when the report arrived. */
  observedAt: number;
  /** The observer's P-chain clock at the look-up. */
  pchainTime: number;
  /** The L1 lists the NodeID among its validators (platform.getCurrentValidators {subnetID}). */
  registered: boolean;
  validationId: string | null;
  /** platform.getL1Validator `balance`, nAVAX (decimal); 0 once deactivated. */
  balance: string | null;
  weight: string | null;
  /** The validation's start (P-chain ms). */
  startMs: number | null;
  /** platform.getValidatorFeeState `price` (nAVAX/s) as the observer read it; null: not read. */
  feePrice: string | null;
}

/** Snowline's view of an L1 validator's balance (StakingView.l1). */
export interface L1Balance {
  subnetId: string;
  validationId: string | null;
  weight: string | null;
  startMs: number | null;
  /** nAVAX, decimal, as of `pchainTime`. */
  balance: string;
  /** nAVAX per second the days are counted at. */
  feePrice: string;
  /** `node`: the P-chain's current price as a node reported it; `minimum`: none did, MinPrice assumed. */
  feeSource: 'node' | 'minimum';
  daysLeft: number;
  /** False once the balance is spent: the P-chain deactivated it (it no longer validates the L1). */
  active: boolean;
  /** Fewer than `L1_BALANCE_LOW_DAYS` days of fee left. */
  low: boolean;
}

export interface L1Settings extends Pick<StakingSettings, 'staleAfterMs'> {
  /** `l1.balance_low` below this many days of fee left. */
  balanceLowDays: number;
}

const UNOBSERVED_L1: StakingView = {
  status: 'unknown',
  lastStatus: null,
  ageMs: null,
  pchainTime: null,
  registered: null,
  stake: null,
  requirement: null,
  uptime: null,
  uptimeSource: null,
  observers: 0,
  budget: null,
  periodEnding: false,
  l1: null,
};

/**
 * Snowline's view of one L1 validator from what nodes reported: registered or not, and its balance
 * and days of fee left from the newest P-chain that lists it (the balance is chain state: every
 * node that has the same block says the same; the newest has the least left). Only observations
 * newer than `staleAfterMs` count; with none the view is `unknown`, beside the age of the newest and
 * what it said — never an old balance dressed up as today's. No uptime or budget: nobody measures
 * an L1 validator's uptime for a reward (an L1 pays none from the P-chain).
 */
export function evaluateL1Staking(
  network: Network,
  subnetId: string,
  observations: readonly L1Observation[],
  now: number,
  s: L1Settings,
): StakingView {
  if (!observations.length) return UNOBSERVED_L1;
  const newest = Math.max(...observations.map((o) => o.observedAt));
  const fresh = observations.filter((o) => now - o.observedAt <= s.staleAfterMs);
  const obs = fresh.length ? fresh : observations;
  const ageMs = Math.max(0, now - newest);
  const byTime = [...obs].sort((a, b) => b.pchainTime - a.pchainTime || rank(a) - rank(b));
  const listed = byTime.filter((o) => o.registered && o.balance !== null);
  const latest = listed[0];
  let view: StakingView;
  if (!latest) {
    view = {
      ...UNOBSERVED_L1,
      status: 'not_registered',
      lastStatus: 'not_registered',
      pchainTime: byTime[0]!.pchainTime,
      registered: false,
    };
  } else {
    const priced = byTime.find((o) => o.feePrice !== null && BigInt(o.feePrice) > 0n);
    const price = latest.feePrice ?? priced?.feePrice ?? null;
    const feePrice = price !== null ? BigInt(price) : L1_MIN_FEE_PRICE[network];
    const balance = BigInt(latest.balance!);
    const daysLeft = feeDaysLeft(balance, feePrice);
    view = {
      ...UNOBSERVED_L1,
      status: 'registered',
      lastStatus: 'registered',
      pchainTime: latest.pchainTime,
      registered: true,
      observers: listed.filter((o) => o.validationId === latest.validationId).length,
      l1: {
        subnetId,
        validationId: latest.validationId,
        weight: latest.weight,
        startMs: latest.startMs,
        balance: balance.toString(),
        feePrice: feePrice.toString(),
        feeSource: price !== null ? 'node' : 'minimum',
        daysLeft,
        active: balance > 0n,
        low: daysLeft < s.balanceLowDays,
      },
    };
  }
  return fresh.length ? { ...view, ageMs } : { ...view, status: 'unknown', ageMs };
}

const rank = (o: L1Observation) => (o.kind === 'self' ? 0 : 1);

export const L1_EVENT_TYPES = ['l1.balance_low'] as const;
export type L1EventType = (typeof L1_EVENT_TYPES)[number];

/** The key of an L1 validation: a new registration (another validationID) arms the events again. */
export const l1PeriodKey = (validationId: string | null): string => `l1:${validationId ?? '?'}`;

/**
 * `l1.balance_low` once per condition: raised when the days of fee left first drop below the
 * setting, not again on later rounds; armed again once a top-up (IncreaseL1ValidatorBalanceTx)
 * brings them back to the setting or above, or for a new validation. An `unknown` view changes
 * nothing: stale news is not news.
 */
export function l1Events(
  prev: StakingConditions,
  view: StakingView,
): { events: L1EventType[]; next: StakingConditions } {
  const l1 = view.l1;
  if (view.status === 'unknown' || !view.registered || !l1) return { events: [], next: prev };
  const key = l1PeriodKey(l1.validationId);
  const raised = new Set<string>(key === prev.periodKey ? prev.raised : []);
  const events: L1EventType[] = [];
  if (l1.low && !raised.has('l1.balance_low')) {
    raised.add('l1.balance_low');
    events.push('l1.balance_low');
  } else if (!l1.low) raised.delete('l1.balance_low');
  return {
    events,
    next: { periodKey: key, raised: L1_EVENT_TYPES.filter((t) => raised.has(t)) },
  };
}
