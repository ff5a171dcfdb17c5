/**
 * What a tenant may read about a failure. An error class we wrote for the
 * people who sent the request says so with `publicMessage` (its message, or a
 * plainer one); anything else (a library's or the runtime's error, whose text
 * can hold server paths, hostnames or internals) is shown as a generic line
 * with a reference the operator finds in the logs, which keep the full text.
 */
import { redactSecrets } from './redact';

export interface PublicError {
  readonly publicMessage: string;
  /** A stable, machine-readable name of the failure (`llm_auth_failed`, `collection_not_found`); `internal_error` when absent. */
  readonly code?: string;
}

export const GENERIC_FAILURE = 'the request failed on our side; try again later';
/** The code of a failure no class of ours describes. */
export const INTERNAL_ERROR = 'internal_error';
const CODE = /^[a-z][a-z0-9_]{1,62}$/;

export function hasPublicMessage(error: unknown): error is PublicError {
  return typeof error === 'object' && error !== null && typeof (error as { publicMessage?: unknown }).publicMessage === 'string';
}

/**
 * The tenant-facing text of `error`, with its causes' as far as they are
 * public too (an open breaker says which failure opened it); `reference` (a
 * request or job id) is added to generic ones.
 */
export function tenantMessage(error: unknown, reference?: string): string {
  // Masked here too: a message of ours may quote a provider's words (a 400's reason).
  if (hasPublicMessage(error)) return redactSecrets(publicChain(error, new Set()));
  return reference ? `${GENERIC_FAILURE} (reference ${reference})` : GENERIC_FAILURE;
}

function publicChain(error: PublicError, seen: Set<unknown>): string {
  seen.add(error);
  const cause = (error as { cause?: unknown }).cause;
  const tail = hasPublicMessage(cause) && !seen.has(cause) ? ` (cause: ${publicChain(cause, seen)})` : '';
  return `${error.publicMessage}${tail}`;
}

/**
 * The stable code a tenant (and a client program) can act on: the `code` of
 * an error class of ours, else `internal_error`. Node's own `code`s
 * (`ECONNREFUSED`) name internals and are not passed on.
 */
export function errorCode(error: unknown): string {
  if (!hasPublicMessage(error)) return INTERNAL_ERROR;
  const code = (error as PublicError).code;
  return typeof code === 'string' && CODE.test(code) ? code : INTERNAL_ERROR;
}

/** A tenant may see this error's message: given by every class of ours written for them. */
export class TenantFacingError extends Error {
  code: string = INTERNAL_ERROR;
  get publicMessage(): string {
    return this.message;
  }
}

/**
 * `error` as something safe to throw where its message reaches a tenant (a
 * Bull job's failure reason): itself when its message is public, else an
 * error with the tenant text that keeps `permanent` (how the job is retried)
 * and the original as its cause for the logs.
 */
export function forTenant(error: unknown, reference?: string): Error {
  if (error instanceof Error && hasPublicMessage(error) && error.publicMessage === error.message && redactSecrets(error.message) === error.message) return error;
  const safe = new TenantFacingError(tenantMessage(error, reference), { cause: error });
  const code = errorCode(error);
  const permanent = typeof error === 'object' && error !== null ? (error as { permanent?: unknown }).permanent : undefined;
  const cancelled = typeof error === 'object' && error !== null ? (error as { cancelled?: unknown }).cancelled : undefined;
  return Object.assign(safe, permanent === undefined ? {} : { permanent }, cancelled === undefined ? {} : { cancelled }, { code, name: error instanceof Error ? error.name : 'Error' });
}
