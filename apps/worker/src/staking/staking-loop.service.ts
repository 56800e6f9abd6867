import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  assignStakingObservers,
  evaluateL1Staking,
  evaluateStaking,
  formatAvax,
  l1Events,
  type L1EventType,
  type L1Observation,
  type L1Settings,
  stakingEvents,
  stakingRulesFor,
  type Network,
  type NetworkStakingRules,
  type StakingEventType,
  type StakingObservation,
  type StakingSettings,
  type StakingView,
} from '@snowline/domain';
import { STAKING_LOOKUP_MAX } from '@snowline/agent';
import {
  l1Key,
  Repositories,
  type NewEvent,
  type StakingSubjectRow,
  type StoredStakingView,
} from '@snowline/persistence';
import { LeaderLoop } from '../lifecycle/leader-loop';

export interface StakingRoundStats {
  validators: number;
  observers: number;
  /** Hosts whose lookups changed this round. */
  lookupsChanged: number;
  byStatus: Record<string, number>;
  events: number;
}

const NAVAX_PER_AVAX = 1_000_000_000n;

/** `4.8 h`, `35 min`, `50 s`: a duration as a person reads it. */
export function humanDuration(ms: number): string {
  const a = Math.abs(ms);
  if (a >= 48 * 3_600_000) return `${+(ms / 86_400_000).toFixed(1)} d`;
  if (a >= 3_600_000) return `${+(ms / 3_600_000).toFixed(1)} h`;
  if (a >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}

type L1Subject = StakingSubjectRow & { subnetId: string };
type Judged = {
  events: (StakingEventType | L1EventType)[];
  next: StakingSubjectRow['conditions'];
};

const pct = (f: number) => `${+(f * 100).toFixed(2)} %`;
const iso = (t: number) => new Date(t).toISOString();

/**
 * The staking view's controller (issue 22): each round, leader-only, it (1) tells every healthy
 * synced node which validators to look up in its next staking report (assignStakingObservers:
 * other zones first, standbys first), (2) judges every validator from the reports (evaluateStaking:
 * its registration, the requirement that applies, the downtime budget left, unknown when stale),
 * stores the view in `validator_staking`, and (3) raises `staking.*` events, each once per
 * condition and period (stakingEvents), in the same transaction as the view that records them.
 * All of it is in the P-chain's time as the nodes report it; the control plane's clock only
 * measures how old a report is.
 */
@Injectable()
export class StakingLoop extends LeaderLoop<StakingRoundStats> {
  private readonly rules: Record<Network, NetworkStakingRules>;
  private readonly settings: StakingSettings;
  private readonly l1Settings: L1Settings;

  constructor(
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(repos.leaderLeases, 'staking', config.leaderLeaseSeconds * 1000);
    this.rules = stakingRulesFor(config.avalanchego.calendar);
    this.settings = {
      staleAfterMs: config.staking.staleAfterSeconds * 1000,
      atRiskFraction: config.staking.atRiskFraction,
      periodEndingMs: config.staking.periodEndingHours * 3_600_000,
    };
    this.l1Settings = {
      staleAfterMs: this.settings.staleAfterMs,
      balanceLowDays: config.staking.l1BalanceLowDays,
    };
  }

  protected intervalMs(): number {
    return this.config.staking.evaluateSeconds * 1000;
  }

  protected async round(): Promise<StakingRoundStats> {
    const subjects = await this.repos.staking.subjects();
    const observers = await this.repos.staking.observers();
    const primary = subjects.filter((s) => s.subnetId === null);
    const l1s = subjects.filter((s): s is L1Subject => s.subnetId !== null);
    const lookupsChanged = await this.assignLookups(primary, observers);
    const seen = await this.repos.staking.observationsOf(primary.map((s) => s.nodeId));
    const seenL1 = await this.repos.staking.l1ObservationsOf(l1s);
    const now = (await this.repos.clock()).getTime();
    const views: StoredStakingView[] = [];
    const events: NewEvent[] = [];
    const byStatus: Record<string, number> = {};
    for (const s of subjects) {
      // An L1 validator is judged by its balance, a primary-network one by its stake and uptime.
      const { view, raised, observations } =
        s.subnetId === null
          ? this.judgePrimary(s, seen.get(s.nodeId) ?? [], now)
          : this.judgeL1(s as L1Subject, seenL1.get(l1Key(s.nodeId, s.subnetId)) ?? [], now);
      byStatus[view.status] = (byStatus[view.status] ?? 0) + 1;
      // Still unknown: the stored row keeps the last good figures and their time; nothing to write.
      if (view.status === 'unknown' && s.status === 'unknown' && !raised.events.length) continue;
      const newest = observations.length
        ? Math.max(...observations.map((o) => o.observedAt))
        : null;
      views.push({
        validatorId: s.validatorId,
        projectId: s.projectId,
        network: s.network,
        nodeId: s.nodeId,
        subnetId: s.subnetId,
        view,
        observedAt: newest === null ? null : new Date(newest),
        balance: null,
        conditions: raised.next,
      });
      for (const type of raised.events)
        events.push(
          type === 'l1.balance_low' ? this.l1Event(type, s, view) : this.event(type, s, view),
        );
    }
    await this.repos.transaction(async (tx) => {
      await this.repos.staking.saveViews(views, tx);
      await this.repos.events.appendMany(events, tx);
    });
    if (events.length)
      this.log.log({ events: events.map((e) => `${e.type} ${e.validatorId}`) }, 'staking events');
    return {
      validators: subjects.length,
      observers: observers.length,
      lookupsChanged,
      byStatus,
      events: events.length,
    };
  }

  private judgePrimary(s: StakingSubjectRow, observations: StakingObservation[], now: number) {
    const view = evaluateStaking(s.network, observations, now, this.settings, this.rules);
    const raised: Judged = stakingEvents(s.conditions, view);
    return { view, raised, observations };
  }

  /** l1.balance_low once per condition (l1Events), from the validator's own node's reports. */
  private judgeL1(s: L1Subject, observations: L1Observation[], now: number) {
    const view = evaluateL1Staking(s.network, s.subnetId, observations, now, this.l1Settings);
    const raised: Judged = l1Events(s.conditions, view);
    return { view, raised, observations };
  }

  /** Writes the lookups that changed; returns how many hosts' lists did. */
  private async assignLookups(
    subjects: StakingSubjectRow[],
    observers: Awaited<ReturnType<Repositories['staking']['observers']>>,
  ): Promise<number> {
    const wanted = assignStakingObservers(
      subjects.map((s) => ({
        nodeId: s.nodeId,
        network: s.network,
        zone: s.zone,
        hostId: s.hostId,
      })),
      observers,
      { perSubject: this.config.staking.observersPerValidator, maxPerObserver: STAKING_LOOKUP_MAX },
    );
    const current = await this.repos.staking.lookups();
    const changed = new Map<string, string[]>();
    for (const [hostId, ids] of wanted) {
      const had = current.get(hostId) ?? [];
      if (had.length !== ids.length || had.some((id, i) => id !== ids[i])) changed.set(hostId, ids);
    }
    // A host that observes no more (unhealthy, fenced, gone) is asked nothing.
    for (const hostId of current.keys()) if (!wanted.has(hostId)) changed.set(hostId, []);
    await this.repos.staking.setLookups(changed);
    return changed.size;
  }

  private l1Event(type: L1EventType, s: StakingSubjectRow, v: StakingView): NewEvent {
    const l1 = v.l1!;
    // Floored, never rounded up: 13.999 days is not "14", the setting it is below.
    const days = Number.isFinite(l1.daysLeft) ? Math.floor(l1.daysLeft * 100) / 100 : null;
    const data = {
      nodeId: s.nodeId,
      network: s.network,
      subnetId: l1.subnetId,
      validationId: l1.validationId,
      balance: l1.balance,
      feePrice: l1.feePrice,
      feeSource: l1.feeSource,
      daysLeft: days,
      active: l1.active,
      balanceLowDays: this.l1Settings.balanceLowDays,
      pchainTime: v.pchainTime === null ? null : iso(v.pchainTime),
    };
    const price = `${l1.feePrice} nAVAX/s${l1.feeSource === 'minimum' ? ' (the minimum; no node said)' : ''}`;
    const message = l1.active
      ? `${s.name} (${s.nodeId}) on L1 ${l1.subnetId}: ${formatAvax(l1.balance)} left pays ${humanDuration(l1.daysLeft * 86_400_000)} of its continuous fee at ${price}, under ${this.l1Settings.balanceLowDays} d: top it up (IncreaseL1ValidatorBalanceTx) before it runs out and the P-chain deactivates it`
      : `${s.name} (${s.nodeId}) on L1 ${l1.subnetId}: its balance is spent; the P-chain deactivated it until a top-up (IncreaseL1ValidatorBalanceTx)`;
    return subjectEvent(type, message, s, data);
  }

  private event(type: StakingEventType, s: StakingSubjectRow, v: StakingView): NewEvent {
    const stake = v.stake!;
    const b = v.budget;
    const req = v.requirement === null ? '?' : pct(v.requirement);
    const measured =
      v.uptime === null
        ? 'unmeasured'
        : `${pct(v.uptime)} as ${v.uptimeSource === 'peer' ? 'its peers measure' : 'its own node reports'} it`;
    const data = {
      nodeId: s.nodeId,
      network: s.network,
      txId: stake.txId,
      startTime: iso(stake.startMs),
      endTime: iso(stake.endMs),
      weight: stake.weight,
      autoRenew: stake.autoRenew,
      requirement: v.requirement,
      uptime: v.uptime,
      uptimeSource: v.uptimeSource,
      observers: v.observers,
      budgetSeconds: b ? Math.round(b.budgetMs / 1000) : null,
      downtimeSeconds: b ? Math.round(b.downtimeMs / 1000) : null,
      budgetLeftSeconds: b ? Math.round(b.budgetLeftMs / 1000) : null,
      pchainTime: v.pchainTime === null ? null : iso(v.pchainTime),
    };
    const avax = BigInt(stake.weight) / NAVAX_PER_AVAX;
    const message = {
      'staking.registered': `${s.name} (${s.nodeId}) validates ${s.network} from ${data.startTime} to ${data.endTime} with ${avax} AVAX${stake.autoRenew ? ', auto-renewed' : ''}; rewarded at ≥ ${req} uptime${b ? `: a downtime budget of ${humanDuration(b.budgetMs)}` : ''}`,
      'staking.uptime_at_risk': b
        ? `${s.name}: ${humanDuration(Math.max(0, b.budgetLeftMs))} of its ${humanDuration(b.budgetMs)} downtime budget left (uptime ${measured}; rewarded at ≥ ${req})`
        : `${s.name}: its uptime is at risk`,
      'staking.reward_lost': b
        ? `${s.name}: down ${humanDuration(b.downtimeMs)} this period, more than its ${humanDuration(b.budgetMs)} budget; its uptime can no longer reach ${req} by ${data.endTime}: this period's reward is lost`
        : `${s.name}: this period's reward is lost`,
      'staking.period_ending': `${s.name}'s stake ends ${data.endTime}${v.pchainTime !== null ? ` (in ${humanDuration(stake.endMs - v.pchainTime)})` : ''}${stake.autoRenew ? '; it renews automatically (ACP-236)' : ': stake again to keep validating'}`,
    }[type];
    return subjectEvent(type, message, s, data);
  }
}

/** A staking or L1 event about one validator, with where its node runs now. */
function subjectEvent(
  type: string,
  message: string,
  s: StakingSubjectRow,
  data: Record<string, unknown>,
): NewEvent {
  return {
    type,
    message,
    projectId: s.projectId,
    validatorId: s.validatorId,
    hostId: s.hostId,
    zone: s.zone,
    data,
  };
}
