import type { Config } from '@rag/config';
import { createOpenAIEmbedder, type LlmConnections } from '@rag/llm-client';
import { LOCAL_EMBEDDING_DIM, LocalHashEmbedder } from './embed/local-hash.embedder';
import { LanceDbStore } from './store/lancedb.store';
import { QdrantStore } from './store/qdrant.store';
import type { Embedder, VectorStore } from './types';

/** The vector store chosen by VECTOR_STORE. */
export async function openVectorStore(config: Config): Promise<VectorStore> {
  switch (config.VECTOR_STORE) {
    case 'lancedb':
      return LanceDbStore.open(config.lancedbDir);
    case 'qdrant':
      return new QdrantStore({ url: config.QDRANT_URL, apiKey: config.QDRANT_API_KEY || undefined, timeoutMs: config.QDRANT_TIMEOUT_MS });
  }
}

/** The embedder chosen by EMBEDDINGS; `connections` shares limits and breakers with the answerer. */
export function createEmbedder(config: Config, connections: LlmConnections = {}): Embedder {
  switch (config.EMBEDDINGS) {
    case 'local':
      return new LocalHashEmbedder(config.EMBEDDING_DIM || LOCAL_EMBEDDING_DIM);
    case 'openai':
      return createOpenAIEmbedder(config, connections);
  }
}
