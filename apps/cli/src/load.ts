import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { nodeIdFromCertPem } from '@snowline/avalanche';
import {
  formatConfigError,
  parseConfigText,
  type DesiredValidator,
  type DesiredWebhook,
  type Locate,
  type SnowlineConfig,
  type StandbyPoolSizes,
} from '@snowline/domain';

/** A user error: printed as is, exit code 1. */
export class UsageError extends Error {}

export interface IdentityKeys {
  stakerCrt: string;
  stakerKey: string;
  signerKey: string;
}

export interface LoadedFile {
  file: string;
  config: SnowlineConfig;
  /** What `POST /v1/plans` gets: identities reduced to their NodeID. */
  desired: DesiredValidator[];
  /** Key files by validator name, sent only with apply. */
  identities: Record<string, IdentityKeys>;
  /** The file's webhooks ([] when it has none: the webhooks it created before are deleted). */
  webhooks: DesiredWebhook[];
  /** Only when the file has `standby_pools:` (otherwise pools are not planned). */
  standbyPools?: StandbyPoolSizes;
  /** Where a path of the file's config sits in it (line:column). */
  locate?: Locate;
  /** Accepted but worth fixing (`file: message`), printed as warnings. */
  warnings: string[];
}

/** The API's (camelCase) field names → the file's keys. */
const FILE_KEYS: Record<string, string> = {
  instanceType: 'instance_type',
  subnetId: 'subnet_id',
  preventDestroy: 'prevent_destroy',
  secretEnv: 'secret_env',
  secretVersion: 'secret_version',
  standbyPools: 'standby_pools',
};

/**
 * `file:line:column` for an API error that starts with a path into the request
 * (`validators.fuji-a.zones: …`, `validators.0.network …`, `webhooks[1].url: …`), or null.
 */
export function whereInFile(f: LoadedFile, detail: string): string | null {
  const head = /^([\w-]+(?:\[\d+\])?(?:\.[\w-]+)*)(?=[:\s])/.exec(detail)?.[1];
  if (!head || !f.locate) return null;
  const segs = head.replace(/\[(\d+)\]/g, '.$1').split('.');
  const top = FILE_KEYS[segs[0]!] ?? segs[0]!;
  const names =
    top === 'validators'
      ? f.desired.map((d) => d.name)
      : top === 'webhooks'
        ? f.webhooks.map((w) => w.name)
        : null;
  if (!names || segs.length < 2) return null;
  // An index into the request's list is the n-th entry of the file's map.
  const name = /^\d+$/.test(segs[1]!) ? names[Number(segs[1])] : segs[1];
  if (!name || !names.includes(name)) return null;
  const path = [top, name, ...segs.slice(2).map((s) => FILE_KEYS[s] ?? s)];
  const { line, column } = f.locate(path, 'value');
  return `${f.file}:${line}:${column}`;
}

/** signer.key as AvalancheGo writes it (32 raw bytes), or already base64. */
function signerKeyBase64(buf: Buffer): string {
  if (buf.length === 32) return buf.toString('base64');
  return buf.toString('utf8').trim();
}

/** Reads and validates snowline.yaml (or .hcl); reads identity key files relative to it. */
export function loadFile(file: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  // snowline.hcl or snowline.yaml: one validation, the same messages at file:line:column.
  const parsed = parseConfigText(text, file);
  if (!parsed.ok) throw new UsageError(parsed.errors.map(formatConfigError).join('\n'));
  const dir = dirname(resolve(file));
  const desired: DesiredValidator[] = [];
  const identities: Record<string, IdentityKeys> = {};
  for (const [name, v] of Object.entries(parsed.config.validators)) {
    const d: DesiredValidator = { name, network: v.network };
    if (v.subnetId !== undefined) d.subnetId = v.subnetId;
    if (v.version !== undefined) d.version = v.version;
    if (v.upgrade !== undefined) d.upgrade = v.upgrade;
    if (v.instanceType !== undefined) d.instanceType = v.instanceType;
    if (v.zones !== undefined) d.zones = v.zones;
    if (v.labels !== undefined) d.labels = v.labels;
    if (v.preventDestroy !== undefined) d.preventDestroy = v.preventDestroy;
    if (v.identity) {
      const read = (field: string, path: string) => {
        try {
          return readFileSync(resolve(dir, path));
        } catch (err) {
          throw new UsageError(
            `${file}: validators.${name}.identity.${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`,
          );
        }
      };
      const keys: IdentityKeys = {
        stakerCrt: read('staker_crt', v.identity.stakerCrt).toString('utf8'),
        stakerKey: read('staker_key', v.identity.stakerKey).toString('utf8'),
        signerKey: signerKeyBase64(read('signer_key', v.identity.signerKey)),
      };
      try {
        d.identity = { nodeId: nodeIdFromCertPem(keys.stakerCrt) };
      } catch (err) {
        throw new UsageError(
          `${file}: validators.${name}.identity.staker_crt: ${v.identity.stakerCrt} is not a staking certificate (${(err as Error).message})`,
        );
      }
      identities[name] = keys;
    }
    desired.push(d);
  }
  const webhooks = Object.entries(parsed.config.webhooks ?? {}).map(([name, w]) => {
    const d: DesiredWebhook = { name, url: w.url, secretEnv: w.secretEnv };
    if (w.events !== undefined) d.events = w.events;
    if (w.enabled !== undefined) d.enabled = w.enabled;
    if (w.description !== undefined) d.description = w.description;
    if (w.secretVersion !== undefined) d.secretVersion = w.secretVersion;
    return d;
  });
  const warnings = (parsed.warnings ?? []).map((w) => `${file}: ${w}`);
  const out: LoadedFile = { file, config: parsed.config, desired, identities, webhooks, warnings };
  if (parsed.locate) out.locate = parsed.locate;
  if (parsed.config.standbyPools) out.standbyPools = parsed.config.standbyPools;
  return out;
}
