import { isLoopbackHost } from '@rag/auth';
import { APP_VERSION, loadConfigOrExit, maskedConfig, secretValues, type Config } from '@rag/config';
import { createLogger, errorMessage, shutdownTracing, startTracing } from '@rag/observability';
import { openVectorStore } from '@rag/retrieval';
import { createApp } from './app';
import { buildGatewayDeps } from './gateway-deps';
import { answerClientErrors } from './http/client-error';

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
  // Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise the SDK is not loaded.
  if (startTracing(loaded, 'rag-api-gateway', APP_VERSION)) logger.info('tracing on', { otlp_endpoint: maskedConfig(loaded).OTEL_EXPORTER_OTLP_ENDPOINT });
  if (loaded.AUTH === 'off' && !isLoopbackHost(loaded.HOST)) refuseOpenBind(loaded);

  let authOn = false;
  const deps = await buildGatewayDeps(loaded, {
    logger,
    failFast: true,
    checkAuth: async (config, auth, queue) => {
      authOn = await auth.required();
      if (!authOn && !isLoopbackHost(config.HOST)) {
        await queue.close().catch(() => undefined);
        refuseOpenBind(config);
      }
    },
    openStore: (config) => openVectorStore(config),
    readiness: ({ queue, store }) => ({
      redis: () => queue.client.ping(),
      // A reachability probe only: its answer (tenant default's collection names) is never sent to the client.
      vector_store: () => store.listCollections('default'),
    }),
  });
  const { config, auth, queue, ingestQueue, store } = deps;
  const app = createApp(deps);
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
    // Event streams end now (their clients resume elsewhere with Last-Event-ID) instead of holding the shutdown.
    await deps.eventsFanout.close().catch((error) => logger.warn('job events close failed', { error: errorMessage(error) }));
    const force = setTimeout(() => server.closeAllConnections(), 5000).unref();
    await closed;
    clearTimeout(force);
    await Promise.all(
      [queue, ingestQueue, deps.webhookQueue].map((q) =>
        q.close().catch((error) => logger.warn('queue close failed', { queue: q.name, error: errorMessage(error) })),
      ),
    );
    await store.close().catch((error) => logger.warn('vector store close failed', { error: errorMessage(error) }));
    await deps.authCache?.close();
    // The spans still buffered are exported before the process goes.
    await shutdownTracing().catch((error) => logger.warn('traces not exported', { error: errorMessage(error) }));
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
