/**
 * Retrieval quality on the evaluation sets (issue #18, tools/eval): every
 * corpus of tools/eval/corpora.json that is installed here is copied (its
 * include/exclude pages, tools/eval/src/copy-corpus.ts), loaded by
 * `rag-ingest` into LanceDB in a temp folder with the embedded defaults, then
 * measured by `rag-ingest eval --answers --json`: each search mode's
 * documents and the documents the answer cites. Real processes, as a user
 * runs them.
 *
 *   npm run bench -- retrieval-quality [--corpora python-markdown,sample]
 */
import { WORKSPACE_ROOT, runApp, tempDir } from '@rag/testing';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Scenario } from './scenario';

const CLI = 'apps/ingest-cli/src/main.ts';
const EVAL_DIR = path.join(WORKSPACE_ROOT, 'tools/eval');

interface CorpusEntry {
  name: string;
  dataset: string;
  role: string;
  package: string | null;
  folder: string;
}

type Scores = Record<'hit_at_1' | 'hit_at_3' | 'hit_at_5' | 'hit_at_10' | 'recall_at_k' | 'mrr' | 'ndcg_at_10', number>;
interface EvalJson {
  questions: number;
  embedder: string;
  reranker?: string;
  answerer?: string;
  answer_top_k?: number;
  runs: { targets: { target: string; totals: Scores; questions: { id: string; documents: string[]; scores: Scores }[] }[] }[];
}

async function run(entry: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const result = await runApp(entry, env, args);
  if (result.code !== 0) throw new Error(`${entry} ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

async function measure(corpus: CorpusEntry) {
  const work = tempDir(`rag-bench-quality-${corpus.name}-`);
  try {
    const docs = path.join(work.path, 'docs');
    const copied = JSON.parse(await run('tools/eval/src/copy-corpus.ts', {}, [corpus.name, docs])) as { documents: number };
    // No Redis here: the CLI loads unlocked, as when no stack is running.
    const env = { DATA_DIR: path.join(work.path, 'data'), REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'error' };
    const started = performance.now();
    const ingest = JSON.parse(await run(CLI, env, [docs, '--collection', corpus.name, '--no-progress', '--json'])) as { chunks: number; failed: unknown[] };
    const ingestSeconds = (performance.now() - started) / 1000;
    process.stderr.write(
      `bench retrieval-quality: ${corpus.name}: ${copied.documents} documents, ${ingest.chunks} chunks in ${ingestSeconds.toFixed(1)} s; evaluating…\n`,
    );
    const evalStarted = performance.now();
    const dataset = path.join(EVAL_DIR, corpus.dataset);
    const report = JSON.parse(
      await run(CLI, env, ['eval', '--dataset', dataset, '--collection', corpus.name, '--answers', '--json', '--no-progress']),
    ) as EvalJson;
    const evalSeconds = (performance.now() - evalStarted) / 1000;
    return {
      corpus: corpus.name,
      package: corpus.package,
      documents: copied.documents,
      chunks: ingest.chunks,
      failed: ingest.failed.length,
      ingest_seconds: ingestSeconds,
      eval_seconds: evalSeconds,
      questions: report.questions,
      embedder: report.embedder,
      reranker: report.reranker,
      answerer: report.answerer,
      answer_top_k: report.answer_top_k,
      targets: report.runs[0].targets,
    };
  } finally {
    work.remove();
  }
}

const f = (v: number) => v.toFixed(3);

export const retrievalQualityScenario: Scenario = {
  name: 'retrieval-quality',
  async run(args) {
    const i = args.indexOf('--corpora');
    const only = i >= 0 ? args[i + 1].split(',') : undefined;
    const corpora = (JSON.parse(readFileSync(path.join(EVAL_DIR, 'corpora.json'), 'utf8')) as { corpora: CorpusEntry[] }).corpora.filter(
      (c) => !only || only.includes(c.name),
    );
    const results: Awaited<ReturnType<typeof measure>>[] = [];
    const absent: string[] = [];
    for (const corpus of corpora) {
      if (!existsSync(path.resolve(WORKSPACE_ROOT, corpus.folder))) {
        absent.push(`${corpus.name} (apt-get install ${corpus.package})`);
        continue;
      }
      process.stderr.write(`bench retrieval-quality: ${corpus.name}…\n`);
      results.push(await measure(corpus));
    }
    const first = results[0];
    const lines = [
      `Each installed corpus of tools/eval/corpora.json (its own pages only), loaded by \`rag-ingest\` with the embedded defaults (${first?.embedder ?? 'local'} embedder, CHUNK_SIZE 300), then \`rag-ingest eval --dataset tools/eval/datasets/<corpus>.jsonl --collection <corpus> --answers\`. Search rows: the distinct documents of the top 50 chunks of each mode, in order of first appearance. Answer row: the documents the ${first?.answerer ?? 'extractive'} answer cites (top_k ${first?.answer_top_k ?? 5}), in citation order; its hit@10 is "a gold page is cited". Relevance is binary: a gold page of the question.${first?.reranker ? ` Run with RERANKER=${first.reranker.split(':')[0]}: the search modes are the retrievers alone, the reranked row is hybrid search's top 50 in the reranker's order, and the answers are reranked (RERANK_CANDIDATES).` : ''}${absent.length ? ` Not installed here: ${absent.join(', ')}.` : ''}`,
    ];
    for (const r of results) {
      lines.push(
        '',
        `**${r.corpus}** (${r.package ?? 'in this repository'}): ${r.documents} documents, ${r.chunks} chunks, loaded in ${r.ingest_seconds.toFixed(1)} s; ${r.questions} questions, evaluated in ${r.eval_seconds.toFixed(1)} s.`,
        '',
        '| target | hit@1 | hit@3 | hit@5 | hit@10 | recall@10 | MRR | nDCG@10 |',
        '|---|---|---|---|---|---|---|---|',
        ...r.targets.map(
          (t) =>
            `| ${t.target === 'answer' ? 'answer citations' : t.target === 'reranked' ? `search: hybrid, reranked (${r.reranker})` : `search: ${t.target}`} | ${f(t.totals.hit_at_1)} | ${f(t.totals.hit_at_3)} | ${f(t.totals.hit_at_5)} | ${f(t.totals.hit_at_10)} | ${f(t.totals.recall_at_k)} | ${f(t.totals.mrr)} | ${f(t.totals.ndcg_at_10)} |`,
        ),
      );
    }
    return {
      markdown: lines.join('\n'),
      // Per question: its first 10 documents (what every figure but MRR looks at) and its scores.
      data: {
        absent,
        corpora: results.map((r) => ({
          ...r,
          targets: r.targets.map((t) => ({
            target: t.target,
            totals: t.totals,
            questions: t.questions.map((q) => ({ id: q.id, documents: q.documents.slice(0, 10), scores: q.scores })),
          })),
        })),
      },
    };
  },
};
