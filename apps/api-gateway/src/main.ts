import { loadConfigOrExit, maskedConfig } from '@rag/config';
import { createLogger, errorMessage } from '@rag/observability';
import { openDeadLetters, openQueryQueue } from '@rag/jobs';
import { openVectorStore } from '@rag/retrieval';
import { createApp } from './app';
import { JobWaiter } from './job-waiter';

async function main(): Promise<void> {
  const config = loadConfigOrExit('api-gateway');
  const logger = createLogger({ service: 'api-gateway', level: config.LOG_LEVEL });
  logger.info('starting', { config: maskedConfig(config) });

  const queue = openQueryQueue(config, { failFast: true });
  await queue.isReady();
  queue.on('error', (error) => logger.error('queue error', { error: errorMessage(error) }));
  const store = await openVectorStore(config);
  const waiter = new JobWaiter(queue);

  const app = createApp({
    config,
    logger,
    queue,
    waiter,
    deadLetters: openDeadLetters(queue.client, config),
    readiness: {
      redis: () => queue.client.ping(),
      vector_store: () => store.listCollections(),
    },
  });
  const server = app.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info('listening', { host: config.HOST, port, url: `http://${config.HOST}:${port}` });
  });
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
    await queue.close().catch((error) => logger.warn('queue close failed', { error: errorMessage(error) }));
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
