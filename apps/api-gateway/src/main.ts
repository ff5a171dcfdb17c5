import { isLoopbackHost, openAuthenticator } from '@rag/auth';
import { loadConfigOrExit, maskedConfig, secretValues, type Config } from '@rag/config';
import { createLogger, errorMessage, registerSecrets } from '@rag/observability';
import { WorkerHeartbeats, openDeadLetters, openIngestQueue, openQueryQueue, withJobSigningKey } from '@rag/jobs';
import { openVectorStore } from '@rag/retrieval';
import { createApp } from './app';
import { answerClientErrors } from './http/client-error';
import { JobWaiter } from './job-waiter';
import { createGatewayMetrics } from './metrics';
import { once } from 'node:events';

/** Without keys anyone who reaches the port reads every answer, so only this machine may. */
function refuseOpenBind(config: Config): never {
  process.stderr.write(
    `api-gateway: refusing to listen on ${config.HOST} with authentication off (no API key configured or stored, or AUTH=off): ` +
      `anyone who can reach it could ask questions and read answers. Either create a key ` +
      `(npm run ingest -- keys create --tenant <tenant> --scopes query) or set API_KEYS, with AUTH=auto or on; ` +
      `or set HOST=127.0.0.1 to listen on this machine only.\n`,
  );
  process.exit(1);
}

async function main(): Promise<void> {
  const loaded = loadConfigOrExit('api-gateway');
  const logger = createLogger({ service: 'api-gateway', level: loaded.LOG_LEVEL, secrets: secretValues(loaded) });
  logger.info('starting', { config: maskedConfig(loaded) });
  if (loaded.AUTH === 'off' && !isLoopbackHost(loaded.HOST)) refuseOpenBind(loaded);

  const queue = openQueryQueue(loaded, { failFast: true });
  await queue.isReady();
  queue.on('error', (error) => logger.error('queue error', { error: errorMessage(error) }));
  // Bull's isReady does not wait for the command client, which (fail-fast) refuses commands until connected.
  if (queue.client.status !== 'ready') await once(queue.client, 'ready', { signal: AbortSignal.timeout(10_000) });
  // Every job this gateway queues is signed; the workers run no other.
  const config = await withJobSigningKey(queue.client, loaded);
  // The signing key may have come from Redis just now: masked in logs like the configured secrets.
  registerSecrets([config.JOB_SIGNING_KEY]);
  const auth = openAuthenticator(queue.client, config);
  const authOn = await auth.required();
  if (!authOn && !isLoopbackHost(config.HOST)) {
    await queue.close().catch(() => undefined);
    refuseOpenBind(config);
  }
  const ingestQueue = openIngestQueue(config, { failFast: true });
  ingestQueue.on('error', (error) => logger.error('queue error', { queue: ingestQueue.name, error: errorMessage(error) }));
  const store = await openVectorStore(config);
  const waiter = new JobWaiter(queue);
  const workers = new WorkerHeartbeats(queue.client, { prefix: config.QUEUE_PREFIX, staleSeconds: config.WORKER_STALE_SECONDS });

  const app = createApp({
    config,
    logger,
    queue,
    ingestQueue,
    waiter,
    store,
    metrics: createGatewayMetrics([queue, ingestQueue], workers),
    deadLetters: openDeadLetters(queue.client, config),
    auth,
    workers,
    readiness: {
      redis: () => queue.client.ping(),
      // A reachability probe only: its answer (tenant default's collection names) is never sent to the client.
      vector_store: () => store.listCollections('default'),
    },
  });
  const server = app.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info('listening', { host: config.HOST, port, url: `http://${config.HOST}:${port}`, auth: authOn ? 'on' : 'off', seeded_keys: auth.seededCount });
    if (!authOn) {
      logger.warn(
        config.AUTH === 'off'
          ? `authentication is off (AUTH=off): listening on ${config.HOST} only, every caller is tenant "default"`
          : `authentication is off (no API key configured or stored): listening on ${config.HOST} only, every caller is tenant "default"; it turns on when the first key is created (npm run ingest -- keys create)`,
      );
    }
  });
  answerClientErrors(server);
  server.on('error', (error) => {
    logger.error('cannot listen', { error: errorMessage(error), hint: `is another process using ${config.HOST}:${config.PORT}? set PORT to a free port` });
    process.exit(1);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // Stop accepting, let requests in flight (long-polls included) finish for up to 5 s, then close the queue.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 5000).unref();
    await closed;
    clearTimeout(force);
    await Promise.all([queue, ingestQueue].map((q) => q.close().catch((error) => logger.warn('queue close failed', { queue: q.name, error: errorMessage(error) }))));
    await store.close().catch((error) => logger.warn('vector store close failed', { error: errorMessage(error) }));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`api-gateway failed to start: ${errorMessage(error)}\n`);
  process.exit(1);
});
