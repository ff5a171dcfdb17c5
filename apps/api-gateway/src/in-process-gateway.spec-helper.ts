import { openAuthenticator, type ApiKeyStore } from '@rag/auth';
import { loadConfig, type Config } from '@rag/config';
import { WorkerHeartbeats, openDeadLetters, openIngestQueue, openQueryQueue, withJobSigningKey } from '@rag/jobs';
import { createLogger } from '@rag/observability';
import type { IngestJobPayload, QueryJobPayload } from '@rag/queue-contracts';
import { LanceDbStore, type VectorStore } from '@rag/retrieval';
import { tempDir } from '@rag/testing';
import type Bull from 'bull';
import type { Server } from 'node:http';
import { PassThrough, type Writable } from 'node:stream';
import { createApp } from './app';
import { answerClientErrors } from './http/client-error';
import type { GatewayDeps } from './gateway-deps';
import { JobWaiter } from './job-waiter';
import { createGatewayMetrics } from './metrics';

export interface InProcessGateway {
  base: string;
  config: Config;
  queue: Bull.Queue<QueryJobPayload>;
  ingestQueue: Bull.Queue<IngestJobPayload>;
  store: VectorStore;
  keys: ApiKeyStore;
  close(): Promise<void>;
}

/**
 * The gateway's Express app in this process on 127.0.0.1, with a real Bull
 * queue on `redisUrl` and a real LanceDB store in a temp dir (or `store`).
 */
export async function startInProcessGateway(
  redisUrl: string,
  env: Record<string, string> = {},
  options: { logs?: Writable; store?: VectorStore; readiness?: GatewayDeps['readiness'] } = {},
): Promise<InProcessGateway> {
  const loaded = loadConfig({ REDIS_URL: redisUrl, ...env });
  const queue = openQueryQueue(loaded);
  const ingestQueue = openIngestQueue(loaded);
  const waiter = new JobWaiter(queue);
  await waiter.whenReady();
  // As main.ts does: the jobs it queues are signed with the key the workers share.
  const config = await withJobSigningKey(queue.client, loaded);
  const dir = options.store ? undefined : tempDir('rag-gateway-store-');
  const store = options.store ?? (await LanceDbStore.open(dir!.path));
  const auth = openAuthenticator(queue.client, config);
  const workers = new WorkerHeartbeats(queue.client, { prefix: config.QUEUE_PREFIX, staleSeconds: config.WORKER_STALE_SECONDS });
  const app = createApp({
    config,
    logger: createLogger({ service: 'api-gateway', level: 'http', stream: options.logs ?? new PassThrough() }),
    queue,
    ingestQueue,
    waiter,
    store,
    metrics: createGatewayMetrics([queue, ingestQueue], workers),
    deadLetters: openDeadLetters(queue.client, config),
    auth,
    workers,
    readiness: options.readiness ?? { redis: () => queue.client.ping() },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  answerClientErrors(server);
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    base,
    config,
    queue,
    ingestQueue,
    store,
    keys: auth.store,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([queue.close(), ingestQueue.close()]);
      if (dir) {
        await store.close();
        dir.remove();
      }
    },
  };
}
