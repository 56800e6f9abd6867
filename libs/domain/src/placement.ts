/** Pure placement: the zones to try, in order, for a new host of a project. */
export interface PlacementInput {
  /** Zones configured for the region. */
  configured: readonly string[];
  /** The validator's allowed zones (empty = any configured zone). */
  allowed: readonly string[];
  /** Zones where placement is currently not allowed (impaired, dark). */
  blocked?: readonly string[];
  /** How many of the project's live validators sit in each zone (spread them). */
  load?: Readonly<Record<string, number>>;
  /** Zones to try last (e.g. the zone of the host being replaced). */
  avoid?: readonly string[];
}

export function placementOrder(input: PlacementInput): string[] {
  const allowed = input.allowed.length
    ? input.configured.filter((z) => input.allowed.includes(z))
    : [...input.configured];
  const blocked = new Set(input.blocked ?? []);
  const avoid = new Set(input.avoid ?? []);
  const load = input.load ?? {};
  const rank = (z: string) => (avoid.has(z) ? 1 : 0);
  return allowed
    .filter((z) => !blocked.has(z))
    .map((z, i) => ({ z, i }))
    .sort((a, b) => rank(a.z) - rank(b.z) || (load[a.z] ?? 0) - (load[b.z] ?? 0) || a.i - b.i)
    .map(({ z }) => z);
}
