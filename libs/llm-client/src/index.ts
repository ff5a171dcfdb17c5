export * from './answerer';
export { ExtractiveAnswerer, type ExtractiveOptions } from './extractive.answerer';
export { sentences, stem, terms, words } from './text-terms';
export { GROUNDED_SYSTEM_PROMPT, buildGroundedPrompt, citedNumbers, type ChatMessage } from './grounded-prompt';
export { LlmPermanentError, LlmRetryableError, classifyOpenAIError } from './errors';
export { createOpenAIClient, type OpenAIClientOptions } from './openai.client';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai.embedder';
export { OpenAIAnswerer, type OpenAIAnswererOptions } from './openai.answerer';
export { createAnswerer, createOpenAIEmbedder } from './create-answerer';
