import { maskUrlCredentials } from '@rag/config';
import { AppError, CallAbortedError, PermanentError, RetryableError, type AppErrorOptions } from '@rag/core';
import { APIConnectionTimeoutError, APIUserAbortError } from 'openai';

/** A failure retrying will not fix (bad credentials, wrong model, wrong dimension). */
export class LlmPermanentError extends PermanentError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, { ...options, code: options.code ?? 'llm_request_failed' });
  }
}

/** A failure worth retrying later (timeouts, 429, 5xx, connection errors). */
export class LlmRetryableError extends RetryableError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, { ...options, code: options.code ?? 'llm_unavailable' });
  }
}

/**
 * Maps an `openai` client error to a retryable or permanent error with a
 * stable code. Its message (for the logs) names the operation, the provider's
 * URL and what to do; its public message drops the URL and the provider's own
 * words, which can echo the request, API key included.
 */
export function classifyOpenAIError(operation: string, baseUrl: string, error: unknown): Error {
  if (error instanceof AppError) return error;
  const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
  const name = error instanceof Error ? error.name : '';
  const where = `${operation} at ${maskUrlCredentials(baseUrl)}`;
  const permanent = (code: string, detail: string, shown: string) =>
    new LlmPermanentError(`${where} ${detail}`, { cause: error, code, publicMessage: `${operation} ${shown}` });
  const retryable = (code: string, detail: string, shown = detail) =>
    new LlmRetryableError(`${where} ${detail}`, { cause: error, code, publicMessage: `${operation} ${shown}` });
  // The client's error classes keep the name `Error`, so check the classes as well as the names.
  if (
    error instanceof APIUserAbortError ||
    name === 'AbortError' ||
    (error instanceof Error && /aborted/i.test(error.message) && name === 'APIUserAbortError')
  ) {
    return new CallAbortedError(`${where} was aborted`, { cause: error, code: 'cancelled', publicMessage: `${operation} was aborted` });
  }
  if (typeof status === 'number') {
    if (status === 401 || status === 403)
      return permanent(
        'llm_auth_failed',
        `was refused (${status}); check OPENAI_API_KEY`,
        `was refused (${status}): the service's credentials for the language model were not accepted; the operator must check OPENAI_API_KEY`,
      );
    if (status === 404)
      return permanent(
        'llm_model_not_found',
        'answered 404; check the model name and OPENAI_BASE_URL',
        'answered 404: the configured model was not found; the operator must check the model name and OPENAI_BASE_URL',
      );
    if (status === 400 || status === 422)
      return permanent(
        'llm_request_rejected',
        `rejected the request (${status}): ${safeMessage(error)}`,
        `rejected the request (${status}); the operator finds the reason in the logs`,
      );
    if (status === 429) return retryable('llm_rate_limited', 'is rate limiting (429); the job will retry');
    return retryable('llm_unavailable', `failed with ${status}; the job will retry`);
  }
  if (error instanceof APIConnectionTimeoutError || name === 'APIConnectionTimeoutError')
    return retryable('llm_timeout', 'timed out; the job will retry (raise LLM_TIMEOUT_MS if the model is slow)', 'timed out; the job will retry');
  return retryable('llm_unavailable', `could not be reached (${safeMessage(error)}); check OPENAI_BASE_URL`, 'could not be reached; the job will retry');
}

function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/(sk-|Bearer\s+)[A-Za-z0-9_\-.]+/g, '$1***').slice(0, 300);
}
