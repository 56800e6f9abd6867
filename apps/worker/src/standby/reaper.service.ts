import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CloudProvider, TAG_HOST } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories } from '@snowline/persistence';

interface Doomed {
  id: string;
  instance_id: string;
  zone: string;
  project_id: string | null;
  validator_id: string | null;
  why: string;
}

/**
 * Deletes instances nobody should run any more: hosts whose generation the validator moved past
 * (fenced by the failover), and standbys that stayed unhealthy. In a dark zone the cloud refuses
 * the delete; we try again every sweep, and the zone's return finds those hosts fenced, then gone.
 */
@Injectable()
export class ReaperService {
  private readonly log = new Logger('reaper');

  constructor(
    private readonly repos: Repositories,
    private readonly ds: DataSource,
    private readonly cloud: CloudProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Orphans: instances tagged by Snowline that no live host row owns. A row that launched but never
   * recorded its instance id (a crash between RunInstances and the commit) adopts it; one whose row
   * we retired is deleted again — it may hold keys nobody fences.
   */
  async orphans(): Promise<{ adopted: number; deleted: number }> {
    const tagged = await this.cloud.listByTag(TAG_HOST);
    if (!tagged.length) return { adopted: 0, deleted: 0 };
    const rows = (await this.ds.query(
      `SELECT id, instance_id, deleted_at FROM hosts WHERE id = ANY($1::uuid[]) OR instance_id = ANY($2)`,
      [
        tagged
          .map((t) => t.tags[TAG_HOST])
          .filter((h): h is string => /^[0-9a-f-]{36}$/i.test(h ?? '')),
        tagged.map((t) => t.instanceId),
      ],
    )) as { id: string; instance_id: string | null; deleted_at: Date | null }[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const known = new Set(rows.filter((r) => !r.deleted_at).map((r) => r.instance_id));
    let adopted = 0;
    const doomed: string[] = [];
    for (const inst of tagged) {
      if (known.has(inst.instanceId)) continue;
      const row = byId.get(inst.tags[TAG_HOST] ?? '');
      if (row && !row.deleted_at && !row.instance_id) {
        await this.ds.query(
          `UPDATE hosts SET instance_id = $2, updated_at = now() WHERE id = $1 AND instance_id IS NULL`,
          [row.id, inst.instanceId],
        );
        await this.repos.events.append({
          type: 'host.adopted',
          message: `Adopted orphan instance ${inst.instanceId} for host ${row.id}`,
          hostId: row.id,
          zone: inst.zoneId,
        });
        adopted++;
      } else if (row?.deleted_at && (inst.status === 'Running' || inst.status === 'Stopped')) {
        // Ours and retired, yet still there. A host id we never issued may belong to another
        // Snowline installation in the same account: never touch it.
        doomed.push(inst.instanceId);
      }
    }
    if (doomed.length) {
      await this.cloud
        .delete(doomed)
        .catch((err: Error) => this.log.debug({ err: err.message }, 'orphan delete refused'));
      await this.repos.events.appendMany(
        doomed.map((id) => ({
          type: 'host.orphan_deleted',
          message: `Deleted orphan instance ${id} (no live host owns it)`,
        })),
      );
    }
    return { adopted, deleted: doomed.length };
  }

  async run(): Promise<number> {
    const doomed = (await this.ds.query(
      `SELECT h.id, h.instance_id, h.zone, h.project_id, h.validator_id,
              'superseded by generation ' || v.generation AS why
         FROM hosts h JOIN validators v ON v.id = h.validator_id
        WHERE h.deleted_at IS NULL AND h.instance_id IS NOT NULL AND h.role = 'assigned'
          AND h.generation < v.generation
          -- A delete returns before the guest is off: delete a former holder only once its stop is
          -- confirmed or its lease has run out (plus the skew margin), so "gone" stays a proof.
          AND (h.stop_confirmed_at IS NOT NULL OR h.lease_expires_at IS NULL
               OR h.lease_expires_at < now() - make_interval(secs => $1))
       UNION ALL
       SELECT id, instance_id, zone, NULL, NULL, 'standby unhealthy: ' || coalesce(health_reason, '')
         FROM hosts
        WHERE deleted_at IS NULL AND instance_id IS NOT NULL AND role = 'standby'
          AND health = 'unhealthy' AND health_since < now() - interval '60 seconds'
       LIMIT 500`,
      [this.config.agent.skewMarginSeconds],
    )) as Doomed[];
    const byZone = new Map<string, Doomed[]>();
    for (const d of doomed) byZone.set(d.zone, [...(byZone.get(d.zone) ?? []), d]);
    let reaped = 0;
    for (const [zone, hosts] of byZone) {
      try {
        await this.cloud.delete(hosts.map((h) => h.instance_id));
      } catch (err) {
        this.log.debug({ zone, err: (err as Error).message }, 'delete refused; will retry');
        continue;
      }
      await this.repos.transaction(async (tx) => {
        await tx.query(
          `UPDATE hosts SET deleted_at = now(), fenced = true, cloud_status = 'Deleted', updated_at = now()
            WHERE id = ANY($1)`,
          [hosts.map((h) => h.id)],
        );
        for (const h of hosts) {
          await this.repos.events.append(
            {
              type: 'host.reaped',
              message: `Deleted ${h.instance_id} in ${zone} (${h.why})`,
              projectId: h.project_id,
              validatorId: h.validator_id,
              hostId: h.id,
              zone,
            },
            tx,
          );
        }
      });
      reaped += hosts.length;
    }
    if (reaped) this.log.log({ reaped }, 'reaped stale hosts');
    return reaped;
  }
}
