import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { NETWORKS, type Network } from '../validator-state';
import { canonicalVersion, isUpgradePolicy, UPGRADE_POLICIES, versionRefusal } from '../versions';
import { subnetIdProblem } from '../l1';
import {
  ENV_NAME_RE,
  EVENT_TYPE_RE,
  IDENTITY_FIELDS,
  INSTANCE_TYPE_RE,
  LABEL_KEY_RE,
  LABEL_VALUE_RE,
  MAX_POOL_SIZE,
  MAX_VALIDATORS,
  MAX_WEBHOOKS,
  NAME_RE,
  TOP_FIELDS,
  VALIDATOR_FIELDS,
  WEBHOOK_FIELDS,
  type IdentityFiles,
  type SnowlineConfig,
  type StandbyPoolSizes,
  type ValidatorSpec,
  type WebhookSpec,
} from './spec';

/** A mistake in the file, where it is, and (for an unknown field) the nearest known one. */
export interface ConfigError {
  file: string;
  line: number;
  column: number;
  /** Dotted path of the offending value, e.g. `validators.fuji-a.labels`. */
  path: string;
  message: string;
}

export function formatConfigError(e: ConfigError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.message}`;
}

export type ParseResult =
  | {
      ok: true;
      config: SnowlineConfig;
      /** Where a path (`validators.fuji-a.zones`) sits in the file: for errors the API finds. */
      locate?: Locate;
      /** What was accepted but should be fixed (a missing `version`), one line each. */
      warnings?: string[];
    }
  | { ok: false; errors: ConfigError[] };

type Path = (string | number)[];
/** Where a path sits in the source: its key (for "unknown field") or its value. */
type Locate = (path: Path, at: 'key' | 'value') => { line: number; column: number };

/** Levenshtein distance (small strings only: field names). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `word`, if it is close enough to be a likely typo. */
export function nearest(word: string, known: readonly string[]): string | null {
  const snake = word.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  if (snake !== word && known.includes(snake)) return snake;
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** Where a path sits in the source, for validateConfig's messages. */
export type { Locate };

/** Parses and validates snowline.yaml; every error names file:line:column. Pure (no file I/O). */
export function parseConfigYaml(text: string, file = 'snowline.yaml'): ParseResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return {
          file,
          line: pos.line,
          column: pos.col,
          path: '',
          message: `YAML syntax error: ${e.message.split('\n')[0]}`,
        };
      }),
    };
  }
  const locate: Locate = (path, at) => {
    let node: unknown = doc.contents;
    let hit: { line: number; col: number } = lc.linePos(0);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
        if (!pair) break;
        const last = i === path.length - 1;
        const target = last && at === 'key' ? pair.key : (pair.value ?? pair.key);
        const range = (target as Node | null)?.range;
        if (range) hit = lc.linePos(range[0]);
        next = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
        const range = (next as Node | null)?.range;
        if (range) hit = lc.linePos(range[0]);
      } else break;
      node = next;
    }
    return { line: hit.line, column: hit.col };
  };
  return validateConfig(doc.toJS({ maxAliasCount: 100 }) as unknown, file, locate);
}

/** Validates an already-parsed config value (YAML, or HCL converted to JSON). */
export function validateConfig(
  raw: unknown,
  file: string,
  locate: Locate = () => ({ line: 1, column: 1 }),
): ParseResult {
  const errors: ConfigError[] = [];
  const fail = (path: Path, message: string, at: 'key' | 'value' = 'value') => {
    const { line, column } = locate(path, at);
    errors.push({ file, line, column, path: path.join('.'), message });
  };
  const unknown = (path: Path, key: string, known: readonly string[], where: string) => {
    const hint = nearest(key, known);
    fail(
      [...path, key],
      `unknown field "${key}" in ${where}${hint ? `; did you mean "${hint}"?` : `; known fields: ${known.join(', ')}`}`,
      'key',
    );
  };
  if (raw === null || raw === undefined) {
    fail([], 'the file is empty; it needs at least `validators:` (use `validators: {}` for none)');
    return { ok: false, errors };
  }
  if (!isObject(raw)) {
    fail([], 'the file must be a mapping with a `validators:` key');
    return { ok: false, errors };
  }
  for (const k of Object.keys(raw)) {
    if (!(TOP_FIELDS as readonly string[]).includes(k)) unknown([], k, TOP_FIELDS, 'the top level');
  }
  if (raw.version !== undefined && raw.version !== 1)
    fail(['version'], `version must be 1 (got ${show(raw.version)})`);
  let validators: Record<string, ValidatorSpec> = {};
  if (!('validators' in raw)) fail([], 'missing `validators:` (use `validators: {}` for none)');
  else if (raw.validators !== null && !isObject(raw.validators))
    fail(['validators'], 'validators must be a mapping of name → settings (not a list)');
  else {
    validators = eachNamed(raw.validators ?? {}, 'validator', MAX_VALIDATORS, fail, (v, at, name) =>
      validateValidator(v, at, name, fail, unknown),
    );
  }
  let webhooks: Record<string, WebhookSpec> | undefined;
  if ('webhooks' in raw && raw.webhooks !== null) {
    if (!isObject(raw.webhooks))
      fail(['webhooks'], 'webhooks must be a mapping of name → settings (not a list)');
    else {
      webhooks = eachNamed(raw.webhooks, 'webhook', MAX_WEBHOOKS, fail, (w, at, name) =>
        validateWebhook(w, at, name, fail, unknown),
      );
    }
  }
  let standbyPools: StandbyPoolSizes | undefined;
  if ('standby_pools' in raw && raw.standby_pools !== null)
    standbyPools = validatePools(raw.standby_pools, fail, unknown) ?? undefined;
  if (errors.length) return { ok: false, errors };
  const config: SnowlineConfig = { version: 1, validators };
  if (webhooks) config.webhooks = webhooks;
  if (standbyPools) config.standbyPools = standbyPools;
  const ok: ParseResult = { ok: true, config };
  // Not enumerable: the result stays plain data (JSON, deep equality); the CLI asks for them.
  Object.defineProperty(ok, 'locate', { value: locate, enumerable: false });
  // Files written before `version` existed still work: read as 1, said out loud (docs/cli.md).
  const warnings =
    raw.version === undefined
      ? ['no `version:` in the file; reading it as version 1 — add `version: 1` at the top']
      : [];
  Object.defineProperty(ok, 'warnings', { value: warnings, enumerable: false });
  return ok;
}

type Fail = (path: Path, message: string, at?: 'key' | 'value') => void;

/**
 * A section keyed by stable names (`validators:`, `webhooks:`): at most `max` entries, each name
 * checked, each value validated; entries that fail are reported through `fail` and left out.
 */
function eachNamed<T>(
  section: object,
  kind: 'validator' | 'webhook',
  max: number,
  fail: Fail,
  validate: (value: unknown, at: Path, name: string) => T | null,
): Record<string, T> {
  const key = `${kind}s`;
  const entries = Object.entries(section as Record<string, unknown>);
  if (entries.length > max) fail([key], `at most ${max} ${kind}s per file`);
  const out: Record<string, T> = {};
  for (const [name, value] of entries) {
    const at: Path = [key, name];
    if (!NAME_RE.test(name)) {
      fail(
        at,
        `${kind} name "${name}" must be 1–63 characters of a-z, 0-9 and -, starting and ending with a letter or digit`,
        'key',
      );
      continue;
    }
    const spec = validate(value, at, name);
    if (spec) out[name] = spec;
  }
  return out;
}
type Unknown = (path: Path, key: string, known: readonly string[], where: string) => void;

function validateWebhook(
  w: unknown,
  at: Path,
  name: string,
  fail: Fail,
  unknown: Unknown,
): WebhookSpec | null {
  if (!isObject(w)) {
    fail(at, `webhooks.${name} must be a mapping with at least \`url:\` and \`secret_env:\``);
    return null;
  }
  const known = Object.keys(WEBHOOK_FIELDS);
  let ok = true;
  const bad = (field: string, message: string) => {
    ok = false;
    fail([...at, field], `webhooks.${name}.${field}: ${message}`);
  };
  for (const k of Object.keys(w))
    if (k === 'secret') {
      ok = false;
      fail(
        [...at, k],
        `webhooks.${name}.secret: the signing secret never goes in this file (nor in a plan or state); put it in an environment variable and name that with secret_env`,
        'key',
      );
    } else if (!known.includes(k)) {
      ok = false;
      unknown(at, k, known, `webhooks.${name}`);
    }
  const spec: Partial<WebhookSpec> = {};
  if (w.url === undefined) {
    ok = false;
    fail(at, `webhooks.${name}: missing \`url\` (where deliveries are POSTed)`);
  } else if (typeof w.url !== 'string' || !/^https?:\/\/\S+$/i.test(w.url) || w.url.length > 2048)
    bad('url', `must be an absolute http:// or https:// URL (got ${show(w.url)})`);
  else spec.url = w.url;
  if (w.events !== undefined && w.events !== null) {
    const ev = w.events;
    if (
      !Array.isArray(ev) ||
      ev.length > 64 ||
      ev.some((e) => typeof e !== 'string' || !EVENT_TYPE_RE.test(e))
    )
      bad('events', 'must be a list of up to 64 event types, e.g. [validator.failed, zone.dark]');
    else spec.events = [...new Set(ev as string[])];
  }
  if (w.enabled !== undefined) {
    if (typeof w.enabled !== 'boolean')
      bad('enabled', `must be true or false (got ${show(w.enabled)})`);
    else spec.enabled = w.enabled;
  }
  if (w.description !== undefined) {
    if (typeof w.description !== 'string' || w.description.length > 200)
      bad('description', 'must be a string of at most 200 characters');
    else spec.description = w.description;
  }
  if (w.secret_env === undefined) {
    ok = false;
    fail(
      at,
      `webhooks.${name}: missing \`secret_env\` (the environment variable that holds the signing secret; the secret itself never goes in this file)`,
    );
  } else if (typeof w.secret_env !== 'string' || !ENV_NAME_RE.test(w.secret_env))
    bad(
      'secret_env',
      `must be the name of an environment variable, e.g. SNOWLINE_WEBHOOK_SECRET (got ${show(w.secret_env)})`,
    );
  else spec.secretEnv = w.secret_env;
  if (w.secret_version !== undefined) {
    const v = w.secret_version;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000)
      bad('secret_version', `must be a whole number from 1 (got ${show(v)})`);
    else spec.secretVersion = v;
  }
  return ok ? (spec as WebhookSpec) : null;
}

