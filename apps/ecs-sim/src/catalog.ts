/** What the simulated region offers. Names follow real ECS so configs work unchanged against it. */
export const SIM_REGION = 'cn-hongkong';
export const SIM_ZONES = ['cn-hongkong-b', 'cn-hongkong-c', 'cn-hongkong-d'];
export const SIM_SECURITY_GROUP = 'sg-sim-default';
export const SIM_VPC = 'vpc-sim-default';
export const SIM_IMAGE = 'ubuntu_24_04_x64_20G_alibase_20250101.vhd';
/** Custom images (ECS names them `m-…`): what a region-degraded fault refuses to launch from. */
export const SIM_CUSTOM_IMAGES = ['m-j6csimsnowline0001'];

export interface InstanceTypeSpec {
  cpu: number;
  memoryMiB: number;
}

/**
 * The region's instance types, offered in every zone (DescribeAvailableResource) with their sizes
 * (DescribeInstanceTypes). Figures are real ECS ones; ecs.c7.xlarge and ecs.g7.xlarge sit below
 * AvalancheGo's minimum hardware on purpose, so the API's check has something to refuse.
 */
export const SIM_INSTANCE_TYPES: Record<string, InstanceTypeSpec> = {
  'ecs.g7.2xlarge': { cpu: 8, memoryMiB: 32768 },
  'ecs.g7.4xlarge': { cpu: 16, memoryMiB: 65536 },
  'ecs.g8i.2xlarge': { cpu: 8, memoryMiB: 32768 },
  'ecs.c7.2xlarge': { cpu: 8, memoryMiB: 16384 },
  'ecs.c7.xlarge': { cpu: 4, memoryMiB: 8192 },
  'ecs.g7.xlarge': { cpu: 4, memoryMiB: 16384 },
};

/** The simulator names its vSwitches after the zone's last letter (vsw-sim-b …), as libs/config assumes. */
export function vswitchForZone(zoneId: string): string {
  return `vsw-sim-${zoneId.slice(-1)}`;
}

export const ZONE_LOCAL_NAMES: Record<string, string> = {
  'cn-hongkong-b': '香港 可用区B',
  'cn-hongkong-c': '香港 可用区C',
  'cn-hongkong-d': '香港 可用区D',
};
