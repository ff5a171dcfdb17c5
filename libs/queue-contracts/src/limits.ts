import { TRACEPARENT_PATTERN } from '@rag/core';

/** Input bounds enforced by the DTOs; the gateway and the workers share them. */
export const Limits = {
  queryMaxChars: 4000,
  topKMax: 50,
  topKDefault: 5,
  /** Results of `POST /v1/collections/:name/search` when `top_k` is not given. */
  searchTopKDefault: 10,
  filterSourcesMax: 50,
  sourceMaxChars: 512,
  requestIdPattern: /^[A-Za-z0-9._:-]{1,128}$/,
  /** A job signature: HMAC-SHA256, base64url without padding. */
  jobSignaturePattern: /^[A-Za-z0-9_-]{43}$/,
  /** A W3C trace context `traceparent` a question's job may carry (see TRACEPARENT_PATTERN in @rag/core). */
  traceparentPattern: TRACEPARENT_PATTERN,
  /** Ingest runs are UUIDs. */
  runIdPattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  docIdMaxChars: 1024,
  /** `POST /v1/chat/completions`: messages per request, characters per message and in all. */
  chatMessagesMax: 64,
  chatMessageMaxChars: 16000,
  chatMessagesTotalMaxChars: 32000,
  /** Text parts in one message's content array. */
  chatContentPartsMax: 32,
  /** `max_tokens` a request may ask for (the worker's LLM_MAX_TOKENS caps it further). */
  maxTokensMax: 32768,
  temperatureMax: 2,
  /** Versions of one collection (each reindex makes the next). */
  collectionVersionMax: 1_000_000,
  /** How long `reindex` keeps the old version after the switch, at most (seconds). */
  reindexGraceSecondsMax: 86_400,
  /** …and when not told. */
  reindexGraceSecondsDefault: 60,
} as const;

export const DEFAULT_COLLECTION = 'default';
