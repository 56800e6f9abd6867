import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { placementOrder } from '@snowline/domain';
import { FailoverEntity, HostEntity, Repositories, ValidatorEntity } from '@snowline/persistence';
import { LifecycleQueue } from '@snowline/queue';

export interface FailoverRequest {
  validatorId: string;
  fromHostId: string;
  reason: string;
  detectedAt: Date;
}

/**
 * Moves a validator's identity off a failed host: in one transaction, bump the generation (which
 * fences the old host: its next renewal is refused, and keys for the new generation are served only
 * once the old lease has run out plus the skew margin, or the old instance is confirmed deleted),
 * and hand the identity to a synced standby in another healthy zone — or, without one, launch anew.
 */
@Injectable()
export class FailoverService {
  private readonly log = new Logger('failover');

  constructor(
    private readonly repos: Repositories,
    private readonly ds: DataSource,
    private readonly queue: LifecycleQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(req: FailoverRequest): Promise<'standby' | 'launch' | null> {
    const blocked = (
      (await this.ds.query(`SELECT id FROM zones WHERE NOT placement_allowed`)) as { id: string }[]
    ).map((z) => z.id);
    const method = await this.repos.transaction(async (tx) => {
      const v = await tx.findOne(ValidatorEntity, {
        where: { id: req.validatorId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!v || v.hostId !== req.fromHostId) return null;
      if (!['active', 'degraded', 'syncing'].includes(v.state)) return null;
      const from = await tx.findOneBy(HostEntity, { id: req.fromHostId });
      const fromZone = from?.zone ?? null;
      const zones = placementOrder({
        configured: this.config.cloud.zones,
        allowed: v.zones,
        blocked: [...blocked, ...(fromZone ? [fromZone] : [])],
      });
      if (!zones.length) {
        // Nowhere to go: every zone it may use is closed to placement (or is the one it is leaving).
        // Fencing it now would only take the identity off a host that may come back; hold, and say so.
        const held = `failover held: no zone it may use is open to placement (${req.reason})`;
        if (v.stateReason !== held)
          await tx.update(ValidatorEntity, { id: v.id }, { stateReason: held });
        return null;
      }
      const generation = v.generation + 1;
      const [standby] = zones.length
        ? ((await tx.query(
            `SELECT id, zone, instance_id FROM hosts
              WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health = 'healthy'
                AND network = $1 AND zone = ANY($2) AND instance_id IS NOT NULL
                AND (last_report->>'bootstrapped')::boolean IS TRUE
              ORDER BY array_position($2, zone), created_at
              LIMIT 1 FOR UPDATE SKIP LOCKED`,
            [v.network, zones],
          )) as { id: string; zone: string; instance_id: string }[])
        : [];
      const base = {
        generation,
        state: 'failing_over' as const,
        stateReason: `moving off ${from?.instanceId ?? 'its host'} in ${fromZone ?? '?'}: ${req.reason}`,
      };
      if (standby) {
        await tx.update(
          HostEntity,
          { id: standby.id },
          {
            role: 'assigned',
            validatorId: v.id,
            projectId: v.projectId,
            generation,
            keysFetchedGeneration: null,
          },
        );
        await tx.update(
          ValidatorEntity,
          { id: v.id },
          { ...base, hostId: standby.id, zone: standby.zone, instanceId: standby.instance_id },
        );
      } else {
        await tx.update(
          ValidatorEntity,
          { id: v.id },
          { ...base, hostId: null, zone: null, instanceId: null },
        );
      }
      const method = standby ? ('standby' as const) : ('launch' as const);
      await tx.save(
        FailoverEntity,
        tx.create(FailoverEntity, {
          validatorId: v.id,
          projectId: v.projectId,
          fromHostId: req.fromHostId,
          toHostId: standby?.id ?? null,
          fromZone,
          toZone: standby?.zone ?? null,
          generation,
          reason: req.reason,
          method,
          status: 'running',
          startedAt: new Date(),
          detectedAt: req.detectedAt,
        }),
      );
      await this.repos.events.append(
        {
          type: 'failover.started',
          message: standby
            ? `Moving ${v.name} (${v.nodeId}) from ${fromZone} to a synced standby ${standby.instance_id} in ${standby.zone}: ${req.reason}`
            : `Moving ${v.name} (${v.nodeId}) off ${fromZone}: no synced standby available, launching a new instance (slower): ${req.reason}`,
          projectId: v.projectId,
          validatorId: v.id,
          hostId: req.fromHostId,
          zone: fromZone,
          data: { generation, method, toZone: standby?.zone ?? null, fromZone },
        },
        tx,
      );
      return method;
    });
    if (method === 'launch') await this.queue.provision(req.validatorId, 1).catch(() => undefined);
    if (method) this.log.log({ validatorId: req.validatorId, method }, 'failover started');
    return method;
  }
}
