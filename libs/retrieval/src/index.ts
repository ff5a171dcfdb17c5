export * from './types';
export { CollectionNotFoundError, PermanentError, isPermanent } from './errors';
export { searchableText } from './searchable-text';
export { parseHtml } from './load/load-html';
export { parseMarkdown, type ParsedText } from './load/load-markdown';
export { parseText } from './load/load-text';
export { SUPPORTED_EXTENSIONS, UnsupportedFormatError, contentHash, isSupported, loadDocument } from './load/load-document';
export { chunkDocument, type ChunkOptions } from './chunk/chunk-document';
export { LocalHashEmbedder } from './embed/local-hash.embedder';
export { reciprocalRankFusion } from './fuse/reciprocal-rank-fusion';
export { LanceDbStore, VectorSizeMismatchError, sqlString } from './store/lancedb.store';
export { answerQuestion, retrieve, type AnswerDeps, type Question } from './pipeline/answer-question';
export {
  ingestDocuments,
  type DocumentOutcome,
  type IngestDeps,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
  type SourceFile,
} from './pipeline/ingest-documents';
export { createEmbedder, openVectorStore } from './backends';
