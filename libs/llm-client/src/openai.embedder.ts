import type OpenAI from 'openai';
import { LlmPermanentError, classifyOpenAIError } from './errors';
import type { LlmResilience } from './llm-resilience';
import { estimateEmbeddingTokens } from './token-estimate';

export interface OpenAIEmbedderOptions {
  model: string;
  /** The dimension the model returns; checked on every response. */
  dimension: number;
  batchSize: number;
  baseUrl: string;
  /** Breaker, timeout, shared limits and 429 pause; without it each call goes straight to the client. */
  resilience?: LlmResilience;
}

/** Embeddings from any OpenAI-compatible `/v1/embeddings`, batched, with the dimension checked. */
export class OpenAIEmbedder {
  readonly id: string;
  readonly dimension: number;

  constructor(
    private readonly client: OpenAI,
    private readonly options: OpenAIEmbedderOptions,
  ) {
    this.dimension = options.dimension;
    this.id = `openai:${options.model}:${options.dimension}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    const operation = `embeddings (${this.options.model})`;
    for (let i = 0; i < texts.length; i += this.options.batchSize) {
      const batch = texts.slice(i, i + this.options.batchSize);
      const request = async (requestSignal: AbortSignal | undefined) => {
        try {
          return await this.client.embeddings.create({ model: this.options.model, input: batch, encoding_format: 'float' }, { signal: requestSignal });
        } catch (error) {
          throw classifyOpenAIError(operation, this.options.baseUrl, error);
        }
      };
      const resilience = this.options.resilience;
      const response = resilience
        ? await resilience.call('embeddings', { operation, tokens: estimateEmbeddingTokens(batch), signal }, request)
        : await request(signal);
      const vectors = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== batch.length) {
        throw new LlmPermanentError(`embeddings (${this.options.model}) returned ${vectors.length} vectors for ${batch.length} texts`);
      }
      for (const v of vectors) {
        if (v.length !== this.dimension) {
          throw new LlmPermanentError(
            `embeddings model ${this.options.model} returned ${v.length}-dimensional vectors but EMBEDDING_DIM=${this.dimension}; set EMBEDDING_DIM=${v.length} and load the collections again`,
          );
        }
      }
      out.push(...vectors);
    }
    return out;
  }
}
