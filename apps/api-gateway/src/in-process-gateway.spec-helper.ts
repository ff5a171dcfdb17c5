import type { ApiKeyStore } from '@rag/auth';
import { loadConfig, type Config } from '@rag/config';
import { createLogger } from '@rag/observability';
import type { IngestJobPayload, QueryJobPayload } from '@rag/queue-contracts';
import { LanceDbStore, type VectorStore } from '@rag/retrieval';
import { tempDir } from '@rag/testing';
import type Bull from 'bull';
import type { Express } from 'express';
import type { Server } from 'node:http';
import { PassThrough, type Writable } from 'node:stream';
import { createApp } from './app';
import { buildGatewayDeps, type GatewayDeps } from './gateway-deps';
import { answerClientErrors } from './http/client-error';

export interface InProcessGateway {
  base: string;
  app: Express;
  config: Config;
  queue: Bull.Queue<QueryJobPayload>;
  ingestQueue: Bull.Queue<IngestJobPayload>;
  store: VectorStore;
  keys: ApiKeyStore;
  close(): Promise<void>;
}

/**
 * The gateway's Express app in this process on 127.0.0.1, wired as main.ts
 * wires it (buildGatewayDeps), with a real Bull queue on `redisUrl` and a
 * real LanceDB store in a temp dir (or `store`).
 */
export async function startInProcessGateway(
  redisUrl: string,
  env: Record<string, string> = {},
  options: { logs?: Writable; store?: VectorStore; readiness?: GatewayDeps['readiness'] } = {},
): Promise<InProcessGateway> {
  const dir = options.store ? undefined : tempDir('rag-gateway-store-');
  const deps = await buildGatewayDeps(loadConfig({ REDIS_URL: redisUrl, ...env }), {
    logger: createLogger({ service: 'api-gateway', level: 'http', stream: options.logs ?? new PassThrough() }),
    openStore: async () => options.store ?? (await LanceDbStore.open(dir!.path)),
    readiness: options.readiness ? () => options.readiness! : undefined,
  });
  const { config, queue, ingestQueue, store } = deps;
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  answerClientErrors(server);
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    base,
    app,
    config,
    queue,
    ingestQueue,
    store,
    keys: deps.auth.store,
    close: async () => {
      await deps.eventsFanout.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.eventsFanout.close();
      await Promise.all([queue.close(), ingestQueue.close(), deps.webhookQueue.close(), deps.authCache?.close()]);
      if (dir) {
        await store.close();
        dir.remove();
      }
    },
  };
}
