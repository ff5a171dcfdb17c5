import type { Config } from '@rag/config';
import type { Answerer } from './answerer';
import { ExtractiveAnswerer } from './extractive.answerer';
import { OpenAIAnswerer } from './openai.answerer';
import { createOpenAIClient } from './openai.client';
import { OpenAIEmbedder } from './openai.embedder';

function clientFor(config: Config) {
  return createOpenAIClient({ baseUrl: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS });
}

/** The answer backend chosen by LLM. */
export function createAnswerer(config: Config): Answerer {
  switch (config.LLM) {
    case 'extractive':
      return new ExtractiveAnswerer();
    case 'openai':
      return new OpenAIAnswerer(clientFor(config), { model: config.CHAT_MODEL, maxTokens: config.LLM_MAX_TOKENS, baseUrl: config.OPENAI_BASE_URL });
    default:
      throw new Error(`LLM=${config.LLM} is not supported; use extractive or openai`);
  }
}

/** The OpenAI-compatible embedder configured by EMBEDDING_MODEL, EMBEDDING_DIM and EMBEDDING_BATCH. */
export function createOpenAIEmbedder(config: Config): OpenAIEmbedder {
  return new OpenAIEmbedder(clientFor(config), {
    model: config.EMBEDDING_MODEL,
    dimension: config.EMBEDDING_DIM,
    batchSize: config.EMBEDDING_BATCH,
    baseUrl: config.OPENAI_BASE_URL,
  });
}
