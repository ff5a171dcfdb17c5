import { loadConfigOrExit, maskedConfig } from '@rag/config';
import { createAnswerer } from '@rag/llm-client';
import { createLogger, errorMessage } from '@rag/observability';
import { JobName, QueueName } from '@rag/queue-contracts';
import { createEmbedder, openVectorStore } from '@rag/retrieval';
import Bull from 'bull';
import Redis from 'ioredis';
import { JobEventsWriter } from './job-events.writer';
import { queryProcessor } from './query.processor';

async function main(): Promise<void> {
  const config = loadConfigOrExit('rag-worker');
  const logger = createLogger({ service: 'rag-worker', level: config.LOG_LEVEL, defaultMeta: { pid: process.pid } });
  logger.info('starting', { config: maskedConfig(config) });

  const store = await openVectorStore(config);
  const deps = { store, embedder: createEmbedder(config), answerer: createAnswerer(config) };
  const queue = new Bull(QueueName.Query, config.REDIS_URL, { prefix: config.QUEUE_PREFIX });
  queue.on('error', (error) => logger.error('queue error', { error: errorMessage(error) }));
  // Consume only once Redis answers, so a bad REDIS_URL fails loudly instead of idling.
  await queue.isReady();
  const eventsRedis = new Redis(config.REDIS_URL, { lazyConnect: false });
  eventsRedis.on('error', (error) => logger.error('events connection error', { error: errorMessage(error) }));
  const openEvents = (jobId: string) => new JobEventsWriter(eventsRedis, jobId, { prefix: config.QUEUE_PREFIX, retentionSeconds: config.JOB_RETENTION_SECONDS });
  void queue.process(JobName.Answer, config.WORKER_CONCURRENCY, queryProcessor(deps, logger, openEvents));
  logger.info('consuming', { queue: QueueName.Query, concurrency: config.WORKER_CONCURRENCY });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down: finishing active jobs', { signal });
    // Bull's close stops taking new jobs and waits for the active ones.
    await queue.close().catch((error) => logger.warn('queue close failed', { error: errorMessage(error) }));
    eventsRedis.disconnect();
    await store.close();
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
