import { AlibabaEcsProvider, InvalidConfig } from '@snowline/cloud';
import { loadConfig } from '@snowline/config';
import { startStack, waitFor, type Stack } from '../support/stack';

jest.setTimeout(120_000);

interface ValidatorBody {
  id: string;
  state: string;
  nodeId: string | null;
  zone: string | null;
  instanceId: string | null;
}

describe('launch a validator end to end', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('launch');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const getValidator = async (id: string): Promise<ValidatorBody> => {
    const res = await stack.api(`/v1/validators/${id}`);
    expect(res.status).toBe(200);
    return (await res.json()) as ValidatorBody;
  };

  it('should launch, become active with a NodeID on a simulated instance, and retire', async () => {
    const created = await stack.api('/v1/validators', {
      method: 'POST',
      json: { network: 'fuji' },
    });
    expect(created.status).toBe(202);
    const v = (await created.json()) as ValidatorBody;
    expect(v.state).toBe('pending');
    // The identity is generated off the request path: unknown (null) in the 202, never a placeholder.
    expect(v.nodeId === null || /^NodeID-[1-9A-HJ-NP-Za-km-z]+$/.test(v.nodeId)).toBe(true);
    expect(JSON.stringify(v)).not.toMatch(/PRIVATE KEY|stakerKey|signerKey/);
    const nodeId = await waitFor(
      'the generated identity',
      async () => (await getValidator(v.id)).nodeId ?? undefined,
      10_000,
      100,
    );
    expect(nodeId).toMatch(/^NodeID-[1-9A-HJ-NP-Za-km-z]+$/);

    const active = await waitFor(
      'the validator to become active',
      async () => {
        const cur = await getValidator(v.id);
        if (cur.state === 'failed') throw new Error(`validator failed: ${JSON.stringify(cur)}`);
        return cur.state === 'active' ? cur : undefined;
      },
      60_000,
      500,
    );
    expect(active.zone).toMatch(/^cn-hongkong-[bcd]$/);
    expect(active.instanceId).toMatch(/^i-/);
    expect(active.nodeId).toBe(nodeId);

    // The simulator's ground truth: exactly one running node with this NodeID.
    const nodes = (await (await fetch(`${stack.simUrl}/_sim/nodes`)).json()) as {
      instanceId: string;
      nodeId: string | null;
      running: boolean;
    }[];
    const running = nodes.filter((n) => n.nodeId === nodeId && n.running);
    expect(running.map((n) => n.instanceId)).toEqual([active.instanceId]);

    // The instance is visible through the real ECS SDK client.
    const config = loadConfig({ ...stack.env });
    const ecs = new AlibabaEcsProvider(config.cloud);
    const [inst] = await ecs.describe([active.instanceId!]);
    expect(inst).toMatchObject({
      instanceId: active.instanceId,
      zoneId: active.zone,
      status: 'Running',
    });
    expect(inst!.tags['snowline:validator']).toBe(v.id);

    // A request signed with the wrong secret is refused.
    const forged = new AlibabaEcsProvider({ ...config.cloud, accessKeySecret: 'wrong-secret' });
    const err = await forged.describe([active.instanceId!]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfig);
    expect((err as InvalidConfig).code).toBe('SignatureDoesNotMatch');

    const del = await stack.api(`/v1/validators/${v.id}`, { method: 'DELETE' });
    expect(del.status).toBe(202);
    await waitFor(
      'the validator to be retired',
      async () => (await getValidator(v.id)).state === 'retired',
      30_000,
      500,
    );
    expect(await ecs.describe([active.instanceId!])).toEqual([]);

    const events = (await (await stack.api(`/v1/validators/${v.id}/events`)).json()) as {
      items: { type: string }[];
    };
    expect(events.items.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'validator.created',
        'host.launched',
        'host.keys_delivered',
        'validator.active',
        'validator.retired',
      ]),
    );
  });

  it('should refuse an unknown network or field with 400 and create nothing', async () => {
    const before = ((await (await stack.api('/v1/validators')).json()) as { items: unknown[] })
      .items.length;
    const bad = await stack.api('/v1/validators', { method: 'POST', json: { network: 'moon' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/network must be one of/);
    const extra = await stack.api('/v1/validators', {
      method: 'POST',
      json: { network: 'fuji', color: 'red' },
    });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { detail: string }).detail).toMatch(/color should not exist/);
    const after = ((await (await stack.api('/v1/validators')).json()) as { items: unknown[] }).items
      .length;
    expect(after).toBe(before);
  });

  it('should refuse a missing or wrong API key with 401', async () => {
    expect((await fetch(`${stack.apiUrl}/v1/validators`)).status).toBe(401);
    expect(
      (await stack.api('/v1/validators', { key: 'sl_admin_not_a_real_key_at_all' })).status,
    ).toBe(401);
  });
});
