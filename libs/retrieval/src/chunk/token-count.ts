import type { Config } from '@rag/config';
import { countTokens } from 'gpt-tokenizer/cjs/encoding/o200k_base';

/**
 * Tokens in `text` as OpenAI's o200k_base encoding (GPT-4o and later) counts
 * them: close to what any modern embedding or chat model sees, and a fair
 * measure for the local embedder too.
 */
export function tokenCount(text: string): number {
  return countTokens(text);
}

/**
 * Chunk sizes from configuration: CHUNK_SIZE and CHUNK_OVERLAP in tokens. A
 * `ChunkOptions`, spelled out because chunk-document imports this file.
 */
export function chunkingFromConfig(config: Pick<Config, 'CHUNK_SIZE' | 'CHUNK_OVERLAP'>): { size: number; overlap: number; unit: 'tokens' } {
  return { size: config.CHUNK_SIZE, overlap: config.CHUNK_OVERLAP, unit: 'tokens' };
}
