import type { JsonSchema } from './dto-schemas';

type Scope = 'query' | 'ingest' | 'admin' | 'operator';
type Method = 'get' | 'post' | 'delete';

interface Operation {
  summary: string;
  tag: string;
  /** The scope a key needs (`admin|operator`: either; `any`: any valid key); none: open to anyone. */
  scope?: Scope | 'admin|operator' | 'any';
  parameters?: JsonSchema[];
  body?: { content: Record<string, JsonSchema>; required?: boolean };
  /** Status → [description, content type → schema] (no content: an empty or opaque body). */
  ok: Record<string, [string, Record<string, JsonSchema>?]>;
  /** Error statuses this operation answers besides those of every authenticated route. */
  errors?: number[];
  /** OpenAI's error shape instead of ours. */
  openai?: boolean;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const pathParam = (name: string, description: string, schema: JsonSchema = { type: 'string' }) => ({ name, in: 'path', required: true, description, schema });
const query = (name: string, description: string, schema: JsonSchema) => ({ name, in: 'query', required: false, description, schema });
const jobId = pathParam('id', 'the job id (a UUID)', { type: 'string', format: 'uuid' });
const collection = pathParam('name', 'a collection of the caller’s tenant', ref('CollectionName'));
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'the same key (same tenant, same body) returns the same job (`Idempotent-Replayed: true`); another body with it is a 422',
  schema: { type: 'string', maxLength: 256 },
};
const paging = (max: number) => [
  query('offset', 'items to skip', { type: 'integer', minimum: 0 }),
  query('limit', `items to return (at most ${max})`, { type: 'integer', minimum: 1, maximum: max }),
];
const tenantParam = query('tenant', 'operator keys: only this tenant’s letters', ref('CollectionName'));

