import { DeadLetters, JobEventsWriter } from '@rag/jobs';
import { createLogger, type Logger } from '@rag/observability';
import type { QueueName } from '@rag/queue-contracts';
import { LanceDbStore, ParsePool } from '@rag/retrieval';
import { captureLogs, startRedis, startedFields, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import Bull from 'bull';
import Redis from 'ioredis';
import type { WorkerRuntime } from '../worker-runtime';
import { TEST_SIGNING } from './signed-jobs';

/** The queues' key prefix in these suites. */
const SUITE_PREFIX = 'rag';

export interface WorkerSuite {
  /** The private redis-server. */
  readonly redis: PrivateRedis;
  /** One connection shared by the suite's tests. */
  readonly client: Redis;
  /** The LanceDB store's folder. */
  readonly data: TempDir;
  readonly store: LanceDbStore;
  /** The queue under test, for the test to consume (`queue.process`) and to add jobs to. */
  readonly queue: Bull.Queue;
  readonly deadLetters: DeadLetters;
  /** Logs as JSON lines into `logs`. */
  readonly logger: Logger;
}

export interface WorkerSuiteTools {
  /** Every line the suite's logger has written so far, parsed (readable at any time). */
  readonly logs: Record<string, unknown>[];
  /** Everything the suite's logger has written so far, as written. */
  logText(): string;
  /** Documents are parsed in threads, as in the apps. */
  readonly parser: ParsePool;
  /** A connection of the test's own to the suite's Redis, closed before the server stops. */
  connect(): Redis;
  /** Opens a job's event stream, as the worker does. */
  openEvents(jobId: string): JobEventsWriter;
  /** The runtime a worker gives its runners (logger, signing key, dead letters), with `extra` on top. */
  runtime(extra?: Partial<WorkerRuntime>): WorkerRuntime;
}

/**
 * What a worker's processor runs on, for the enclosing `describe`: a private
 * redis-server, LanceDB in a temp folder, a real Bull queue named `queueName`
 * and the worker's runtime around it. Started before the suite's own
 * `beforeAll` (which declares how the queue is consumed), closed after its
 * tests. Read the started fields inside hooks and tests.
 */
export function useWorkerSuite(queueName: QueueName, dataPrefix: string): WorkerSuite & WorkerSuiteTools {
  const captured = captureLogs();
  const logger = createLogger({ service: 'rag-worker', stream: captured.stream });
  const parser = new ParsePool();
  const connections: Redis[] = [];
  let redis: PrivateRedis | undefined;
  let client: Redis | undefined;
  let data: TempDir | undefined;
  let store: LanceDbStore | undefined;
  let queue: Bull.Queue | undefined;
  let deadLetters: DeadLetters | undefined;

  const connect = () => {
    if (!redis) throw new Error('useWorkerSuite: connect inside a hook or test, once the suite has started');
    const connection = new Redis(redis.url);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    redis = await startRedis();
    client = connect();
    data = tempDir(dataPrefix);
    store = await LanceDbStore.open(data.path);
    queue = new Bull(queueName, redis.url, { prefix: SUITE_PREFIX });
    deadLetters = new DeadLetters(client, { prefix: SUITE_PREFIX, jobRetentionSeconds: 60, retentionSeconds: 3600, maxEntries: 100 });
  });
  afterAll(async () => {
    await queue?.close();
    await parser.close();
    await store?.close();
    // A second disconnect of one the test already closed would leave a handle open.
    for (const connection of connections) if (connection.status !== 'end') connection.disconnect();
    await redis?.stop();
    data?.remove();
  });

  const fields = startedFields<WorkerSuite>('useWorkerSuite', {
    redis: () => redis,
    client: () => client,
    data: () => data,
    store: () => store,
    queue: () => queue,
    deadLetters: () => deadLetters,
    logger: () => logger,
  });
  const tools: WorkerSuiteTools = {
    logs: captured.lines,
    logText: captured.text,
    parser,
    connect,
    openEvents: (jobId) => new JobEventsWriter(fields.client, jobId, { prefix: SUITE_PREFIX, retentionSeconds: 60 }),
    runtime: (extra = {}) => ({ logger, signing: TEST_SIGNING, deadLetters: fields.deadLetters, ...extra }),
  };
  return Object.assign(fields, tools);
}
