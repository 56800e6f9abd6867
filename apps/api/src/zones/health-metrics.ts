import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge, Histogram } from 'prom-client';
import { Repositories } from '@snowline/persistence';
import { MetricsService } from '../metrics/metrics.service';

interface SweepStats {
  hosts: number;
  cloudCalls: number;
  durationMs: number;
  verdicts: Record<string, number>;
  suspectSelf: boolean;
}

/**
 * Health-loop metrics. The sweeper (in the worker) writes its last figures to `control_loops`; they
 * are read at scrape time, so any API replica can serve them. Failover durations are observed here,
 * where a failover completes (the agent's report that the node runs healthy on its new host).
 */
@Injectable()
export class HealthMetrics implements OnModuleInit {
  readonly failoverDuration: Histogram<'method'>;

  constructor(
    private readonly metrics: MetricsService,
    private readonly repos: Repositories,
  ) {
    const registers = [metrics.registry];
    this.failoverDuration = new Histogram({
      name: 'snowline_failover_duration_seconds',
      help: 'From the first unhealthy verdict to the validator running healthy on its new host',
      labelNames: ['method'] as const,
      buckets: [5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 300, 900],
      registers,
    });
  }

  onModuleInit(): void {
    // One read per scrape, shared by every gauge (prom-client collects them concurrently).
    let pending: Promise<{ stats: SweepStats; updatedAt: Date } | null> | null = null;
    const snapshot = () =>
      (pending ??= this.repos.controlLoops
        .last<SweepStats>('sweeper')
        .finally(() => setTimeout(() => (pending = null), 0)));
    const registers = [this.metrics.registry];
    // No sweep yet: NaN, never a made-up 0.
    const gauge = (name: string, help: string, value: (s: SweepStats, at: Date) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const last = await snapshot();
          this.set(last ? value(last.stats, new Date(last.updatedAt)) : NaN);
        },
      });
    gauge(
      'snowline_sweep_duration_seconds',
      'Duration of the last health sweep',
      (s) => s.durationMs / 1000,
    );
    gauge(
      'snowline_sweep_age_seconds',
      'Seconds since the last health sweep finished',
      (_s, at) => (Date.now() - at.getTime()) / 1000,
    );
    gauge(
      'snowline_sweep_cloud_calls',
      'Cloud API calls made by the last health sweep',
      (s) => s.cloudCalls,
    );
    gauge(
      'snowline_control_plane_suspect',
      '1 while every zone looks down and remediation is paused',
      (s) => (s.suspectSelf ? 1 : 0),
    );
    new Gauge({
      name: 'snowline_sweep_hosts',
      help: 'Hosts by verdict in the last health sweep',
      labelNames: ['verdict'] as const,
      registers,
      async collect() {
        const last = await snapshot();
        if (!last) return;
        for (const [verdict, n] of Object.entries(last.stats.verdicts)) this.set({ verdict }, n);
      },
    });
  }
}
