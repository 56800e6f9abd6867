import { NETWORKS, type Network } from '../validator-state';

/** What `snowline.yaml` may hold, and (camelCase) what the CLI sends to `POST /v1/plans`. */

export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const INSTANCE_TYPE_RE = /^ecs\.[a-z0-9-]+\.[a-z0-9]+$/;
export const LABEL_KEY_RE = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
export const LABEL_VALUE_RE = /^[\p{L}\p{N} ._:/@-]{0,128}$/u;
export const NODE_ID_RE = /^NodeID-[1-9A-HJ-NP-Za-km-z]{20,64}$/;
export const MAX_VALIDATORS = 1000;

/** Identity import: paths of the three key files, read by the CLI (never sent to a plan). */
export interface IdentityFiles {
  stakerCrt: string;
  stakerKey: string;
  signerKey: string;
}

/** One validator as the file declares it (after parsing; paths not yet read). */
export interface ValidatorSpec {
  network: Network;
  instanceType?: string;
  zones?: string[];
  labels?: Record<string, string>;
  preventDestroy?: boolean;
  identity?: IdentityFiles;
}

export interface SnowlineConfig {
  version: 1;
  validators: Record<string, ValidatorSpec>;
}

/**
 * One validator as a plan request carries it: the identity is reduced to its NodeID (public), which the
 * CLI derives from staker.crt. The key files themselves travel only with the apply request.
 */
export interface DesiredValidator {
  name: string;
  network: Network;
  instanceType?: string;
  zones?: string[];
  labels?: Record<string, string>;
  preventDestroy?: boolean;
  identity?: { nodeId: string };
}

/** The file's keys (snake_case) and their camelCase twins in the parsed config. */
export const VALIDATOR_FIELDS = {
  network: 'network',
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
export const TOP_FIELDS = ['version', 'validators'] as const;

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
    },
  };
}
