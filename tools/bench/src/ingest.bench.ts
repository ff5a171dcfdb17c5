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
 *   npx nx run bench:ingest [-- <folder>] [-- --ingest-concurrency N] [-- --embed-latency-ms N]
 */
import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { runApp, startApp, startRedis, tempDir, type AppProcess } from '@rag/testing';
import { existsSync } from 'node:fs';
import * as os from 'node:os';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const ingestConcurrency = flag('--ingest-concurrency', '2');
const embedLatencyMs = Number(flag('--embed-latency-ms', '0'));
let fake: FakeOpenAI | undefined;
const source = args[0] ?? '/usr/share/doc/postgresql-doc-15/html';
if (!existsSync(source)) {
  process.stderr.write(`no such folder: ${source}; install the default set with: apt-get install postgresql-doc-15\n`);
  process.exit(2);
}

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
}

async function run(mode: 'direct' | 'queue', workers: number): Promise<Row> {
  const redis = await startRedis();
  const data = tempDir('rag-bench-');
  const env: NodeJS.ProcessEnv = { REDIS_URL: redis.url, DATA_DIR: data.path, NODE_ENV: 'production', INGEST_CONCURRENCY: ingestConcurrency };
  if (fake) Object.assign(env, { EMBEDDINGS: 'openai', OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'bench', EMBEDDING_DIM: '256', EMBEDDING_MODEL: 'bench-embed' });
  const started: AppProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) started.push(startApp('apps/rag-worker/src/main.ts', env));
    await Promise.all(started.map((w) => w.waitForLog((l) => l.message === 'consuming', 60_000)));
    const load = async () => {
      const t0 = performance.now();
      const result = await runApp('apps/ingest-cli/src/main.ts', env, [source, '--collection', 'bench', '--json', '--no-progress', ...(mode === 'queue' ? ['--via-queue'] : [])]);
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

async function main(): Promise<void> {
  if (embedLatencyMs > 0) fake = await startFakeOpenAI({ dimension: 256, embeddingLatencyMs: embedLatencyMs });
  const rows: Row[] = [];
  for (const [mode, workers] of [
    ['direct', 0],
    ['queue', 1],
    ['queue', 2],
  ] as const) {
    process.stderr.write(`bench: ${mode}${workers ? ` with ${workers} worker(s)` : ''}…\n`);
    rows.push(await run(mode, workers));
  }
  const cpu = os.cpus();
  const lines = [
    `Source: \`${source}\` — ${rows[0].first.summary.documents} documents (${rows[0].first.summary.skipped} other files skipped), ` +
      `${rows[0].first.summary.chunks} chunks; ${fake ? `embeddings from tools/fake-openai over HTTP at ${embedLatencyMs} ms a request (batches of 64)` : 'embedded defaults (local embedder)'}, LanceDB; INGEST_CONCURRENCY=${ingestConcurrency} per worker; ` +
      `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| how | first load (wall) | documents/s | chunks/s | failed | unchanged re-run (wall) |',
    '|---|---|---|---|---|---|',
    ...rows.map(({ mode, first, again }) => {
      const s = first.summary;
      return `| ${mode} | ${first.wall.toFixed(1)} s | ${(s.documents / first.wall).toFixed(1)} | ${(s.chunks / first.wall).toFixed(0)} | ${s.failed.length} | ${again.wall.toFixed(1)} s (${again.summary.unchanged} unchanged) |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await fake?.close();
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
