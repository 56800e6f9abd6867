const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

/** The first forbidden or too-deep key path in a parsed JSON body, or null. */
export function findHostileKey(value: unknown, path = '', depth = 0): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_DEPTH) return path || '(root)';
  for (const key of Object.keys(value)) {
    const at = path ? `${path}.${key}` : key;
    if (FORBIDDEN.has(key)) return at;
    const hit = findHostileKey((value as Record<string, unknown>)[key], at, depth + 1);
    if (hit) return hit;
  }
  return null;
}
