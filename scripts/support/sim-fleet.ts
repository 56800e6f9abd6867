import Ecs20140526, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';

const REGION = 'cn-hongkong';
const ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];
/** UserData that is not Snowline's: the simulator runs no agent on these instances. */
const FOREIGN_USER_DATA = Buffer.from('#!/bin/sh\necho not-snowline\n').toString('base64');

/**
 * Launches `count` instances through the real SDK, 100 per RunInstances (the ECS maximum),
 * round-robin over the zones, and waits until the simulator shows them all Running. The benches'
 * fleet: real instances for the sweep's Describe, no agents.
 */
export async function launchForeignFleet(
  port: number,
  count: number,
  opts: { keyId: string; secret: string; name: string; tag?: string; timeoutMs: number },
): Promise<{ ids: string[]; zones: string[] }> {
  const sdk = new Ecs20140526(
    new $OpenApiUtil.Config({
      accessKeyId: opts.keyId,
      accessKeySecret: opts.secret,
      regionId: REGION,
      endpoint: `127.0.0.1:${port}`,
      protocol: 'http',
      readTimeout: 30_000,
    }),
  );
  const ids: string[] = [];
  const zones: string[] = [];
  for (let launched = 0, batch = 0; launched < count; batch++) {
    const amount = Math.min(100, count - launched);
    const zone = ZONES[batch % ZONES.length]!;
    const res = await sdk.runInstances(
      new $Ecs.RunInstancesRequest({
        regionId: REGION,
        zoneId: zone,
        instanceType: 'ecs.g7.2xlarge',
        imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
        vSwitchId: `vsw-sim-${zone.slice(-1)}`,
        securityGroupId: 'sg-sim-default',
        amount,
        clientToken: `${opts.name}-${batch}`,
        userData: FOREIGN_USER_DATA,
        tag: opts.tag
          ? [new $Ecs.RunInstancesRequestTag({ key: 'snowline:project', value: opts.tag })]
          : undefined,
      }),
    );
    const got = res.body?.instanceIdSets?.instanceIdSet ?? [];
    if (got.length !== amount) throw new Error(`RunInstances gave ${got.length}/${amount} ids`);
    ids.push(...got);
    zones.push(...got.map(() => zone));
    launched += amount;
  }
  // Steady state means every instance Running: wait for the simulator's lifecycle timers.
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/_sim/state`);
    const s = (await res.json()) as { byStatus: Record<string, number> };
    if ((s.byStatus.Running ?? 0) >= count) break;
    if (Date.now() > deadline)
      throw new Error(`not all Running after ${opts.timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ids, zones };
}
