/**
 * What a tenant may read about a failure. An error class we wrote for the
 * people who sent the request says so with `publicMessage` (its message, or a
 * plainer one); anything else (a library's or the runtime's error, whose text
 * can hold server paths, hostnames or internals) is shown as a generic line
 * with a reference the operator finds in the logs, which keep the full text.
 */
export interface PublicError {
  readonly publicMessage: string;
}

export const GENERIC_FAILURE = 'the request failed on our side; try again later';

export function hasPublicMessage(error: unknown): error is PublicError {
  return typeof error === 'object' && error !== null && typeof (error as { publicMessage?: unknown }).publicMessage === 'string';
}

/**
 * The tenant-facing text of `error`, with its causes' as far as they are
 * public too (an open breaker says which failure opened it); `reference` (a
 * request or job id) is added to generic ones.
 */
export function tenantMessage(error: unknown, reference?: string): string {
  if (hasPublicMessage(error)) return publicChain(error, new Set());
  return reference ? `${GENERIC_FAILURE} (reference ${reference})` : GENERIC_FAILURE;
}

function publicChain(error: PublicError, seen: Set<unknown>): string {
  seen.add(error);
  const cause = (error as { cause?: unknown }).cause;
  const tail = hasPublicMessage(cause) && !seen.has(cause) ? ` (cause: ${publicChain(cause, seen)})` : '';
  return `${error.publicMessage}${tail}`;
}

/** A tenant may see this error's message: given by every class of ours written for them. */
export class TenantFacingError extends Error {
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
  if (error instanceof Error && hasPublicMessage(error) && error.publicMessage === error.message) return error;
  const safe = new TenantFacingError(tenantMessage(error, reference), { cause: error });
  const permanent = typeof error === 'object' && error !== null ? (error as { permanent?: unknown }).permanent : undefined;
  const cancelled = typeof error === 'object' && error !== null ? (error as { cancelled?: unknown }).cancelled : undefined;
  return Object.assign(safe, permanent === undefined ? {} : { permanent }, cancelled === undefined ? {} : { cancelled }, { name: error instanceof Error ? error.name : 'Error' });
}
