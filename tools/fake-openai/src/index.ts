export { startFakeOpenAI, type FakeOpenAI } from './server';
export type { RecordedRequest } from './fake-state';
export {
  DEFAULT_DIMENSION,
  DEFAULT_MODELS,
  FAKE_ENDPOINTS,
  FAULT_KINDS,
  InvalidOptionsError,
  RERANK_DIALECTS,
  type RerankDialect,
  type FakeEndpoint,
  type FakeOpenAIOptions,
  type FakeOpenAIRuntimeOptions,
  type FaultKind,
  type FaultSpec,
  type ReplyFn,
} from './options';
export type { ChatContentPart, ChatMessage, ChatRequestBody } from './chat-request';
export { NO_PASSAGES_REPLY, groundedReply, parseFencedPassages, parsePassages, parsePlainPassages, type NumberedPassage } from './grounded-reply';
export { embeddingToBase64, fakeEmbedding } from './fake-embedding';
export { condensedReply } from './condensed-reply';
export { rerankScore } from './rerank.route';
