export * from './answerer';
export { ExtractiveAnswerer, type ExtractiveOptions } from './extractive.answerer';
export { buildGroundedPrompt, citedNumbers, conversationBlock, groundedSystemPrompt, neutralise, newBoundary, type ChatMessage } from './grounded-prompt';
export { boundHistory, contextWords, type ConversationTurn } from './conversation';
export {
  OpenAIQueryCondenser,
  buildCondensePrompt,
  condenseSystemPrompt,
  type CondenseInput,
  type OpenAIQueryCondenserOptions,
  type QueryCondenser,
} from './openai.condenser';
export { LlmPermanentError, LlmRetryableError, classifyOpenAIError } from './errors';
export { createOpenAIClient, type OpenAIClientOptions } from './openai.client';
export { KNOWN_EMBEDDING_DIMENSIONS, OpenAIEmbedder, knownEmbeddingDimension, type OpenAIEmbedderOptions } from './openai.embedder';
export { OpenAIAnswerer, type OpenAIAnswererOptions } from './openai.answerer';
export { createAnswerer, createOpenAIEmbedder, createQueryCondenser } from './create-answerer';
export {
  createLlmResilience,
  llmResilienceFromConfig,
  type LlmCallRequest,
  type LlmConnections,
  type LlmDependency,
  type LlmResilience,
  type LlmResilienceOptions,
} from './llm-resilience';
export { ProviderThrottle, RateLimitWaitError, type ProviderThrottleOptions, type ThrottleRequest } from './provider-throttle';
export { LocalProviderPause, PAUSE_CACHE_MS, RedisProviderPause, type ProviderPause } from './provider-pause';
export { parseRetryAfter, retryAfterMsOf429 } from './retry-after';
