import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import {
  AGENT_PATHS,
  decideLease,
  generateHostKeys,
  hostPublicKeys,
  signRequest,
  type HostKeys,
} from '@snowline/agent';
import { HostEntity, Repositories, ValidatorEntity, type FastRenewal } from '@snowline/persistence';
import { AgentService } from '../../apps/api/src/agent/agent.service';
import { startApiApp, type ApiApp } from '../support/api-app';
import { migratedDatabase } from '../support/db';

jest.setTimeout(120_000);

const STATES = [
  'provisioning',
  'syncing',
  'active',
  'degraded',
  'failing_over',
  'retiring',
  'retired',
  'failed',
] as const;

/**
 * Issue 20 point 2: the one-statement renewal (HostRepository.renewLeaseFast) may renew only where
 * the full rule would, and with no other effect. A property test over random host/validator facts
 * in a real Postgres: whenever the statement renews, `decideLease` on the same facts says "renew"
 * (or "standby") with no re-arm and no lapsed lease, the node report moves no state, and the key is
 * the bound one; whenever it does not, nothing was written.
 */
describe('the fast lease renewal agrees with decideLease', () => {
  let ds: DataSource;
  let repos: Repositories;
  let drop: () => Promise<void>;
  let projectId: string;
  const KEY = hostPublicKeys(generateHostKeys()).signingKey;
  const OTHER_KEY = hostPublicKeys(generateHostKeys()).signingKey;

  beforeAll(async () => {
    const m = await migratedDatabase('lease_fast');
    ds = m.ds;
    drop = m.db.drop;
    repos = new Repositories(ds);
    projectId = (await repos.projects.create('default', true)).id;
  });
  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  it('should renew only the plain cases of the full rule', async () => {
    const facts = fc.record({
      role: fc.constantFrom('assigned' as const, 'standby' as const),
      fenced: fc.boolean(),
      deleted: fc.boolean(),
      stopConfirmed: fc.boolean(),
      hostGeneration: fc.constantFrom(1, 2),
      lease: fc.constantFrom('live' as const, 'lapsed' as const, 'none' as const),
      keyMatches: fc.boolean(),
      hasValidator: fc.boolean(),
      state: fc.constantFrom(...STATES),
      holder: fc.constantFrom('this' as const, 'other' as const, 'none' as const),
      validatorGeneration: fc.constantFrom(1, 2),
      requestGeneration: fc.constantFrom(null, 1, 2),
      running: fc.boolean(),
      ready: fc.boolean(),
      reportsItsNodeId: fc.boolean(),
    });
    // Mostly-plain facts, so that the renewing side of the property is exercised as much as the other.
    /** `usual` nine times in ten. */
    const mostly = <T>(usual: T, other: T) =>
      fc.oneof(
        { arbitrary: fc.constant(usual), weight: 9 },
        { arbitrary: fc.constant(other), weight: 1 },
      );
    // Mostly-plain facts, so that the renewing side of the property is exercised as much as the other.
    const nearlyPlain = facts.chain((f) =>
      fc
        .record({
          role: mostly<'assigned' | 'standby'>('assigned', 'standby'),
          state: fc.constantFrom(
            'active' as const,
            'active' as const,
            'syncing' as const,
            ...STATES,
          ),
          fenced: mostly(false, true),
          deleted: mostly(false, true),
          stopConfirmed: mostly(false, true),
          keyMatches: mostly(true, false),
          lease: mostly<'live' | 'lapsed'>('live', 'lapsed'),
          holder: mostly<'this' | 'other'>('this', 'other'),
          hasValidator: mostly(true, false),
          requestGeneration: mostly<number | null>(f.validatorGeneration, null),
          hostGeneration: mostly(f.validatorGeneration, 3 - f.validatorGeneration),
        })
        .map((over) => ({ ...f, ...over })),
    );
    type Facts = ReturnType<(typeof facts | typeof nearlyPlain)['generate']>['value'];
    /** One host (and validator) in the database as `f` says, and the renewal its agent sends. */
    const arrange = async (f: Facts) => {
      const nodeId = `NodeID-${randomUUID().slice(0, 8)}`;
      const identity = await repos.identities.insert({
        projectId,
        nodeId,
        blsPublicKey: '0x00',
        proofOfPossession: '0x00',
        wrappedDataKey: Buffer.from('w'),
        sealedKeys: Buffer.from('s'),
        masterKeyId: 'k',
        imported: false,
      });
      const v = f.hasValidator
        ? await repos.validators.insert({
            projectId,
            name: `v-${randomUUID().slice(0, 8)}`,
            identityId: identity.id,
            nodeId,
            network: 'fuji',
            instanceType: 'ecs.g7.2xlarge',
            state: f.state,
            generation: f.validatorGeneration,
          })
        : null;
      const leaseExpiresAt =
        f.lease === 'none' ? null : new Date(Date.now() + (f.lease === 'live' ? 30_000 : -30_000));
      const host = await ds.manager.save(
        HostEntity,
        ds.manager.create(HostEntity, {
          role: f.role,
          zone: 'cn-hongkong-b',
          network: 'fuji',
          instanceType: 'ecs.g7.2xlarge',
          clientToken: randomUUID(),
          instanceId: `i-${randomUUID().slice(0, 12)}`,
          validatorId: v?.id ?? null,
          projectId,
          generation: f.role === 'standby' ? null : f.hostGeneration,
          fenced: f.fenced,
          deletedAt: f.deleted ? new Date() : null,
          stopConfirmedAt: f.stopConfirmed ? new Date() : null,
          leaseExpiresAt,
          agentProtocol: 2,
          agentSigningKey: KEY,
        } as Partial<HostEntity>),
      );
      if (v && f.holder !== 'none')
        await repos.validators.update(v.id, {
          hostId: f.holder === 'this' ? host.id : randomUUID(),
        });
      const report = {
        running: f.running,
        nodeId: f.reportsItsNodeId ? nodeId : 'NodeID-someone-else',
        healthy: f.ready,
        bootstrapped: f.ready,
        observedAt: new Date().toISOString(),
      };
      return { f, nodeId, v, leaseExpiresAt, host, report, key: f.keyMatches ? KEY : OTHER_KEY };
    };
    /** The property, for one arranged renewal and what the fast path answered. */
    const check = async (
      { f, nodeId, v, leaseExpiresAt, host, report }: Awaited<ReturnType<typeof arrange>>,
      got: FastRenewal | null,
    ) => {
      const after = (await repos.hosts.findById(host.id))!;
      const now = Date.now();
      const decision = decideLease({
        hostId: host.id,
        host: {
          exists: true,
          deleted: f.deleted,
          fenced: f.fenced,
          role: f.role,
          validatorId: v?.id ?? null,
          generation: host.generation,
          leaseExpiresAt: leaseExpiresAt?.getTime() ?? null,
          keysFetchedGeneration: null,
        },
        validator: v
          ? {
              state: f.state,
              hostId: f.holder === 'this' ? host.id : f.holder === 'other' ? 'x' : null,
              generation: f.validatorGeneration,
            }
          : null,
        requestGeneration: f.requestGeneration,
        now,
      });
      if (!got) {
        expect(after.leaseExpiresAt?.getTime() ?? null).toBe(leaseExpiresAt?.getTime() ?? null);
        expect(after.lastReportAt).toBeNull();
        return false;
      }
      expect(f.keyMatches).toBe(true);
      expect(f.stopConfirmed).toBe(false); // the full path would have to clear it
      if (decision.kind === 'standby') {
        expect(got.validatorId).toBeNull();
      } else {
        expect(decision).toEqual({ kind: 'renew', rearm: false, expiredForMs: 0 });
        // The full path's observeNode would move no state on this report.
        const ready = f.running && f.ready;
        if (ready) expect(f.state === 'active' && f.reportsItsNodeId).toBe(true);
        else expect(f.state).not.toBe('provisioning');
        expect(got).toMatchObject({
          validatorId: v!.id,
          generation: f.validatorGeneration,
          nodeId,
        });
      }
      expect(after.leaseExpiresAt!.getTime()).toBeGreaterThan(now + 40_000);
      expect(after.lastReport).toEqual(report);
      return true;
    };
    let renewedSome = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(facts, nearlyPlain), async (f) => {
        const a = await arrange(f);
        const got = await repos.hosts.renewLeaseFast(
          a.host.id,
          a.key,
          f.requestGeneration,
          a.report,
          45,
        );
        if (await check(a, got)) renewedSome++;
      }),
      { numRuns: 300, seed: 20261202 },
    );
    expect(renewedSome).toBeGreaterThan(20); // the property says something about renewals too

    // The same rule for each renewal of a group commit: many hosts in one statement, each judged
    // on its own facts; a host twice in one batch renews once (the second goes to the full path).
    let batchedRenewals = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(facts, nearlyPlain), { minLength: 2, maxLength: 12 }),
        async (fs) => {
          const arranged = await Promise.all(fs.map(arrange));
          const items = arranged.map((a) => ({
            hostId: a.host.id,
            signingKey: a.key,
            generation: a.f.requestGeneration,
            report: a.report,
          }));
          const got = await repos.hosts.renewLeasesFast([...items, items[0]!], 45);
          expect(got).toHaveLength(items.length + 1);
          expect(got[items.length]).toBeNull();
          for (const [i, a] of arranged.entries()) if (await check(a, got[i]!)) batchedRenewals++;
        },
      ),
      { numRuns: 60, seed: 20261204 },
    );
    expect(batchedRenewals).toBeGreaterThan(20);
  });

  it('should hand a renewal whose rows another transaction holds to the full path, not wait', async () => {
    const keyed = async () =>
      ds.manager.save(
        HostEntity,
        ds.manager.create(HostEntity, {
          role: 'standby',
          zone: 'cn-hongkong-b',
          network: 'fuji',
          instanceType: 'ecs.g7.2xlarge',
          clientToken: randomUUID(),
          instanceId: `i-${randomUUID().slice(0, 12)}`,
          projectId,
          agentProtocol: 2,
          agentSigningKey: KEY,
        } as Partial<HostEntity>),
      );
    const [held, free] = [await keyed(), await keyed()];
    const report = {
      running: true,
      healthy: true,
      bootstrapped: true,
      observedAt: new Date().toISOString(),
    };
    const item = (hostId: string) => ({ hostId, signingKey: KEY, generation: null, report });
    const runner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // A move or a key grant holding the host's row, as the full path and the worker lock it.
      await runner.query(`SELECT id FROM hosts WHERE id = $1 FOR UPDATE`, [held.id]);
      const got = await repos.hosts.renewLeasesFast([item(held.id), item(free.id)], 45);
      expect(got[0]).toBeNull();
      expect(got[1]).toMatchObject({ validatorId: null });
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect((await repos.hosts.findById(held.id))!.lastReportAt).toBeNull();
    expect((await repos.hosts.findById(free.id))!.lastReportAt).not.toBeNull();
  });
});

