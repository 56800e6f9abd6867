import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AGENT_PATHS } from '@snowline/agent';

/** Prometheus metrics, all named `snowline_*`, in a registry of this app (tests start several apps). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'snowline_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly sseClients = new Gauge({
    name: 'snowline_sse_clients',
    help: 'Connected SSE event-stream clients',
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'snowline_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly idempotentReplays = new Counter({
    name: 'snowline_idempotent_replays_total',
    help: 'Responses replayed for a repeated Idempotency-Key',
    registers: [this.registry],
  });

  readonly leaseRenewal = new Histogram({
    name: 'snowline_agent_lease_renewal_duration_seconds',
    help: 'Agent lease renewals (POST /v1/agent/lease) as the API served them, by status code',
    labelNames: ['status'] as const,
    buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'snowline_' });
    // Gauges named *_total break the naming rules (promtool); sum() of the per-type gauge is the total.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
      this.registry.removeSingleMetric(`snowline_nodejs_${name}`);
  }

  /** One served lease renewal (the middleware below times every `POST /v1/agent/lease`). */
  observeLeaseRenewal(seconds: number, status = 200): void {
    this.leaseRenewal.observe({ status: String(status) }, seconds);
  }

  /** Express middleware: times every request, labelled by its route pattern (never the raw URL). */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const end = this.httpDuration.startTimer();
    const lease = req.method === 'POST' && req.path === AGENT_PATHS.lease;
    res.once('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const seconds = end({
        method: req.method,
        // A renewal answered on the fast path (before the router) has no route object.
        route: route ? `${req.baseUrl}${route}` : lease ? AGENT_PATHS.lease : 'unmatched',
        status: String(res.statusCode),
      });
      if (lease) this.observeLeaseRenewal(seconds, res.statusCode);
    });
    next();
  };
}
