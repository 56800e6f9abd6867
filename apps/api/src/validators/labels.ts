import { badRequest } from '../common/problem';

const LABEL_KEY = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
const LABEL_VALUE = /^[\p{L}\p{N} ._:/@-]{0,128}$/u;
export const MAX_LABELS = 32;

/** Labels: ≤ 32 pairs of `key` (a-z0-9 . _ / -, ≤ 63) → short string value. 400 naming the bad one. */
export function validateLabels(raw: unknown, field = 'labels'): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw badRequest(`${field}: must be an object of string values, e.g. {"team":"core"}.`);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_LABELS) throw badRequest(`${field}: at most ${MAX_LABELS} labels.`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!LABEL_KEY.test(k))
      throw badRequest(
        `${field}: key "${k.slice(0, 64)}" must be 1–63 characters of a-z, 0-9, '.', '_', '/', '-', starting and ending with a letter or digit.`,
      );
    if (typeof v !== 'string' || !LABEL_VALUE.test(v))
      throw badRequest(
        `${field}.${k}: must be a string of at most 128 letters, digits, spaces or . _ : / @ -.`,
      );
    out[k] = v;
  }
  return out;
}

/** `label` query parameter(s): `key=value`, repeatable or comma-separated; every pair must match. */
export function parseLabelFilter(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((p) =>
    typeof p === 'string' ? p.split(',') : [null],
  );
  if (parts.length > MAX_LABELS || parts.some((p) => p === null))
    throw badRequest(`label: give up to ${MAX_LABELS} key=value pairs.`);
  const pairs: Record<string, string> = {};
  for (const p of parts as string[]) {
    const i = p.indexOf('=');
    if (i <= 0) throw badRequest(`label: "${p.slice(0, 64)}" must look like key=value.`);
    pairs[p.slice(0, i)] = p.slice(i + 1);
  }
  return validateLabels(pairs, 'label');
}
