import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CloudError,
  CloudProvider,
  NoCapacity,
  TAG_HOST,
  TAG_PROJECT,
  TAG_VALIDATOR,
} from '@snowline/cloud';
import { APP_CONFIG, type AppConfig } from '@snowline/config';
import type { Network } from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { LifecycleQueue, PermanentError, RetryableError } from '@snowline/queue';
import { ProvisionService } from '../lifecycle/provision.service';

/**
 * Warm standbys: per zone and network, a few instances run a synced node under a throwaway identity,
 * so a failover moves three key files instead of waiting hours for a sync. Kept only in zones open
 * to placement; refilled as failovers consume them. The size per (network, zone) is the admin
 * setting (`PUT /v1/standby-pools`, snowline.yaml `standby_pools`) where there is one, else the
 * STANDBY_POOL default.
 */
@Injectable()
export class StandbyPoolService {
  private readonly log = new Logger('standby');

  constructor(
    private readonly repos: Repositories,
    private readonly cloud: CloudProvider,
    private readonly queue: LifecycleQueue,
    private readonly provision: ProvisionService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The size to keep per network and zone (all configured zones). */
  sizes(): Promise<Map<string, Map<string, number>>> {
    return this.repos.standbyPools.effective(this.config.standbyPool, this.config.cloud.zones);
  }

  /**
   * Creates the host rows the pool lacks (Postgres first), then enqueues their launches; deletes the
   * surplus idle standbys of a pool that was made smaller.
   */
  async refill(openZones: string[]): Promise<number> {
    const rows = await this.repos.hosts.standbyCounts();
    const have = new Map(rows.map((r) => [`${r.zone}/${r.network}`, r.n]));
    const created: string[] = [];
    const sizes = await this.sizes();
    // A network that neither STANDBY_POOL nor the setting names any more keeps 0 standbys.
    for (const r of rows) if (!sizes.has(r.network)) sizes.set(r.network, new Map());
    for (const [network, byZone] of sizes) {
      for (const zone of openZones) {
        const size = byZone.get(zone) ?? 0;
        const n = have.get(`${zone}/${network}`) ?? 0;
        if (n > size) await this.trim(network, zone, n - size);
        for (let i = n; i < size; i++) {
          const id = crypto.randomUUID();
          await this.repos.hosts.insert({
            id,
            role: 'standby',
            zone,
            network,
            // A standby runs its network's fleet default (per-version pools are the rollout's).
            avalanchegoVersion: this.config.avalanchego.defaultVersion[network as Network],
            instanceType: this.config.cloud.defaultInstanceType,
            clientToken: `sl-${id}`,
            generation: null,
            ...this.provision.newBootstrapToken(id),
          });
          created.push(id);
        }
      }
    }
    for (const id of created) await this.queue.launchStandby(id).catch(() => undefined);
    if (created.length) this.log.log({ count: created.length }, 'refilling the standby pool');
    return created.length;
  }

  /**
   * Deletes `count` surplus standbys of one pool: newest and least ready first. Each row is taken
   * under FOR UPDATE SKIP LOCKED and only while still a standby, so a failover claiming one wins.
   */
  private async trim(network: string, zone: string, count: number): Promise<void> {
    const gone = await this.repos.transaction(async (tx) => {
      const rows = await this.repos.hosts.takeSurplusStandbys(network, zone, count, tx);
      if (!rows.length) return rows;
      await this.repos.events.appendMany(
        rows.map((r) => ({
          type: 'standby.trimmed',
          message: `Deleted surplus standby ${r.instanceId ?? r.id} (${network}) in ${zone}: the pool was made smaller`,
          hostId: r.id,
          zone,
        })),
        tx,
      );
      return rows;
    });
    const instances = gone.map((r) => r.instanceId).filter((x): x is string => !!x);
    // A refused delete is not lost: the reaper deletes tagged instances whose host row is gone.
    if (instances.length)
      await this.cloud
        .delete(instances)
        .catch((err: Error) => this.log.debug({ err: err.message }, 'standby delete refused'));
    if (gone.length) this.log.log({ network, zone, count: gone.length }, 'trimmed standby pool');
  }

  /** Job `launch-standby`: RunInstances for one standby row (same ClientToken on every retry). */
  async launch(hostId: string): Promise<void> {
    const host = await this.repos.hosts.findById(hostId);
    if (!host || host.deletedAt || host.instanceId || host.role !== 'standby') return;
    try {
      await this.provision.armBootstrapToken(host);
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