function validatePools(raw: unknown, fail: Fail, unknown: Unknown): StandbyPoolSizes | null {
  if (!isObject(raw)) {
    fail(['standby_pools'], 'standby_pools must be a mapping of network → zone → count');
    return null;
  }
  const out: StandbyPoolSizes = {};
  let ok = true;
  for (const [network, zones] of Object.entries(raw)) {
    const at: Path = ['standby_pools', network];
    if (!NETWORKS.includes(network as Network)) {
      ok = false;
      unknown(['standby_pools'], network, NETWORKS, 'standby_pools (a network)');
      continue;
    }
    if (zones === null) continue;
    if (!isObject(zones)) {
      ok = false;
      fail(at, `standby_pools.${network} must be a mapping of zone → count, e.g. cn-hongkong-b: 1`);
      continue;
    }
    const sizes: Record<string, number> = {};
    for (const [zone, n] of Object.entries(zones)) {
      if (!zone || zone.length > 64 || !/^[a-z0-9-]+$/.test(zone)) {
        ok = false;
        fail([...at, zone], `standby_pools.${network}: "${zone}" is not a zone id`, 'key');
      } else if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_POOL_SIZE) {
        ok = false;
        fail(
          [...at, zone],
          `standby_pools.${network}.${zone}: must be a whole number from 0 to ${MAX_POOL_SIZE} (got ${show(n)})`,
        );
      } else sizes[zone] = n;
    }
    out[network] = sizes;
  }
  return ok ? out : null;
}

