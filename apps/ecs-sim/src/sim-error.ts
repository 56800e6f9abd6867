/** An ECS API error as the simulator returns it: `{ RequestId, HostId, Code, Message, Recommend }`. */
export class SimApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. `x-acs-retry-after` for throttling. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SimApiError';
  }
}

export const incorrectStatus = (id: string, status: string, initializing = false): SimApiError =>
  new SimApiError(
    403,
    initializing ? 'IncorrectInstanceStatus.Initializing' : 'IncorrectInstanceStatus',
    initializing
      ? `The specified instance ${id} is being initialized.`
      : `The current status of the resource ${id} (${status}) does not support this operation.`,
  );

export const instanceNotFound = (id: string): SimApiError =>
  new SimApiError(
    404,
    'InvalidInstanceId.NotFound',
    `The specified InstanceId ${id} does not exist.`,
  );
