/** Domain errors every CloudProvider maps its provider's error codes to. */
export abstract class CloudError extends Error {
  abstract readonly retryable: boolean;
  constructor(
    message: string,
    readonly code?: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
/** The zone (or instance type in it) has no capacity: try another zone. */
export class NoCapacity extends CloudError {
  readonly retryable = false;
}
/** An account limit: fail clearly, do not retry. */
export class QuotaExceeded extends CloudError {
  readonly retryable = false;
}
export class Throttled extends CloudError {
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    code?: string,
    requestId?: string,
  ) {
    super(message, code, requestId);
  }
}
/** 5xx, timeouts, connection errors, an instance not yet in a state that allows the call. */
export class Transient extends CloudError {
  readonly retryable = true;
}
export class NotFound extends CloudError {
  readonly retryable = false;
}
/** Our configuration is wrong (zone, vSwitch, image, credentials): a human must fix it. */
export class InvalidConfig extends CloudError {
  readonly retryable = false;
}
/** Same ClientToken, different parameters: a bug on our side. */
export class IdempotencyMismatch extends CloudError {
  readonly retryable = false;
}
