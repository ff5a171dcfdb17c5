import { AppError } from '@rag/core';

/**
 * A call to the reranker failed. `permanent` when retrying cannot help (the
 * server refused the key, the URL or the request: 4xx); timeouts, 5xx, 429,
 * lost connections and unreadable answers are worth retrying, and count
 * against its circuit breaker. The message (for the logs) names the URL and
 * what to configure, never the API key; the public message names neither.
 */
export class RerankerError extends AppError {
  readonly permanent: boolean;
  /** The server's HTTP status, when it answered. */
  readonly status?: number;

  constructor(message: string, options: { code: string; permanent: boolean; status?: number; cause?: unknown }) {
    super(message, { code: options.code, cause: options.cause });
    this.name = 'RerankerError';
    this.permanent = options.permanent;
    this.status = options.status;
  }

  override get publicMessage(): string {
    return this.permanent ? 'the reranker refused the request; the operator finds why in the logs' : 'the reranker failed; results are in fused order';
  }
}
