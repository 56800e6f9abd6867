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

/**
 * 403 for what only the operator may do — an admin key of the default project — because it is the
 * whole deployment's, not one project's: `what` needs it, `because` says why.
 */
export const operatorOnly = (what: string, because: string) =>
  new Problem(
    403,
    'Forbidden',
    `${what} needs an admin key of the operator (default) project: ${because}.`,
    { requiredScope: 'admin', operatorOnly: true },
  );
