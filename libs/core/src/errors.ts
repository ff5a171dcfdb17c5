/**
 * The one error taxonomy of the service. Every error class of ours extends
 * `AppError` through one of three kinds, and nothing else decides how a
 * failure is treated:
 *
 * - `RetryableError`: retrying later may succeed (a timeout, a 429, a lost
 *   connection); a job failing with it is retried while it has attempts left.
 * - `PermanentError`: retrying cannot help (bad input, a missing collection,
 *   refused credentials); a job failing with it fails at once, for good.
 * - `CancelledError`: someone asked for the work to stop (a cancelled job);
 *   permanent, and reported as cancelled rather than failed.
 *
 * Each carries a stable, machine-readable `code` (what clients act on) and a
 * `publicMessage` a tenant may read (its message, or a plainer one when the
 * message holds operator detail). Anything that is not an `AppError` (a
 * library's or the runtime's error) is `internal_error`, retryable, and its
 * text never reaches a tenant.
 */

/** The code of a failure no class of ours describes. */
export const INTERNAL_ERROR = 'internal_error';

export interface AppErrorOptions {
  cause?: unknown;
  /** The stable code clients see; each class has its own default. */
  code?: string;
  /** What a tenant reads when the message holds operator detail (a URL, a provider's words). */
  publicMessage?: string;
}

export abstract class AppError extends Error {
  /** Whether retrying cannot help: the job fails at once, for good. */
  abstract readonly permanent: boolean;
  /** Whether the work was stopped on request (a cancelled job) rather than failed. */
  readonly cancelled: boolean = false;
  /** The stable, machine-readable name of the failure (`collection_not_found`). */
  readonly code: string;
  private readonly shown?: string;

  constructor(message: string, options: AppErrorOptions = {}, defaultCode: string = INTERNAL_ERROR) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? defaultCode;
    this.shown = options.publicMessage;
  }

  /** Written for the tenant: safe to show them. */
  get publicMessage(): string {
    return this.shown ?? this.message;
  }
}

/** A failure worth retrying later. */
export class RetryableError extends AppError {
  readonly permanent: boolean = false;
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options, 'temporary_failure');
  }
}

/** A failure retrying cannot fix. */
export class PermanentError extends AppError {
  readonly permanent: boolean = true;
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options, 'permanent_failure');
  }
}

/** The work was stopped on request. */
export class CancelledError extends AppError {
  readonly permanent: boolean = true;
  override readonly cancelled: boolean = true;
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options, 'cancelled');
  }
}

/** Whether retrying `error` cannot help. Errors that are not ours are retryable. */
export function isPermanent(error: unknown): boolean {
  return error instanceof AppError && error.permanent;
}

/** Whether `error` stopped work on request. */
export function isCancellation(error: unknown): boolean {
  return error instanceof AppError && error.cancelled;
}
