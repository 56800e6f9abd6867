/**
 * AvalancheGo's minimum hardware for a validator: 8 vCPU and 16 GB of RAM (shared/reference/
 * avalanchego.md, "Hardware guidance: 8 vCPU, 16 GB RAM, 1 TB NVMe"). ECS sizes memory in GiB, and a
 * "16 GB" ECS type has 16 GiB, so 16 GiB is the bar. The disk is not a property of the instance type
 * (the system disk is chosen at launch), so it is not checked here.
 */
export const AVALANCHEGO_MIN_HARDWARE = { vcpu: 8, memoryGiB: 16 } as const;

/** One instance type as the region's catalog knows it, over the zones that offer it. */
export interface OfferedInstanceType {
  instanceType: string;
  /** null: the cloud gave no size; such a type is not refused for its size. */
  vcpu: number | null;
  memoryGiB: number | null;
  zones: string[];
}

/** At most this many valid types are named in a refusal; the rest are counted. */
const NAMED = 12;

export function meetsMinimumHardware(t: OfferedInstanceType): boolean {
  return (
    (t.vcpu === null || t.vcpu >= AVALANCHEGO_MIN_HARDWARE.vcpu) &&
    (t.memoryGiB === null || t.memoryGiB >= AVALANCHEGO_MIN_HARDWARE.memoryGiB)
  );
}

/** The types a validator may use, smallest first (then by name). */
export function validInstanceTypes(offered: readonly OfferedInstanceType[]): string[] {
  return offered
    .filter(meetsMinimumHardware)
    .sort(
      (a, b) =>
        (a.vcpu ?? 0) - (b.vcpu ?? 0) ||
        (a.memoryGiB ?? 0) - (b.memoryGiB ?? 0) ||
        a.instanceType.localeCompare(b.instanceType),
    )
    .map((t) => t.instanceType);
}

function size(t: OfferedInstanceType): string {
  return `${t.vcpu ?? '?'} vCPU / ${t.memoryGiB ?? '?'} GiB`;
}

/**
 * Why `instanceType` cannot run a validator in `where` (e.g. "zones cn-hongkong-b"), or null when
 * it can. `offered` is the catalog over the candidate zones; an empty catalog is not a refusal
 * (the caller decides: the worker may not have read it yet).
 */
export function instanceTypeProblem(
  instanceType: string,
  offered: readonly OfferedInstanceType[],
  where: string,
  field = 'instanceType',
): string | null {
  const valid = validInstanceTypes(offered);
  const named =
    valid.length === 0
      ? 'none of the offered types meets it'
      : valid.slice(0, NAMED).join(', ') +
        (valid.length > NAMED ? ` and ${valid.length - NAMED} more` : '');
  const min = `${AVALANCHEGO_MIN_HARDWARE.vcpu} vCPU / ${AVALANCHEGO_MIN_HARDWARE.memoryGiB} GiB`;
  const t = offered.find((o) => o.instanceType === instanceType);
  if (!t)
    return `${field}: ${instanceType} is not offered in ${where}; valid types (at least ${min}, AvalancheGo's minimum): ${named}.`;
  if (!meetsMinimumHardware(t))
    return `${field}: ${instanceType} (${size(t)}) is below AvalancheGo's minimum of ${min}; valid types: ${named}.`;
  return null;
}