function validateValidator(
  v: unknown,
  at: Path,
  name: string,
  fail: Fail,
  unknown: Unknown,
): ValidatorSpec | null {
  if (!isObject(v)) {
    fail(at, `validators.${name} must be a mapping with at least \`network:\``);
    return null;
  }
  const known = Object.keys(VALIDATOR_FIELDS);
  let ok = true;
  const bad = (field: string, message: string) => {
    ok = false;
    fail([...at, field], `validators.${name}.${field}: ${message}`);
  };
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) {
      ok = false;
      unknown(at, k, known, `validators.${name}`);
    }
  }
  const spec: Partial<ValidatorSpec> = {};
  if (v.network === undefined) {
    ok = false;
    fail(at, `validators.${name}: missing \`network\` (one of ${NETWORKS.join(', ')})`);
  } else if (!NETWORKS.includes(v.network as Network))
    bad('network', `must be one of ${NETWORKS.join(', ')} (got ${show(v.network)})`);
  else spec.network = v.network as Network;
  if (v.subnet_id !== undefined && v.subnet_id !== null) {
    const problem =
      typeof v.subnet_id === 'string' ? subnetIdProblem(v.subnet_id) : 'must be a string';
    if (problem) bad('subnet_id', `${show(v.subnet_id)} ${problem}`);
    else spec.subnetId = v.subnet_id as string;
  }
  if (v.version !== undefined) {
    const version = typeof v.version === 'string' ? canonicalVersion(v.version) : null;
    if (!version)
      bad(
        'version',
        `must be an AvalancheGo version like "1.15.3" or "1.15.0-fuji" (quote it; got ${show(v.version)})`,
      );
    else if (spec.network && versionRefusal(version, spec.network))
      bad('version', versionRefusal(version, spec.network)!);
    else spec.version = version;
  }
  if (v.upgrade !== undefined) {
    if (!isUpgradePolicy(v.upgrade))
      bad('upgrade', `must be one of ${UPGRADE_POLICIES.join(', ')} (got ${show(v.upgrade)})`);
    else spec.upgrade = v.upgrade;
  }
  if (v.instance_type !== undefined) {
    if (typeof v.instance_type !== 'string' || !INSTANCE_TYPE_RE.test(v.instance_type))
      bad('instance_type', `must look like ecs.g7.2xlarge (got ${show(v.instance_type)})`);
    else spec.instanceType = v.instance_type;
  }
  if (v.zones !== undefined && v.zones !== null) {
    const zones = v.zones;
    if (
      !Array.isArray(zones) ||
      zones.length > 16 ||
      zones.some((z) => typeof z !== 'string' || !z || z.length > 64)
    )
      bad('zones', 'must be a list of up to 16 zone ids, e.g. [cn-hongkong-b, cn-hongkong-c]');
    else spec.zones = [...new Set(zones as string[])];
  }
  if (v.labels !== undefined && v.labels !== null) {
    if (!isObject(v.labels)) bad('labels', 'must be a mapping of key: value');
    else {
      const entries = Object.entries(v.labels);
      if (entries.length > 32) bad('labels', 'at most 32 labels');
      const labels: Record<string, string> = {};
      for (const [k, val] of entries) {
        if (!LABEL_KEY_RE.test(k))
          bad(
            'labels',
            `key "${k}" must be 1–63 characters of a-z, 0-9, '.', '_', '/', '-', starting and ending with a letter or digit`,
          );
        else if (typeof val !== 'string' || !LABEL_VALUE_RE.test(val))
          bad(
            'labels',
            `${k} must be a string of at most 128 letters, digits, spaces or . _ : / @ - (quote numbers and booleans)`,
          );
        else labels[k] = val;
      }
      spec.labels = labels;
    }
  }
  if (v.prevent_destroy !== undefined) {
    if (typeof v.prevent_destroy !== 'boolean')
      bad('prevent_destroy', `must be true or false (got ${show(v.prevent_destroy)})`);
    else spec.preventDestroy = v.prevent_destroy;
  }
  if (v.identity !== undefined) {
    const id = v.identity;
    const idKnown = Object.keys(IDENTITY_FIELDS);
    if (!isObject(id)) bad('identity', 'must be a mapping of staker_crt, staker_key, signer_key');
    else {
      for (const k of Object.keys(id))
        if (!idKnown.includes(k)) {
          ok = false;
          unknown([...at, 'identity'], k, idKnown, `validators.${name}.identity`);
        }
      const files: Partial<IdentityFiles> = {};
      for (const [k, camel] of Object.entries(IDENTITY_FIELDS)) {
        const p = id[k];
        if (typeof p !== 'string' || !p) {
          ok = false;
          fail([...at, 'identity'], `validators.${name}.identity.${k}: a file path is required`);
        } else files[camel] = p;
      }
      spec.identity = files as IdentityFiles;
    }
  }
  return ok ? (spec as ValidatorSpec) : null;
}
