import { openRedis, type Config, type RedisSettings } from '@rag/config';
import { DocumentLocks } from '@rag/jobs';
import { llmResilienceFromConfig } from '@rag/llm-client';
import type { Redis } from 'ioredis';
import { SUPPORTED_EXTENSIONS, chunkingFromConfig, createEmbedder, ingestDocuments, parsePoolFromConfig, type IngestSummary } from '@rag/retrieval';
import { discoverFiles } from '../discover-files';
import { documentsBar } from '../progress-bar';
import { openVersionedStore } from './versioned-store';

export interface IngestCommandOptions {
  collection: string;
  /** The tenant that owns the collection. Default `default`. */
  tenant?: string;
  json?: boolean;
  progress?: boolean;
  /** Remove documents that are no longer among the files. */
  prune?: boolean;
  /** Report what would change; write nothing. */
  dryRun?: boolean;
}

export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
  stream: NodeJS.WriteStream;
}

/** Loads files and folders into a collection; returns the exit code. */
export async function ingestCommand(config: Config, targets: string[], options: IngestCommandOptions, io: Output): Promise<number> {
  const discovery = await discoverFiles(targets);
  for (const file of discovery.unsupported) {
    io.err(`skipped ${file}: unsupported file type (supported: ${SUPPORTED_EXTENSIONS.join(', ')})`);
  }
  if (discovery.files.length === 0) {
    io.err(`no supported documents found in ${targets.join(', ')}; supported: ${SUPPORTED_EXTENSIONS.join(', ')}`);
    return 1;
  }

  const store = await openVersionedStore(config);
  // Embeddings from a provider with LLM_RPM/LLM_TPM set count against the budget the workers share in Redis.
  const sharesLimits = config.EMBEDDINGS === 'openai' && (config.LLM_RPM > 0 || config.LLM_TPM > 0) && !options.dryRun;
  const redis = sharesLimits ? openRedis(config, { maxRetriesPerRequest: 2 }) : options.dryRun ? undefined : await reachableRedis(config);
  const embedder = createEmbedder(config, {
    resilience: llmResilienceFromConfig(config, { redis: sharesLimits ? redis : undefined, prefix: config.QUEUE_PREFIX }),
  });
  // Workers may be loading the same documents: one writer per document, through the Redis they share.
  const locks = redis ? new DocumentLocks(redis, config.QUEUE_PREFIX) : undefined;
  // The same parse threads and budgets as the workers': a hostile file fails by name instead of hanging the command.
  const parser = parsePoolFromConfig(config);
  const bar = documentsBar(io.stream);
  const showProgress = options.progress !== false;
  const started = Date.now();
  let chunks = 0;
  let failed = 0;
  const changes: string[] = [];
  if (showProgress) bar.start(discovery.files.length, 0, { chunks, failed, rate: '0.0' });
  let summary: IngestSummary;
  try {
    summary = await ingestDocuments({ store, embedder, locks, parser }, discovery.files, {
      tenant: options.tenant ?? 'default',
      collection: options.collection,
      chunking: chunkingFromConfig(config),
      prune: options.prune,
      dryRun: options.dryRun,
      onDocument: (progress) => {
        if (options.dryRun && !options.json && progress.outcome !== 'unchanged') {
          changes.push(`${(progress.outcome === 'added' ? 'add' : progress.outcome === 'updated' ? 'update' : 'fail').padEnd(7)} ${progress.id}`);
        }
        chunks += progress.chunks;
        if (progress.outcome === 'failed') failed++;
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        if (showProgress) bar.increment({ chunks, failed, rate: ((bar.getProgress() * discovery.files.length) / seconds).toFixed(1) });
      },
    });
    if (!summary.dryRun && summary.added + summary.updated + summary.removed.length > 0) await store.compact(options.tenant ?? 'default', options.collection);
  } finally {
    if (showProgress) bar.stop();
    await parser.close();
    redis?.disconnect();
    await store.close();
  }

  for (const failure of summary.failed) io.err(`failed ${failure.id}: ${failure.error}`);
  if (options.json) {
    io.out(JSON.stringify({ tenant: options.tenant ?? 'default', collection: options.collection, ...summary, skipped: discovery.skipped.length }));
  } else if (summary.dryRun) {
    for (const line of changes) io.out(line);
    for (const id of summary.removed) io.out(`${'remove'.padEnd(7)} ${id}`);
    io.out(
      `dry run, collection ${options.collection}: ${summary.added} to add, ${summary.updated} to update, ${summary.unchanged} unchanged` +
        `${options.prune ? `, ${summary.removed.length} to remove` : ''}; nothing was changed`,
    );
  } else {
    io.out(
      `collection ${options.collection}: ${summary.documents} documents (${summary.added} added, ${summary.updated} updated, ` +
        `${summary.unchanged} unchanged, ${summary.failed.length} failed${options.prune ? `, ${summary.removed.length} removed` : ''}), ` +
        `${summary.chunks} chunks embedded in ${summary.seconds.toFixed(2)} s`,
    );
  }
  const failures = summary.failed.length + discovery.unsupported.length;
  if (failures > 0) {
    io.err(`${failures} file(s) not loaded; fix or remove them and run the same command again (unchanged documents are skipped)`);
    return 1;
  }
  return 0;
}

/**
 * The queue's Redis when it answers, for the document locks. Workers cannot
 * run without it, so when it does not answer no worker is writing and the
 * load goes on unlocked (a local load with no stack running).
 */
async function reachableRedis(config: RedisSettings): Promise<Redis | undefined> {
  const redis = openRedis(config, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 2_000, retryStrategy: (times) => (times > 3 ? null : 200) });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return redis;
  } catch {
    redis.disconnect();
    return undefined;
  }
}
