import type { ChunkOptions } from '../chunk/chunk-document';
import { embedderInfo } from '../embed/embedder-info';
import { contentHash } from '../load/load-document';
import type { DocumentParser } from '../parse/parse-pool';
import { searchableText } from '../searchable-text';
import type { Chunk, DocumentWriteLock, Embedder, EmbeddedChunk, VectorStore } from '../types';

export interface IngestDeps {
  store: VectorStore;
  embedder: Embedder;
  /**
   * Serialises writers of one document across processes. LanceDB's replace
   * checks whether the document exists, then appends: two writers at once
   * would both append. Without it, this process must be the only writer.
   */
  locks?: DocumentWriteLock;
  /** Loads and chunks documents off the event loop (a ParsePool). */
  parser: DocumentParser;
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
  /** Documents removed (or, in a dry run, that would be) because they are no longer among the files. */
  removed: string[];
  /** True when nothing was written: the counts say what a real run would do. */
  dryRun: boolean;
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
  /** Remove the collection's documents that are not among `files` (the source no longer has them). */
  prune?: boolean;
  /** Say what would change (by content hash) without parsing, embedding or writing anything. */
  dryRun?: boolean;
}

/**
 * Loads files into a collection. A document whose bytes hash the same as the
 * stored copy is skipped without embedding; a changed one has all its chunks
 * replaced in one write. One failed file is reported and the others go on.
 * With `prune`, documents no longer among the files are removed afterwards;
 * with `dryRun`, nothing is parsed, embedded or written, and the summary says
 * what would change.
 */
export async function ingestDocuments(deps: IngestDeps, files: SourceFile[], options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const { tenant, collection } = options;
  const dryRun = options.dryRun ?? false;
  // A dry run must not create the collection; a missing one simply has no documents.
  if (!dryRun) await deps.store.ensureCollection(tenant, collection, await embedderInfo(deps.embedder));
  const known = new Map((await deps.store.listDocuments(tenant, collection)).map((d) => [d.docId, d.contentHash]));
  const summary: IngestSummary = { documents: files.length, added: 0, updated: 0, unchanged: 0, failed: [], chunks: 0, removed: [], dryRun, seconds: 0 };

  for (const file of files) {
    let progress: IngestProgress;
    try {
      const bytes = await file.read();
      const previous = known.get(file.id);
      if (previous === contentHash(bytes)) {
        progress = { id: file.id, outcome: 'unchanged', chunks: 0 };
      } else if (dryRun) {
        progress = { id: file.id, outcome: previous === undefined ? 'added' : 'updated', chunks: 0 };
      } else {
        const chunks = await replaceDocumentFrom(deps, {
          tenant,
          collection,
          docId: file.id,
          bytes,
          chunking: options.chunking,
          embedBatch: options.embedBatch,
        });
        progress = { id: file.id, outcome: previous === undefined ? 'added' : 'updated', chunks };
      }
    } catch (error) {
      progress = { id: file.id, outcome: 'failed', chunks: 0, error: error instanceof Error ? error.message : String(error) };
      summary.failed.push({ id: file.id, error: progress.error ?? 'unknown error' });
    }
    if (progress.outcome !== 'failed') summary[progress.outcome]++;
    summary.chunks += progress.chunks;
    options.onDocument?.(progress);
  }
  if (options.prune) {
    const present = new Set(files.map((f) => f.id));
    summary.removed = [...known.keys()].filter((id) => !present.has(id)).sort();
    if (!dryRun) for (const id of summary.removed) await deps.store.deleteDocument(tenant, collection, id);
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

export interface OneDocument {
  tenant: string;
  collection: string;
  docId: string;
  bytes: Buffer;
  chunking: ChunkOptions;
  embedBatch?: number;
  signal?: AbortSignal;
}

/**
 * Parses and chunks (in a parse thread), embeds one document and replaces its chunks in the
 * store in one write; the collection must exist. Returns the chunk count.
 * The direct CLI load and the workers' ingest jobs both come through here.
 */
export async function replaceDocumentFrom(deps: IngestDeps, doc: OneDocument): Promise<number> {
  const chunks = await deps.parser.parse(doc.docId, doc.bytes, doc.chunking, doc.signal);
  doc.signal?.throwIfAborted();
  const embedded = await embedChunks(deps.embedder, chunks, doc.embedBatch ?? 64, doc.signal);
  doc.signal?.throwIfAborted();
  const write = () => deps.store.replaceDocument(doc.tenant, doc.collection, doc.docId, embedded);
  if (!deps.locks) await write();
  else {
    // Parsing and embedding ran unlocked; only the write is serialised.
    await deps.locks.hold({ tenant: doc.tenant, collection: doc.collection, docId: doc.docId }, async (fence) => {
      await fence();
      await write();
    });
  }
  return chunks.length;
}

/** Embeds chunks `batch` at a time. */
export async function embedChunks(embedder: Embedder, chunks: Chunk[], batch: number, signal?: AbortSignal): Promise<EmbeddedChunk[]> {
  const out: EmbeddedChunk[] = [];
  for (let i = 0; i < chunks.length; i += batch) {
    const slice = chunks.slice(i, i + batch);
    const vectors = await embedder.embed(slice.map(searchableText), signal);
    slice.forEach((chunk, j) => out.push({ ...chunk, vector: vectors[j] }));
  }
  return out;
}