/** Through the API: the plain renewal takes the fast path; everything else the full one. */
describe('lease renewals through the API', () => {
  let h: ApiApp;
  let keys: HostKeys;
  let hostId: string;
  let validatorId: string;
  let nodeId: string;
  let slow: jest.SpyInstance;

  const renew = (generation: number | null, ready: boolean) => {
    const body = JSON.stringify({
      hostId,
      generation,
      node: {
        running: true,
        nodeId,
        healthy: ready,
        bootstrapped: ready,
        observedAt: new Date().toISOString(),
      },
    });
    return h.api(AGENT_PATHS.lease, {
      method: 'POST',
      key: null,
      headers: {
        'content-type': 'application/json',
        authorization: signRequest(keys, {
          method: 'POST',
          path: AGENT_PATHS.lease,
          hostId,
          body,
        }),
      },
      body,
    });
  };

  beforeAll(async () => {
    h = await startApiApp('lease_fast_api');
    slow = jest.spyOn(h.app.get(AgentService), 'lease');
    keys = generateHostKeys();
    nodeId = `NodeID-${randomUUID().slice(0, 8)}`;
    const identity = await h.repos.identities.insert({
      projectId: h.defaultProjectId,
      nodeId,
      blsPublicKey: '0x00',
      proofOfPossession: '0x00',
      wrappedDataKey: Buffer.from('w'),
      sealedKeys: Buffer.from('s'),
      masterKeyId: 'k',
      imported: false,
    });
    const v = await h.repos.validators.insert({
      projectId: h.defaultProjectId,
      name: 'fast-1',
      identityId: identity.id,
      nodeId,
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      state: 'syncing',
      generation: 1,
    });
    validatorId = v.id;
    const host = await h.repos.hosts.insert({
      role: 'assigned',
      zone: 'cn-hongkong-b',
      network: 'fuji',
      instanceType: 'ecs.g7.2xlarge',
      clientToken: randomUUID(),
      instanceId: `i-${randomUUID().slice(0, 12)}`,
      validatorId: v.id,
      projectId: h.defaultProjectId,
      generation: 1,
      agentProtocol: 2,
      agentSigningKey: hostPublicKeys(keys).signingKey,
      agentEncryptionKey: hostPublicKeys(keys).encryptionKey,
      registeredAt: new Date(),
      leaseExpiresAt: new Date(Date.now() + 30_000),
    });
    hostId = host.id;
    await h.repos.validators.update(v.id, { hostId });
  });
  afterAll(async () => h?.stop());

  it('should move state on the full path, then renew on the fast one, then fence after a move', async () => {
    // First contact of this replica: full path (it learns the key); the node became ready → active.
    expect((await renew(1, true)).status).toBe(200);
    expect(slow).toHaveBeenCalledTimes(1);
    expect((await h.repos.validators.findById(validatorId))!.state).toBe('active');
    // Steady state: one statement, no full path.
    for (let i = 0; i < 5; i++) {
      const res = await renew(1, true);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        role: 'assigned',
        assignment: { validatorId, generation: 1, nodeId },
      });
    }
    expect(slow).toHaveBeenCalledTimes(1);
    // The identity moves on (a failover bumped the generation): the fast path declines, the full
    // path fences.
    await h.repos.ds.manager.update(ValidatorEntity, { id: validatorId }, { generation: 2 });
    const fenced = await renew(1, true);
    expect(fenced.status).toBe(409);
    expect(await fenced.json()).toMatchObject({ fenced: true });
    expect(slow).toHaveBeenCalledTimes(2);
    expect((await h.repos.hosts.findById(hostId))!.fenced).toBe(true);

    // The group commit's figures on /metrics: renewals sent one at a time go one per statement, and
    // at least the five steady ones and the fenced one went through it.
    const metrics = await (await h.api('/metrics', { key: null })).text();
    const figure = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);
    const batches = figure('snowline_agent_lease_batches_total');
    expect(batches).toBeGreaterThanOrEqual(6);
    expect(figure('snowline_agent_lease_batched_renewals_total')).toBe(batches);
  });
});
