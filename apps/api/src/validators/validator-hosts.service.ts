import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { hostChecks, type HostCheck, type HostCheckName } from '@snowline/domain';
import {
  decodeCursor,
  encodeCursor,
  HostHistoryRepository,
  type HostHistoryRow,
  type HostHistoryValidator,
} from '@snowline/persistence';
import { badRequest, notFound } from '../common/problem';

export type HostTenure = 'current' | 'starting' | 'replaced' | 'retired' | 'ended';

const CHECK_LABELS: Record<HostCheckName, string> = {
  verdict: 'Health verdict',
  cloud: 'Cloud instance',
  lease: 'Lease',
  node_running: 'Node running',
  node_healthy: 'Node healthy',
  node_bootstrapped: 'Bootstrapped',
};

const iso = (d: Date | null) => d?.toISOString() ?? null;
const ageSeconds = (at: number | null, now: number) =>
  at === null ? null : Math.max(0, Math.round((now - at) / 1000));

/** How a host's tenure stands or ended, and why when the record says so (null: unknown). */
export function tenure(
  h: HostHistoryRow,
  v: HostHistoryValidator,
): { status: HostTenure; endedAt: Date | null; endReason: string | null } {
  if (h.id === v.hostId) return { status: 'current', endedAt: null, endReason: null };
  if (h.failoverAway) {
    const to = h.failoverAway.toZone ? ` to ${h.failoverAway.toZone}` : '';
    return {
      status: 'replaced',
      endedAt: h.failoverAway.at,
      endReason: `failed over${to}: ${h.failoverAway.reason}`,
    };
  }
  if (v.state === 'retiring' || v.state === 'retired') {
    return {
      status: 'retired',
      endedAt: h.deletedAt ?? v.retiredAt,
      endReason: 'the validator was retired',
    };
  }
  const live = !h.deletedAt && !h.fenced;
  if (
    live &&
    v.hostId === null &&
    h.generation === v.generation &&
    (v.state === 'provisioning' || v.state === 'failing_over')
  ) {
    return { status: 'starting', endedAt: null, endReason: null };
  }
  const superseded =
    h.generation !== null && h.generation < v.generation
      ? `superseded by generation ${v.generation}`
      : null;
  return {
    status: 'ended',
    endedAt: h.deletedAt ?? h.endEvent?.at ?? null,
    endReason: h.endEvent?.message ?? superseded,
  };
}

function checkView(c: HostCheck, now: number) {
  return {
    name: c.name,
    label: CHECK_LABELS[c.name],
    status: c.status,
    value: c.value,
    lastKnown: c.lastKnown,
    observedAt: c.observedAt === null ? null : new Date(c.observedAt).toISOString(),
    ageSeconds: ageSeconds(c.observedAt, now),
    staleAfterSeconds: c.staleAfterMs === null ? null : Math.round(c.staleAfterMs / 1000),
    detail: c.detail,
  };
}

function hostView(h: HostHistoryRow, v: HostHistoryValidator) {
  const t = tenure(h, v);
  return {
    id: h.id,
    zone: h.zone,
    instanceId: h.instanceId,
    instanceType: h.instanceType,
    role: h.role,
    generation: h.generation,
    status: t.status,
    launchedAt: h.createdAt.toISOString(),
    startedAt: h.assignedAt.toISOString(),
    registeredAt: iso(h.registeredAt),
    endedAt: iso(t.endedAt),
    endReason: t.endReason,
    deletedAt: iso(h.deletedAt),
    // Its tenure ended but its instance is not deleted yet (the reaper's work, e.g. a zone the
    // cloud cannot reach): it may still cost money, and Snowline still owes its deletion.
    deletionPending:
      !!h.instanceId && !h.deletedAt && t.status !== 'current' && t.status !== 'starting',
    fenced: h.fenced,
    // The verdict's age (since it last changed) and the last report's own time, kept apart.
    lastVerdict: {
      state: h.health,
      reason: h.healthReason,
      since: iso(h.healthSince),
    },
    lastReportAt: iso(h.lastReportAt),
    // What it was launched to run, and what its agent said it runs at lastReportAt (null: unknown).
    version: h.version,
    runningVersion: h.runningVersion,
  };
}

/** A validator's host history and the current health checks of the host it runs on. */
@Injectable()
export class ValidatorHostsService {
  constructor(
    private readonly repo: HostHistoryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(projectId: string, id: string, q: { limit: number; cursor?: string }) {
    const cursor = q.cursor ? decodeCursor(q.cursor) : null;
    if (q.cursor && !cursor)
      throw badRequest('cursor: not a cursor this API returned; drop it to start over.');
    const v = await this.repo.validator(projectId, id);
    if (!v) throw notFound('Validator', id);
    const [rows, sweep] = await Promise.all([
      this.repo.hosts(v.id, {
        limit: q.limit,
        cursor: cursor && { startedAt: cursor.createdAt, id: cursor.id },
      }),
      this.repo.lastSweep(),
    ]);
    const current = v.hostId
      ? (rows.find((r) => r.id === v.hostId) ?? (await this.repo.host(v.id, v.hostId)))
      : null;
    const now = Date.now();
    const last = rows[rows.length - 1];
    return {
      validatorId: v.id,
      state: v.state,
      generation: v.generation,
      currentHostId: v.hostId,
      checkedAt: new Date(now).toISOString(),
      health: current
        ? {
            hostId: current.id,
            zone: current.zone,
            instanceId: current.instanceId,
            checks: hostChecks(
              {
                health: current.health,
                healthReason: current.healthReason,
                healthSince: current.healthSince?.getTime() ?? null,
                cloudStatus: current.cloudStatus,
                cloudHealth: current.cloudHealth,
                cloudObservedAt: current.cloudObservedAt?.getTime() ?? null,
                leaseExpiresAt: current.leaseExpiresAt?.getTime() ?? null,
                lastReportAt: current.lastReportAt?.getTime() ?? null,
                lastReport: current.lastReport,
              },
              // A record that does not say whether the cloud calls answered proves nothing about them.
              sweep
                ? { at: sweep.at.getTime(), cloudComplete: sweep.cloudComplete === true }
                : null,
              now,
              {
                sweepIntervalMs: this.config.health.sweepIntervalSeconds * 1000,
                renewIntervalMs: this.config.agent.renewSeconds * 1000,
              },
            ).map((c) => checkView(c, now)),
          }
        : null,
      items: rows.map((h) => hostView(h, v)),
      nextCursor: rows.length === q.limit && last ? encodeCursor(last.assignedAt, last.id) : null,
    };
  }
}
export type ValidatorHostsView = Awaited<ReturnType<ValidatorHostsService['list']>>;
