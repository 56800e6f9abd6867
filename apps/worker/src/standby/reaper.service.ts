import { Inject, Injectable, Logger } from '@nestjs/common';
import { CloudProvider, TAG_HOST } from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories, type ReapableHost } from '@snowline/persistence';

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
    const rows = await this.repos.hosts.ownersOf(
      tagged
        .map((t) => t.tags[TAG_HOST])
        .filter((h): h is string => /^[0-9a-f-]{36}$/i.test(h ?? '')),
      tagged.map((t) => t.instanceId),
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const known = new Set(rows.filter((r) => !r.deletedAt).map((r) => r.instanceId));
    let adopted = 0;
    const doomed: string[] = [];
    for (const inst of tagged) {
      if (known.has(inst.instanceId)) continue;
      const row = byId.get(inst.tags[TAG_HOST] ?? '');
      if (row && !row.deletedAt && !row.instanceId) {
        await this.repos.hosts.adoptInstance(row.id, inst.instanceId);
        await this.repos.events.append({
          type: 'host.adopted',
          message: `Adopted orphan instance ${inst.instanceId} for host ${row.id}`,
          hostId: row.id,
          zone: inst.zoneId,
        });
        adopted++;
      } else if (row?.deletedAt && (inst.status === 'Running' || inst.status === 'Stopped')) {
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
    const doomed = await this.repos.hosts.reapable(this.config.agent.skewMarginSeconds);
    const byZone = new Map<string, ReapableHost[]>();
    for (const d of doomed) byZone.set(d.zone, [...(byZone.get(d.zone) ?? []), d]);
    let reaped = 0;
    for (const [zone, hosts] of byZone) {
      try {
        await this.cloud.delete(hosts.map((h) => h.instanceId));
      } catch (err) {
        this.log.debug({ zone, err: (err as Error).message }, 'delete refused; will retry');
        continue;
      }
      await this.repos.transaction(async (tx) => {
        await this.repos.hosts.markReaped(
          hosts.map((h) => h.id),
          tx,
        );
        for (const h of hosts) {
          await this.repos.events.append(
            {
              type: 'host.reaped',
              message: `Deleted ${h.instanceId} in ${zone} (${h.why})`,
              projectId: h.projectId,
              validatorId: h.validatorId,
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
