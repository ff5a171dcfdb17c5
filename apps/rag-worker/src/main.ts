import { APP_VERSION, loadConfigOrExit, maskedConfig, openRedis, secretValues } from '@rag/config';
import { createAnswerer, createQueryCondenser, llmResilienceFromConfig } from '@rag/llm-client';
import { createLogger, errorMessage, registerSecrets, shutdownTracing, startTracing } from '@rag/observability';
import {
  CancelSignals,
  CollectionVersions,
  DocumentLocks,
  IngestRuns,
  jobEventsOpener,
  WorkerHeartbeats,
  openDeadLetters,
  openIngestQueue,
  openQueryQueue,
  openWebhookQueue,
  QueryJobs,
  WebhookDeliveries,
  WebhookRecords,
  withJobSigningKey,
  withWebhookSigningSecret,
} from '@rag/jobs';
import { JobName, QueueName } from '@rag/queue-contracts';
import {
  HttpReranker,
  VersionedVectorStore,
  chunkingFromConfig,
  createEmbedder,
  createReranker,
  guardVectorStore,
  openVectorStore,
  parsePoolFromConfig,
} from '@rag/retrieval';
import { hostname } from 'node:os';
import { dropVersionProcessor } from './drop-version.processor';
import { ingestRunner } from './ingest.processor';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics';
import { queryRunner } from './query.processor';
import type { WorkerRuntime } from './worker-runtime';

