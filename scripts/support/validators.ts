import type { Stack } from './stack';

/** Every validator of the stack's default project, page by page (`GET /v1/validators`). */
export async function listValidators<V>(stack: Stack): Promise<V[]> {
  const out: V[] = [];
  let cursor: string | null = null;
  do {
    const res = await stack.api(`/v1/validators?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    const body = (await res.json()) as { items: V[]; nextCursor: string | null };
    out.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return out;
}

/** The p-th percentile (nearest rank) of `xs`; null when empty. */
export function percentile(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
