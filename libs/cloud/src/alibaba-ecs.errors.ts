import {
  CloudError,
  IdempotencyMismatch,
  InvalidConfig,
  NoCapacity,
  NotFound,
  QuotaExceeded,
  Throttled,
  Transient,
} from './errors';

/** Codes that mean "this zone (or this type in it) cannot take the instance now": try another zone. */
const NO_CAPACITY = new Set([
  'OperationDenied.NoStock',
  'Zone.NotOnSale',
  'InvalidInstanceType.ZoneNotSupported',
  'OperationDenied.ZoneSystemCategoryNotMatch',
  'InvalidResourceType.NotSupported',
]);
const IDEMPOTENCY = new Set(['IdempotenceParamNotMatch', 'IdempotentParameterMismatch']);
const TRANSIENT = new Set([
  'InternalError',
  'ServiceUnavailable',
  'UnknownError',
  'IncorrectInstanceStatus',
  'IncorrectInstanceStatus.Initializing',
  'OperationConflict',
  'LastTokenProcessing',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ESOCKETTIMEDOUT',
  'UND_ERR_SOCKET',
]);
const DEFAULT_RETRY_AFTER_MS = 1000;

/** The fields of the SDK's ClientError / ServerError / ThrottlingError that we read. */
interface SdkErrorLike {
  name?: string;
  code?: unknown;
  statusCode?: unknown;
  requestId?: unknown;
  retryAfter?: unknown;
  data?: { Message?: unknown; Code?: unknown; RequestId?: unknown } | null;
  message?: string;
}

function isObject(v: unknown): v is SdkErrorLike {
  return typeof v === 'object' && v !== null;
}

/** Removes anything that looks like one of our credentials from a message. */
export function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

/**
 * Maps whatever the Alibaba SDK threw into a domain CloudError (see the table in
 * shared/reference/alibaba-ecs.md). Errors that are not from the SDK or the network are rethrown
 * unchanged: a bug should look like a bug, not like a cloud outage.
 */
export function mapEcsError(
  err: unknown,
  action: string,
  secrets: (string | undefined)[] = [],
): unknown {
  if (err instanceof CloudError || !isObject(err)) return err;
  const status = typeof err.statusCode === 'number' ? err.statusCode : undefined;
  const code = typeof err.code === 'string' && err.code !== 'undefined' ? err.code : undefined;
  const requestId =
    typeof err.requestId === 'string' && err.requestId !== 'undefined'
      ? err.requestId
      : typeof err.data?.RequestId === 'string'
        ? err.data.RequestId
        : undefined;
  const cloudMessage = typeof err.data?.Message === 'string' ? err.data.Message : undefined;
  const describe = (what: string): string =>
    redact(
      `ECS ${action}: ${what}${code ? ` (${code}${status ? `, HTTP ${status}` : ''})` : ''}${
        cloudMessage ? `: ${cloudMessage}` : ''
      }${requestId ? ` [request ${requestId}]` : ''}`,
      secrets,
    );

  if (status !== undefined && code !== undefined) {
    if (code.includes('Throttling')) {
      const retryAfterMs =
        typeof err.retryAfter === 'number' && Number.isFinite(err.retryAfter) && err.retryAfter >= 0
          ? err.retryAfter
          : DEFAULT_RETRY_AFTER_MS;
      return new Throttled(describe('throttled'), retryAfterMs, code, requestId);
    }
    if (NO_CAPACITY.has(code) || code.startsWith('OperationDenied.NoStock')) {
      return new NoCapacity(describe('no capacity'), code, requestId);
    }
    if (code.startsWith('QuotaExceed'))
      return new QuotaExceeded(describe('account quota exceeded'), code, requestId);
    if (IDEMPOTENCY.has(code)) {
      return new IdempotencyMismatch(
        describe('same ClientToken, different parameters'),
        code,
        requestId,
      );
    }
    if (code === 'InvalidInstanceId.NotFound')
      return new NotFound(describe('instance not found'), code, requestId);
    if (TRANSIENT.has(code) || status >= 500)
      return new Transient(describe('temporary failure'), code, requestId);
    if (
      code === 'SignatureDoesNotMatch' ||
      code.startsWith('InvalidAccessKeyId') ||
      code.startsWith('Forbidden')
    ) {
      return new InvalidConfig(
        describe('credentials rejected: check the access key id and secret'),
        code,
        requestId,
      );
    }
    // Every other 4xx: a zone, vSwitch, image, type or parameter we sent is wrong.
    return new InvalidConfig(describe('request rejected'), code, requestId);
  }

  const netCode = typeof err.code === 'string' ? err.code : undefined;
  if (
    (netCode && NETWORK_CODES.has(netCode)) ||
    err.name === 'RequestTimeoutError' ||
    /timeout|socket hang up/i.test(err.message ?? '')
  ) {
    return new Transient(describe(`network error: ${netCode ?? err.name ?? 'timeout'}`), netCode);
  }
  // A 5xx with an HTML body (a proxy in the way) makes the SDK fail to parse JSON.
  if (err.name === 'SyntaxError') return new Transient(describe('unparseable response'));
  return err;
}
