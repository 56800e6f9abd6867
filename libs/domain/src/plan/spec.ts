import { NETWORKS, type Network } from '../validator-state';
import { UPGRADE_POLICIES, VERSION_RE, type UpgradePolicy } from '../versions';
import { SUBNET_ID_RE } from '../l1';

/** What `snowline.yaml` may hold, and (camelCase) what the CLI sends to `POST /v1/plans`. */

export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const INSTANCE_TYPE_RE = /^ecs\.[a-z0-9-]+\.[a-z0-9]+$/;
export const LABEL_KEY_RE = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
export const LABEL_VALUE_RE = /^[\p{L}\p{N} ._:/@-]{0,128}$/u;
export const NODE_ID_RE = /^NodeID-[1-9A-HJ-NP-Za-km-z]{20,64}$/;
export const MAX_VALIDATORS = 1000;
export const MAX_WEBHOOKS = 50;
/** An event type a webhook may filter on (same shape the webhook API accepts). */
export const EVENT_TYPE_RE = /^[a-z0-9_.]{1,64}$/;
/** The name of an environment variable (where the CLI reads a webhook's signing secret). */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** A webhook secret supplied from the environment: long enough to be a real key. */
export const MIN_WEBHOOK_SECRET = 32;
export const MAX_WEBHOOK_SECRET = 256;
/** Most warm standbys one zone may keep for one network. */
export const MAX_POOL_SIZE = 20;

/** Identity import: paths of the three key files, read by the CLI (never sent to a plan). */
export interface IdentityFiles {
  stakerCrt: string;
  stakerKey: string;
  signerKey: string;
}

/** One validator as the file declares it (after parsing; paths not yet read). */
export interface ValidatorSpec {
  network: Network;
  /** An L1 validator: the L1's subnet id (cb58); absent: the primary network. */
  subnetId?: string;
  /** AvalancheGo version (canonical); absent: the fleet default at creation, kept after. */
  version?: string;
  /** Absent: `manual`. */
  upgrade?: UpgradePolicy;
  instanceType?: string;
  zones?: string[];
  labels?: Record<string, string>;
  preventDestroy?: boolean;
  identity?: IdentityFiles;
}

/** One webhook as the file declares it. The secret itself is never in the file, only where it is. */
export interface WebhookSpec {
  url: string;
  events?: string[];
  enabled?: boolean;
  description?: string;
  /** Name of the environment variable the CLI reads the signing secret from (at apply only). */
  secretEnv: string;
  /** Raise it to rotate the secret (Terraform's write-only `_wo_version` recipe). Default 1. */
  secretVersion?: number;
}

/** Standby pools: network → zone → warm standbys kept there (deployment-wide; admin only). */
export type StandbyPoolSizes = Record<string, Record<string, number>>;

export interface SnowlineConfig {
  version: 1;
  validators: Record<string, ValidatorSpec>;
  /** The webhooks the file manages (absent = none: webhooks it created before are deleted). */
  webhooks?: Record<string, WebhookSpec>;
  /** Absent: the file does not manage standby pools. */
  standbyPools?: StandbyPoolSizes;
}

/** One webhook as a plan request carries it (no secret: only the variable's name). */
export interface DesiredWebhook {
  name: string;
  url: string;
  events?: string[];
  enabled?: boolean;
  description?: string;
  secretEnv: string;
  secretVersion?: number;
}

/**
 * One validator as a plan request carries it: the identity is reduced to its NodeID (public), which the
 * CLI derives from staker.crt. The key files themselves travel only with the apply request.
 */
export interface DesiredValidator {
  name: string;
  network: Network;
  subnetId?: string;
  version?: string;
  upgrade?: UpgradePolicy;
  instanceType?: string;
  zones?: string[];
  labels?: Record<string, string>;
  preventDestroy?: boolean;
  identity?: { nodeId: string };
}

/** The file's keys (snake_case) and their camelCase twins in the parsed config. */
export const VALIDATOR_FIELDS = {
  network: 'network',
  subnet_id: 'subnetId',
  version: 'version',
  upgrade: 'upgrade',
  instance_type: 'instanceType',
  zones: 'zones',
  labels: 'labels',
  prevent_destroy: 'preventDestroy',
  identity: 'identity',
} as const;
export const IDENTITY_FIELDS = {
  staker_crt: 'stakerCrt',
  staker_key: 'stakerKey',
  signer_key: 'signerKey',
} as const;
export const WEBHOOK_FIELDS = {
  url: 'url',
  events: 'events',
  enabled: 'enabled',
  description: 'description',
  secret_env: 'secretEnv',
  secret_version: 'secretVersion',
} as const;
export const TOP_FIELDS = ['version', 'validators', 'webhooks', 'standby_pools'] as const;

