import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { NAME_PATTERN, nameRuleMessage } from '@rag/queue-contracts';

/** Node timers overflow (and fire at once) above 2^31-1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** 1-32 name characters, of which some may be wrapped in one pair of braces: the Redis Cluster hash tag. */
const QUEUE_PREFIX_PATTERN = /^(?=[^{}]{1,32}$|(?=.*\{).{3,34}$)[A-Za-z0-9_-]*(\{[A-Za-z0-9_-]+\}[A-Za-z0-9_-]*)?$/;

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value);

/** An integer setting read from a string, within [min, max]. */
function IntSetting(min: number, max?: number): PropertyDecorator {
  const decorators = [Transform(toInt), IsInt(), Min(min), ...(max === undefined ? [] : [Max(max)])];
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}

/** A duration in ms of at least `min`, and at most what a timer can wait. */
const Milliseconds = (min: number) => IntSetting(min, MAX_TIMER_MS);

// The settings that take one of a few words: each list checks the value and gives its type.
export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'debug'] as const;
export const AUTH_MODES = ['auto', 'on', 'off'] as const;
export const VECTOR_STORES = ['lancedb', 'qdrant'] as const;
export const EMBEDDING_BACKENDS = ['local', 'openai'] as const;
export const LLM_BACKENDS = ['extractive', 'openai'] as const;
export const ON_OFF = ['on', 'off'] as const;
export const RERANKER_BACKENDS = ['none', 'local', 'http'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type AuthMode = (typeof AUTH_MODES)[number];
export type VectorStoreBackend = (typeof VECTOR_STORES)[number];
export type EmbeddingBackend = (typeof EMBEDDING_BACKENDS)[number];
export type LlmBackend = (typeof LLM_BACKENDS)[number];
export type OnOff = (typeof ON_OFF)[number];
export type RerankerBackend = (typeof RERANKER_BACKENDS)[number];

/**
 * Every setting the apps read, with its default. Environment variables are
 * validated against this once at start-up; nothing else reads process.env.
 * Keep `.env.example` in step with this class.
 */
export class EnvSchema {
  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'development';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /**
   * Traces: an OTLP/HTTP collector's base URL (spans are POSTed as JSON to
   * `<url>/v1/traces`), e.g. http://localhost:4318. Empty = tracing off, and
   * the OpenTelemetry SDK is not even loaded.
   */
  @ValidateIf((o: EnvSchema) => o.OTEL_EXPORTER_OTLP_ENDPOINT !== '')
  @Matches(/^https?:\/\/\S+$/, { message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://localhost:4318 (or empty: no traces)' })
  OTEL_EXPORTER_OTLP_ENDPOINT = '';

  /** The service name spans are exported under; empty = `rag-api-gateway` or `rag-worker`. */
  @ValidateIf((o: EnvSchema) => o.OTEL_SERVICE_NAME !== '')
  @Matches(/^[\x21-\x7E]{1,128}$/, { message: 'OTEL_SERVICE_NAME must be 1-128 visible ASCII characters' })
  OTEL_SERVICE_NAME = '';

  /** Gateway listen port. */
  @IntSetting(0, 65535)
  PORT = 3000;

  /** Gateway listen address. */
  @IsString()
  @MinLength(1)
  HOST = '127.0.0.1';

  /**
   * API keys: `auto` requires a key as soon as one is configured (API_KEYS) or
   * stored in Redis (rag-ingest keys create) and then until restart; `on`
   * always; `off` never (and then the gateway only listens on loopback).
   */
  @IsIn(AUTH_MODES)
  AUTH: AuthMode = 'auto';

  /**
   * Keys seeded from configuration: comma-separated `tenant:scope+scope:key`
   * entries, e.g. `acme:query+ingest:<key>`; scopes query, ingest, admin (within
   * the key's tenant) and operator (global); a key is 20-256 characters of
   * A-Z, a-z, 0-9, "_" or "-". Hashed in memory, never logged.
   */
  @IsString()
  API_KEYS = '';

  /**
   * The gateway keeps stored keys it has verified (and whether any key is
   * stored) in memory, emptied by Redis the moment any key changes (client-side
   * caching, CLIENT TRACKING) and whenever its connection to Redis drops; this
   * bounds how long an entry is kept even so. 0: no cache, two Redis reads per
   * request with a stored key. Not used on a Redis Cluster (no cache there).
   */
  @IntSetting(0, 3600000)
  AUTH_CACHE_MS = 60000;

  /**
   * Signs every queued job (its queue, tenant and payload) so workers run
   * only jobs our own producers queued. At least 32 characters, the same in
   * every process; empty = a random key generated once and kept in Redis.
   */
  @IsString()
  @ValidateIf((o: EnvSchema) => o.JOB_SIGNING_KEY !== '')
  @MinLength(32, { message: 'JOB_SIGNING_KEY must be at least 32 characters (or empty: a key generated and kept in Redis)' })
  JOB_SIGNING_KEY = '';

  /** Browser origins allowed by CORS, comma-separated (e.g. https://app.example.com); empty = CORS off. */
  @IsString()
  CORS_ORIGINS = '';

  /** The chat page at `/` (static files, no data; everything it shows comes from the API with the user's key); off = `/` is a 404. */
  @IsIn(ON_OFF)
  WEB_UI: OnOff = 'on';

  /** Requests per minute per API key (per client IP when auth is off), kept in Redis; 0 = no limit. */
  @IntSetting(0, 1000000)
  RATE_LIMIT_PER_MINUTE = 0;

  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * A Redis Cluster instead of one Redis: some of its nodes as comma-separated
   * `host:port` (the rest are discovered). Needs a hash tag in QUEUE_PREFIX.
   * REDIS_URL then gives only the password and TLS (rediss://).
   */
  @IsString()
  REDIS_CLUSTER_NODES = '';

  /**
   * Sentinel-managed failover instead of one Redis: the sentinels as
   * comma-separated `host:port`, watching the master named REDIS_SENTINEL_NAME.
   * REDIS_URL then gives only the password and TLS (rediss://).
   */
  @IsString()
  REDIS_SENTINELS = '';

  /** The master the sentinels watch (their `sentinel monitor <name> ...`); required with REDIS_SENTINELS. */
  @IsString()
  REDIS_SENTINEL_NAME = '';

  /**
   * Prefix of every key in Redis; lets several deployments share one Redis.
   * On a Redis Cluster it holds a hash tag, e.g. `{rag}`, so that every key
   * lands in one hash slot (Bull's and our scripts touch many keys at once).
   */
  @Matches(QUEUE_PREFIX_PATTERN, {
    message: 'QUEUE_PREFIX must be 1-32 characters of A-Z, a-z, 0-9, "_" or "-", with at most one hash tag in braces such as {rag}',
  })
  QUEUE_PREFIX = 'rag';

  /** Local state: LanceDB tables, the dev Redis's files. */
  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @IsIn(VECTOR_STORES)
  VECTOR_STORE: VectorStoreBackend = 'lancedb';

  /** Qdrant's REST URL, e.g. http://localhost:6333; required when VECTOR_STORE=qdrant. */
  @ValidateIf((o: EnvSchema) => o.QDRANT_URL !== '' || o.VECTOR_STORE === 'qdrant')
  @Matches(/^https?:\/\/\S+$/, { message: 'QDRANT_URL must be an http(s) URL such as http://localhost:6333 (required when VECTOR_STORE=qdrant)' })
  QDRANT_URL = '';

  @IsString()
  QDRANT_API_KEY = '';

  @Milliseconds(100)
  QDRANT_TIMEOUT_MS = 10000;

  @IsIn(EMBEDDING_BACKENDS)
  EMBEDDINGS: EmbeddingBackend = 'local';

  /** Embeddings model for EMBEDDINGS=openai. */
  @IsString()
  @MinLength(1)
  EMBEDDING_MODEL = 'text-embedding-3-small';

  /** Texts per embeddings request. */
  @IntSetting(1, 2048)
  EMBEDDING_BATCH = 64;

  /**
   * Dimension of the vectors. 0 (the default): the local embedder's 2048, or
   * for EMBEDDINGS=openai the model's own size (known for well-known models,
   * else read from the API's first answer). Set, it must equal the model's
   * (checked on every call). Recorded with each collection; changing it
   * requires rebuilding collections (rag-ingest reindex).
   */
  @ValidateIf((env: { EMBEDDING_DIM?: unknown }) => env.EMBEDDING_DIM !== 0)
  @IntSetting(32, 4096)
  EMBEDDING_DIM = 0;

  @IsIn(LLM_BACKENDS)
  LLM: LlmBackend = 'extractive';

  /** Chat model for LLM=openai. */
  @IsString()
  @MinLength(1)
  CHAT_MODEL = 'gpt-4o-mini';

  @IntSetting(16, 32768)
  LLM_MAX_TOKENS = 800;

  /**
   * Estimated tokens of conversation history (`messages`) a question carries
   * into retrieval and the prompt; the oldest turns are dropped first. 0 = history is ignored.
   */
  @IntSetting(0, 32768)
  CHAT_HISTORY_MAX_TOKENS = 2000;

  /** Any OpenAI-compatible API: OpenAI, Ollama (http://localhost:11434/v1), vLLM, TEI. */
  @Matches(/^https?:\/\/\S+$/, { message: 'OPENAI_BASE_URL must be an http(s) URL such as https://api.openai.com/v1' })
  OPENAI_BASE_URL = 'https://api.openai.com/v1';

  @IsString()
  OPENAI_API_KEY = '';

  /** Timeout of one embeddings or chat request. */
  @Milliseconds(100)
  LLM_TIMEOUT_MS = 60000;

  /**
   * A reranker that reorders the fused candidates before the top k are kept:
   * `none`; `local`, in process with no model (the query's rare words, their
   * proximity and the title/heading path, blended with the fused rank); or
   * `http`, any server speaking the common rerank protocol
   * (`POST {RERANKER_URL}/rerank`: Text Embeddings Inference, Jina- or
   * Cohere-compatible servers). When it fails, answers go ahead in fused order.
   */
  @IsIn(RERANKER_BACKENDS)
  RERANKER: RerankerBackend = 'none';

  /** The rerank server's base URL, without `/rerank` (e.g. http://localhost:8080 for TEI, https://api.jina.ai/v1); required when RERANKER=http. */
  @ValidateIf((o: EnvSchema) => o.RERANKER_URL !== '' || o.RERANKER === 'http')
  @Matches(/^https?:\/\/\S+$/, { message: 'RERANKER_URL must be an http(s) URL such as http://localhost:8080 (required when RERANKER=http)' })
  RERANKER_URL = '';

  /** Model sent with each rerank request (Jina and Cohere need one; TEI serves one and ignores it); empty = none sent. */
  @IsString()
  RERANKER_MODEL = '';

  /** Sent as `Authorization: Bearer <key>` when set; never logged. */
  @IsString()
  RERANKER_API_KEY = '';

  /** One rerank request at most this long; then the answer goes ahead in fused order. */
  @Milliseconds(100)
  RERANKER_TIMEOUT_MS = 5000;

  /** Fused candidates sent to the reranker (at least top_k are); the final top_k are taken from its order. */
  @IntSetting(1, 500)
  RERANK_CANDIDATES = 30;

  @Matches(NAME_PATTERN, { message: nameRuleMessage('DEFAULT_COLLECTION') })
  DEFAULT_COLLECTION = 'default';

  @IntSetting(1, 50)
  DEFAULT_TOP_K = 5;

  /** The worker's side port for /metrics, /healthz and /readyz; 0 = any free port (logged). */
  @IntSetting(0, 65535)
  WORKER_METRICS_PORT = 9464;

  /** Where the worker's side port listens; 0.0.0.0 in a container so Prometheus and probes reach it. */
  @IsString()
  @MinLength(1)
  WORKER_METRICS_HOST = '127.0.0.1';

  /** Jobs one worker process runs at once. */
  @IntSetting(1, 256)
  WORKER_CONCURRENCY = 4;

  /**
   * A worker whose heartbeat (written every few seconds) is older than this
   * counts as gone: listed as stale, not counted in rag_workers, and with
   * none left the gateway's /readyz says `degraded`.
   */
  @IntSetting(5, 3600)
  WORKER_STALE_SECONDS = 30;

  /** Ingest jobs (one document each) one worker runs at once, beside its questions; 0 = this worker takes no ingest jobs. */
  @IntSetting(0, 64)
  INGEST_CONCURRENCY = 1;

  /** Largest document accepted for queued ingestion (CLI --via-queue, uploads). */
  @IntSetting(1024, 1073741824)
  INGEST_MAX_DOCUMENT_BYTES = 52428800;

  /** Largest upload: the bytes of all files of one POST /v1/collections/:name/documents together (413 above). */
  @IntSetting(1024, 17179869184)
  INGEST_MAX_UPLOAD_BYTES = 104857600;

  /**
   * Bytes of one tenant's queued documents that may wait in Redis for a worker
   * (uploads and CLI --via-queue); an upload above it answers 429
   * tenant_ingest_backlog, the CLI waits for the workers. Size Redis for this times the tenants.
   */
  @IntSetting(1024, 17179869184)
  INGEST_MAX_PENDING_BYTES_PER_TENANT = 268435456;
  /** Threads per process that parse and chunk documents (off the event loop, so a hostile file cannot stall the process). */
  @IntSetting(1, 64)
  INGEST_PARSE_THREADS = 1;

  /** Time one document may take to parse and chunk; over it the thread is stopped and the document fails for good. */
  @Milliseconds(100)
  INGEST_PARSE_TIMEOUT_MS = 60000;

  /** Heap of one parse thread, in MB; a document that needs more fails for good. */
  @IntSetting(64, 65536)
  INGEST_PARSE_MAX_MB = 512;

  /** A DOCX whose archive unpacks to more than this many MB is refused before it is read (zip bombs). */
  @IntSetting(1, 65536)
  INGEST_DOCX_MAX_UNCOMPRESSED_MB = 200;

  @IntSetting(1, 20)
  JOB_ATTEMPTS = 3;

  /** First retry delay; later ones double. */
  @Milliseconds(0)
  JOB_BACKOFF_MS = 1000;

  @Milliseconds(1000)
  JOB_TIMEOUT_MS = 120000;

  /** How long finished job records (and their results) are kept. */
  @IntSetting(60, 30 * 86400)
  JOB_RETENTION_SECONDS = 86400;

  /**
   * Signs every webhook delivery (X-Rag-Signature, HMAC-SHA256); receivers
   * verify with it. At least 32 characters, the same in every worker; empty =
   * a random secret generated once and kept in Redis (read it there to share it).
   */
  @IsString()
  @ValidateIf((o: EnvSchema) => o.WEBHOOK_SIGNING_SECRET !== '')
  @MinLength(32, { message: 'WEBHOOK_SIGNING_SECRET must be at least 32 characters (or empty: a secret generated and kept in Redis)' })
  WEBHOOK_SIGNING_SECRET = '';

  /** Delivery attempts of one webhook (network errors, 5xx, 408 and 429 are retried with backoff). */
  @IntSetting(1, 20)
  WEBHOOK_ATTEMPTS = 5;

  /** First retry delay of a webhook; later ones double. */
  @Milliseconds(0)
  WEBHOOK_BACKOFF_MS = 2000;

  /** One delivery attempt, connection to response, at most this long. */
  @Milliseconds(100)
  WEBHOOK_TIMEOUT_MS = 10000;

  /**
   * Webhook targets allowed although the SSRF rules forbid them (loopback,
   * private, link-local...): comma-separated hostnames (that exact host,
   * whatever it resolves to), IP addresses and CIDR ranges (a URL naming an
   * address in them literally). Empty = public addresses only.
   */
  @IsString()
  WEBHOOK_ALLOWED_HOSTS = '';

  /** Backpressure: above this many waiting questions, POST /v1/chat answers 503 with Retry-After. */
  @IntSetting(1)
  MAX_WAITING_JOBS = 10000;

  /** Fairness: above this many of one tenant's questions waiting, its POST /v1/chat answers 429 with Retry-After. */
  @IntSetting(1)
  MAX_WAITING_JOBS_PER_TENANT = 2000;

  /**
   * Fair share: each question is queued by its tenant's place in line (start-time fair queuing on Bull priorities),
   * so one tenant's backlog does not hold back another's questions; off = first in, first out across tenants.
   */
  @IsIn(ON_OFF)
  FAIR_SHARE: OnOff = 'on';

  /** Requests per minute to the OpenAI-compatible API, shared by all workers through Redis (0 = no limit). */
  @IntSetting(0)
  LLM_RPM = 0;

  /** Tokens per minute to the OpenAI-compatible API, shared by all workers (0 = no limit). */
  @IntSetting(0)
  LLM_TPM = 0;

  /** Consecutive failures that open a circuit breaker (LLM, embeddings, vector store). */
  @IntSetting(1, 1000)
  BREAKER_FAILURES = 5;

  /** How long an open breaker waits before letting one trial call through. */
  @Milliseconds(100)
  BREAKER_HALF_OPEN_MS = 10000;

  /** How long dead letters (jobs that failed for good) are kept for inspection and replay. */
  @IntSetting(60, 365 * 86400)
  DEAD_LETTER_RETENTION_SECONDS = 604800;

  @IntSetting(1, 1000000)
  DEAD_LETTER_MAX = 10000;

  /** Upper bound of `?wait=N` on job reads. */
  @IntSetting(0, 300)
  MAX_WAIT_SECONDS = 30;

  /** How long a non-streaming `POST /v1/chat/completions` waits for its job (never longer than MAX_WAIT_SECONDS); then 504 with the job id to poll. */
  @IntSetting(1, 300)
  OPENAI_COMPAT_WAIT_SECONDS = 30;

  /**
   * Long-polls (`GET /v1/jobs/:id?wait=N`) one API key (one client address with
   * auth off) may hold open at once, over all gateways; beyond it, 429 with
   * Retry-After. 0 = no limit. (Not `..._PER_KEY`: names ending in `_KEY` are masked as secrets.)
   */
  @IntSetting(0, 100000)
  MAX_LONG_POLLS_PER_CLIENT = 10;

  /** How often an event stream (`GET /v1/jobs/:id/events`) sends a `: keep-alive` comment and re-checks its job. */
  @IntSetting(50, 300000)
  SSE_HEARTBEAT_MS = 15000;

  /** Event streams one gateway serves at once (its one Redis reader's subscribers); beyond it, 503 with Retry-After. */
  @IntSetting(1, 1000000)
  SSE_MAX_CLIENTS = 2000;

  /** Largest accepted JSON body. */
  @IntSetting(1024, 10485760)
  MAX_BODY_BYTES = 65536;

  /** Largest chunk, in tokens (o200k_base, as GPT-4o counts). */
  @IntSetting(32, 8192)
  CHUNK_SIZE = 300;

  /** Tokens of whole sentences repeated from the previous chunk of the same section. */
  @IntSetting(0, 2048)
  CHUNK_OVERLAP = 50;
}
