import { JOB_EVENT_TYPES, JOB_STATUSES, Limits, NAME_PATTERN, SEARCH_MODES } from '@rag/queue-contracts';
import type { JsonSchema } from './dto-schemas';

/**
 * Schemas of what the gateway answers. Responses are TypeScript interfaces
 * (no runtime metadata), so these are written out; openapi.int.spec.ts checks
 * real answers of the running gateway against them.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = { type: 'string' };
const int = { type: 'integer' };
const num = { type: 'number' };
const bool = { type: 'boolean' };
const object = (properties: Record<string, unknown>, required: string[] = Object.keys(properties), extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  required,
  ...extra,
});

export const responseSchemas: Record<string, JsonSchema> = {
  Error: object(
    {
      error: object(
        {
          code: { ...str, description: 'a stable name to act on (`invalid_request`, `job_not_found`, `queue_unavailable`, …)' },
          message: { ...str, description: 'what went wrong and what to do, for people' },
          details: {
            description: 'validation problems (`[{ field, problems }]`) or extra facts such as `retry_after_seconds`',
            oneOf: [{ type: 'array', items: ref('ValidationIssue') }, { type: 'object' }],
          },
        },
        ['code', 'message'],
      ),
    },
    ['error'],
    { description: 'Every error of the API but the OpenAI-compatible routes.' },
  ),
  ValidationIssue: object({ field: { ...str, description: 'dotted path of the field, e.g. `filters.sources.0`' }, problems: { type: 'array', items: str } }),
  OpenAIError: object(
    {
      error: object(
        {
          message: str,
          type: { ...str, enum: ['invalid_request_error', 'authentication_error', 'permission_error', 'rate_limit_error', 'server_error'] },
          param: { type: ['string', 'null'], description: 'the offending field of a 400' },
          code: { type: ['string', 'null'], description: '`invalid_api_key`, `model_not_found`, `rate_limit_exceeded`, `timeout`, …' },
          job_id: { ...str, description: 'the job to poll (GET /v1/jobs/{id}) when there is one, e.g. on a 504' },
        },
        ['message', 'type', 'param', 'code'],
      ),
    },
    ['error'],
    { description: "Errors of the OpenAI-compatible routes, in OpenAI's shape." },
  ),
  JobAccepted: object({
    job_id: { ...str, format: 'uuid' },
    status: { const: 'queued' },
    status_url: { ...str, description: 'GET it for the job (long-poll with `?wait=N`)' },
    events_url: { ...str, description: 'GET it for the job’s events (Server-Sent Events)' },
  }),
  JobStatus: { type: 'string', enum: [...JOB_STATUSES] },
  JobError: object({ code: str, message: str, permanent: bool }),
  JobView: object(
    {
      job_id: str,
      status: ref('JobStatus'),
      attempts: int,
      created_at: { ...str, format: 'date-time' },
      started_at: { ...str, format: 'date-time' },
      finished_at: { ...str, format: 'date-time' },
      result: { description: 'a completed question’s result', ...ref('QueryResult') },
      error: ref('JobError'),
      cancel_requested: { ...bool, description: 'in the 202 of DELETE /v1/jobs/{id}: the active job stops within seconds' },
    },
    ['job_id', 'status', 'attempts', 'created_at'],
  ),
  Citation: object({ id: str, source: str, title: str, heading: str, position: int, page: int, chunk: str, score: num }, [
    'id',
    'source',
    'position',
    'chunk',
    'score',
  ]),
  QueryResult: object(
    {
      answer: str,
      citations: { type: 'array', items: ref('Citation') },
      model: str,
      backends: object({ vector_store: str, embedder: str, llm: str, reranker: { ...str, description: '`http:<model>` when a reranker is configured' } }, [
        'vector_store',
        'embedder',
        'llm',
      ]),
      reranked: { type: 'boolean', description: 'with a reranker: whether the passages are in its order (false: it failed, fused order)' },
      usage: object({ prompt_tokens: int, completion_tokens: int }),
      timings: object({ queued_ms: num, retrieve_ms: num, generate_ms: num, total_ms: num }),
    },
    ['answer', 'citations', 'model', 'backends', 'usage', 'timings'],
  ),
  JobEvent: {
    type: 'string',
    description:
      'Server-Sent Events: `id: <stream id>`, `event: <type>`, `data: <JSON>`; heartbeats as `: keep-alive` comments. ' +
      `Types: ${JOB_EVENT_TYPES.join(', ')}. \`status\` {status, attempt?}, \`stage\` {stage}, \`token\` {text}, \`citation\` a Citation, ` +
      '`done` {status, model, usage, timings}, `error` {code, message, permanent, will_retry}. The stream ends after `done`, a final `error` or `cancelled`.',
  },
  SearchResult: object(
    {
      id: { ...str, description: 'the chunk id, `<doc_id>#<position>`' },
      doc_id: str,
      source: str,
      title: str,
      heading: str,
      position: int,
      page: int,
      chunk: str,
      score: { ...num, description: 'the mode’s score, higher is better: RRF (hybrid), cosine similarity (vector), full-text relevance (text)' },
      ranks: object({ vector: { ...int, minimum: 1 }, text: { ...int, minimum: 1 }, rerank: { ...int, minimum: 1 } }, [], {
        description:
          'each retriever’s 1-based rank before fusion; absent when that retriever did not return the chunk. `rerank`: the rank in the reranker’s order, when reranked',
        additionalProperties: false,
      }),
      rerank_score: { ...num, description: 'the reranker’s relevance score, when the search was reranked' },
    },
    ['id', 'doc_id', 'source', 'position', 'chunk', 'score', 'ranks'],
  ),
  SearchResponse: object(
    {
      collection: str,
      mode: { type: 'string', enum: [...SEARCH_MODES] },
      query: str,
      took_ms: num,
      reranker: { ...str, description: '`http:<model>` when a reranker is configured' },
      reranked: { type: 'boolean', description: 'with a reranker: whether the results are in its order (false: it failed, or `rerank: false` was asked)' },
      results: { type: 'array', items: ref('SearchResult') },
    },
    ['collection', 'mode', 'query', 'took_ms', 'results'],
  ),
  CollectionName: { type: 'string', pattern: NAME_PATTERN.source },
  CollectionList: object({ collections: { type: 'array', items: object({ name: ref('CollectionName') }) } }),
  CreateCollectionRequest: object({ name: ref('CollectionName') }, ['name'], { additionalProperties: false }),
  Collection: object({ name: str, embedder: {}, created: bool }, ['name', 'embedder']),
  DocumentList: object({ total: int, items: { type: 'array', items: object({ doc_id: str, content_hash: str, chunks: int }) } }),
  Deleted: object({ deleted: { const: true }, name: str, collection: str, doc_id: str }, ['deleted']),
  IngestRunAccepted: object({
    run_id: { ...str, format: 'uuid' },
    status: { const: 'queued' },
    status_url: str,
    collection: str,
    documents: { type: 'array', items: object({ doc_id: str, content_hash: str, bytes: int }) },
  }),
  IngestRun: object(
    {
      run_id: str,
      collection: str,
      status: { type: 'string', enum: ['running', 'completed', 'completed_with_failures'] },
      queued: int,
      unchanged: int,
      added: int,
      updated: int,
      skipped: int,
      done: int,
      failed: int,
      chunks: int,
      finished: bool,
      created_at: str,
      failures: { type: 'array', items: object({ doc_id: str, error: str, code: str }, ['doc_id', 'error']) },
    },
    ['run_id', 'status', 'queued', 'finished', 'failures'],
  ),
  ReindexRequest: object({ grace_seconds: { ...int, minimum: 0, maximum: Limits.reindexGraceSecondsMax, default: Limits.reindexGraceSecondsDefault } }, [], {
    additionalProperties: false,
    description: 'optional: no body takes the default grace period',
  }),
  ReindexAccepted: object({
    run_id: { ...str, format: 'uuid' },
    collection: str,
    from_version: int,
    to_version: int,
    documents: int,
    grace_seconds: int,
    status: { const: 'rebuilding' },
    status_url: str,
    run_url: str,
  }),
  ReindexStatus: object({
    collection: str,
    active_version: { ...int, description: 'the version questions read (1: never rebuilt)' },
    rebuilding: { oneOf: [{ type: 'null' }, object({ run_id: str, to_version: int })] },
    last: {
      oneOf: [
        { type: 'null' },
        object(
          {
            run_id: str,
            collection: str,
            from_version: int,
            to_version: int,
            grace_seconds: int,
            state: { type: 'string', enum: ['rebuilding', 'switched', 'failed', 'old_version_dropped'] },
            created_at: str,
            switched_at: str,
            drop_at: str,
            error: str,
            progress: { oneOf: [{ type: 'null' }, object({ queued: int, done: int, failed: int, chunks: int, failures: { type: 'array' } })] },
          },
          ['run_id', 'from_version', 'to_version', 'state', 'progress'],
        ),
      ],
    },
  }),
  DeadLetter: object(
    {
      job_id: str,
      queue: str,
      job_name: str,
      tenant: { type: ['string', 'null'] },
      payload: { description: 'the job’s payload as it was queued' },
      attempts: {
        type: 'array',
        items: object({ attempt: int, started_at: str, duration_ms: num, error: str, code: str, permanent: bool }, ['attempt', 'error', 'permanent']),
      },
      final_error: str,
      final_error_code: str,
      failed_at: str,
      replays: int,
    },
    ['job_id', 'queue', 'tenant', 'attempts', 'final_error', 'failed_at'],
    { description: 'a job that failed for good: its payload and every attempt' },
  ),
  DeadLetterList: object({ total: int, items: { type: 'array', items: ref('DeadLetter') } }),
  Purged: object({ purged: int }),
  WorkerList: object({
    alive: int,
    stale_after_seconds: num,
    workers: {
      type: 'array',
      items: object(
        {
          id: str,
          host: str,
          pid: int,
          version: str,
          queues: { type: 'array', items: object({ name: str, concurrency: int, active: int }) },
          started_at: str,
          last_seen: str,
          age_seconds: num,
          stale: bool,
        },
        ['id', 'stale'],
      ),
    },
  }),
  Health: object({ status: { const: 'ok' } }),
  Me: object({
    tenant: str,
    scopes: { type: 'array', items: { type: 'string', enum: ['query', 'ingest', 'admin', 'operator'] } },
    key_id: { type: ['string', 'null'], description: 'null with auth off, or for a key seeded from API_KEYS without an id' },
    auth: { type: 'string', enum: ['on', 'off'] },
  }),
  Readiness: object(
    {
      status: { type: 'string', enum: ['ready', 'degraded', 'not_ready'] },
      checks: { type: 'object', additionalProperties: object({ ok: bool, error: str }, ['ok']) },
      workers: object({ alive: { type: ['integer', 'null'] } }),
      reasons: { type: 'array', items: str },
    },
    ['status', 'checks'],
  ),
  Model: object({ id: str, object: { const: 'model' }, created: int, owned_by: str }),
  ModelList: object({ object: { const: 'list' }, data: { type: 'array', items: ref('Model') } }),
  ChatCompletion: object({
    id: { ...str, description: '`chatcmpl-<job id>`' },
    object: { const: 'chat.completion' },
    created: int,
    model: str,
    choices: {
      type: 'array',
      items: object({
        index: int,
        message: object({ role: { const: 'assistant' }, content: str, refusal: { type: 'null' } }),
        logprobs: { type: 'null' },
        finish_reason: { type: 'string', enum: ['stop', 'length'] },
      }),
    },
    usage: ref('ChatCompletionUsage'),
    citations: { type: 'array', items: ref('Citation'), description: 'extension: citation n is what the marker [n] in the text refers to' },
  }),
  ChatCompletionUsage: object({ prompt_tokens: int, completion_tokens: int, total_tokens: int }),
  ChatCompletionChunk: {
    type: 'string',
    description:
      'Server-Sent Events without event names: `data: <chat.completion.chunk JSON>` lines (the role, then the text; the last carries ' +
      '`finish_reason`, `usage` and `citations`), then `data: [DONE]`; a failed or cancelled job ends with `data: {"error": …}`.',
  },
};
