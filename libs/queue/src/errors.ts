/** A job failed for a reason that may pass: BullMQ retries it with back-off. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryableError';
  }
}
/** A job failed for good: retrying cannot help; a human must act on `message`. */
export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}