async function main(): Promise<void> {
  const loaded = loadConfigOrExit('rag-worker');
  const logger = createLogger({ service: 'rag-worker', level: loaded.LOG_LEVEL, defaultMeta: { pid: process.pid }, secrets: secretValues(loaded) });
  logger.info('starting', { config: maskedConfig(loaded) });
  // Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise the SDK is not loaded.
  if (startTracing(loaded, 'rag-worker', APP_VERSION)) logger.info('tracing on', { otlp_endpoint: maskedConfig(loaded).OTEL_EXPORTER_OTLP_ENDPOINT });

  const breakerOptions = { failures: loaded.BREAKER_FAILURES, halfOpenAfterMs: loaded.BREAKER_HALF_OPEN_MS };
  const guarded = guardVectorStore(await openVectorStore(loaded), breakerOptions);
  const queue = openQueryQueue(loaded);
  queue.on('error', (error) => logger.error('queue error', { error: errorMessage(error) }));
  // Consume only once Redis answers, so a bad REDIS_URL fails loudly instead of idling.
  await queue.isReady();
  // Jobs are run only when signed by our producers (the gateway, the CLI, a replay).
  const config = await withWebhookSigningSecret(queue.client, await withJobSigningKey(queue.client, loaded));
  // The signing key and webhook secret may have come from Redis just now: masked in logs like the configured secrets.
  registerSecrets([config.JOB_SIGNING_KEY, config.WEBHOOK_SIGNING_SECRET]);
  const redis = openRedis(config);
  const subscriber = openRedis(config);
  for (const connection of [redis, subscriber]) connection.on('error', (error) => logger.error('redis connection error', { error: errorMessage(error) }));
  // One set of breakers and one shared budget for every call this worker makes to the LLM provider.
  const resilience = llmResilienceFromConfig(config, { redis, prefix: config.QUEUE_PREFIX });
  // RERANKER=http: behind its own breaker; when it fails, answers go ahead in fused order (logged, counted).
  const reranker = createReranker(config);
  // Documents on their own queue with their own concurrency, so bulk loads never hold up questions.
  const ingestQueue = config.INGEST_CONCURRENCY > 0 ? openIngestQueue(config) : undefined;
  // Every collection at the version in use (recorded in Redis); a reindex's switch drops the old one later, on the ingest queue.
  const versions = new CollectionVersions(
    redis,
    config.QUEUE_PREFIX,
    config.JOB_RETENTION_SECONDS,
    ingestQueue ? { queue: ingestQueue, signing: config } : undefined,
  );
  const store = new VersionedVectorStore(guarded, versions);
  const deps = {
    store,
    embedder: createEmbedder(config, { resilience }),
    answerer: createAnswerer(config, { resilience }),
    condenser: createQueryCondenser(config, { resilience }),
    historyMaxTokens: config.CHAT_HISTORY_MAX_TOKENS,
    reranker,
    rerankCandidates: config.RERANK_CANDIDATES,
  };
  const breakers = [guarded.breaker, resilience.breakers.chat, resilience.breakers.embeddings, ...(reranker instanceof HttpReranker ? [reranker.breaker] : [])];
  for (const breaker of breakers) {
    breaker.onStateChange((state, name) => logger.warn('circuit breaker changed state', { dependency: name, state }));
  }
  const metrics = createWorkerMetrics(breakers, resilience);
  const metricsServer = serveWorkerMetrics(metrics, config.WORKER_METRICS_PORT, config.WORKER_METRICS_HOST, () => redis.ping(), logger);
  const cancels = new CancelSignals(subscriber, redis, config.QUEUE_PREFIX);
  await cancels.start();
  const deadLetters = openDeadLetters(redis, config);
  // Announce this worker before it takes a job, so every job it runs is counted in its heartbeat.
  const heartbeat = await new WorkerHeartbeats(redis, { prefix: config.QUEUE_PREFIX, staleSeconds: config.WORKER_STALE_SECONDS }).start({
    host: hostname(),
    pid: process.pid,
    version: APP_VERSION,
    queues: [
      { name: QueueName.Query, concurrency: config.WORKER_CONCURRENCY },
      ...(config.INGEST_CONCURRENCY > 0 ? [{ name: QueueName.Ingest, concurrency: config.INGEST_CONCURRENCY }] : []),
    ],
  });
  heartbeat.onBeatError((error) => logger.warn('heartbeat not written; the next one tries again', { error: errorMessage(error) }));
  const openEvents = jobEventsOpener(redis, config);
  // Every attempt fails with JobTimeoutError (and is retried) after JOB_TIMEOUT_MS.
  const runtime: WorkerRuntime = { logger, signing: config, cancels, deadLetters, openEvents, timeoutMs: config.JOB_TIMEOUT_MS, metrics };
  const questions = queryRunner(deps, runtime);
  void queue.process(JobName.Answer, config.WORKER_CONCURRENCY, heartbeat.track(QueueName.Query, questions.process));
  queue.on('failed', questions.stalledOut);
  // Webhooks: queued once a question is final, delivered (signed, retried) from their own queue.
  const webhookQueue = openWebhookQueue(config);
  webhookQueue.on('error', (error) => logger.error('queue error', { queue: QueueName.Webhooks, error: errorMessage(error) }));
  const webhooks = new WebhookDeliveries(
    webhookQueue,
    new WebhookRecords(redis, { prefix: config.QUEUE_PREFIX, retentionSeconds: config.JOB_RETENTION_SECONDS }),
    config,
  );
  const queueWebhook = (job: Parameters<typeof webhooks.jobFinished>[0]) =>
    void webhooks.jobFinished(job).catch((error: unknown) => logger.error('webhook not queued', { job_id: String(job?.id), error: errorMessage(error) }));
  queue.on('completed', queueWebhook);
  queue.on('failed', queueWebhook);
  void webhookQueue.process(JobName.DeliverWebhook, config.WORKER_CONCURRENCY, webhooks.processor(new QueryJobs(queue, config, deadLetters), logger));
  // Parsers run in threads with a time and memory budget, never on this event loop (questions, Bull's locks).
  const parser = parsePoolFromConfig(config, (docId, detail) => logger.warn('parser error', { doc_id: docId, error: detail }));
  if (ingestQueue) {
    ingestQueue.on('error', (error) => logger.error('queue error', { queue: QueueName.Ingest, error: errorMessage(error) }));
    await ingestQueue.isReady();
    const runs = new IngestRuns(redis, config.QUEUE_PREFIX, config.JOB_RETENTION_SECONDS);
    const ingestDeps = {
      store,
      embedder: deps.embedder,
      parser,
      runs,
      locks: new DocumentLocks(redis, config.QUEUE_PREFIX),
      chunking: chunkingFromConfig(config),
      embedBatch: config.EMBEDDING_BATCH,
      // Reindex: documents read from one version and written to the next, under the versions.
      rebuild: { store: guarded, registry: versions, failures: async (runId: string) => (await runs.get(runId))?.failures ?? [] },
    };
    // No cancels or events for documents: a run is followed through its counts.
    const documents = ingestRunner(ingestDeps, { ...runtime, cancels: undefined, openEvents: undefined });
    void ingestQueue.process(JobName.IngestDocument, config.INGEST_CONCURRENCY, heartbeat.track(QueueName.Ingest, documents.process));
    ingestQueue.on('failed', documents.stalledOut);
    // Concurrency 0: no slots of its own (Bull adds named processors' slots up); the ingest slots above run these jobs too, so INGEST_CONCURRENCY stays the bound.
    void ingestQueue.process(JobName.DropCollectionVersion, 0, dropVersionProcessor({ store: guarded, versions, signing: config, logger }));
  }
  logger.info('consuming', {
    queue: QueueName.Query,
    concurrency: config.WORKER_CONCURRENCY,
    ingest_concurrency: config.INGEST_CONCURRENCY,
    worker_id: heartbeat.id,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down: finishing active jobs', { signal });
    // Bull's close stops taking new jobs and waits for the active ones.
    await Promise.all(
      [queue, ingestQueue, webhookQueue].map((q) =>
        q?.close().catch((error) => logger.warn('queue close failed', { queue: q.name, error: errorMessage(error) })),
      ),
    );
    // Off the list only once its jobs are done: until then it is still a worker.
    await heartbeat.stop().catch((error) => logger.warn('heartbeat not removed; it expires on its own', { error: errorMessage(error) }));
    await parser.close().catch((error: unknown) => logger.warn('parse threads close failed', { error: errorMessage(error) }));
    metricsServer.close();
    redis.disconnect();
    subscriber.disconnect();
    await store.close();
    // The spans still buffered are exported before the process goes.
    await shutdownTracing().catch((error) => logger.warn('traces not exported', { error: errorMessage(error) }));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`rag-worker failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
