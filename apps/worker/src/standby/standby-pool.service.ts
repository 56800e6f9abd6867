import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CloudError,
  CloudProvider,
  NoCapacity,
  TAG_HOST,
  TAG_PROJECT,
  TAG_VALIDATOR,
} from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import { Repositories, sha256Hex } from '@snowline/persistence';
import { LifecycleQueue, PermanentError, RetryableError } from '@snowline/queue';
import { ProvisionService } from '../lifecycle/provision.service';

/**
 * Warm standbys: per zone and network, a few instances run a synced node under a throwaway identity,
 * so a failover moves three key files instead of waiting hours for a sync. Kept only in zones open
 * to placement; refilled as failovers consume them.
 */
@Injectable()
export class StandbyPoolService {
  private readonly log = new Logger('standby');

  constructor(
    private readonly repos: Repositories,
    private readonly ds: DataSource,
    private readonly cloud: CloudProvider,
    private readonly queue: LifecycleQueue,
    private readonly provision: ProvisionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates the host rows the pool lacks (Postgres first), then enqueues their launches. */
  async refill(openZones: string[]): Promise<number> {
    const rows = (await this.ds.query(
      `SELECT zone, network, count(*)::int AS n FROM hosts
        WHERE role = 'standby' AND deleted_at IS NULL AND NOT fenced AND health <> 'unhealthy'
        GROUP BY zone, network`,
    )) as { zone: string; network: string; n: number }[];
    const have = new Map(rows.map((r) => [`${r.zone}/${r.network}`, r.n]));
    const created: string[] = [];
    for (const [network, size] of Object.entries(this.config.standbyPool)) {
      for (const zone of openZones) {
        for (let i = have.get(`${zone}/${network}`) ?? 0; i < size; i++) {
          const id = crypto.randomUUID();
          await this.repos.hosts.insert({
            id,
            role: 'standby',
            zone,
            network,
            instanceType: this.config.cloud.defaultInstanceType,
            clientToken: `sl-${id}`,
            generation: null,
            bootstrapTokenHash: sha256Hex(this.provision.bootstrapToken(id)),
          });
          created.push(id);
        }
      }
    }
    for (const id of created) await this.queue.launchStandby(id).catch(() => undefined);
    if (created.length) this.log.log({ count: created.length }, 'refilling the standby pool');
    return created.length;
  }

  /** Job `launch-standby`: RunInstances for one standby row (same ClientToken on every retry). */
  async launch(hostId: string): Promise<void> {
    const host = await this.repos.hosts.findById(hostId);
    if (!host || host.deletedAt || host.instanceId || host.role !== 'standby') return;
    try {
      const instanceId = await this.cloud.launch({
        clientToken: host.clientToken,
        zoneId: host.zone,
        instanceType: host.instanceType,
        userData: JSON.stringify(this.provision.userData(host)),
        tags: { [TAG_PROJECT]: 'snowline', [TAG_VALIDATOR]: 'standby', [TAG_HOST]: host.id },
        name: `snowline-standby-${host.network}-${host.zone}`,
      });
      await this.repos.hosts.update(host.id, { instanceId, cloudStatus: 'Pending' });
      await this.repos.events.append({
        type: 'standby.launched',
        message: `Launched standby ${instanceId} (${host.network}) in ${host.zone}`,
        hostId: host.id,
        zone: host.zone,
      });
    } catch (err) {
      if (err instanceof NoCapacity) {
        await this.repos.hosts.update(host.id, {
          deletedAt: new Date(),
          cloudStatus: 'NotLaunched',
        });
        return;
      }
      if (err instanceof CloudError && err.retryable) throw new RetryableError(err.message);
      if (err instanceof CloudError) throw new PermanentError(`${err.name}: ${err.message}`);
      throw err;
    }
  }
}
