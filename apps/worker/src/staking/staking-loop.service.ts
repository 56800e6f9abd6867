import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import {
  assignStakingObservers,
  evaluateStaking,
  stakingEvents,
  stakingRulesFor,
  type Network,
  type NetworkStakingRules,
  type StakingEventType,
  type StakingSettings,
  type StakingView,
} from '@snowline/domain';
import { STAKING_LOOKUP_MAX } from '@snowline/agent';
import {
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
  }

  protected intervalMs(): number {
    return this.config.staking.evaluateSeconds * 1000;
  }

  protected async round(): Promise<StakingRoundStats> {
    const subjects = await this.repos.staking.subjects();
    const observers = await this.repos.staking.observers();
    const lookupsChanged = await this.assignLookups(subjects, observers);
    const seen = await this.repos.staking.observationsOf(subjects.map((s) => s.nodeId));
    const now = (await this.repos.clock()).getTime();
    const views: StoredStakingView[] = [];
    const events: NewEvent[] = [];
    const byStatus: Record<string, number> = {};
    for (const s of subjects) {
      const observations = seen.get(s.nodeId) ?? [];
      const view = evaluateStaking(s.network, observations, now, this.settings, this.rules);
      byStatus[view.status] = (byStatus[view.status] ?? 0) + 1;
      const raised = stakingEvents(s.conditions, view);
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
        subnetId: null,
        view,
        observedAt: newest === null ? null : new Date(newest),
        balance: null,
        conditions: raised.next,
      });
      for (const type of raised.events) events.push(this.event(type, s, view));
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
}
