import type { ChatRequestBody } from './chat-request';

/** Endpoints a fault can target. */
export const FAKE_ENDPOINTS = ['chat', 'embeddings', 'models', 'rerank'] as const;
export type FakeEndpoint = (typeof FAKE_ENDPOINTS)[number];

/** status401: refuses the key, quoting it whole in the error body as some providers do (tests that keys never leak). */
export const FAULT_KINDS = ['status401', 'status429', 'status500', 'hang', 'drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** Endpoints it applies to; all of them when omitted. */
  endpoints?: FakeEndpoint[];
  /** Only the next N matching requests; every matching request until cleared when omitted. */
  times?: number;
  /** status429: the Retry-After header, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** drop, streaming: SSE chunks sent before the socket is destroyed (default 2). Other responses are cut halfway through the body. */
  dropAfterChunks?: number;
}

/**
 * Which rerank request bodies POST /rerank and /v1/rerank accept. `both`
 * (default): `texts` (Text Embeddings Inference), answered `[{index, score}]`,
 * or `documents` (Jina, Cohere), answered `{results: [{index, relevance_score}]}`.
 * `tei`: only `texts` (422 "missing field `texts`" otherwise, unknown fields
 * ignored) and TEI's answer; `cohere`: only Cohere's fields (422 naming any
 * other, as Cohere does) and the `results` answer.
 */
export const RERANK_DIALECTS = ['both', 'tei', 'cohere'] as const;
export type RerankDialect = (typeof RERANK_DIALECTS)[number];

/** Decides the assistant's text for a chat completion request. */
export type ReplyFn = (body: ChatRequestBody) => string | Promise<string>;

/** Everything that can change while the fake runs (setOptions, POST /__admin/options). */
export interface FakeOpenAIRuntimeOptions {
  /** Embedding size when the request has no `dimensions` (default 256). */
  dimension?: number;
  /** Names listed by GET /v1/models (default gpt-4o-mini, text-embedding-3-small). Any model name is accepted in requests. */
  models?: string[];
  /** When set, /v1 requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string | null;
  /** The assistant's text (default: groundedReply). */
  reply?: ReplyFn;
  /** Delay before the first byte of a chat response. */
  firstTokenMs?: number;
  /** Delay between streamed content chunks; non-streaming replies also wait it per token, so both modes take as long. */
  perTokenMs?: number;
  /** Delay before an embeddings response. */
  embeddingLatencyMs?: number;
  /** Delay before a rerank response. */
  rerankLatencyMs?: number;
  /** Request bodies the rerank endpoints accept (default both). */
  rerankDialect?: RerankDialect;
  /** The active fault; null clears it. */
  fault?: FaultSpec | null;
  /** Recorded requests kept, oldest dropped first (default 10000). */
  maxRecordedRequests?: number;
}

export interface FakeOpenAIOptions extends FakeOpenAIRuntimeOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export const DEFAULT_DIMENSION = 256;
export const DEFAULT_MODELS = ['gpt-4o-mini', 'text-embedding-3-small'];
export const DEFAULT_MAX_RECORDED_REQUESTS = 10_000;
export const MAX_DIMENSION = 8192;

export class InvalidOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOptionsError';
  }
}

const RUNTIME_KEYS = new Set<string>([
  'dimension',
  'models',
  'apiKey',
  'reply',
  'firstTokenMs',
  'perTokenMs',
  'embeddingLatencyMs',
  'rerankLatencyMs',
  'rerankDialect',
  'fault',
  'maxRecordedRequests',
]);
const FAULT_KEYS = new Set<string>(['kind', 'endpoints', 'times', 'retryAfterSeconds', 'dropAfterChunks']);

/** Checks options from code or from admin JSON; unknown keys are errors so typos do not pass silently. */
export function validateRuntimeOptions(input: unknown): FakeOpenAIRuntimeOptions {
  const o = record(input, 'options');
  for (const key of Object.keys(o)) if (!RUNTIME_KEYS.has(key)) throw new InvalidOptionsError(`unknown option "${key}"`);
  for (const key of ['firstTokenMs', 'perTokenMs', 'embeddingLatencyMs', 'rerankLatencyMs'] as const) optionalNumber(o[key], key, 0);
  if (o.rerankDialect !== undefined && !RERANK_DIALECTS.includes(o.rerankDialect as RerankDialect)) {
    throw new InvalidOptionsError(`rerankDialect must be one of ${RERANK_DIALECTS.join(', ')}`);
  }
  optionalInteger(o.dimension, 'dimension', 1, MAX_DIMENSION);
  optionalInteger(o.maxRecordedRequests, 'maxRecordedRequests', 0);
  if (o.models !== undefined && (!Array.isArray(o.models) || !o.models.every((m) => typeof m === 'string' && m !== ''))) {
    throw new InvalidOptionsError('models must be an array of model names');
  }
  if (o.apiKey !== undefined && o.apiKey !== null && (typeof o.apiKey !== 'string' || o.apiKey === '')) {
    throw new InvalidOptionsError('apiKey must be a non-empty string or null');
  }
  if (o.reply !== undefined && typeof o.reply !== 'function') throw new InvalidOptionsError('reply must be a function');
  if (o.fault !== undefined && o.fault !== null) validateFault(o.fault);
  return o as FakeOpenAIRuntimeOptions;
}

export function validateFault(input: unknown): FaultSpec {
  const f = record(input, 'fault');
  for (const key of Object.keys(f)) if (!FAULT_KEYS.has(key)) throw new InvalidOptionsError(`unknown fault field "${key}"`);
  if (!FAULT_KINDS.includes(f.kind as FaultKind)) throw new InvalidOptionsError(`fault kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (f.endpoints !== undefined && (!Array.isArray(f.endpoints) || !f.endpoints.every((e) => FAKE_ENDPOINTS.includes(e as FakeEndpoint)))) {
    throw new InvalidOptionsError(`fault endpoints must be a list of ${FAKE_ENDPOINTS.join(', ')}`);
  }
  optionalInteger(f.times, 'fault times', 1);
  optionalNumber(f.retryAfterSeconds, 'fault retryAfterSeconds', 0);
  optionalInteger(f.dropAfterChunks, 'fault dropAfterChunks', 0);
  return f as unknown as FaultSpec;
}

function record(input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidOptionsError(`${what} must be an object`);
  return input as Record<string, unknown>;
}

function optionalNumber(value: unknown, name: string, min: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < min)) {
    throw new InvalidOptionsError(`${name} must be a number >= ${min}`);
  }
}

function optionalInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < min || (value as number) > max)) {
    throw new InvalidOptionsError(`${name} must be an integer from ${min} to ${max}`);
  }
}
