import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { CloudProvider, InstanceFullStatus } from '@snowline/cloud';
import type { AppConfig } from '@snowline/config';
import { HostEntity, Repositories } from '@snowline/persistence';
import type {
  JudgedHost,
  RemediationService,
} from '../../apps/worker/src/failover/remediation.service';
import { SweeperService } from '../../apps/worker/src/health/sweeper.service';
import { migratedDatabase } from '../support/db';

/**
 * Health detection against Postgres: one sweep observes the cloud (a fake of our CloudProvider
 * port), records verdicts, cloud-confirmed stops, zones and incidents and its own figures, then
 * hands that sweep's verdicts to remediation (a fake that records them) — and nothing else.
 */
describe(SweeperService.name, () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let sweeper: SweeperService;
  const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];
  /** Instances the fake cloud no longer knows; `down` makes every status call fail. */
  const gone = new Set<string>();
  let down = false;
  let handed: { verdicts: JudgedHost[]; suspectSelf: boolean }[] = [];

  beforeAll(async () => {
    let config: AppConfig;
    ({ db, ds, config } = await migratedDatabase('health-detection'));
    repos = new Repositories(ds);
    const cloud = {
      fullStatus: (ids: string[]): Promise<InstanceFullStatus[]> =>
        down
          ? Promise.reject(new Error('ECS unreachable'))
          : Promise.resolve(
              ids
                .filter((id) => !gone.has(id))
                .map((instanceId) => ({ instanceId, status: 'Running', health: 'OK', events: [] })),
            ),
    } as unknown as CloudProvider;
    const remediation = {
      remediate: (verdicts: JudgedHost[], suspectSelf: boolean) => {
        handed.push({ verdicts, suspectSelf });
        return Promise.resolve(0);
      },
    } as unknown as RemediationService;
    sweeper = new SweeperService(repos, cloud, remediation, config);
  });
  afterAll(async () => {
    await sweeper?.onApplicationShutdown();
    await ds?.destroy();
    await db?.drop();
  });

  const host = (zone: string) =>
    ds.manager.save(
      HostEntity,
      ds.manager.create(HostEntity, {
        role: 'standby',
        zone,
        network: 'fuji',
        instanceType: 'ecs.g7.2xlarge',
        clientToken: randomUUID(),
        bootstrapTokenHash: randomUUID(),
        instanceId: `i-${randomUUID().slice(0, 12)}`,
        registeredAt: new Date(),
        leaseExpiresAt: new Date(Date.now() + 45_000),
        lastReportAt: new Date(),
        lastReport: { running: true, healthy: true, bootstrapped: true },
      } as Partial<HostEntity>),
    );
  const hostRow = async (id: string) =>
    (
      (await ds.query(
        `SELECT health, health_reason, cloud_status, stop_confirmed_at FROM hosts WHERE id = $1`,
        [id],
      )) as {
        health: string;
        health_reason: string;
        cloud_status: string | null;
        stop_confirmed_at: Date | null;
      }[]
    )[0]!;

  it('should record verdicts, stops, a dark zone and its incident, then hand the verdicts on', async () => {
    const ok = [await host(ZONES[0]!), await host(ZONES[0]!), await host(ZONES[0]!)];
    const lost = [await host(ZONES[1]!), await host(ZONES[1]!), await host(ZONES[1]!)];
    for (const h of lost) gone.add(h.instanceId!);

    const stats = (await sweeper.tick())!;
    expect(stats).toEqual(
      expect.objectContaining({
        hosts: 6,
        cloudCalls: 1,
        cloudFailedCalls: 0,
        verdicts: { healthy: 3, suspect: 0, unhealthy: 3, unknown: 0 },
        zones: { [ZONES[0]!]: 'healthy', [ZONES[1]!]: 'dark', [ZONES[2]!]: 'healthy' },
        failoversStarted: 0,
        suspectSelf: false,
      }),
    );
    expect(await hostRow(ok[0]!.id)).toEqual(
      expect.objectContaining({
        health: 'healthy',
        cloud_status: 'Running',
        stop_confirmed_at: null,
      }),
    );
    expect(await hostRow(lost[0]!.id)).toEqual(
      expect.objectContaining({
        health: 'unhealthy',
        health_reason: 'the instance no longer exists',
        stop_confirmed_at: expect.any(Date),
      }),
    );
    expect(await ds.query(`SELECT id, status, placement_allowed FROM zones ORDER BY id`)).toEqual([
      { id: ZONES[0], status: 'healthy', placement_allowed: true },
      { id: ZONES[1], status: 'dark', placement_allowed: false },
      { id: ZONES[2], status: 'healthy', placement_allowed: true },
    ]);
    expect(
      await ds.query(`SELECT zone, kind, severity, status FROM incidents ORDER BY opened_at`),
    ).toEqual([{ zone: ZONES[1], kind: 'zone-impaired', severity: 'critical', status: 'open' }]);
    const types = (
      (await ds.query(`SELECT type FROM events ORDER BY id`)) as { type: string }[]
    ).map((e) => e.type);
    expect(types.filter((t) => t === 'host.health_changed')).toHaveLength(6);
    expect(types).toEqual(expect.arrayContaining(['zone.status_changed', 'incident.opened']));
    // Its figures, for the API's metrics and the next leader's gap check.
    const [loop] = (await ds.query(`SELECT stats FROM control_loops WHERE name = 'sweeper'`)) as {
      stats: { startedAt: string };
    }[];
    expect(loop!.stats.startedAt).toBe(stats.startedAt);
    // Remediation gets this sweep's verdicts, the cloud's word marked as such.
    expect(handed).toHaveLength(1);
    expect(handed[0]!.suspectSelf).toBe(false);
    const confirmed = new Map(handed[0]!.verdicts.map((v) => [v.host.id, v.cloudConfirmed]));
    expect(lost.map((h) => confirmed.get(h.id))).toEqual([true, true, true]);
    expect(ok.map((h) => confirmed.get(h.id))).toEqual([false, false, false]);
  });

  it('should keep a stop confirmation through a failed status call, and withdraw it once seen running', async () => {
    const lost = (await ds.query(`SELECT id FROM hosts WHERE stop_confirmed_at IS NOT NULL`)) as {
      id: string;
    }[];
    expect(lost).toHaveLength(3);
    handed = [];
    down = true;
    const blind = (await sweeper.tick())!;
    expect(blind).toEqual(expect.objectContaining({ cloudCalls: 1, cloudFailedCalls: 1 }));
    expect((await hostRow(lost[0]!.id)).stop_confirmed_at).toEqual(expect.any(Date));
    expect(handed[0]!.verdicts.every((v) => !v.cloudConfirmed)).toBe(true);

    down = false;
    gone.clear();
    await sweeper.tick();
    expect(await hostRow(lost[0]!.id)).toEqual(
      expect.objectContaining({ health: 'healthy', stop_confirmed_at: null }),
    );
  });

  it('should judge a 2-host zone: amber on silence, dark with an incident only on the cloud word', async () => {
    const zone = ZONES[2]!;
    const small = [await host(zone), await host(zone)];
    // Both agents silent, their instances still Running: missing reports alone.
    await ds.query(
      `UPDATE hosts SET lease_expires_at = now() - interval '10 seconds',
         last_report_at = now() - interval '60 seconds' WHERE id = ANY($1)`,
      [small.map((h) => h.id)],
    );
    const incidents = () =>
      ds.query(`SELECT severity, status FROM incidents WHERE zone = $1`, [zone]) as Promise<
        { severity: string; status: string }[]
      >;
    const zoneRow = async () =>
      (
        (await ds.query(`SELECT status, placement_allowed, reason FROM zones WHERE id = $1`, [
          zone,
        ])) as { status: string; placement_allowed: boolean; reason: string }[]
      )[0];
    handed = [];
    const amber = (await sweeper.tick())!;
    expect(amber.zones[zone]).toBe('impaired');
    expect(amber.suspectSelf).toBe(false);
    expect(await zoneRow()).toEqual({
      status: 'impaired',
      placement_allowed: false,
      reason: '2 of 2 hosts unhealthy — too few hosts to judge the zone',
    });
    expect(await incidents()).toEqual([]);
    expect(await repos.zones.healthy([zone])).toEqual([]);

    // The cloud now reports both instances gone: positive evidence for every host.
    for (const h of small) gone.add(h.instanceId!);
    const dark = (await sweeper.tick())!;
    expect(dark.zones[zone]).toBe('dark');
    expect(dark.suspectSelf).toBe(false);
    expect(await incidents()).toEqual([{ severity: 'major', status: 'open' }]);
    const events = (await ds.query(
      `SELECT type, data FROM events WHERE zone = $1 AND type IN ('zone.status_changed', 'incident.opened') ORDER BY id`,
      [zone],
    )) as { type: string; data: { from?: string; to?: string } }[];
    expect(events.map((e) => [e.type, e.data.from ?? null, e.data.to ?? null])).toEqual([
      ['zone.status_changed', 'healthy', 'impaired'],
      ['zone.status_changed', 'impaired', 'dark'],
      ['incident.opened', null, null],
    ]);
  });
});
