import { AppError } from '@rag/core';
import type { ValidationIssue } from '@rag/queue-contracts';

export interface HttpErrorOptions {
  cause?: unknown;
  /** Headers the answer carries (`WWW-Authenticate` for a 401); Retry-After comes from `details.retry_after_seconds`. */
  headers?: Record<string, string>;
}

/**
 * An error with an HTTP status, a stable code and a message meant for the
 * client. In the taxonomy a 4xx is permanent (the same request fails the same
 * way), a 5xx is worth retrying.
 */
export class HttpError extends AppError {
  readonly permanent: boolean;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly details?: ValidationIssue[] | Record<string, unknown>,
    options: HttpErrorOptions = {},
  ) {
    super(message, { cause: options.cause, code });
    this.name = 'HttpError';
    this.permanent = status < 500;
    const retryAfter = (details as { retry_after_seconds?: unknown } | undefined)?.retry_after_seconds;
    this.headers = { ...(typeof retryAfter === 'number' ? { 'Retry-After': String(retryAfter) } : {}), ...options.headers };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
