import { HttpException } from '@nestjs/common';

/** An RFC 9457 problem. `detail` must say what to fix; it never carries a secret. */
export class Problem extends HttpException {
  constructor(
    status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super({ title, detail, ...extra }, status);
    // The Error message is the actionable text too, so logs and tests see what to fix.
    this.message = detail;
  }
}

export const notFound = (what: string, id: string) =>
  new Problem(404, 'Not Found', `${what} ${id} does not exist in this project.`);
export const conflict = (detail: string, extra?: Record<string, unknown>) =>
  new Problem(409, 'Conflict', detail, extra);
export const badRequest = (detail: string, extra?: Record<string, unknown>) =>
  new Problem(400, 'Bad Request', detail, extra);
