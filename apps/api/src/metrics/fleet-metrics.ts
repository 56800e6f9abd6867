import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { VALIDATOR_STATES, type ValidatorState } from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { MetricsService } from './metrics.service';
import { registerStakingGauges, type StakingSnapshot } from './staking-metrics';

/** How long one read of the fleet serves scrapes (several Prometheus replicas, one query each). */
export const FLEET_SNAPSHOT_TTL_MS = 5_000;
const ZONE_STATUSES = ['healthy', 'impaired', 'dark', 'unknown'] as const;
const INCIDENT_KINDS = ['zone-impaired', 'control-plane-suspect'] as const;

interface FleetSnapshot {
  validators: { state: ValidatorState; n: number }[];
  zones: Map<string, string>;
  standbys: { zone: string; network: string; usable: number; ready: number }[];
  targets: Map<string, Map<string, number>>;
  incidents: { kind: string; n: number }[];
  perValidator: { id: string; state: ValidatorState; zone: string | null }[] | null;
  staking: StakingSnapshot;
}

/**
 * What an operator alerts on: validators by state and by staking status, zones by status, standby
 * pools against their target, open incidents. Read from Postgres at scrape time (any API replica
 * serves them) with one grouped query each, shared by every gauge and kept a few seconds. No
 * per-validator label unless METRICS_PER_VALIDATOR is on. A failed read leaves the series out
 * (unknown), never a made-up 0.
 */
@Injectable()
export class FleetMetrics implements OnModuleInit {
  private readonly log = new Logger('metrics');
  private cached: { at: number; snapshot: Promise<FleetSnapshot | null> } | null = null;

  constructor(
    private readonly metrics: MetricsService,
    private readonly repos: Repositories,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The fleet as of at most FLEET_SNAPSHOT_TTL_MS ago; null when Postgres did not answer. */
  snapshot(now = Date.now()): Promise<FleetSnapshot | null> {
    if (this.cached && now - this.cached.at < FLEET_SNAPSHOT_TTL_MS) return this.cached.snapshot;
    const snapshot = this.read().catch((err: unknown) => {
      this.log.warn({ err: String(err) }, 'fleet metrics: database read failed');
      this.cached = null; // the next scrape tries again
      return null;
    });
    this.cached = { at: now, snapshot };
    return snapshot;
  }

  private async read(): Promise<FleetSnapshot> {
    const zones = this.config.cloud.zones;
    const perValidatorOn = this.config.metrics.perValidator;
    const staleAfterMs = this.config.staking.staleAfterSeconds * 1000;
    const [validators, statuses, standbys, targets, incidents, perValidator, staking, figures] =
      await Promise.all([
        this.repos.validators.countByState(),
        this.repos.zones.statuses(),
        this.repos.hosts.standbyLevels(),
        this.repos.standbyPools.effective(this.config.standbyPool, zones),
        this.repos.incidents.openCounts(),
        perValidatorOn ? this.repos.validators.statesForMetrics() : null,
        this.repos.staking.statusCounts(staleAfterMs),
        perValidatorOn ? this.repos.staking.figuresForMetrics(staleAfterMs) : null,
      ]);
    const incidentsByKind = new Map<string, number>();
    for (const i of incidents)
      incidentsByKind.set(i.kind, (incidentsByKind.get(i.kind) ?? 0) + i.n);
    return {
      validators,
      // Configured zones only; one the sweep has never judged is `unknown`.
      zones: new Map(zones.map((z) => [z, statuses.get(z)?.status ?? 'unknown'])),
      standbys,
      targets,
      incidents: [...incidentsByKind].map(([kind, n]) => ({ kind, n })),
      perValidator,
      staking: { counts: staking, perValidator: figures },
    };
  }

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const snapshot = () => this.snapshot();
    new Gauge({
      name: 'snowline_validators',
      help: 'Validators by state',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (!s) return;
        for (const state of VALIDATOR_STATES) this.set({ state }, 0);
        for (const v of s.validators) this.set({ state: v.state }, v.n);
      },
    });
    new Gauge({
      name: 'snowline_zones',
      help: 'Configured zones by status (unknown: never judged by the health sweep)',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (!s) return;
        for (const status of ZONE_STATUSES) this.set({ status }, 0);
        for (const status of s.zones.values()) this.inc({ status });
      },
    });
    new Gauge({
      name: 'snowline_zone_status',
      help: 'Status of each configured zone: 1 for its current status, 0 for the others',
      labelNames: ['zone', 'status'] as const,
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (!s) return;
        for (const [zone, current] of s.zones)
          for (const status of ZONE_STATUSES)
            this.set({ zone, status }, status === current ? 1 : 0);
      },
    });
    // Level and target share their (network, zone) pairs, so `level < target` matches one to one.
    const pools = (s: FleetSnapshot) => {
      const out = new Map<
        string,
        { network: string; zone: string; usable: number; ready: number; target: number }
      >();
      for (const [network, byZone] of s.targets)
        for (const [zone, target] of byZone)
          out.set(`${network}/${zone}`, { network, zone, usable: 0, ready: 0, target });
      for (const h of s.standbys) {
        const key = `${h.network}/${h.zone}`;
        const p = out.get(key) ?? {
          network: h.network,
          zone: h.zone,
          usable: 0,
          ready: 0,
          target: 0,
        };
        out.set(key, { ...p, usable: h.usable, ready: h.ready });
      }
      return [...out.values()];
    };
    const pool = (name: string, help: string, pick: 'usable' | 'ready' | 'target') =>
      new Gauge({
        name,
        help,
        labelNames: ['network', 'zone'] as const,
        registers,
        async collect() {
          this.reset();
          const s = await snapshot();
          if (!s) return;
          for (const p of pools(s)) this.set({ network: p.network, zone: p.zone }, p[pick]);
        },
      });
    pool(
      'snowline_standby_pool_hosts',
      'Usable standbys per pool (live, not fenced, not unhealthy; launching ones included)',
      'usable',
    );
    pool(
      'snowline_standby_pool_ready',
      'Standbys a failover may claim now (healthy, node bootstrapped) per pool',
      'ready',
    );
    pool(
      'snowline_standby_pool_target',
      'Standbys each pool should keep (the operator setting, else STANDBY_POOL)',
      'target',
    );
    new Gauge({
      name: 'snowline_incidents_open',
      help: 'Open incidents by kind',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (!s) return;
        for (const kind of INCIDENT_KINDS) this.set({ kind }, 0);
        for (const i of s.incidents) this.set({ kind: i.kind }, i.n);
      },
    });
    registerStakingGauges(
      registers,
      async () => (await snapshot())?.staking ?? null,
      this.config.metrics.perValidator,
    );
    if (this.config.metrics.perValidator)
      new Gauge({
        name: 'snowline_validator_state',
        help: 'Each validator not retired: 1, labelled with its state and zone (METRICS_PER_VALIDATOR)',
        labelNames: ['validator', 'state', 'zone'] as const,
        registers,
        async collect() {
          this.reset();
          const s = await snapshot();
          for (const v of s?.perValidator ?? [])
            this.set({ validator: v.id, state: v.state, zone: v.zone ?? '' }, 1);
        },
      });
  }
}
