import type { Config } from '@rag/config';
import type { Answerer } from './answerer';
import { ExtractiveAnswerer } from './extractive.answerer';
import { llmResilienceFromConfig, type LlmConnections } from './llm-resilience';
import { OpenAIAnswerer } from './openai.answerer';
import { OpenAIQueryCondenser, type QueryCondenser } from './openai.condenser';
import { createOpenAIClient } from './openai.client';
import { OpenAIEmbedder } from './openai.embedder';

function clientFor(config: Config) {
  // No retries inside the client: a 429 must reach our shared pause so every
  // worker backs off, and each failure must reach the breaker. Jobs retry.
  return createOpenAIClient({ baseUrl: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS, maxRetries: 0 });
}

/**
 * The answer backend chosen by LLM. With `connections.redis` the OpenAI
 * backend shares LLM_RPM/LLM_TPM and 429 pauses with every worker; without
 * it they hold in this process only. Breakers and the timeout apply either way.
 */
export function createAnswerer(config: Config, connections: LlmConnections = {}): Answerer {
  switch (config.LLM) {
    case 'extractive':
      return new ExtractiveAnswerer();
    case 'openai':
      return new OpenAIAnswerer(clientFor(config), {
        model: config.CHAT_MODEL,
        maxTokens: config.LLM_MAX_TOKENS,
        baseUrl: config.OPENAI_BASE_URL,
        resilience: llmResilienceFromConfig(config, connections),
      });
  }
}

/**
 * What rewrites a follow-up question before retrieval: the OpenAI-compatible
 * LLM (same client settings and resilience as the answers); none for the
 * extractive answerer, whose retrieval draws on the earlier turns instead.
 */
export function createQueryCondenser(config: Config, connections: LlmConnections = {}): QueryCondenser | undefined {
  if (config.LLM !== 'openai') return undefined;
  return new OpenAIQueryCondenser(clientFor(config), {
    model: config.CHAT_MODEL,
    baseUrl: config.OPENAI_BASE_URL,
    resilience: llmResilienceFromConfig(config, connections),
  });
}

/** The OpenAI-compatible embedder configured by EMBEDDING_MODEL, EMBEDDING_DIM (0: the model's own) and EMBEDDING_BATCH; `connections` as for createAnswerer. */
export function createOpenAIEmbedder(config: Config, connections: LlmConnections = {}): OpenAIEmbedder {
  return new OpenAIEmbedder(clientFor(config), {
    model: config.EMBEDDING_MODEL,
    dimension: config.EMBEDDING_DIM || undefined,
    batchSize: config.EMBEDDING_BATCH,
    baseUrl: config.OPENAI_BASE_URL,
    resilience: llmResilienceFromConfig(config, connections),
  });
}
