import { openRedis, type Config, type RedisSettings } from '@rag/config';
import { QueueName, type IngestJobPayload, type QueryJobPayload, type WebhookJobPayload } from '@rag/queue-contracts';
import Bull, { type JobOptions, type Queue } from 'bull';
import { createHash } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { JITTER_BACKOFF, jitteredDelay } from './backoff';

/** Which Redis (one server, a Cluster or Sentinel) and the prefix of every key. */
export type QueueSettings = RedisSettings & Pick<Config, 'QUEUE_PREFIX'>;

export interface QueueOpenOptions {
  /**
   * Commands fail at once while Redis is unreachable instead of waiting in
   * the client's offline queue: an API answers 503 now rather than hanging,
   * and no command sent during an outage runs after its caller gave up.
   */
  failFast?: boolean;
  /**
   * The command connection sends what its callers issue in one event-loop turn
   * as one write (ioredis's enableAutoPipelining): a gateway accepting many
   * questions at once pays one socket write, not one per question. Replies
   * and errors stay per command. Not for connections that block.
   */
  autoPipelining?: boolean;
}

/**
 * A job whose worker dies under it more than this many times is failed as a
 * poison pill ("job stalled more than allowable limit") instead of being
 * handed to yet another worker.
 */
export const MAX_STALLED_COUNT = 3;

/** Bull's error for a job failed by its stalled-job check rather than by a processor. */
export const STALLED_OUT = 'job stalled more than allowable limit';
/** The code of such a failure, in dead letters, ingest runs and job views. */
export const WORKER_LOST = 'worker_lost';

/**
 * The `rag-query` queue as every process opens it: same prefix, same retry
 * strategy, same stalled-job check (a crashed worker's jobs return to the
 * queue after `stalledInterval`).
 */
export function openQueryQueue(config: QueueSettings, options: QueueOpenOptions = {}): Queue<QueryJobPayload> {
  return openQueue<QueryJobPayload>(QueueName.Query, config, options);
}

/** The `rag-ingest` queue: bulk document loading, consumed beside questions with its own concurrency. */
export function openIngestQueue(config: QueueSettings, options: QueueOpenOptions = {}): Queue<IngestJobPayload> {
  return openQueue<IngestJobPayload>(QueueName.Ingest, config, options);
}

function openQueue<T>(name: string, config: QueueSettings, options: QueueOpenOptions): Queue<T> {
  // Bull does not close connections it did not make: they are handed to it in its own list.
  const clients: Redis[] = [];
  const queue = new Bull<T>(name, {
    prefix: config.QUEUE_PREFIX,
    // Every connection from openRedis, so a Cluster or Sentinel is used as REDIS_URL would be.
    createClient: (type: 'client' | 'subscriber' | 'bclient', redisOpts?: RedisOptions) => {
      const client = openRedis(config, {
        ...connectionOptions(type, options),
        ...(redisOpts?.retryStrategy ? { retryStrategy: redisOpts.retryStrategy } : {}),
      });
      clients.push(client);
      return client;
    },
    settings: {
      backoffStrategies: {
        [JITTER_BACKOFF]: (attemptsMade: number, _error: unknown, options?: { delay?: number }) => jitteredDelay(attemptsMade, options?.delay ?? 1000),
      },
      // A crashed worker's lock lapses after 15 s; the check every 5 s then returns its jobs to the queue.
      lockDuration: 15000,
      lockRenewTime: 5000,
      stalledInterval: 5000,
      maxStalledCount: MAX_STALLED_COUNT,
    },
  });
  clients.push(...queue.clients);
  queue.clients = clients;
  return queue;
}

/** Bull's own options for its three connections (its blocking and subscriber ones wait for ever), and fail-fast commands. */
function connectionOptions(type: 'client' | 'subscriber' | 'bclient', options: QueueOpenOptions): RedisOptions {
  if (type !== 'client') return { maxRetriesPerRequest: null, enableReadyCheck: false };
  const batching = options.autoPipelining ? { enableAutoPipelining: true } : {};
  return options.failFast
    ? { enableReadyCheck: false, enableOfflineQueue: false, maxRetriesPerRequest: 1, ...batching }
    : { enableReadyCheck: false, ...batching };
}

/** Attempts, backoff and bounded retention for a question job (the attempt's timeout is the worker's: JobRunner fails it with JobTimeoutError). */
export function queryJobOptions(config: Pick<Config, 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS' | 'JOB_RETENTION_SECONDS'>, jobId: string): JobOptions {
  return retriedJobOptions(jobId, config.JOB_ATTEMPTS, config.JOB_BACKOFF_MS, config.JOB_RETENTION_SECONDS);
}

/** A job with its id, `attempts` with jittered exponential backoff from `backoffMs`, kept `retentionSeconds` whatever its end. */
function retriedJobOptions(jobId: string, attempts: number, backoffMs: number, retentionSeconds: number): JobOptions {
  return {
    jobId,
    attempts,
    backoff: { type: JITTER_BACKOFF, options: { delay: backoffMs } },
    removeOnComplete: { age: retentionSeconds },
    removeOnFail: { age: retentionSeconds },
  };
}

/**
 * Attempts, backoff and bounded retention for a document job. The
 * same values as a question's, on purpose: a document fails for the same
 * passing reasons (embeddings API, vector store, a lost lock) and is retried
 * as often; its job record holds only a reference to the bytes and is kept
 * as long as its ingest run. Its own function so the two can part.
 */
export function ingestJobOptions(config: Pick<Config, 'JOB_ATTEMPTS' | 'JOB_BACKOFF_MS' | 'JOB_RETENTION_SECONDS'>, jobId: string): JobOptions {
  return queryJobOptions(config, jobId);
}

/** One job per document and run: queueing the same document twice in a run makes one job. */
export function ingestJobId(runId: string, docId: string): string {
  return createHash('sha256').update(`${runId}\n${docId}`).digest('hex').slice(0, 32);
}

/** The `rag-webhooks` queue: signed deliveries of finished jobs' records, retried with backoff. */
export function openWebhookQueue(config: QueueSettings, options: QueueOpenOptions = {}): Queue<WebhookJobPayload> {
  return openQueue<WebhookJobPayload>(QueueName.Webhooks, config, options);
}

/** One delivery per job (its id is the job's), WEBHOOK_ATTEMPTS attempts with backoff, kept as long as the job. */
export function webhookJobOptions(config: Pick<Config, 'WEBHOOK_ATTEMPTS' | 'WEBHOOK_BACKOFF_MS' | 'JOB_RETENTION_SECONDS'>, jobId: string): JobOptions {
  return retriedJobOptions(jobId, config.WEBHOOK_ATTEMPTS, config.WEBHOOK_BACKOFF_MS, config.JOB_RETENTION_SECONDS);
}
