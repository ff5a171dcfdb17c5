export { AppError, CancelledError, INTERNAL_ERROR, PermanentError, RetryableError, isCancellation, isPermanent, type AppErrorOptions } from './errors';
export { ENGLISH_STOP_WORDS } from './text/stop-words';
export { fnv1a } from './text/fnv1a';
export { TRACEPARENT_PATTERN } from './trace/trace-context';
export { sentences, stem, terms, words } from './text/text-terms';
export { CHARS_PER_TOKEN, estimateChatTokens, estimateEmbeddingTokens, estimateTokens } from './text/token-estimate';
export {
  BreakerOpenError,
  CallAbortedError,
  DependencyTimeoutError,
  createBreaker,
  isRetryableError,
  withBreaker,
  type Breaker,
  type BreakerOptions,
  type BreakerState,
} from './resilience/circuit-breaker';
