/**
 * Ingestion benchmark: loads a real documentation set (default: Debian's
 * postgresql-doc-15 HTML manual, `apt-get install postgresql-doc-15`) into a
 * fresh collection three ways — directly in the CLI, and through the
 * rag-ingest queue with one and with two workers — then once more unchanged.
 * Each way gets its own private redis-server and LanceDB folder. Prints a
 * Markdown table (documents/s, chunks/s) for docs/benchmarks.md.
 *
 * With `--embed-latency-ms N` the embeddings come from tools/fake-openai
 * over HTTP, each request taking N ms, as a remote provider would: then the
 * work is waiting, not computing, and more workers overlap more of it.
 *
 * Each way runs --runs times (3 by default); the table shows the run with the
 * median first-load time, the JSON every run's time.
 *
 *   npm run bench -- ingest [--ingest-concurrency N] [--embed-latency-ms N] [--source <folder>] [--runs N]
 */
import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { runApp, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import { consuming } from './stack';
import { existsSync } from 'node:fs';
import { numberFlag, type Scenario } from './scenario';

const DEFAULT_SOURCE = '/usr/share/doc/postgresql-doc-15/html';

interface Summary {
  documents: number;
  added: number;
  unchanged: number;
  chunks: number;
  failed: unknown[];
  skipped: number;
}

interface Row {
  mode: string;
  first: { wall: number; summary: Summary };
  again: { wall: number; summary: Summary };
  /** Every run's first-load time, when there were several. */
  walls?: number[];
}

interface Options {
  source: string;
  ingestConcurrency: string;
  fake?: FakeOpenAI;
  embedLatencyMs: number;
}

async function run(mode: 'direct' | 'queue', workers: number, { source, ingestConcurrency, fake }: Options): Promise<Row> {
  const redis = await startRedis();
  const data = tempDir('rag-bench-');
  const env: NodeJS.ProcessEnv = { REDIS_URL: redis.url, DATA_DIR: data.path, NODE_ENV: 'production', INGEST_CONCURRENCY: ingestConcurrency };
  if (fake)
    Object.assign(env, { EMBEDDINGS: 'openai', OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'bench', EMBEDDING_DIM: '256', EMBEDDING_MODEL: 'bench-embed' });
  const started: AppProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) started.push(startApp('apps/rag-worker/src/main.ts', env));
    await Promise.all(started.map(consuming));
    const load = async () => {
      const t0 = performance.now();
      const result = await runApp('apps/ingest-cli/src/main.ts', env, [
        source,
        '--collection',
        'bench',
        '--json',
        '--no-progress',
        ...(mode === 'queue' ? ['--via-queue'] : []),
      ]);
      const wall = (performance.now() - t0) / 1000;
      if (!result.stdout.trim()) throw new Error(`the load failed (exit ${result.code}): ${result.stderr.slice(-2000)}`);
      return { wall, summary: JSON.parse(result.stdout) as Summary };
    };
    const first = await load();
    const again = await load();
    return { mode: mode === 'direct' ? 'direct (in the CLI)' : `queue, ${workers} worker${workers > 1 ? 's' : ''}`, first, again };
  } finally {
    await Promise.all(started.map((w) => w.stop('SIGTERM')));
    await redis.stop();
    data.remove();
  }
}

function scenario(name: string, embedLatencyMs: number): Scenario {
  return {
    name,
    async run(args) {
      const i = args.indexOf('--source');
      const source = i >= 0 ? args[i + 1] : DEFAULT_SOURCE;
      if (!existsSync(source)) throw new Error(`no such folder: ${source}; install the default set with: apt-get install postgresql-doc-15`);
      const options: Options = {
        source,
        ingestConcurrency: String(numberFlag(args, '--ingest-concurrency', 2)),
        embedLatencyMs: numberFlag(args, '--embed-latency-ms', embedLatencyMs),
      };
      if (options.embedLatencyMs > 0) options.fake = await startFakeOpenAI({ dimension: 256, embeddingLatencyMs: options.embedLatencyMs });
      try {
        const runs = numberFlag(args, '--runs', 3);
        const rows: Row[] = [];
        for (const [mode, workers] of [
          ['direct', 0],
          ['queue', 1],
          ['queue', 2],
        ] as const) {
          const each: Row[] = [];
          for (let r = 1; r <= runs; r++) {
            process.stderr.write(`bench ${name}: ${mode}${workers ? ` with ${workers} worker(s)` : ''}, run ${r} of ${runs}…\n`);
            each.push(await run(mode, workers, options));
          }
          // The run with the median first-load time (the lower middle one for an even count).
          const sorted = [...each].sort((a, b) => a.first.wall - b.first.wall);
          rows.push({ ...sorted[Math.floor((sorted.length - 1) / 2)], walls: each.map((e) => e.first.wall) });
        }
        const first = rows[0].first.summary;
        const lines = [
          `Source: \`${source}\` — ${first.documents} documents (${first.skipped} other files skipped), ${first.chunks} chunks; ` +
            `${options.fake ? `embeddings from tools/fake-openai over HTTP at ${options.embedLatencyMs} ms a request` : 'embedded defaults (local embedder)'}, LanceDB; ` +
            `INGEST_CONCURRENCY=${options.ingestConcurrency} per worker; ${runs > 1 ? `the median of ${runs} runs per row (every run in the JSON)` : 'one run per row'}.`,
          '',
          '| how | first load (wall) | documents/s | chunks/s | failed | unchanged re-run (wall) |',
          '|---|---|---|---|---|---|',
          ...rows.map(({ mode, first: f, again }) => {
            const s = f.summary;
            return `| ${mode} | ${f.wall.toFixed(1)} s | ${(s.documents / f.wall).toFixed(1)} | ${(s.chunks / f.wall).toFixed(0)} | ${s.failed.length} | ${again.wall.toFixed(1)} s (${again.summary.unchanged} unchanged) |`;
          }),
        ];
        const data = rows.map(({ mode, first: f, again, walls }) => ({
          mode,
          documents: f.summary.documents,
          chunks: f.summary.chunks,
          failed: f.summary.failed.length,
          seconds: f.wall,
          documents_per_second: f.summary.documents / f.wall,
          chunks_per_second: f.summary.chunks / f.wall,
          unchanged_rerun_seconds: again.wall,
          first_load_seconds_each_run: walls,
        }));
        return {
          markdown: lines.join('\n'),
          data: { source, runs, embed_latency_ms: options.embedLatencyMs, ingest_concurrency: Number(options.ingestConcurrency), rows: data },
        };
      } finally {
        await options.fake?.close();
      }
    },
  };
}

/** The embedded defaults: parsing, chunking, the local embedder and LanceDB, all CPU. */
export const ingestScenario = scenario('ingest', 0);
/** The same with a remote embedder taking 100 ms a request: waiting dominates, workers overlap it. */
export const ingestRemoteScenario = scenario('ingest-remote', 100);
