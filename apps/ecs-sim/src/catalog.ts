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

export const SIM_INSTANCE_TYPES: Record<string, InstanceTypeSpec> = {
  'ecs.g7.2xlarge': { cpu: 8, memoryMiB: 32768 },
  'ecs.g8i.2xlarge': { cpu: 8, memoryMiB: 32768 },
  'ecs.c7.xlarge': { cpu: 4, memoryMiB: 8192 },
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
