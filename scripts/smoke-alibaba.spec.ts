import { redactAll, smokeSettings } from './smoke-alibaba';

describe('smokeSettings', () => {
  it.each([
    [{}, 'ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_REGION'],
    [
      { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIxxxx', ALIBABA_CLOUD_ACCESS_KEY_SECRET: ' ' },
      'ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_REGION',
    ],
  ])('should skip and name what is missing (%j)', (env, missing) => {
    const s = smokeSettings(env);
    expect(s.skip).toContain(`${missing} not set`);
    expect(s.skip).not.toContain('LTAIxxxx');
  });

  it('should call the regional endpoint over https when everything is set', () => {
    const s = smokeSettings({
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIxxxx',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret-value',
      ALIBABA_CLOUD_REGION: 'cn-hongkong',
    });
    if (s.skip !== undefined) throw new Error(s.skip);
    expect(s.config).toMatchObject({
      region: 'cn-hongkong',
      endpoint: 'ecs.cn-hongkong.aliyuncs.com',
      protocol: 'https',
    });
    expect(s.instanceType).toBe('ecs.g7.2xlarge');
  });

  it('should honour an http ECS_ENDPOINT (the simulator)', () => {
    const s = smokeSettings({
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'snowline-sim',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'snowline-sim-secret',
      ALIBABA_CLOUD_REGION: 'cn-hongkong',
      ECS_ENDPOINT: 'http://127.0.0.1:3100/',
    });
    if (s.skip !== undefined) throw new Error(s.skip);
    expect(s.config).toMatchObject({ endpoint: '127.0.0.1:3100', protocol: 'http' });
  });
});

describe('redactAll', () => {
  it('should replace every credential occurrence', () => {
    expect(redactAll('key LTAIxxxx and LTAIxxxx, secret s3cr3t!', ['LTAIxxxx', 's3cr3t!'])).toBe(
      'key *** and ***, secret ***',
    );
  });
});
