import { AlibabaEcsProvider, TAG_VALIDATOR } from '@snowline/cloud';
import { loadConfig } from '@snowline/config';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(180_000);

interface ValidatorBody {
  id: string;
  state: string;
  stateReason: string | null;
  nodeId: string;
  zone: string | null;
  instanceId: string | null;
}

interface EventBody {
  type: string;
  zone?: string | null;
  createdAt: string;
}

/**
 * Issue 4, acceptance 3: cloud faults injected through the simulator's fault API, seen through the
 * whole stack (api + worker + ecs-sim processes). Launching retries with the same ClientToken, falls
 * back to another zone on NoStock, and the user sees neither the throttling nor the 5xx.
 */
describe('cloud faults end to end', () => {
  let stack: Stack;
  let ecs: AlibabaEcsProvider;

  beforeAll(async () => {
    stack = await startStack('cloud-faults');
    ecs = new AlibabaEcsProvider(loadConfig({ ...stack.env }).cloud);
  });
  afterEach(async () => {
    await fetch(`${stack.simUrl}/_sim/faults`, { method: 'DELETE' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const fault = async (spec: Record<string, unknown>): Promise<{ id: string }> => {
    const res = await fetch(`${stack.simUrl}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify(spec),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string };
  };
  const faults = async (): Promise<{ id: string; hits: number }[]> =>
    (await (await fetch(`${stack.simUrl}/_sim/faults`)).json()) as { id: string; hits: number }[];

  const create = async (body: Record<string, unknown> = {}): Promise<ValidatorBody> => {
    const res = await stack.api('/v1/validators', {
      method: 'POST',
      json: { network: 'fuji', ...body },
    });
    expect(res.status).toBe(202);
    return (await res.json()) as ValidatorBody;
  };

  /** Polls GET /v1/validators/:id until active; every answer is kept so a test can check none showed an error. */
  const untilActive = async (
    id: string,
    seen: ValidatorBody[] = [],
    timeoutMs = 120_000,
  ): Promise<ValidatorBody> =>
    waitFor(
      `validator ${id} to become active`,
      async () => {
        const res = await stack.api(`/v1/validators/${id}`);
        expect(res.status).toBe(200);
        const cur = (await res.json()) as ValidatorBody;
        seen.push(cur);
        if (cur.state === 'failed') throw new Error(`validator failed: ${JSON.stringify(cur)}`);
        return cur.state === 'active' ? cur : undefined;
      },
      timeoutMs,
      250,
    );

  const events = async (id: string): Promise<EventBody[]> =>
    ((await (await stack.api(`/v1/validators/${id}/events`)).json()) as { items: EventBody[] })
      .items;

  /** The simulator's ground truth: which instances run a node with this NodeID. */
  const runningNodes = async (nodeId: string): Promise<string[]> => {
    const nodes = (await (await fetch(`${stack.simUrl}/_sim/nodes`)).json()) as {
      instanceId: string;
      nodeId: string | null;
      running: boolean;
    }[];
    return nodes.filter((n) => n.nodeId === nodeId && n.running).map((n) => n.instanceId);
  };

  it('should land the validator in another zone when the first zones have no stock', async () => {
    // Two of three zones out of stock: whichever order the worker tries, it meets a NoStock first
    // unless it picks the one open zone straight away, which the events below rule out.
    await fault({ kind: 'no-stock', zone: 'cn-hongkong-b' });
    await fault({ kind: 'no-stock', zone: 'cn-hongkong-c' });
    const v = await create();
    const active = await untilActive(v.id);
    expect(active.zone).toBe('cn-hongkong-d');
    expect(await runningNodes(active.nodeId)).toEqual([active.instanceId]);

    const evs = await events(v.id);
    const refused = evs.filter((e) => e.type === 'placement.no_capacity').map((e) => e.zone);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.every((z) => z === 'cn-hongkong-b' || z === 'cn-hongkong-c')).toBe(true);
    expect(evs.filter((e) => e.type === 'host.launched')).toHaveLength(1);
    const tagged = await ecs.listByTag(TAG_VALIDATOR, v.id);
    expect(tagged.map((i) => [i.instanceId, i.zoneId])).toEqual([
      [active.instanceId, 'cn-hongkong-d'],
    ]);
  });

  it('should end active with exactly one tagged instance under 50 % ServiceUnavailable on RunInstances', async () => {
    // At most 6 injected failures, so the worst case (1+2+4+8+16+32 s of back-off) fits the test.
    const f = await fault({
      kind: 'api-error',
      action: 'RunInstances',
      code: 'ServiceUnavailable',
      probability: 0.5,
      count: 6,
    });
    const v = await create();
    const active = await untilActive(v.id, [], 150_000);
    const tagged = await ecs.listByTag(TAG_VALIDATOR, v.id);
    expect(tagged.map((i) => i.instanceId)).toEqual([active.instanceId]);
    expect(await runningNodes(active.nodeId)).toEqual([active.instanceId]);
    // A fault with no hits left is gone; otherwise it must still be there, with its count of hits.
    const left = (await faults()).find((x) => x.id === f.id);
    expect(left === undefined || left.hits < 6).toBe(true);
  });

  it('should end active with exactly one tagged instance when RunInstances answers are lost after the instance was created', async () => {
    // The harder half of a 5xx: ECS created the instance but the answer never arrived. Three lost
    // answers (retries after 1 s and 2 s) let the instance boot and its agent register before the
    // worker knows the instance: the launch must still be recorded, the host not fenced, and no
    // second instance launched.
    const f = await fault({
      kind: 'api-error',
      action: 'RunInstances',
      code: 'ServiceUnavailable',
      when: 'after',
      count: 3,
    });
    const v = await create();
    const active = await untilActive(v.id);
    // At least one answer was lost. Whether the worker's replay or the instance's agent (registering
    // before the launch was recorded) got there first, the launch is recorded once.
    const left = (await faults()).find((x) => x.id === f.id);
    expect(left === undefined || left.hits >= 1).toBe(true);
    expect((await events(v.id)).filter((e) => e.type === 'host.launched')).toHaveLength(1);
    const tagged = await ecs.listByTag(TAG_VALIDATOR, v.id);
    expect(tagged.map((i) => i.instanceId)).toEqual([active.instanceId]);
    expect(await runningNodes(active.nodeId)).toEqual([active.instanceId]);
  });

  it('should back off under throttling and never show the user an error', async () => {
    const retryAfterMs = 1000;
    const runs = 3;
    const runThrottle = await fault({
      kind: 'api-error',
      action: 'RunInstances',
      code: 'Throttling.User',
      retryAfterMs,
      count: runs,
    });
    await fault({
      kind: 'api-error',
      action: 'DescribeInstances',
      code: 'Throttling.User',
      retryAfterMs,
      count: 5,
    });
    const seen: ValidatorBody[] = [];
    const startedAt = Date.now();
    const v = await create();
    const active = await untilActive(v.id, seen);

    // Every throttled RunInstances was retried later, not at once: launching took at least one
    // Retry-After per throttled attempt.
    const launched = (await events(v.id)).find((e) => e.type === 'host.launched');
    expect(launched).toBeDefined();
    const launchedAt = Date.parse(launched!.createdAt);
    expect(launchedAt - startedAt).toBeGreaterThanOrEqual(runs * retryAfterMs);
    // All three throttled answers were served (the fault removes itself after its count).
    expect((await faults()).map((x) => x.id)).not.toContain(runThrottle.id);

    // No user-visible error at any point: never failed, no error text in the state reason.
    expect(seen.length).toBeGreaterThan(3);
    for (const s of seen) {
      expect(s.state).not.toBe('failed');
      expect(s.stateReason ?? '').not.toMatch(/thrott|error|fail|unavailable/i);
    }
    const evs = await events(v.id);
    expect(evs.map((e) => e.type)).not.toContain('validator.failed');

    // Throttling on DescribeInstances is absorbed the same way; once it has passed, exactly one instance.
    const tagged = await waitFor(
      'DescribeInstances throttling to pass',
      async () => ecs.listByTag(TAG_VALIDATOR, v.id),
      30_000,
      500,
    );
    expect(tagged.map((i) => i.instanceId)).toEqual([active.instanceId]);
  });
});
