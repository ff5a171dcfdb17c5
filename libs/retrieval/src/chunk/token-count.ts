import type { Config } from '@rag/config';

type CountTokens = (text: string) => number;
let countTokens: CountTokens | undefined;

/**
 * Tokens in `text` as OpenAI's o200k_base encoding (GPT-4o and later) counts
 * them: close to what any modern embedding or chat model sees, and a fair
 * measure for the local embedder too.
 */
export function tokenCount(text: string): number {
  // Loaded on first use: its table costs about 68 MiB of memory, and only chunking (in the parse
  // threads) counts tokens, never the gateway or a worker's main thread. A require, not an import(),
  // because counting is synchronous; esbuild bundles it all the same.
  countTokens ??= (require('gpt-tokenizer/cjs/encoding/o200k_base') as { countTokens: CountTokens }).countTokens;
  return countTokens(text);
}

/**
 * Chunk sizes from configuration: CHUNK_SIZE and CHUNK_OVERLAP in tokens. A
 * `ChunkOptions`, spelled out because chunk-document imports this file.
 */
export function chunkingFromConfig(config: Pick<Config, 'CHUNK_SIZE' | 'CHUNK_OVERLAP'>): { size: number; overlap: number; unit: 'tokens' } {
  return { size: config.CHUNK_SIZE, overlap: config.CHUNK_OVERLAP, unit: 'tokens' };
}
