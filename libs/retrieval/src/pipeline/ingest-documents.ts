import { chunkDocument, type ChunkOptions } from '../chunk/chunk-document';
import { contentHash, loadDocument } from '../load/load-document';
import { searchableText } from '../searchable-text';
import type { Embedder, EmbeddedChunk, VectorStore } from '../types';

export interface IngestDeps {
  store: VectorStore;
  embedder: Embedder;
}

export interface SourceFile {
  /** Stable document id (path relative to the ingested folder). */
  id: string;
  read(): Promise<Buffer>;
}

export type DocumentOutcome = 'added' | 'updated' | 'unchanged' | 'failed';

export interface IngestProgress {
  id: string;
  outcome: DocumentOutcome;
  chunks: number;
  error?: string;
}

export interface IngestSummary {
  documents: number;
  added: number;
  updated: number;
  unchanged: number;
  failed: { id: string; error: string }[];
  chunks: number;
  seconds: number;
}

export interface IngestOptions {
  /** The tenant that owns the collection; its documents are invisible to every other tenant. */
  tenant: string;
  collection: string;
  chunking: ChunkOptions;
  /** Texts per embeddings request. */
  embedBatch?: number;
  onDocument?: (progress: IngestProgress) => void;
}

/**
 * Loads files into a collection. A document whose bytes hash the same as the
 * stored copy is skipped without embedding; a changed one has all its chunks
 * replaced. One failed file is reported and the others go on.
 */
export async function ingestDocuments(deps: IngestDeps, files: SourceFile[], options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  await deps.store.ensureCollection(options.tenant, options.collection, { id: deps.embedder.id, dimension: deps.embedder.dimension });
  const known = new Map((await deps.store.listDocuments(options.tenant, options.collection)).map((d) => [d.docId, d.contentHash]));
  const summary: IngestSummary = { documents: files.length, added: 0, updated: 0, unchanged: 0, failed: [], chunks: 0, seconds: 0 };

  for (const file of files) {
    let progress: IngestProgress;
    try {
      const bytes = await file.read();
      const previous = known.get(file.id);
      if (previous === contentHash(bytes)) {
        progress = { id: file.id, outcome: 'unchanged', chunks: 0 };
      } else {
        const chunks = chunkDocument(await loadDocument(file.id, bytes), options.chunking);
        const embedded = await embedChunks(deps.embedder, chunks, options.embedBatch ?? 64);
        await deps.store.replaceDocument(options.tenant, options.collection, file.id, embedded);
        progress = { id: file.id, outcome: previous === undefined ? 'added' : 'updated', chunks: chunks.length };
      }
    } catch (error) {
      progress = { id: file.id, outcome: 'failed', chunks: 0, error: error instanceof Error ? error.message : String(error) };
      summary.failed.push({ id: file.id, error: progress.error ?? 'unknown error' });
    }
    if (progress.outcome !== 'failed') summary[progress.outcome]++;
    summary.chunks += progress.chunks;
    options.onDocument?.(progress);
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

async function embedChunks(embedder: Embedder, chunks: ReturnType<typeof chunkDocument>, batch: number): Promise<EmbeddedChunk[]> {
  const out: EmbeddedChunk[] = [];
  for (let i = 0; i < chunks.length; i += batch) {
    const slice = chunks.slice(i, i + batch);
    const vectors = await embedder.embed(slice.map(searchableText));
    slice.forEach((chunk, j) => out.push({ ...chunk, vector: vectors[j] }));
  }
  return out;
}