/** JSON Schema (draft 2020-12) of snowline.yaml, for editors (`snowline schema`). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://snowline.dev/schema/snowline.schema.json',
    title: 'snowline.yaml',
    description: 'Declarative Snowline configuration: validators keyed by a stable name.',
    type: 'object',
    additionalProperties: false,
    required: ['validators'],
    properties: {
      version: { const: 1, description: 'File format version.' },
      validators: {
        type: 'object',
        description: 'Validators keyed by name (1–63 of a-z, 0-9, -).',
        maxProperties: MAX_VALIDATORS,
        propertyNames: { pattern: NAME_RE.source },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['network'],
          properties: {
            network: { enum: [...NETWORKS], description: 'Avalanche network.' },
            subnet_id: {
              type: 'string',
              pattern: SUBNET_ID_RE.source,
              description:
                'An L1 validator (ACP-77): the subnet id of the L1 it validates (cb58). Its node tracks that L1; its balance is watched; it fails over onto standbys tracking it. Changing it replaces the validator. Absent: the primary network.',
            },
            version: {
              type: 'string',
              pattern: VERSION_RE.source,
              description:
                'AvalancheGo version, e.g. "1.15.3" (quote it); one with a pinned release. Absent: the fleet default (AVALANCHEGO_VERSION) when created, unchanged after.',
            },
            upgrade: {
              enum: [...UPGRADE_POLICIES],
              description:
                'before-deadline: UPGRADE_AUTO_DAYS before a network upgrade it would not survive, Snowline gives it a surviving version and rolls it onto it. Default manual (warned only).',
            },
            instance_type: {
              type: 'string',
              pattern: INSTANCE_TYPE_RE.source,
              description: 'ECS instance type; changing it replaces the validator.',
            },
            zones: {
              type: 'array',
              items: { type: 'string', maxLength: 64 },
              maxItems: 16,
              uniqueItems: true,
              description: 'Allowed zones; empty or absent: any configured zone.',
            },
            labels: {
              type: 'object',
              maxProperties: 32,
              propertyNames: { pattern: LABEL_KEY_RE.source },
              additionalProperties: { type: 'string', maxLength: 128 },
            },
            prevent_destroy: {
              type: 'boolean',
              description: 'Refuse any plan that deletes or replaces this validator.',
            },
            identity: {
              type: 'object',
              description:
                'Import an existing staking identity from key files (paths relative to this file).',
              additionalProperties: false,
              required: ['staker_crt', 'staker_key', 'signer_key'],
              properties: {
                staker_crt: { type: 'string', description: 'Path of staker.crt (PEM).' },
                staker_key: { type: 'string', description: 'Path of staker.key (PEM).' },
                signer_key: {
                  type: 'string',
                  description: 'Path of signer.key (raw 32 bytes or base64).',
                },
              },
            },
          },
        },
      },
      webhooks: {
        type: 'object',
        description:
          'Webhooks keyed by name. The file manages the webhooks it created (one removed from the file is deleted); webhooks made in the console or API are left alone. The signing secret is never in the file: secret_env names the environment variable the CLI reads it from at apply.',
        maxProperties: MAX_WEBHOOKS,
        propertyNames: { pattern: NAME_RE.source },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['url', 'secret_env'],
          properties: {
            url: {
              type: 'string',
              pattern: '^https?://',
              maxLength: 2048,
              description: 'Where deliveries are POSTed (http or https, no credentials in it).',
            },
            events: {
              type: 'array',
              items: { type: 'string', pattern: EVENT_TYPE_RE.source },
              maxItems: 64,
              uniqueItems: true,
              description:
                'Event types to deliver, e.g. validator.failed; empty or absent: every type.',
            },
            enabled: { type: 'boolean', description: 'Deliver events (default true).' },
            description: { type: 'string', maxLength: 200 },
            secret_env: {
              type: 'string',
              pattern: ENV_NAME_RE.source,
              description: `Environment variable holding the signing secret (${MIN_WEBHOOK_SECRET}–${MAX_WEBHOOK_SECRET} characters), read by the CLI at apply and sent only with the apply request.`,
            },
            secret_version: {
              type: 'integer',
              minimum: 1,
              description:
                'Raise it to rotate the signing secret to the current value of secret_env (default 1).',
            },
          },
        },
      },
      standby_pools: {
        type: 'object',
        description:
          'Warm standbys per network and zone, for the whole deployment (needs an admin API key). Present: zones not listed go back to the STANDBY_POOL default.',
        propertyNames: { enum: [...NETWORKS] },
        additionalProperties: {
          type: 'object',
          description: 'zone → number of warm standbys kept there.',
          additionalProperties: { type: 'integer', minimum: 0, maximum: MAX_POOL_SIZE },
        },
      },
    },
  };
}
