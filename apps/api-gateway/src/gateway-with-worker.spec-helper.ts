import { LanceDbStore, LocalHashEmbedder, ParsePool, ingestDocuments } from '@rag/retrieval';
import { startApp, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import * as path from 'node:path';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

export interface GatewayWithWorker {
  redis: PrivateRedis;
  store: LanceDbStore;
  gateway: InProcessGateway;
  worker: AppProcess;
  close(): Promise<void>;
}

/**
 * A private redis-server, `docs` loaded into `tenant`'s `collection` in
 * LanceDB (local embedder), the gateway in this process and one real
 * rag-worker process on the same Redis, prefix and data folder.
 */
export async function startGatewayWithWorker(options: {
  docs: Record<string, string>;
  tenant: string;
  collection: string;
  /** QUEUE_PREFIX, and the temp folder's name. */
  prefix: string;
  /** The gateway's own settings (API_KEYS, limits). */
  gatewayEnv: Record<string, string>;
}): Promise<GatewayWithWorker> {
  const parser = new ParsePool();
  const redis = await startRedis();
  const data: TempDir = tempDir(`rag-gw-${options.prefix}-`);
  const env = { REDIS_URL: redis.url, QUEUE_PREFIX: options.prefix, DATA_DIR: path.join(data.path, 'data'), WORKER_METRICS_PORT: '0', NODE_ENV: 'test' };
  const store = await LanceDbStore.open(path.join(data.path, 'data', 'lancedb'));
  await ingestDocuments(
    { store, embedder: new LocalHashEmbedder(), parser },
    Object.entries(options.docs).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
    { tenant: options.tenant, collection: options.collection, chunking: { size: 800, overlap: 100 } },
  );
  await parser.close();
  const gateway = await startInProcessGateway(redis.url, { ...env, ...options.gatewayEnv }, { store });
  const worker = startApp('apps/rag-worker/src/main.ts', env);
  await worker.waitForLog((l) => l.message === 'consuming', 30_000);
  return {
    redis,
    store,
    gateway,
    worker,
    close: async () => {
      await worker.stop('SIGKILL');
      await gateway.close();
      await store.close();
      await redis.stop();
      data.remove();
    },
  };
}
