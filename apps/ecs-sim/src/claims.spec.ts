import { collectClaims } from './pchain';
import { SimState, type HostReport, type RunSpec, type SimHost } from './state';

const spec = (zoneId: string, tag: string): RunSpec => ({
  regionId: 'cn-hongkong',
  zoneId,
  instanceType: 'ecs.g7.2xlarge',
  imageId: 'ubuntu_24_04_x64_20G_alibase_20250101.vhd',
  vSwitchId: `vsw-sim-${zoneId.slice(-1)}`,
  securityGroupId: 'sg-sim-default',
  amount: 1,
  tags: [['snowline:host', tag]],
  userData: tag,
});

describe(collectClaims.name, () => {
  it('should count a node its peers dropped (an outdated version) as unreachable', async () => {
    let now = 1_000_000;
    const reports: Record<string, HostReport> = {
      current: { nodeId: 'NodeID-A', running: true, bootstrapped: true, validating: true },
      outdated: { nodeId: 'NodeID-B', running: true, bootstrapped: true, validating: false },
      legacy: { nodeId: 'NodeID-C', running: true, bootstrapped: true },
    };
    const state = new SimState({
      now: () => now,
      hostFactory: (ctx): SimHost => ({
        stop: () => undefined,
        handle: () => Promise.resolve({ status: 200, body: {} }),
        report: () => reports[ctx.userData]!,
      }),
    });
    for (const tag of Object.keys(reports)) state.run(spec('cn-hongkong-c', tag));
    now += 5_000;
    state.tick();
    const claims = await collectClaims(state);
    expect(Object.fromEntries(claims.map((c) => [c.nodeId, c.reachable]))).toEqual({
      'NodeID-A': true,
      'NodeID-B': false,
      'NodeID-C': true, // a host that does not model versions is not taken off the network
    });
  });
});
