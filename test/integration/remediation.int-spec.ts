import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AppConfig } from '@snowline/config';
import type { HealthState } from '@snowline/domain';
import { HostEntity, Repositories, type ValidatorEntity } from '@snowline/persistence';
import type { FailoverService } from '../../apps/worker/src/failover/failover.service';
import {
  RemediationService,
  type JudgedHost,
} from '../../apps/worker/src/failover/remediation.service';
import { migratedDatabase } from '../support/db';

/**
 * Remediation against Postgres: it acts on one sweep's verdicts (hosts as `hosts.forSweep()` reads
 * them), moves validators active ⇄ degraded with an event, and starts failovers for hosts unhealthy
 * past the grace period — under the caps (self-suspicion, concurrency, daily budget), the cloud's
 * word passing the fleet-wide holds. The failover service is a fake that records its calls.
 */
describe(RemediationService.name, () => {
  let db: { url: string; drop: () => Promise<void> };
  let ds: DataSource;
  let repos: Repositories;
  let remediation: RemediationService;
  let started: { validatorId: string; fromHostId: string; reason: string; detectedAt: Date }[];
  let projectId: string;
  const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];

  beforeAll(async () => {
    let config: AppConfig;
    ({ db, ds, config } = await migratedDatabase('remediation', {
      FAILOVER_GRACE_SECONDS: '5',
      FAILOVER_MAX_CONCURRENT: '2',
      FAILOVER_DAILY_BUDGET: '3',
    }));
    repos = new Repositories(ds);
    const failover = {
      start: (req: (typeof started)[number]) => {
        started.push(req);
        return Promise.resolve('standby');
      },
    } as unknown as FailoverService;
    remediation = new RemediationService(repos, failover, config);
    projectId = (await repos.projects.create('default', true)).id;
  });
  beforeEach(async () => {
    started = [];
    await ds.query(`DELETE FROM failovers`);
    await ds.query(`UPDATE hosts SET deleted_at = now() WHERE deleted_at IS NULL`);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  /** A validator in `state` on an assigned host whose recorded health is `health` since `since`. */
  async function placed(
    state: ValidatorEntity['state'],
    health: HealthState,
    sinceMsAgo = 60_000,
  ): Promise<{ validatorId: string; hostId: string }> {
    const name = `v-${randomUUID().slice(0, 8)}`;
    const identity = await repos.identities.insert({
      projectId,
      nodeId: `NodeID-${name}`,
      blsPublicKey: '0x00',
      proofOfPossession: '0x00',
      wrappedDataKey: Buffer.from('w'),
      sealedKeys: Buffer.from('s'),
      masterKeyId: 'k',
      imported: false,
    });
    const v = await repos.validators.insert({
      projectId,
      name,
      identityId: identity.id,
      nodeId: identity.nodeId,
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state,
      generation: 1,
    });
    const h = await ds.manager.save(
      HostEntity,
      ds.manager.create(HostEntity, {
        role: 'assigned',
        zone: ZONES[0],
        network: 'fuji',
        instanceType: 'ecs.g7.2xlarge',
        clientToken: randomUUID(),
        bootstrapTokenHash: randomUUID(),
        instanceId: `i-${randomUUID().slice(0, 12)}`,
        validatorId: v.id,
        projectId,
        generation: 1,
        health,
        healthReason: `recorded ${health}`,
        healthSince: new Date(Date.now() - sinceMsAgo),
      } as Partial<HostEntity>),
    );
    await repos.validators.update(v.id, { hostId: h.id });
    return { validatorId: v.id, hostId: h.id };
  }

  /** This sweep's verdicts: every live host judged `state` unless `by` names it. */
  async function judged(
    by: Map<string, { state: HealthState; cloudConfirmed?: boolean }>,
  ): Promise<JudgedHost[]> {
    return (await repos.hosts.forSweep())
      .filter((host) => by.has(host.id))
      .map((host) => {
        const j = by.get(host.id)!;
        return {
          host,
          verdict: { state: j.state, reason: `judged ${j.state}` },
          cloudConfirmed: j.cloudConfirmed ?? false,
        };
      });
  }
  const stateOf = async (id: string) => (await repos.validators.findById(id))!.state;
  const eventTypes = async (validatorId: string) =>
    (
      (await ds.query(`SELECT type FROM events WHERE validator_id = $1 ORDER BY id`, [
        validatorId,
      ])) as { type: string }[]
    ).map((e) => e.type);

  it('should mark a validator degraded while its host is suspect, and active once healthy', async () => {
    const a = await placed('active', 'healthy');
    expect(
      await remediation.remediate(
        await judged(new Map([[a.hostId, { state: 'suspect' }]])),
        false,
        Date.now(),
      ),
    ).toBe(0);
    expect(await stateOf(a.validatorId)).toBe('degraded');
    expect((await repos.validators.findById(a.validatorId))!.stateReason).toBe('judged suspect');
    await remediation.remediate(
      await judged(new Map([[a.hostId, { state: 'healthy' }]])),
      false,
      Date.now(),
    );
    expect(await stateOf(a.validatorId)).toBe('active');
    expect(await eventTypes(a.validatorId)).toEqual(['validator.degraded', 'validator.active']);
    expect(started).toEqual([]);
  });

  it('should start a failover for a host unhealthy past the grace period, dated from health_since', async () => {
    const past = await placed('active', 'unhealthy', 60_000);
    const fresh = await placed('active', 'unhealthy', 1_000);
    const now = Date.now();
    const n = await remediation.remediate(
      await judged(
        new Map([
          [past.hostId, { state: 'unhealthy' }],
          [fresh.hostId, { state: 'unhealthy' }],
        ]),
      ),
      false,
      now,
    );
    expect(n).toBe(1);
    expect(started).toEqual([
      expect.objectContaining({
        validatorId: past.validatorId,
        fromHostId: past.hostId,
        reason: 'judged unhealthy',
      }),
    ]);
    expect(now - started[0]!.detectedAt.getTime()).toBeGreaterThanOrEqual(60_000);
    // Both show degraded: held or not, an unhealthy host's validator is never `active`.
    expect(await stateOf(fresh.validatorId)).toBe('degraded');
  });

  it("should hold Snowline's own word while it suspects itself, and pass the cloud's", async () => {
    const silent = await placed('active', 'unhealthy');
    const stopped = await placed('active', 'unhealthy');
    await remediation.remediate(
      await judged(
        new Map([
          [silent.hostId, { state: 'unhealthy' }],
          [stopped.hostId, { state: 'unhealthy', cloudConfirmed: true }],
        ]),
      ),
      true,
      Date.now(),
    );
    expect(started.map((s) => s.validatorId)).toEqual([stopped.validatorId]);
  });

  it('should respect the concurrency cap and the daily budget, counting failovers rows', async () => {
    const move = (validatorId: string, status: string, startedAgo: string) =>
      ds.query(
        `INSERT INTO failovers (validator_id, project_id, kind, attempt, generation, status, reason,
                                method, started_at, deadline_at)
         VALUES ($1, $2, 'failover', 1, 1, $3, 'earlier', 'standby', now() - $4::interval,
                 now() + interval '1 minute')`,
        [validatorId, projectId, status, startedAgo],
      );
    const budget = await placed('degraded', 'unhealthy', 120_000);
    for (const ago of ['3 hours', '2 hours', '1 hour']) await move(budget.validatorId, 'done', ago);
    // A move under way elsewhere takes one of the two concurrency slots.
    const busy = await placed('failing_over', 'healthy');
    await move(busy.validatorId, 'running', '10 seconds');
    const a = await placed('active', 'unhealthy', 90_000);
    const b = await placed('active', 'unhealthy', 60_000);
    const c = await placed('active', 'unhealthy', 30_000);
    // Healthy hosts keep the unhealthy share under the max-unhealthy cap.
    const ok = [];
    for (let i = 0; i < 4; i++) ok.push(await placed('active', 'healthy'));
    await remediation.remediate(
      await judged(
        new Map<string, { state: HealthState }>([
          [budget.hostId, { state: 'unhealthy' }],
          [busy.hostId, { state: 'healthy' }],
          [a.hostId, { state: 'unhealthy' }],
          [b.hostId, { state: 'unhealthy' }],
          [c.hostId, { state: 'unhealthy' }],
          ...ok.map((o) => [o.hostId, { state: 'healthy' as HealthState }] as const),
        ]),
      ),
      false,
      Date.now(),
    );
    // One slot of two is free: the oldest eligible goes first; the budget-spent one waits.
    expect(started.map((s) => s.validatorId)).toEqual([a.validatorId]);
  });

  it('should start the moves of a zone outage least downtime budget first (issue 22)', async () => {
    const roomy = await placed('active', 'unhealthy', 120_000);
    const tight = await placed('active', 'unhealthy', 30_000);
    const unknown = await placed('active', 'unhealthy', 90_000);
    const budget = (id: string, status: string, leftMs: number) =>
      ds.query(
        `INSERT INTO validator_staking (validator_id, project_id, network, node_id, status, budget_left_ms)
         SELECT id, project_id, network, node_id, $2, $3 FROM validators WHERE id = $1`,
        [id, status, leftMs],
      );
    await budget(roomy.validatorId, 'ok', 30 * 3_600_000);
    await budget(tight.validatorId, 'at_risk', 600_000);
    // Healthy hosts keep the unhealthy share under the max-unhealthy cap.
    const ok = [];
    for (let i = 0; i < 4; i++) ok.push(await placed('active', 'healthy'));
    await remediation.remediate(
      await judged(
        new Map<string, { state: HealthState }>([
          ...[roomy, tight, unknown].map((x) => [x.hostId, { state: 'unhealthy' }] as const),
          ...ok.map((o) => [o.hostId, { state: 'healthy' as HealthState }] as const),
        ]),
      ),
      false,
      Date.now(),
      new Set([ZONES[0]!]),
    );
    // Each move takes the next synced standby: when they are scarce, the tight budget gets one.
    expect(started.map((s) => s.validatorId)).toEqual([
      tight.validatorId,
      roomy.validatorId,
      unknown.validatorId,
    ]);
  });
});