/** Every route of the gateway, keyed by OpenAPI path, then method. */
export const operations: Record<string, Partial<Record<Method, Operation>>> = {
  '/v1/chat': {
    post: {
      summary: 'Ask a question: queued as a job, answered at once with its id',
      tag: 'chat',
      scope: 'query',
      parameters: [idempotencyKey],
      body: { content: json('ChatRequestDto'), required: true },
      ok: { '202': ['accepted; `Location` is the status url', json('JobAccepted')] },
      errors: [415, 422],
    },
  },
  '/v1/jobs/{id}': {
    get: {
      summary: 'A job’s status and, once completed, its result',
      tag: 'jobs',
      scope: 'query',
      parameters: [jobId, query('wait', 'long-poll up to this many seconds (at most MAX_WAIT_SECONDS) for a final state', { type: 'integer', minimum: 0 })],
      ok: { '200': ['the job', json('JobView')] },
    },
    delete: {
      summary: 'Cancel a job',
      tag: 'jobs',
      scope: 'query',
      parameters: [jobId],
      ok: { '200': ['a waiting job, removed: it never runs', json('JobView')], '202': ['an active job, stopping within seconds', json('JobView')] },
      errors: [409],
    },
  },
  '/v1/jobs/{id}/events': {
    get: {
      summary: 'Follow a job live: its events as Server-Sent Events, resumable with Last-Event-ID',
      tag: 'jobs',
      scope: 'query',
      parameters: [
        jobId,
        { name: 'Last-Event-ID', in: 'header', required: false, description: 'resume after this event id (wins over the query)', schema: { type: 'string' } },
        query('last_event_id', 'resume after this event id', { type: 'string' }),
      ],
      ok: { '200': ['the event stream', { 'text/event-stream': { schema: ref('JobEvent') } }] },
    },
  },
  '/v1/chat/completions': {
    post: {
      summary: 'OpenAI-compatible chat completions (model = collection), streamed or not, through the same queue',
      tag: 'openai',
      scope: 'query',
      openai: true,
      parameters: [idempotencyKey],
      body: { content: json('OpenAIChatRequestDto'), required: true },
      ok: {
        '200': [
          'a `chat.completion`, or with `stream: true` a stream of `chat.completion.chunk`s',
          { 'application/json': { schema: ref('ChatCompletion') }, 'text/event-stream': { schema: ref('ChatCompletionChunk') } },
        ],
      },
      errors: [409, 415, 422, 500, 504],
    },
  },
  '/v1/models': {
    get: {
      summary: 'The caller’s collections as OpenAI models',
      tag: 'openai',
      scope: 'query',
      openai: true,
      ok: { '200': ['the models', json('ModelList')] },
    },
  },
  '/v1/models/{id}': {
    get: {
      summary: 'One collection as an OpenAI model',
      tag: 'openai',
      scope: 'query',
      openai: true,
      parameters: [pathParam('id', 'a collection name')],
      ok: { '200': ['the model', json('Model')] },
    },
  },
  '/v1/me': {
    get: {
      summary: 'Who the key is: its tenant, scopes and id, and whether keys are required',
      tag: 'auth',
      scope: 'any',
      ok: { '200': ['the caller', json('Me')] },
    },
  },
  '/v1/collections': {
    get: { summary: 'The caller’s collections', tag: 'collections', scope: 'query', ok: { '200': ['the collections', json('CollectionList')] } },
    post: {
      summary: 'Create an empty collection for the configured embedder',
      tag: 'collections',
      scope: 'ingest',
      body: { content: json('CreateCollectionRequest'), required: true },
      ok: { '200': ['it existed', json('Collection')], '201': ['created', json('Collection')] },
      errors: [409, 415],
    },
  },
  '/v1/collections/{name}': {
    get: {
      summary: 'A collection and its embedder',
      tag: 'collections',
      scope: 'query',
      parameters: [collection],
      ok: { '200': ['the collection', json('Collection')] },
    },
    delete: {
      summary: 'Drop a collection and every chunk in it',
      tag: 'collections',
      scope: 'ingest',
      parameters: [collection],
      ok: { '200': ['dropped', json('Deleted')] },
    },
  },
  '/v1/collections/{name}/documents': {
    get: {
      summary: 'A collection’s documents',
      tag: 'collections',
      scope: 'query',
      parameters: [collection, ...paging(1000)],
      ok: { '200': ['a page of documents', json('DocumentList')] },
    },
    post: {
      summary: 'Upload documents for ingestion by the workers (one file part per document; the file name is its id)',
      tag: 'ingestion',
      scope: 'ingest',
      parameters: [collection],
      body: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: { file: { type: 'array', maxItems: 100, items: { type: 'string', contentMediaType: 'application/octet-stream' } } },
            },
          },
        },
      },
      ok: { '202': ['queued; `Location` is the run’s status url', json('IngestRunAccepted')] },
      errors: [413, 415],
    },
  },
  '/v1/collections/{name}/documents/{docId}': {
    delete: {
      summary: 'Remove one document’s chunks',
      tag: 'collections',
      scope: 'ingest',
      parameters: [collection, pathParam('docId', 'the document id (URL-encode "/" as %2F)', { type: 'string', minLength: 1, maxLength: 1024 })],
      ok: { '200': ['removed', json('Deleted')] },
    },
  },
  '/v1/collections/{name}/search': {
    post: {
      summary:
        'Search a collection: the ranked chunks a question retrieves (hybrid, vector or text), each retriever’s rank before fusion; answered in the request',
      tag: 'collections',
      scope: 'query',
      parameters: [collection],
      body: { content: json('SearchRequestDto'), required: true },
      ok: { '200': ['the ranked chunks', json('SearchResponse')] },
      errors: [409, 415],
    },
  },
  '/v1/collections/{name}/reindex': {
    post: {
      summary:
        'Rebuild the collection with the current settings (chunking, embedder) as its next version, through the workers, while questions read the version in use; then switch, and drop the old version after `grace_seconds`',
      tag: 'ingestion',
      scope: 'ingest',
      parameters: [collection],
      body: {
        required: false,
        content: { 'application/json': { schema: ref('ReindexRequest') } },
      },
      ok: { '202': ['started; `Location` is its status url; `run_url` follows its documents', json('ReindexAccepted')] },
      errors: [409, 415],
    },
    get: {
      summary: 'The version in use, the rebuild under way, and the latest rebuild with its progress',
      tag: 'ingestion',
      scope: 'ingest',
      parameters: [collection],
      ok: { '200': ['the collection’s versions', json('ReindexStatus')] },
    },
  },
  '/v1/ingest-runs/{id}': {
    get: {
      summary: 'An upload’s progress',
      tag: 'ingestion',
      scope: 'ingest',
      parameters: [pathParam('id', 'the run id', { type: 'string', format: 'uuid' })],
      ok: { '200': ['the run', json('IngestRun')] },
    },
  },
  '/v1/admin/dead-letters': {
    get: {
      summary: 'Jobs that failed for good',
      tag: 'admin',
      scope: 'admin|operator',
      parameters: [tenantParam, ...paging(500)],
      ok: { '200': ['a page of dead letters', json('DeadLetterList')] },
    },
    delete: { summary: 'Purge dead letters', tag: 'admin', scope: 'admin|operator', parameters: [tenantParam], ok: { '200': ['purged', json('Purged')] } },
  },
  '/v1/admin/dead-letters/{id}': {
    get: {
      summary: 'One dead letter: payload and every attempt',
      tag: 'admin',
      scope: 'admin|operator',
      parameters: [pathParam('id', 'the job id'), tenantParam],
      ok: { '200': ['the dead letter', json('DeadLetter')] },
    },
  },
  '/v1/admin/dead-letters/{id}/replay': {
    post: {
      summary: 'Re-run a dead letter under its original job id',
      tag: 'admin',
      scope: 'admin|operator',
      parameters: [pathParam('id', 'the job id'), tenantParam],
      ok: { '202': ['queued again', json('JobAccepted')] },
      errors: [409],
    },
  },
  '/v1/admin/workers': {
    get: { summary: 'The workers, from their heartbeats', tag: 'admin', scope: 'operator', ok: { '200': ['the workers', json('WorkerList')] } },
  },
  '/admin/queues': {
    get: {
      summary: 'The Bull dashboard (read-only; its pages and API live under this path); Basic sign-in with an operator key as password',
      tag: 'admin',
      scope: 'operator',
      ok: { '200': ['the dashboard', { 'text/html': { schema: { type: 'string' } } }] },
      errors: [405],
    },
  },
  '/chat': {
    post: {
      summary: 'The original service’s path: `?query=` or the body of POST /v1/chat',
      tag: 'seed-compat',
      scope: 'query',
      parameters: [query('query', 'the question', { type: 'string', maxLength: 4000 }), idempotencyKey],
      body: { content: json('ChatRequestDto'), required: false },
      ok: { '202': ['accepted', json('JobAccepted')] },
      errors: [422],
    },
  },
  '/job-status': {
    get: {
      summary: 'The original service’s path for GET /v1/jobs/{id}',
      tag: 'seed-compat',
      scope: 'query',
      parameters: [{ ...query('job_id', 'the job id', { type: 'string', format: 'uuid' }), required: true }],
      ok: { '200': ['the job', json('JobView')] },
    },
  },
  '/healthz': { get: { summary: 'The process is alive', tag: 'health', ok: { '200': ['alive', json('Health')] } } },
  '/readyz': {
    get: {
      summary: 'Redis and the vector store answer; `degraded` when no worker is alive',
      tag: 'health',
      ok: { '200': ['ready or degraded', json('Readiness')], '503': ['not ready', json('Readiness')] },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics',
      tag: 'health',
      ok: { '200': ['metrics in Prometheus’ text format', { 'text/plain': { schema: { type: 'string' } } }] },
    },
  },
  '/': {
    get: {
      summary: 'The chat page (HTML; its files are under /ui/); sign in with a key. Off with WEB_UI=off',
      tag: 'health',
      ok: { '200': ['the page', { 'text/html': { schema: { type: 'string' } } }] },
    },
  },
  '/openapi.json': {
    get: { summary: 'This document', tag: 'health', ok: { '200': ['the OpenAPI 3.1 document', { 'application/json': { schema: { type: 'object' } } }] } },
  },
};
