import type { Embedder, EmbedderInfo } from '../types';

/** What a collection records of the embedder, once the embedder knows it (see Embedder.ready). */
export async function embedderInfo(embedder: Embedder, signal?: AbortSignal): Promise<EmbedderInfo> {
  await embedder.ready?.(signal);
  return { id: embedder.id, dimension: embedder.dimension };
}
