import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CloudProvider,
  TAG_BATCH,
  TAG_HOST,
  TAG_PROJECT,
  type CloudInstance,
} from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories, type ReapableHost } from '@snowline/persistence';

/**
 * Deletes instances nobody should run any more: hosts whose generation the validator moved past
 * (fenced by the failover), and standbys that stayed unhealthy. In a dark zone the cloud refuses
 * the delete; we try again every sweep, and the zone's return finds those hosts fenced, then gone.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class ReaperService {
  private readonly log = new Logger('reaper');

  constructor(
    private readonly repos: Repositories,
    private readonly cloud: CloudProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Orphans of single launches (tagged with their host) and of batch launches (with their batch). */
  async orphans(): Promise<{ adopted: number; deleted: number }> {
    const single = await this.hostOrphans();
    const batched = await this.batchOrphans();
    return { adopted: single.adopted + batched.adopted, deleted: single.deleted + batched.deleted };
  }

  /**
   * Instances tagged with a host that no live host row owns. A row that launched but never
   * recorded its instance id (a crash between RunInstances and the commit) adopts it; one whose row
   * we retired is deleted again — it may hold keys nobody fences.
   */
  private async hostOrphans(): Promise<{ adopted: number; deleted: number }> {
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

  /**
   * Instances of batch launches (tagged with their batch, not a host: one call tags them all alike)
   * that no live host row owns:
   * - a batch whose answer was never stored (a crash between RunInstances and its commit, a lost
   *   answer) while members still wait for it: once the cloud lists all of its instances they are
   *   recorded on it (and so on its members, whose agents can then register); the first answer
   *   stored wins, so a provision job replaying the call agrees with it;
   * - an instance of a batch none of whose live members holds it — its member retired or re-planned
   *   before the batch launched, or the whole batch abandoned — is deleted: it may hold keys
   *   nobody fences. A batch id this installation never issued is left alone (another Snowline in
   *   the account), unless its project tag names one of our projects (its row aged out).
   */
  private async batchOrphans(): Promise<{ adopted: number; deleted: number }> {
    const tagged = (await this.cloud.listByTag(TAG_BATCH)).filter((t) =>
      UUID.test(t.tags[TAG_BATCH] ?? ''),
    );
    if (!tagged.length) return { adopted: 0, deleted: 0 };
    const owners = await this.repos.hosts.ownersOf(
      [],
      tagged.map((t) => t.instanceId),
    );
    const known = new Set(owners.filter((r) => !r.deletedAt).map((r) => r.instanceId));
    const byBatch = new Map<string, CloudInstance[]>();
    for (const t of tagged) {
      const id = t.tags[TAG_BATCH]!.toLowerCase();
      byBatch.set(id, [...(byBatch.get(id) ?? []), t]);
    }
    const batches = new Map(
      (await this.repos.batches.findByIds([...byBatch.keys()])).map((b) => [b.id, b]),
    );
    const ours = new Set(
      await this.repos.projects.existingIds(tagged.map((t) => t.tags[TAG_PROJECT] ?? '')),
    );
    let adopted = 0;
    const doomed: { instance: CloudInstance; batchId: string }[] = [];
    for (const [batchId, instances] of byBatch) {
      const batch = batches.get(batchId);
      if (batch && !batch.instanceIds) {
        const members = await this.repos.hosts.inBatch(batchId);
        if (members.length) {
          if (instances.length === batch.size) {
            const ids = instances.map((i) => i.instanceId).sort();
            const stored = await this.repos.batches.recordInstances(batchId, ids);
            if (stored.recorded) {
              await this.repos.events.appendMany(
                members.map((h) => ({
                  type: 'host.adopted',
                  message: `Adopted orphan instance ${stored.instanceIds[h.batchIndex!]} for host ${h.id} (launch batch ${batchId}, whose answer was never stored)`,
                  projectId: h.projectId,
                  validatorId: h.validatorId,
                  hostId: h.id,
                  zone: batch.zone,
                })),
              );
              adopted += members.length;
            }
          }
          continue; // its members wait for these instances (or for the rest of them)
        }
      }
      if (!batch && !instances.every((i) => ours.has(i.tags[TAG_PROJECT] ?? ''))) continue;
      for (const instance of instances)
        if (
          !known.has(instance.instanceId) &&
          (instance.status === 'Running' || instance.status === 'Stopped')
        )
          doomed.push({ instance, batchId });
    }
    if (doomed.length) {
      await this.cloud
        .delete(doomed.map((d) => d.instance.instanceId))
        .catch((err: Error) => this.log.debug({ err: err.message }, 'orphan delete refused'));
      await this.repos.events.appendMany(
        doomed.map((d) => ({
          type: 'host.orphan_deleted',
          message: `Deleted orphan instance ${d.instance.instanceId} of launch batch ${d.batchId} (no live host owns it)`,
          zone: d.instance.zoneId,
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
