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
import { standbyPoolTargets, type Network, type StandbyPoolTarget } from '@snowline/domain';
import { Repositories } from '@snowline/persistence';
import { LifecycleQueue, PermanentError, RetryableError } from '@snowline/queue';
import { ProvisionService } from '../lifecycle/provision.service';

/** One pool in one zone: standbys of a network and version whose nodes track an L1 (or none). */
interface Pool {
  network: string;
  zone: string;
  version: string | null;
  subnetId: string | null;
}

const poolLabel = (p: Pool) =>
  `${p.network}${p.version ? `, ${p.version}` : ''}${p.subnetId ? `, L1 ${p.subnetId}` : ''}`;

/**
 * Warm standbys: per zone, network and L1, a few instances run a synced node under a throwaway identity,
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
   * The pools each network keeps (standbyPoolTargets): one per L1 its live validators validate —
   * standbys whose nodes already track that L1 — and the primary network's, each holding every
   * version one of its validators runs or asks for (so a failover never silently changes a
   * validator's version or L1, and a rollout finds standbys on its target before any validator
   * moves), else the network's fleet default.
   */
  private async pools(networks: string[]): Promise<StandbyPoolTarget[]> {
    const vs = await this.repos.rollouts.poolDemand();
    return standbyPoolTargets(
      networks,
      vs,
      (network) => this.config.avalanchego.defaultVersion[network as Network] ?? null,
    );
  }

  /**
   * Creates the host rows the pools lack (Postgres first), then enqueues their launches; deletes the
   * surplus idle standbys of a pool that was made smaller, of a version nobody runs any more, or of
   * an L1 no validator validates any more. Each pool (network, L1, version) keeps the network's
   * per-zone size. Where the cloud signs instance identity documents, the standbys a pool lacks
   * launch together: one batch (one RunInstances with Amount, ≤ LAUNCH_BATCH_MAX) per zone and pool,
   * as validators requested together do — so a zone's loss, which empties the others' pools at once,
   * is refilled in a few calls, not one per standby.
   */
  async refill(openZones: string[]): Promise<number> {
    const rows = await this.repos.hosts.standbyCounts();
    const key = (zone: string, network: string, subnet: string | null, version: string | null) =>
      `${zone}/${network}/${subnet ?? ''}/${version ?? ''}`;
    const have = new Map(rows.map((r) => [key(r.zone, r.network, r.subnetId, r.version), r.n]));
    const synced = new Map(
      rows.map((r) => [key(r.zone, r.network, r.subnetId, r.version), r.synced]),
    );
    const jobs: string[] = [];
    let created = 0;
    const sizes = await this.sizes();
    // A network that neither STANDBY_POOL nor the setting names any more keeps 0 standbys.
    for (const r of rows) if (!sizes.has(r.network)) sizes.set(r.network, new Map());
    const pools = await this.pools([...sizes.keys()]);
    for (const [network, byZone] of sizes) {
      const mine = pools.filter((p) => p.network === network);
      const wanted = (subnet: string | null) =>
        mine.find((p) => p.subnetId === subnet)?.versions ?? [];
      // Standbys that are surplus: launched before versions (null), of a version their pool's
      // validators no longer run, or of an L1 (or the primary network) nobody here validates.
      const stale = [
        ...new Map(
          rows
            .filter((r) => r.network === network && !wanted(r.subnetId).includes(r.version ?? ''))
            .map((r) => [`${r.subnetId ?? ''}/${r.version ?? ''}`, r] as const),
        ).values(),
      ];
      for (const zone of openZones) {
        const size = byZone.get(zone) ?? 0;
        // A stale standby goes only once every pool wanted here is synced at full size: the zone is
        // never left without a standby while its replacements boot.
        const replaced = mine.every((p) =>
          p.versions.every((v) => (synced.get(key(zone, network, p.subnetId, v)) ?? 0) >= size),
        );
        for (const r of replaced ? stale : []) {
          const n = have.get(key(zone, network, r.subnetId, r.version)) ?? 0;
          const why = !mine.some((p) => p.subnetId === r.subnetId)
            ? `no validator validates ${r.subnetId ? `L1 ${r.subnetId}` : 'the primary network'} on ${network} any more`
            : `no validator runs or asks for ${r.version ?? 'an unversioned host'}`;
          if (n > 0)
            await this.trim({ network, zone, version: r.version, subnetId: r.subnetId }, n, why);
        }
        for (const pool of mine)
          for (const version of pool.versions) {
            const at = { network, zone, version, subnetId: pool.subnetId };
            const n = have.get(key(zone, network, pool.subnetId, version)) ?? 0;
            if (n > size) await this.trim(at, n - size, 'the pool was made smaller');
            const lack = Math.max(0, size - n);
            if (lack > 1 && this.provision.batching()) {
              jobs.push(...(await this.insertBatches(at, lack)));
            } else {
              for (let i = 0; i < lack; i++) {
                const id = crypto.randomUUID();
                await this.repos.hosts.insert({
                  ...this.standbyRow(id, at),
                  ...this.provision.newBootstrapToken(id),
                });
                jobs.push(id);
              }
            }
            created += lack;
          }
      }
    }
    for (const id of jobs) await this.queue.launchStandby(id).catch(() => undefined);
    if (created)
      this.log.log({ count: created, launches: jobs.length }, 'refilling the standby pool');
    return created;
  }

  private standbyRow(id: string, pool: Pool) {
    return {
      id,
      role: 'standby' as const,
      zone: pool.zone,
      network: pool.network,
      subnetId: pool.subnetId,
      avalanchegoVersion: pool.version,
      instanceType: this.config.cloud.defaultInstanceType,
      clientToken: `sl-${id}`,
      generation: null,
    };
  }

  /**
   * `count` standby rows in batches of ≤ LAUNCH_BATCH_MAX, each batch with its rows in one
   * transaction; returns one host per batch, whose launch-standby job launches the whole batch
   * (the reconciler re-derives a lost one from any member: each launches the same batch).
   */
  private async insertBatches(pool: Pool, count: number): Promise<string[]> {
    const max = this.config.launch.batchMax;
    const firsts: string[] = [];
    for (let done = 0; done < count; done += max) {
      const size = Math.min(max, count - done);
      firsts.push(
        await this.repos.transaction(async (tx) => {
          const batchId = await this.provision.createBatch(
            pool.zone,
            this.config.cloud.defaultInstanceType,
            size,
            tx,
          );
          const ids = Array.from({ length: size }, () => crypto.randomUUID());
          for (const [index, id] of ids.entries())
            await this.repos.hosts.insert(
              {
                ...this.standbyRow(id, pool),
                bootstrapTokenHash: null,
                agentProtocol: 2,
                batchId,
                batchIndex: index,
              },
              tx,
            );
          return ids[0]!;
        }),
      );
    }
    return firsts;
  }

  /**
   * Deletes `count` surplus standbys of one pool: newest and least ready first. Each row is taken
   * under FOR UPDATE SKIP LOCKED and only while still a standby, so a failover claiming one wins.
   */
  private async trim(pool: Pool, count: number, why: string): Promise<void> {
    const { network, zone, version, subnetId } = pool;
    const gone = await this.repos.transaction(async (tx) => {
      const rows = await this.repos.hosts.takeSurplusStandbys(
        network,
        zone,
        count,
        tx,
        version,
        subnetId,
      );
      if (!rows.length) return rows;
      await this.repos.events.appendMany(
        rows.map((r) => ({
          type: 'standby.trimmed',
          message: `Deleted surplus standby ${r.instanceId ?? r.id} (${poolLabel(pool)}) in ${zone}: ${why}`,
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
    if (gone.length)
      this.log.log({ network, subnetId, zone, count: gone.length }, 'trimmed standby pool');
  }

  /**
   * Job `launch-standby`: RunInstances for one standby row (same ClientToken on every retry), or
   * for the whole batch the row belongs to.
   */
  async launch(hostId: string): Promise<void> {
    const host = await this.repos.hosts.findById(hostId);
    if (!host || host.deletedAt || host.instanceId || host.role !== 'standby') return;
    if (host.batchId) return this.provision.launchBatch(host.batchId);
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
        message: `Launched standby ${instanceId} (${host.network}${host.subnetId ? `, tracking L1 ${host.subnetId}` : ''}) in ${host.zone}`,
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
