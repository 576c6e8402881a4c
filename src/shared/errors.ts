// Error kinds that every host maps the same way: HTTP status codes in the headless host, the
// `status` of a WebSocket reply. Pure: no node, electron or DOM imports.

/** Something a request names (a frame, a run) does not exist: 404. */
export class NotFoundError extends Error {
  readonly status = 404;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A request path outside the project and the allowed data folders: 403. */
export class PathRefusedError extends Error {
  readonly status = 403;
  constructor(message: string) {
    super(message);
    this.name = 'PathRefusedError';
  }
}

/** A request would overwrite something the caller has not said may go (an earlier export): 409. */
export class ConflictError extends Error {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * Mark a domain error (one a caller matches by class, such as the CLI's ScoringError) as a
 * not-found, so hosts answer 404 without the error changing its class.
 */
export function asNotFound<E extends Error>(e: E): E & { status: 404 } {
  return Object.assign(e, { status: 404 as const });
}

/** The status an error carries (NotFoundError, PathRefusedError, ConflictError, asNotFound, BusyError), or null. */
export function errorStatus(e: unknown): 403 | 404 | 409 | 503 | null {
  const s = (e as { status?: unknown } | null)?.status;
  return s === 403 || s === 404 || s === 409 || s === 503 ? s : null;
}

/**
 * The project database is busy: another process holds the write lock past the host's short wait.
 * A message for people; hosts answer 503 with Retry-After.
 */
export class BusyError extends Error {
  readonly status = 503;
  constructor(
    message = 'the project database is busy (another process is writing to it); try again in a moment',
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
    this.name = 'BusyError';
  }
}
