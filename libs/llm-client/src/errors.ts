import { maskUrlCredentials } from '@rag/config';
import { APIConnectionTimeoutError, APIUserAbortError } from 'openai';

/** A failure retrying will not fix (bad credentials, wrong model, wrong dimension). */
export class LlmPermanentError extends Error {
  readonly permanent = true;
  /** Written for the tenant: safe to show them (see tenantMessage in @rag/observability). */
  get publicMessage(): string {
    return this.message;
  }
}

/** A failure worth retrying later (timeouts, 429, 5xx, connection errors). */
export class LlmRetryableError extends Error {
  readonly permanent = false;
  /** Written for the tenant: safe to show them (see tenantMessage in @rag/observability). */
  get publicMessage(): string {
    return this.message;
  }
}

/**
 * The caller gave up (job cancelled, or a worker shutting down): still
 * retryable, but says nothing about the dependency's health, so it never
 * counts towards a circuit breaker.
 */
export class LlmAbortedError extends LlmRetryableError {}

/**
 * Maps an `openai` client error to a retryable or permanent error whose
 * message names the operation and what to do; the API key never appears.
 */
export function classifyOpenAIError(operation: string, baseUrl: string, error: unknown): Error {
  if (error instanceof LlmPermanentError || error instanceof LlmRetryableError) return error;
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  const name = error instanceof Error ? error.name : '';
  const where = `${operation} at ${maskUrlCredentials(baseUrl)}`;
  // The client's error classes keep the name `Error`, so check the classes as well as the names.
  if (error instanceof APIUserAbortError || name === 'AbortError' || (error instanceof Error && /aborted/i.test(error.message) && name === 'APIUserAbortError')) {
    return new LlmAbortedError(`${where} was aborted`, { cause: error });
  }
  if (typeof status === 'number') {
    if (status === 401 || status === 403) return new LlmPermanentError(`${where} was refused (${status}); check OPENAI_API_KEY`, { cause: error });
    if (status === 404) return new LlmPermanentError(`${where} answered 404; check the model name and OPENAI_BASE_URL`, { cause: error });
    if (status === 400 || status === 422) return new LlmPermanentError(`${where} rejected the request (${status}): ${safeMessage(error)}`, { cause: error });
    if (status === 429) return new LlmRetryableError(`${where} is rate limiting (429); the job will retry`, { cause: error });
    return new LlmRetryableError(`${where} failed with ${status}; the job will retry`, { cause: error });
  }
  if (error instanceof APIConnectionTimeoutError || name === 'APIConnectionTimeoutError') return new LlmRetryableError(`${where} timed out; the job will retry (raise LLM_TIMEOUT_MS if the model is slow)`, { cause: error });
  return new LlmRetryableError(`${where} could not be reached (${safeMessage(error)}); check OPENAI_BASE_URL`, { cause: error });
}

function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/(sk-|Bearer\s+)[A-Za-z0-9_\-.]+/g, '$1***').slice(0, 300);
}
