import { ConfigError, loadConfig } from './config';

describe(loadConfig.name, () => {
  it('should apply the documented defaults', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/snowline');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379/0');
    expect(c.api.port).toBe(3000);
    expect(c.sim.port).toBe(3100);
    expect(c.cloud.provider).toBe('sim');
    expect(c.cloud.endpoint).toBe('127.0.0.1:3100');
    expect(c.cloud.zones).toEqual(['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d']);
    expect(c.cloud.vswitches['cn-hongkong-c']).toBe('vsw-sim-c');
    expect(c.agent.controlPlaneUrl).toBe('http://127.0.0.1:3000');
    expect(c.agent.stopBudgetSeconds).toBe(10);
    expect(c.failover).toMatchObject({ deadlineSeconds: 180, maxAttempts: 3 });
  });

  it.each(['development', 'test', 'production', undefined])(
    'should keep the webhook SSRF guard on with NODE_ENV=%s unless told otherwise',
    (nodeEnv) => {
      const env = nodeEnv ? { NODE_ENV: nodeEnv } : {};
      expect(loadConfig(env).webhooks.allowPrivateTargets).toBe(false);
      expect(
        loadConfig({ ...env, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).webhooks.allowPrivateTargets,
      ).toBe(true);
      expect(
        loadConfig({ ...env, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' }).webhooks.allowPrivateTargets,
      ).toBe(false);
    },
  );

  it('should scale the default stop budget with a short TTL', () => {
    const c = loadConfig({ LEASE_TTL_SECONDS: '8', LEASE_RENEW_SECONDS: '2' });
    expect(c.agent.stopBudgetSeconds).toBe(2);
  });

  it.each([
    [{ API_PORT: 'abc' }, 'API_PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ SNOWLINE_ADMIN_KEY: 'short' }, 'SNOWLINE_ADMIN_KEY'],
    [{ SNOWLINE_MASTER_KEY: 'bm90LTMyLWJ5dGVz' }, 'SNOWLINE_MASTER_KEY'],
    [{ CLOUD_PROVIDER: 'aws' }, 'CLOUD_PROVIDER'],
    [{ CLOUD_PROVIDER: 'alibaba' }, 'ALIBABA_CLOUD_ACCESS_KEY_ID'],
    [{ ECS_VSWITCHES: 'nonsense' }, 'ECS_VSWITCHES'],
    [{ LEASE_TTL_SECONDS: '10', LEASE_RENEW_SECONDS: '10' }, 'LEASE_RENEW_SECONDS'],
    [{ LEASE_TTL_SECONDS: '30', AGENT_STOP_BUDGET_SECONDS: '20' }, 'AGENT_STOP_BUDGET_SECONDS'],
    [{ FAILOVER_MAX_ATTEMPTS: '0' }, 'FAILOVER_MAX_ATTEMPTS'],
    [{ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'maybe' }, 'WEBHOOK_ALLOW_PRIVATE_TARGETS'],
  ])('should refuse %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(name));
  });

  it('should point at real Alibaba Cloud with credentials, region and vSwitches', () => {
    const c = loadConfig({
      CLOUD_PROVIDER: 'alibaba',
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
      CLOUD_REGION: 'cn-hongkong',
      CLOUD_ZONES: 'cn-hongkong-b,cn-hongkong-c',
      ECS_VSWITCHES: 'cn-hongkong-b=vsw-1,cn-hongkong-c=vsw-2',
      ECS_SECURITY_GROUP_ID: 'sg-1',
      AVALANCHEGO_RELEASES: `1.15.3=${'ab'.repeat(32)}`,
    });
    expect(c.cloud).toMatchObject({
      endpoint: 'ecs.cn-hongkong.aliyuncs.com',
      protocol: 'https',
      accessKeyId: 'id',
    });
    expect(c.cloud.vswitches).toEqual({ 'cn-hongkong-b': 'vsw-1', 'cn-hongkong-c': 'vsw-2' });
    expect(c.avalanchego.releases['1.15.3']).toEqual({
      version: '1.15.3',
      sha256: 'ab'.repeat(32),
      url: 'https://github.com/ava-labs/avalanchego/releases/download/v1.15.3/avalanchego-linux-amd64-v1.15.3.tar.gz',
    });
  });
});

describe('AvalancheGo settings', () => {
  const hex = (c: string) => c.repeat(64);

  it("should default to 1.15.3 everywhere, the simulator's releases and the published calendar", () => {
    const c = loadConfig({});
    expect(c.avalanchego.defaultVersion).toEqual({
      fuji: '1.15.3',
      mainnet: '1.15.3',
      local: '1.15.3',
    });
    expect(c.avalanchego.releases['1.15.0-fuji']).toMatchObject({
      url: 'http://127.0.0.1:3100/_sim/releases/avalanchego-1.15.0-fuji.tar.gz',
    });
    expect(c.avalanchego.calendar.map((u) => `${u.network}/${u.name}/${u.minVersion}`)).toEqual([
      'fuji/Granite/1.14.0-fuji',
      'mainnet/Granite/1.14.0',
      'fuji/Helicon/1.15.0-fuji',
      'mainnet/Helicon/1.15.0',
    ]);
    expect(c.avalanchego.calendar.every((u) => u.source.length > 20)).toBe(true);
    expect(c.avalanchego).toMatchObject({ warningDays: 30, checkIntervalSeconds: 60 });
  });

  it('should take a default per network, releases with their own URL, and more activations', () => {
    const c = loadConfig({
      AVALANCHEGO_VERSION: 'fuji=1.16.0-fuji, mainnet=v1.15.3, local=1.15.3',
      AVALANCHEGO_RELEASES: `1.16.0-fuji=${hex('A')}@https://mirror.example/a.tgz,1.15.3=${hex('b')}`,
      AVALANCHEGO_RELEASE_URL: 'https://dl.example/{version}.tgz',
      NETWORK_UPGRADES:
        'fuji/Test/2027-01-01T00:00:00Z/1.16.0-fuji,mainnet/Helicon/2026-10-01T15:00:00Z/1.15.0',
    });
    expect(c.avalanchego.defaultVersion).toEqual({
      fuji: '1.16.0-fuji',
      mainnet: '1.15.3',
      local: '1.15.3',
    });
    expect(c.avalanchego.releases).toEqual({
      '1.16.0-fuji': {
        version: '1.16.0-fuji',
        sha256: hex('a'),
        url: 'https://mirror.example/a.tgz',
      },
      '1.15.3': { version: '1.15.3', sha256: hex('b'), url: 'https://dl.example/1.15.3.tgz' },
    });
    const helicon = c.avalanchego.calendar.find(
      (u) => u.network === 'mainnet' && u.name === 'Helicon',
    );
    expect(helicon).toMatchObject({
      activatesAt: Date.parse('2026-10-01T15:00:00Z'),
      source: 'NETWORK_UPGRADES',
    });
    expect(c.avalanchego.calendar.at(-1)).toMatchObject({ network: 'fuji', name: 'Test' });
  });

  it.each<[Record<string, string>, string]>([
    [{ AVALANCHEGO_VERSION: 'latest' }, 'AVALANCHEGO_VERSION: "latest" must be a version'],
    [{ AVALANCHEGO_VERSION: 'devnet=1.15.3' }, 'must be a version (1.15.3) or network=version'],
    [{ AVALANCHEGO_VERSION: 'fuji=1.15.3' }, 'AVALANCHEGO_VERSION: no version for mainnet'],
    [{ AVALANCHEGO_VERSION: '1.15.0-fuji' }, 'mainnet: 1.15.0-fuji is a Fuji pre-release'],
    [{ AVALANCHEGO_VERSION: '1.16.0' }, '1.16.0 (fuji) has no entry in AVALANCHEGO_RELEASES'],
    [{ AVALANCHEGO_RELEASES: '1.15.3=abc' }, 'AVALANCHEGO_RELEASES: "1.15.3=abc" must look like'],
    [{ AVALANCHEGO_RELEASES: `nightly=${'a'.repeat(64)}` }, 'with an AvalancheGo version'],
    [
      { AVALANCHEGO_RELEASES: `1.15.3=${'a'.repeat(64)},v1.15.3=${'b'.repeat(64)}` },
      '1.15.3 is listed twice',
    ],
    [{ AVALANCHEGO_RELEASE_URL: 'https://dl.example/latest.tgz' }, 'containing {version}'],
    [{ NETWORK_UPGRADES: 'fuji/Test/tomorrow/1.16.0' }, 'NETWORK_UPGRADES: "fuji/Test/tomorrow'],
    [
      {
        CLOUD_PROVIDER: 'alibaba',
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret',
        ECS_VSWITCHES: 'cn-hongkong-b=vsw-1,cn-hongkong-c=vsw-2,cn-hongkong-d=vsw-3',
      },
      'AVALANCHEGO_RELEASES: required when CLOUD_PROVIDER=alibaba',
    ],
    [{ UPGRADE_WARNING_DAYS: '0' }, 'UPGRADE_WARNING_DAYS'],
  ])('should refuse %j, saying %s', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
