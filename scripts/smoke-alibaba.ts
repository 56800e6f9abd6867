/**
 * `npm run smoke:alibaba`: read-only calls (DescribeZones, DescribeAvailableResource) against real
 * Alibaba Cloud through the same adapter Snowline runs, to check credentials, region and endpoint.
 * Needs ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_REGION; without
 * them it says so and exits 0. Optional: SMOKE_INSTANCE_TYPE (default ecs.g7.2xlarge), ECS_ENDPOINT
 * (default ecs.<region>.aliyuncs.com; `http://127.0.0.1:3100` points it at the simulator).
 * Never prints a credential: errors pass through the adapter's redaction.
 */
import { AlibabaEcsProvider, CloudError, type EcsCloudConfig } from '@snowline/cloud';

export type SmokeSettings =
  { skip: string } | { skip?: undefined; config: EcsCloudConfig; instanceType: string };

const REQUIRED = [
  'ALIBABA_CLOUD_ACCESS_KEY_ID',
  'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
  'ALIBABA_CLOUD_REGION',
] as const;

/** Pure: what to call, or why to skip. */
export function smokeSettings(env: Record<string, string | undefined>): SmokeSettings {
  const missing = REQUIRED.filter((k) => !env[k]?.trim());
  if (missing.length) {
    return {
      skip: `smoke:alibaba skipped: ${missing.join(', ')} not set. Set all three to run read-only DescribeZones and DescribeAvailableResource against Alibaba Cloud.`,
    };
  }
  const region = env.ALIBABA_CLOUD_REGION!.trim();
  const raw = env.ECS_ENDPOINT?.trim() || `ecs.${region}.aliyuncs.com`;
  const protocol = raw.startsWith('http://') ? 'http' : 'https';
  const endpoint = raw.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return {
    instanceType: env.SMOKE_INSTANCE_TYPE?.trim() || 'ecs.g7.2xlarge',
    config: {
      provider: 'alibaba',
      region,
      zones: [],
      vswitches: {},
      securityGroupId: '',
      imageId: '',
      endpoint,
      protocol,
      accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID!.trim(),
      accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET!.trim(),
      timeoutMs: 10_000,
      defaultInstanceType: env.SMOKE_INSTANCE_TYPE?.trim() || 'ecs.g7.2xlarge',
    },
  };
}

export function redactAll(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.trim().length >= 4) out = out.split(s.trim()).join('***');
  return out;
}

async function main(): Promise<number> {
  const settings = smokeSettings(process.env);
  if (settings.skip !== undefined) {
    process.stdout.write(`${settings.skip}\n`);
    return 0;
  }
  const { config, instanceType } = settings;
  process.stdout.write(
    `smoke:alibaba: region ${config.region} at ${config.protocol}://${config.endpoint} (read-only)\n`,
  );
  const zones = await new AlibabaEcsProvider(config).zones();
  process.stdout.write(
    `DescribeZones: ${zones.length} zone(s): ${zones.map((z) => z.zoneId).join(', ') || '(none)'}\n`,
  );
  // stock() reports the configured zones only: configure exactly the zones the region has.
  const withZones = new AlibabaEcsProvider({ ...config, zones: zones.map((z) => z.zoneId) });
  const stock = await withZones.stock(instanceType);
  process.stdout.write(`DescribeAvailableResource (${instanceType}):\n`);
  for (const s of stock) process.stdout.write(`  ${s.zoneId}: ${s.category}\n`);
  process.stdout.write('smoke:alibaba: ok\n');
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const text =
        err instanceof CloudError
          ? `${err.name}${err.code ? ` (${err.code})` : ''}: ${err.message}`
          : `${err instanceof Error ? err.name : 'Error'}: ${err instanceof Error ? err.message : String(err)}`;
      // The adapter redacts CloudErrors already; redact again in case anything else echoed a key.
      const secrets = [
        process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
        process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      ];
      process.stderr.write(`smoke:alibaba failed: ${redactAll(text, secrets)}\n`);
      process.exit(1);
    },
  );
}
