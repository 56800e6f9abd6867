import IORedis from 'ioredis';
import { AlibabaEcsProvider } from '@snowline/cloud';
import { loadConfig } from '@snowline/config';
import { watchDuplicates } from '../../scripts/support/ground-truth';
import {
  FAST_CLOCKS,
  getValidator,
  injectFault,
  validatorEvents,
  type ValidatorView,
} from '../support/e2e';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(240_000);

/** Short clocks so the suite runs in seconds; the default-clock run is `npm run chaos:zone`. */
const FAST = { ...FAST_CLOCKS, ZONE_RECOVERY_SWEEPS: '2' };

type V = ValidatorView;
const get = getValidator;
const fault = injectFault;
const eventTypes = async (stack: Stack, id: string) =>
  (await validatorEvents(stack, id)).map((e) => e.type);

async function launchActive(stack: Stack, name: string): Promise<V> {
  const res = await stack.api('/v1/validators', {
    method: 'POST',
    json: { network: 'fuji', name },
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as V;
  return waitFor(
    `${name} active`,
    async () => {
      const v = await get(stack, id);
      return v.state === 'active' ? v : undefined;
    },
    60_000,
    300,
  );
}

describe('failover end to end', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('should finish a failover when the worker is SIGKILLed in the middle of it, with no duplicate', async () => {
    stack = await startStack('failover-kill', { ...FAST, STANDBY_POOL: '0' }); // launch path: the worker does the work
    const v = await launchActive(stack, 'kill-1');
    const watch = watchDuplicates(stack.simUrl, 250);
    await fault(stack, { kind: 'instance-failure', instanceId: v.instanceId });
    await waitFor(
      'the failover to start',
      async () => (await get(stack!, v.id)).state === 'failing_over',
      30_000,
      100,
    );
    stack.procs.worker!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    stack.respawn('worker');
    const moved = await waitFor(
      'the new worker to finish the failover',
      async () => {
        const cur = await get(stack!, v.id);
        return cur.state === 'active' && cur.generation > v.generation ? cur : undefined;
      },
      150_000,
      500,
    ).catch(async (err: Error) => {
      const events = await eventTypes(stack!, v.id);
      throw new Error(
        `${err.message}\nevents: ${events.join(', ')}\nworker: ${stack!.logs.worker!.slice(-40).join('\n')}`,
      );
    });
    watch.stop();
    expect(moved.instanceId).not.toBe(v.instanceId);
    expect(watch.samples()).toBeGreaterThan(10);
    expect([...watch.duplicated]).toEqual([]);
    // Exactly one live instance carries the validator's tag once the reaper is done.
    const ecs = new AlibabaEcsProvider(loadConfig({ ...stack.env }).cloud);
    await waitFor(
      'the failed instance to be reaped',
      async () => {
        const tagged = await ecs.listByTag('snowline:validator', v.id);
        return tagged.length === 1 && tagged[0]!.instanceId === moved.instanceId;
      },
      30_000,
      500,
    );
    expect(await eventTypes(stack, v.id)).toEqual(
      expect.arrayContaining([
        'failover.started',
        'host.keys_delivered',
        'failover.completed',
        'host.reaped',
      ]),
    );
    // The health loop's figures and the failover's duration are exported to Prometheus.
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/^snowline_sweep_duration_seconds \d/m);
    expect(metrics).toMatch(/^snowline_sweep_cloud_calls \d/m);
    expect(metrics).toMatch(/^snowline_sweep_hosts\{verdict="healthy"\} \d/m);
    expect(metrics).toMatch(/^snowline_failover_duration_seconds_count\{method="launch"\} 1$/m);
  });

  it('should put every validator back on track within a reconcile interval after Redis is flushed', async () => {
    const redisUrl = 'redis://127.0.0.1:6379/9'; // a db of its own: FLUSHDB touches nothing else
    stack = await startStack('failover-flush', { ...FAST, STANDBY_POOL: '0', REDIS_URL: redisUrl });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await stack.api('/v1/validators', {
        method: 'POST',
        json: { network: 'fuji', name: `flush-${i}` },
      });
      ids.push(((await res.json()) as V).id);
    }
    const redis = new IORedis(redisUrl);
    await redis.flushdb(); // the provision jobs are gone; only Postgres knows
    redis.disconnect();
    const flushedAt = Date.now();
    await waitFor(
      'every validator active again',
      async () => {
        const vs = await Promise.all(ids.map((id) => get(stack!, id)));
        return vs.every((v) => v.state === 'active');
      },
      60_000,
      300,
    );
    // One reconcile interval (3 s) to notice, plus the launch and boot themselves.
    expect(Date.now() - flushedAt).toBeLessThan(3_000 + 20_000);
  });

  it('should replace every validator whose instance the cloud says is gone, past the max-unhealthy cap', async () => {
    // As after a restart that lost the simulator's instances: the cloud's own word, not silence.
    stack = await startStack('failover-gone', {
      ...FAST,
      STANDBY_POOL: '0',
      ZONE_MIN_HOSTS: '2',
      FAILOVER_GRACE_SECONDS: '2',
      FAILOVER_MAX_UNHEALTHY_PERCENT: '50',
    });
    const vs = [
      await launchActive(stack, 'gone-0'),
      await launchActive(stack, 'gone-1'),
      await launchActive(stack, 'gone-2'),
    ];
    const watch = watchDuplicates(stack.simUrl, 250);
    const ecs = new AlibabaEcsProvider(loadConfig({ ...stack.env }).cloud);
    await ecs.delete(vs.map((v) => v.instanceId!));
    // Never `active` on a host the cloud says is gone: degraded first, then moved.
    await waitFor(
      'every validator off active on its gone instance',
      async () => {
        const cur = await Promise.all(vs.map((v) => get(stack!, v.id)));
        return cur.every((c, i) => c.state !== 'active' || c.generation > vs[i]!.generation);
      },
      10_000,
      100,
    );
    const moved = await waitFor(
      'every validator active on a new instance',
      async () => {
        const cur = await Promise.all(vs.map((v) => get(stack!, v.id)));
        return cur.every((c, i) => c.state === 'active' && c.generation > vs[i]!.generation)
          ? cur
          : undefined;
      },
      120_000,
      500,
    );
    watch.stop();
    expect([...watch.duplicated]).toEqual([]);
    for (const [i, v] of vs.entries()) {
      expect(moved[i]!.instanceId).not.toBe(v.instanceId);
      const types = await eventTypes(stack, v.id);
      expect(types).toEqual(expect.arrayContaining(['validator.degraded', 'failover.started']));
      // Events come in commit order: degraded before the move started.
      expect(types.indexOf('validator.degraded')).toBeLessThan(types.indexOf('failover.started'));
    }
  });

  it('should not remediate and should open a critical incident when every zone goes dark', async () => {
    stack = await startStack('failover-dark', {
      ...FAST,
      FAILOVER_GRACE_SECONDS: '3',
      STANDBY_POOL: 'fuji=1',
      ZONE_MIN_HOSTS: '2',
    });
    const vs = [
      await launchActive(stack, 'dark-0'),
      await launchActive(stack, 'dark-1'),
      await launchActive(stack, 'dark-2'),
    ];
    const zones = [...new Set(vs.map((v) => v.zone!))];
    expect(zones).toHaveLength(3); // placement spreads them
    await waitFor(
      'standbys in every zone',
      async () => {
        const z = (await (await stack!.api('/v1/zones')).json()) as {
          items: { standbys: number | null; hosts: number | null }[];
        };
        return z.items.every((x) => (x.standbys ?? 0) >= 1 && (x.hosts ?? 0) >= 2);
      },
      60_000,
      500,
    );
    for (const zone of zones) await fault(stack, { kind: 'zone-power-loss', zone });
    const incident = await waitFor(
      'a critical control-plane incident',
      async () => {
        const inc = (await (await stack!.api('/v1/incidents?status=open')).json()) as {
          items: { kind: string; severity: string; summary: string }[];
        };
        return inc.items.find((i) => i.kind === 'control-plane-suspect');
      },
      30_000,
      300,
    );
    expect(incident.severity).toBe('critical');
    expect(incident.summary).toMatch(/paused/);
    // It names exactly the zones it is about: every one of them, none as healthy.
    for (const z of zones) expect(incident.summary).toContain(`${z}: `);
    expect(incident.summary).not.toMatch(/: healthy/);
    await new Promise((r) => setTimeout(r, 8_000)); // well past the grace period and several sweeps
    for (const v of vs) {
      const cur = await get(stack, v.id);
      expect(cur.generation).toBe(v.generation);
      expect(cur.zone).toBe(v.zone);
      expect(await eventTypes(stack, v.id)).not.toContain('failover.started');
    }
  });
});
