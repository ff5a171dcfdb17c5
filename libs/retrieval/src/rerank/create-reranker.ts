import type { Config } from '@rag/config';
import { createBreaker, type Breaker } from '@rag/core';
import { HttpReranker } from './http-reranker';
import { LocalReranker } from './local-reranker';
import { NoReranker, type Reranker } from './reranker';

/**
 * The reranker chosen by RERANKER: `none`, `local` (in process), or `http` against RERANKER_URL
 * behind its own circuit breaker (BREAKER_FAILURES, BREAKER_HALF_OPEN_MS),
 * named `reranker`, unless `breaker` is given.
 */
export function createReranker(config: Config, options: { breaker?: Breaker } = {}): Reranker {
  switch (config.RERANKER) {
    case 'none':
      return new NoReranker();
    case 'local':
      return new LocalReranker();
    case 'http':
      return new HttpReranker({
        url: config.RERANKER_URL,
        model: config.RERANKER_MODEL || undefined,
        apiKey: config.RERANKER_API_KEY || undefined,
        timeoutMs: config.RERANKER_TIMEOUT_MS,
        breaker: options.breaker ?? createBreaker('reranker', { failures: config.BREAKER_FAILURES, halfOpenAfterMs: config.BREAKER_HALF_OPEN_MS }),
      });
  }
}
