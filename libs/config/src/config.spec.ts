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
    });
    expect(c.cloud).toMatchObject({
      endpoint: 'ecs.cn-hongkong.aliyuncs.com',
      protocol: 'https',
      accessKeyId: 'id',
    });
    expect(c.cloud.vswitches).toEqual({ 'cn-hongkong-b': 'vsw-1', 'cn-hongkong-c': 'vsw-2' });
  });
});
