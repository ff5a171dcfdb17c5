import type OpenAI from 'openai';
import { estimateEmbeddingTokens } from '@rag/core';
import { LlmPermanentError, classifyOpenAIError } from './errors';
import type { LlmResilience } from './llm-resilience';

export interface OpenAIEmbedderOptions {
  model: string;
  /**
   * The dimension the model returns; checked on every response. Absent: the
   * model's published size when it is a well-known one, else read from the
   * API's first response (see ready()).
   */
  dimension?: number;
  batchSize: number;
  baseUrl: string;
  /** Breaker, timeout, shared limits and 429 pause; without it each call goes straight to the client. */
  resilience?: LlmResilience;
}

/**
 * Vector sizes of well-known embeddings models, by name without an Ollama-style
 * `:tag`. Fixed by each model, so EMBEDDING_DIM need not repeat them.
 */
export const KNOWN_EMBEDDING_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'nomic-embed-text': 768,
  'mxbai-embed-large': 1024,
  'all-minilm': 384,
  'bge-m3': 1024,
};

export function knownEmbeddingDimension(model: string): number | undefined {
  const name = model.replace(/:[^/:]*$/, '');
  return KNOWN_EMBEDDING_DIMENSIONS[name] ?? KNOWN_EMBEDDING_DIMENSIONS[name.replace(/^.*\//, '')];
}

/** Embeddings from any OpenAI-compatible `/v1/embeddings`, batched, with the dimension checked. */
export class OpenAIEmbedder {
  private known?: number;
  /** Where the dimension came from, for the mismatch message. */
  private readonly configured: boolean;
  private probing?: Promise<void>;

  constructor(
    private readonly client: OpenAI,
    private readonly options: OpenAIEmbedderOptions,
  ) {
    this.configured = options.dimension !== undefined;
    this.known = options.dimension ?? knownEmbeddingDimension(options.model);
  }

  get dimension(): number {
    if (this.known === undefined) {
      throw new Error(`the vector size of embeddings model ${this.options.model} is not known yet; await ready() first`);
    }
    return this.known;
  }

  get id(): string {
    return `openai:${this.options.model}:${this.dimension}`;
  }

  /** Asks the API once for a vector when the model's size was neither configured nor well known. */
  async ready(signal?: AbortSignal): Promise<void> {
    if (this.known !== undefined) return;
    this.probing ??= this.embed(['dimension probe'], signal).then(
      () => undefined,
      (error: unknown) => {
        this.probing = undefined;
        throw error;
      },
    );
    return this.probing;
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
      // The first answer tells an unknown model's size; every later one must match it.
      this.known ??= vectors[0]?.length;
      for (const v of vectors) {
        if (v.length !== this.known) {
          const expected = this.configured ? `EMBEDDING_DIM=${this.known}` : `its published size ${this.known}`;
          throw new LlmPermanentError(
            `embeddings model ${this.options.model} returned ${v.length}-dimensional vectors but ${expected}; set EMBEDDING_DIM=${v.length} and load the collections again`,
          );
        }
      }
      out.push(...vectors);
    }
    return out;
  }
}
