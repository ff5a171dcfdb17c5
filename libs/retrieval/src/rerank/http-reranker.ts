import { maskUrlCredentials } from '@rag/config';
import { CallAbortedError, type Breaker } from '@rag/core';
import { RerankerError } from './rerank-errors';
import { parseRerankResponse } from './rerank-response';
import type { RerankOptions, RerankResult, Reranker } from './reranker';

export interface HttpRerankerOptions {
  /** Base URL (RERANKER_URL); requests go to `<url>/rerank`. */
  url: string;
  /** Sent as `model` (RERANKER_MODEL); omitted when empty. */
  model?: string;
  /** Sent as `Authorization: Bearer <apiKey>` (RERANKER_API_KEY); never in messages. */
  apiKey?: string;
  /** Bound on one request, connection to last byte (RERANKER_TIMEOUT_MS). */
  timeoutMs: number;
  /** The reranker's circuit breaker: after repeated retryable failures, calls fail fast without reaching it. */
  breaker: Breaker;
}

/**
 * The request body: `documents` is what Jina, Cohere and most compatible
 * servers (vLLM, Infinity, llama.cpp, LiteLLM) read; Text Embeddings
 * Inference reads `texts`. Cohere refuses unknown fields, so one body with
 * both is not an option: see HttpReranker.
 */
type Dialect = 'documents' | 'texts';

/** Statuses worth retrying: the server is busy, failing or timed out. */
const RETRYABLE_STATUS = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * A reranker behind the common HTTP rerank protocol: `POST <url>/rerank` with
 * `{ model?, query, documents, top_n, return_documents: false }`, answered
 * `{ results: [{ index, relevance_score }] }` (Jina, Cohere and compatible)
 * or `[{ index, score }]` (Text Embeddings Inference); both answers are read.
 *
 * TEI wants `texts` where the others want `documents`, and Cohere refuses
 * fields it does not know, so the body is not guessed: the first request is
 * the `documents` form, and a 400/422 whose body names `texts` (TEI: "missing
 * field `texts`") switches this instance to `{ query, texts, truncate: true }`
 * at once and for good; likewise a refusal naming `return_documents` (a server
 * that does not know it) drops that field. Errors are classified: 401/403/404
 * and other 4xx are permanent, with what to configure; timeouts
 * (RERANKER_TIMEOUT_MS), 408, 429, 5xx, connection errors and unreadable
 * answers are retryable and count against the breaker.
 */
export class HttpReranker implements Reranker {
  readonly id: string;
  readonly breaker: Breaker;
  private readonly endpoint: string;
  private dialect: Dialect = 'documents';
  private sendReturnDocuments = true;

  constructor(private readonly options: HttpRerankerOptions) {
    this.id = options.model ? `http:${options.model}` : 'http';
    this.breaker = options.breaker;
    this.endpoint = `${options.url.replace(/\/+$/, '')}/rerank`;
  }

  async rerank(query: string, documents: readonly string[], options: RerankOptions = {}): Promise<RerankResult[]> {
    if (documents.length === 0) return [];
    const topN = Math.min(options.topN ?? documents.length, documents.length);
    const results = await this.breaker.execute((signal) => this.post(query, documents, topN, signal), options.signal);
    return results.slice(0, topN);
  }

  /** The JSON body in the current dialect. */
  private body(query: string, documents: readonly string[], topN: number): Record<string, unknown> {
    if (this.dialect === 'texts') return { query, texts: documents, truncate: true, return_text: false };
    return {
      ...(this.options.model ? { model: this.options.model } : {}),
      query,
      documents,
      top_n: topN,
      ...(this.sendReturnDocuments ? { return_documents: false } : {}),
    };
  }

  private async post(query: string, documents: readonly string[], topN: number, signal: AbortSignal): Promise<RerankResult[]> {
    // At most two adaptations (dialect, return_documents), then the answer is classified as it is.
    for (let attempt = 0; ; attempt++) {
      const { status, text } = await this.send(this.body(query, documents, topN), signal);
      if (status >= 200 && status < 300) return parseRerankResponse(this.parseJson(text), documents.length);
      if (attempt < 2 && (status === 400 || status === 422) && this.adapt(text)) continue;
      throw this.statusError(status, text);
    }
  }

  /** Whether a refusal says which body this server wants; adapts to it. */
  private adapt(text: string): boolean {
    if (this.dialect === 'documents' && /\btexts\b/.test(text)) {
      this.dialect = 'texts';
      return true;
    }
    if (this.dialect === 'documents' && this.sendReturnDocuments && /\breturn_documents\b/.test(text)) {
      this.sendReturnDocuments = false;
      return true;
    }
    return false;
  }

  private async send(body: Record<string, unknown>, signal: AbortSignal): Promise<{ status: number; text: string }> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    try {
      const response = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.any([signal, timeout]) });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      if (signal.aborted) throw new CallAbortedError('rerank request was aborted', { cause: error });
      if (timeout.aborted) {
        throw new RerankerError(`reranker at ${this.where()} did not answer within RERANKER_TIMEOUT_MS (${this.options.timeoutMs} ms)`, {
          code: 'reranker_timeout',
          permanent: false,
          cause: error,
        });
      }
      throw new RerankerError(`reranker at ${this.where()} could not be reached (${this.scrub(causeMessage(error))}); check RERANKER_URL`, {
        code: 'reranker_unavailable',
        permanent: false,
        cause: error,
      });
    }
  }

  private statusError(status: number, text: string): RerankerError {
    const said = this.scrub(text);
    const where = `reranker at ${this.where()}`;
    if (status === 401 || status === 403) {
      return new RerankerError(`${where} refused the credentials (${status}); check RERANKER_API_KEY`, {
        code: 'reranker_auth_failed',
        permanent: true,
        status,
      });
    }
    if (status === 404) {
      return new RerankerError(`${where} answered 404 (${said}); check RERANKER_URL (the server must answer POST <RERANKER_URL>/rerank) and RERANKER_MODEL`, {
        code: 'reranker_not_found',
        permanent: true,
        status,
      });
    }
    if (RETRYABLE_STATUS(status)) {
      return new RerankerError(`${where} failed with ${status} (${said})`, {
        code: status === 429 ? 'reranker_rate_limited' : 'reranker_unavailable',
        permanent: false,
        status,
      });
    }
    return new RerankerError(`${where} rejected the request (${status}: ${said}); check RERANKER_MODEL and that the server speaks the rerank protocol`, {
      code: 'reranker_request_rejected',
      permanent: true,
      status,
    });
  }

  private parseJson(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new RerankerError(`reranker at ${this.where()} answered with something that is not JSON (${this.scrub(text).slice(0, 100)}); check RERANKER_URL`, {
        code: 'reranker_bad_response',
        permanent: false,
        cause: error,
      });
    }
  }

  private where(): string {
    return maskUrlCredentials(this.endpoint);
  }

  /** A server's words, short and without the API key (some providers echo it in a 401). */
  private scrub(text: string): string {
    let out = text.replace(/\s+/g, ' ').trim();
    const key = this.options.apiKey;
    if (key) out = out.split(key).join('***');
    return out.replace(/(Bearer\s+)[A-Za-z0-9_\-.~+/=]+/gi, '$1***').slice(0, 300) || 'no body';
  }
}

function causeMessage(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}
