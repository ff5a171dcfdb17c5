/**
 * What a tenant may read about a failure. An error class of ours (an
 * AppError of @rag/core) gives it as `publicMessage` (its message, or a
 * plainer one); anything else (a library's or the runtime's error, whose text
 * can hold server paths, hostnames or internals) is shown as a generic line
 * with a reference the operator finds in the logs, which keep the full text.
 */
import { AppError, INTERNAL_ERROR, isCancellation, isPermanent, type AppErrorOptions } from '@rag/core';
import { redactSecrets } from './redact';

export const GENERIC_FAILURE = 'the request failed on our side; try again later';
const CODE = /^[a-z][a-z0-9_]{1,62}$/;

/**
 * The tenant-facing text of `error`, with its causes' as far as they are
 * public too (an open breaker says which failure opened it); `reference` (a
 * request or job id) is added to generic ones.
 */
export function tenantMessage(error: unknown, reference?: string): string {
  // Masked here too: a message of ours may quote a provider's words (a 400's reason).
  if (error instanceof AppError) return redactSecrets(publicChain(error, new Set()));
  return reference ? `${GENERIC_FAILURE} (reference ${reference})` : GENERIC_FAILURE;
}

function publicChain(error: AppError, seen: Set<unknown>): string {
  seen.add(error);
  const cause = error.cause;
  const tail = cause instanceof AppError && !seen.has(cause) ? ` (cause: ${publicChain(cause, seen)})` : '';
  return `${error.publicMessage}${tail}`;
}

/**
 * The stable code a tenant (and a client program) can act on: the `code` of
 * an error class of ours, else `internal_error`. Node's own `code`s
 * (`ECONNREFUSED`) name internals and are not passed on.
 */
export function errorCode(error: unknown): string {
  return error instanceof AppError && CODE.test(error.code) ? error.code : INTERNAL_ERROR;
}

/**
 * Another error's tenant text, safe to show: it keeps that error's code,
 * whether it is permanent and whether it was a cancellation.
 */
export class TenantFacingError extends AppError {
  readonly permanent: boolean;
  override readonly cancelled: boolean;
  constructor(message: string, options: AppErrorOptions & { permanent?: boolean; cancelled?: boolean } = {}) {
    super(message, options);
    this.permanent = options.permanent ?? false;
    this.cancelled = options.cancelled ?? false;
  }
}

/**
 * `error` as something safe to throw where its message reaches a tenant (a
 * Bull job's failure reason): itself when its message is public, else an
 * error with the tenant text that keeps its code, `permanent` (how the job is
 * retried) and `cancelled`, and the original as its cause for the logs.
 */
export function forTenant(error: unknown, reference?: string): Error {
  if (error instanceof AppError && error.publicMessage === error.message && redactSecrets(error.message) === error.message) return error;
  const safe = new TenantFacingError(tenantMessage(error, reference), {
    cause: error,
    code: errorCode(error),
    permanent: isPermanent(error),
    cancelled: isCancellation(error),
  });
  safe.name = error instanceof Error ? error.name : 'Error';
  return safe;
}
