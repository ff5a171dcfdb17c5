export * from './types';
export { CollectionNotFoundError, EmbedderMismatchError, VectorSizeMismatchError, VectorStoreError } from './errors';
export { searchableText } from './searchable-text';
export { parseMarkdown, type ParsedText } from './load/load-markdown';
export { parseText } from './load/load-text';
export { SUPPORTED_EXTENSIONS, UnsupportedFormatError, contentHash, isSupported, loadDocument, type LoadOptions } from './load/load-document';
export { DocxTooLargeError } from './load/load-errors';
export { DocumentParseError } from './parse/document-parse-error';
export { ParsePool, type DocumentParser, type ParsePoolOptions } from './parse/parse-pool';
export { parsePoolFromConfig } from './parse/parse-pool-from-config';
export { default as parseInThread } from './parse/parse-thread';
export { chunkDocument, type ChunkOptions } from './chunk/chunk-document';
export { chunkingFromConfig, tokenCount } from './chunk/token-count';
export { embedderInfo } from './embed/embedder-info';
export { LOCAL_EMBEDDING_DIM, LocalHashEmbedder } from './embed/local-hash.embedder';
export { reciprocalRankFusion } from './fuse/reciprocal-rank-fusion';
export { LanceDbStore, sqlString } from './store/lancedb.store';
export { DEFAULT_TENANT, InvalidNameError, logicalName, physicalName } from './store/tenant-namespace';
export { DENSE_VECTOR, QdrantStore, SPARSE_VECTOR, qdrantClientParams, qdrantPointId, type QdrantStoreOptions } from './store/qdrant.store';
export { BM25_ENCODER_VERSION, Bm25Encoder, termIndex, type Bm25Options, type SparseVector } from './sparse/bm25-encoder';
export { DEFAULT_HISTORY_MAX_TOKENS, answerQuestion, retrieve, type AnswerDeps, type Question } from './pipeline/answer-question';
export {
  hybridCandidates,
  rankedSearch,
  searchCollection,
  searchResultItem,
  type RankedHit,
  type SearchDeps,
  type SearchRequest,
} from './pipeline/search-collection';
export { followUpQuery, type FollowUpDeps, type SearchQuery } from './pipeline/follow-up-query';
export {
  ingestDocuments,
  replaceDocumentFrom,
  type OneDocument,
  type DocumentOutcome,
  type IngestDeps,
  type IngestOptions,
  type IngestProgress,
  type IngestSummary,
  type SourceFile,
} from './pipeline/ingest-documents';
export {
  ContentMissingError,
  ingestQueuedDocument,
  recordQueuedDocumentFailed,
  type QueuedContentRef,
  type QueuedDocument,
  type QueuedDocumentDeps,
  type QueuedDocumentResult,
  type QueuedDocumentRun,
  type QueuedRebuildDeps,
} from './pipeline/ingest-queued-document';
export { createEmbedder, openVectorStore } from './backends';
export { NO_RERANKER, NoReranker, isReranking, type RerankOptions, type RerankPassage, type RerankResult, type Reranker } from './rerank/reranker';
export { LOCAL_RERANK_WEIGHTS, LocalReranker, lexicalScores, type LocalRerankWeights } from './rerank/local-reranker';
export { HttpReranker, type HttpRerankerOptions } from './rerank/http-reranker';
export { RerankerError } from './rerank/rerank-errors';
export { parseRerankResponse } from './rerank/rerank-response';
export { rerankCandidates, rerankHits, type Reranked, type RerankedHits } from './rerank/rerank-hits';
export { createReranker } from './rerank/create-reranker';
export { GuardedVectorStore, guardVectorStore, type GuardOptions } from './store/guarded.store';
export { distinctDocuments, hitAt, meanScores, ndcgAt, recallAt, reciprocalRank, scoreRanking, SCORE_NAMES, type RankingScores } from './eval/metrics';
export {
  EVAL_SEARCH_DEPTH,
  documentOfChunk,
  evaluateQuestions,
  parseEvalSet,
  type EvalOptions,
  type EvalQuestion,
  type EvalTarget,
  type QuestionOutcome,
  type TargetOutcome,
} from './eval/evaluate';
export { FIRST_VERSION, collectionVersionsIn, parsePhysicalName, splitVersion, versionedCollection } from './store/tenant-namespace';
export { ReindexInProgressError, VERSION_CACHE_MS, VersionedVectorStore, readOneVersion, type VersionRegistry } from './store/versioned.store';
export { reassembleDocument, withoutOverlap } from './pipeline/reassemble-document';
export {
  CollectionEmptyError,
  dropRetiredVersion,
  finishRebuild,
  rebuildDocument,
  startReindex,
  type RebuildRegistry,
  type RebuildState,
  type ReindexDeps,
  type ReindexRequest,
  type ReindexStarted,
} from './pipeline/rebuild-collection';
