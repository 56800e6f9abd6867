import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = {
  summary?: string;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  responses?: Record<string, unknown>;
};

const PROBLEM_EXAMPLE = {
  type: 'about:blank',
  status: 400,
  title: 'Bad Request',
  detail: 'limit: must be an integer from 1 to 100.',
  requestId: '5f0c6f8e-2d0b-4f55-9a39-0d9a4f1e2a77',
};

const DESCRIPTIONS: Record<string, string> = {
  '400': 'Bad input: `detail` says what to fix; nothing was changed.',
  '401': 'Missing, unknown or revoked API key.',
  '403': 'The API key lacks the scope this operation needs.',
  '404': 'No such resource in this project (other projects’ ids are 404 too).',
  '409': 'Conflict with the current state (or the same Idempotency-Key is still in flight).',
  '413': 'Request body too large.',
  '422': 'The Idempotency-Key was used with a different request.',
  '429': 'Rate limited: retry after `Retry-After` seconds.',
  '500': 'Internal error: quote `requestId` to support.',
};

const problem = (code: string) => ({
  description: DESCRIPTIONS[code] ?? 'Error',
  content: {
    'application/problem+json': {
      schema: { $ref: '#/components/schemas/Problem' },
      example: { ...PROBLEM_EXAMPLE, status: Number(code), detail: DESCRIPTIONS[code] },
    },
  },
});

type Schema = Record<string, unknown>;

/**
 * OpenAPI 3.0's `nullable: true` (which @nestjs/swagger and @nestjs/terminus still write) as 3.1
 * says it: `type: [T, "null"]`, or a `oneOf` with `{type: "null"}` where there is no `type`.
 */
export function nullableAsTypeArrays(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableAsTypeArrays);
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) out[k] = nullableAsTypeArrays(v);
  if (!('nullable' in out)) return out;
  const { nullable, ...rest } = out;
  if (nullable !== true) return rest;
  if (Array.isArray(rest.enum) && !rest.enum.includes(null)) rest.enum = [...rest.enum, null];
  // A nullable nested DTO (`allOf: [$ref]`): a type array beside allOf would type it non-null.
  if (Array.isArray(rest.allOf) && rest.allOf.length === 1) {
    const { allOf, type: _type, ...meta } = rest;
    return { ...meta, oneOf: [allOf[0], { type: 'null' }] };
  }
  if (typeof rest.type === 'string') return { ...rest, type: [rest.type, 'null'] };
  if (Array.isArray(rest.type))
    return { ...rest, type: rest.type.includes('null') ? rest.type : [...rest.type, 'null'] };
  return { oneOf: [rest, { type: 'null' }] };
}

/**
 * Completes the generated document: a Problem schema, the error responses every operation can give,
 * the Idempotency-Key header on POSTs, the X-Request-Id header everywhere, `security: []` on the
 * public operations (health, readiness, metrics; a test checks they answer without a key), and
 * 3.1 type arrays instead of `nullable`.
 */
export function completeDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.components.schemas['Problem'] = {
    type: 'object',
    description: 'RFC 9457 problem details',
    required: ['type', 'status', 'title', 'detail', 'requestId'],
    properties: {
      type: { type: 'string', example: 'about:blank' },
      status: { type: 'integer', example: 400 },
      title: { type: 'string', example: 'Bad Request' },
      detail: { type: 'string', description: 'What went wrong and what to fix' },
      errors: { type: 'array', items: { type: 'string' } },
      requestId: { type: 'string', description: 'Correlation id (also the X-Request-Id header)' },
    },
  };
  // One response per error status, referenced by every operation (not copied into each).
  doc.components.responses ??= {};
  for (const c of Object.keys(DESCRIPTIONS)) doc.components.responses[`Problem${c}`] = problem(c);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item as Record<string, Operation>)) {
      if (!raw || typeof raw !== 'object' || !('responses' in raw)) continue;
      const op = raw;
      op.responses ??= {};
      op.parameters ??= [];
      // Operations without @ApiBearerAuth are the @Public() ones: say so instead of leaving it open.
      op.security ??= [];
      const authed = !!op.security?.length;
      const codes = ['400', '500'];
      if (authed) codes.push('401', '403', '429');
      if (path.includes('{')) codes.push('404');
      if (method === 'post' || method === 'patch') codes.push('413');
      if (method === 'post' && authed) codes.push('409', '422');
      for (const c of codes) op.responses[c] ??= { $ref: `#/components/responses/Problem${c}` };
      if (method === 'post' && authed && !op.parameters.some((p) => p.name === 'Idempotency-Key')) {
        op.parameters.push({
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Makes the POST safe to retry for 24 h: same key + same body → the first response; different body → 422; still running → 409.',
          schema: { type: 'string', maxLength: 255, example: 'launch-fuji-1-2025-11-26' },
        } as never);
      }
      if (!op.parameters.some((p) => p.name === 'X-Request-Id')) {
        op.parameters.push({
          name: 'X-Request-Id',
          in: 'header',
          required: false,
          description: 'Correlation id, echoed back (generated when absent).',
          schema: { type: 'string', maxLength: 128 },
        } as never);
      }
    }
  }
  return nullableAsTypeArrays(doc) as OpenAPIObject;
}
