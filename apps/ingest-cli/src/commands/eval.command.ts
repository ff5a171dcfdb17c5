import type { Config } from '@rag/config';
import { createAnswerer } from '@rag/llm-client';
import type { SearchMode } from '@rag/queue-contracts';
import {
  CollectionNotFoundError,
  EVAL_SEARCH_DEPTH,
  EmbedderMismatchError,
  createEmbedder,
  createReranker,
  evaluateQuestions,
  isReranking,
  ingestDocuments,
  openVectorStore,
  parseEvalSet,
  parsePoolFromConfig,
  type EvalQuestion,
  type RankingScores,
  type TargetOutcome,
  type VectorStore,
} from '@rag/retrieval';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { discoverFiles } from '../discover-files';
import { documentsBar, evalBar } from '../progress-bar';
import type { Output } from './ingest.command';

export interface EvalCommandOptions {
  dataset: string;
  /** The collection to evaluate; not with `corpus`, which builds its own. */
  collection?: string;
  tenant: string;
  modes: SearchMode[];
  k: number;
  answers?: boolean;
  json?: boolean;
  progress?: boolean;
  /** A folder to ingest into a temporary collection per chunk size, evaluated and dropped. */
  corpus?: string;
  /** Chunk sizes (tokens) for `corpus`; default CHUNK_SIZE. */
  chunkSizes?: number[];
  /** Dense weights in the hybrid fusion to compare (a run each); default the embedder's. */
  denseWeights?: number[];
}

/** One evaluated collection: an existing one, or a temporary build of the corpus at one chunk size. */
export interface EvalRun {
  collection: string;
  chunk_size?: number;
  /** The dense ranking's weight in hybrid fusion for this run (--dense-weights); absent: the embedder's default. */
  dense_weight?: number;
  /** For a temporary build: documents loaded, chunks and seconds taken. */
  ingest?: { documents: number; chunks: number; failed: number; seconds: number };
  targets: TargetOutcome[];
}

const COLUMNS: [keyof RankingScores, string][] = [
  ['hit_at_1', 'hit@1'],
  ['hit_at_3', 'hit@3'],
  ['hit_at_5', 'hit@5'],
  ['hit_at_10', 'hit@10'],
  ['recall_at_k', 'recall@k'],
  ['mrr', 'MRR'],
  ['ndcg_at_10', 'nDCG@10'],
];

/** Documents of a search within which a question counts as a miss in the listing (the goal's "top 5"). */
const MISS_DEPTH = 5;

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

/** The totals of each target of a run as an aligned table. */
export function totalsTable(run: EvalRun, k: number): string[] {
  const header = ['target', ...COLUMNS.map(([key, label]) => (key === 'recall_at_k' ? `recall@${k}` : label))];
  const rows = run.targets.map((t) => [t.target === 'answer' ? 'answer (citations)' : t.target, ...COLUMNS.map(([key]) => t.totals[key].toFixed(3))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(header, widths), ...rows.map((r) => pad(r, widths))];
}

/** Questions whose gold document is not in a search's top 5 documents, or not cited by the answer. */
export function missLines(target: TargetOutcome): string[] {
  const missed = target.questions.filter((q) => (target.target === 'answer' ? q.scores.hit_at_10 === 0 : q.scores.hit_at_5 === 0));
  return missed.map((q) => `  ${q.id}\tgold ${q.gold.join(', ')}\tgot ${q.documents.slice(0, 3).join(', ') || '(nothing)'}`);
}

function report(runs: EvalRun[], options: EvalCommandOptions, questions: number): string[] {
  const lines: string[] = [];
  for (const run of runs) {
    const built = run.chunk_size
      ? `corpus ${options.corpus}, chunk size ${run.chunk_size} tokens (${run.ingest?.documents} documents, ${run.ingest?.chunks} chunks, ingested in ${run.ingest?.seconds.toFixed(1)} s)`
      : `collection ${run.collection}`;
    const weight = run.dense_weight !== undefined ? `, dense weight ${run.dense_weight} in hybrid fusion` : '';
    lines.push(`${built}${weight}: ${questions} questions, search depth ${EVAL_SEARCH_DEPTH} chunks, documents ranked by first occurrence`);
    lines.push(...totalsTable(run, options.k));
    for (const target of run.targets) {
      const misses = missLines(target);
      const what = target.target === 'answer' ? 'no gold document cited' : `no gold document in the top ${MISS_DEPTH}`;
      lines.push('', `${target.target}: ${misses.length} of ${target.questions.length} missed (${what}); id, gold, top 3 returned`, ...misses);
    }
    lines.push('');
  }
  return lines;
}

/** A temporary collection name in the tenant, unlikely to meet a real one. */
function temporaryName(size: number): string {
  return `eval-tmp-${size}-${randomBytes(4).toString('hex')}`;
}

/**
 * `rag-ingest eval`: measures how well a collection's search (each mode) and
 * optionally the answer's citations find the gold documents of an evaluation
 * set, in-process through the same use cases as the API. With `corpus`, it
 * builds a temporary collection per chunk size first and drops it after.
 * Bad input: 2; an unknown collection or another embedder: 1.
 */
export async function evalCommand(config: Config, options: EvalCommandOptions, io: Output): Promise<number> {
  if (!options.collection === !options.corpus) {
    io.err('error: give either --collection <name> (evaluate a collection) or --corpus <folder> (build temporary collections from a folder)');
    return 2;
  }
  if (options.chunkSizes && !options.corpus) {
    io.err('error: --chunk-sizes needs --corpus <folder>: chunk size is fixed once a collection is built');
    return 2;
  }
  const tooSmall = (options.chunkSizes ?? []).filter((size) => size <= config.CHUNK_OVERLAP);
  if (tooSmall.length > 0) {
    io.err(`error: chunk size ${tooSmall.join(', ')} is not larger than CHUNK_OVERLAP (${config.CHUNK_OVERLAP}); use larger sizes or lower CHUNK_OVERLAP`);
    return 2;
  }
  let text: string;
  try {
    text = await readFile(options.dataset, 'utf8');
  } catch (error) {
    io.err(
      `error: cannot read the dataset ${options.dataset} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); give a .jsonl file as in tools/eval/datasets`,
    );
    return 2;
  }
  const parsed = parseEvalSet(text);
  if (parsed.errors.length > 0 || parsed.questions.length === 0) {
    const problems = parsed.errors.length > 0 ? parsed.errors.slice(0, 5).join('; ') : 'no questions';
    io.err(`error: ${options.dataset}: ${problems}; one {"id", "question", "gold": [doc ids]} object a line (tools/eval/README.md)`);
    return 2;
  }
  const questions = parsed.questions;
  const discovery = options.corpus ? await discoverFiles([options.corpus]) : undefined;
  if (discovery && discovery.files.length === 0) {
    io.err(`error: no supported documents in ${options.corpus}`);
    return 1;
  }

  const store = await openVectorStore(config);
  const embedder = createEmbedder(config);
  const answerer = options.answers ? createAnswerer(config) : undefined;
  const reranker = createReranker(config);
  const showProgress = options.progress !== false;
  const runs: EvalRun[] = [];
  try {
    if (!discovery) {
      runs.push(...(await weighed(options.collection ?? '', {})));
    } else {
      for (const size of options.chunkSizes ?? [config.CHUNK_SIZE]) {
        const name = temporaryName(size);
        try {
          const ingest = await build(store, name, size, discovery.files);
          runs.push(...(await weighed(name, { chunk_size: size, ingest })));
        } finally {
          await store.deleteCollection(options.tenant, name);
        }
      }
    }
  } catch (error) {
    if (error instanceof CollectionNotFoundError) {
      io.err(`error: collection "${options.collection}" does not exist; run "rag-ingest list" to see the collections`);
      return 1;
    }
    if (error instanceof EmbedderMismatchError) {
      io.err(`error: ${error.message}; or evaluate with --modes text (no --answers), which needs no embeddings`);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
  }

  if (options.json) {
    io.out(
      JSON.stringify({
        dataset: options.dataset,
        tenant: options.tenant,
        k: options.k,
        search_depth: EVAL_SEARCH_DEPTH,
        questions: questions.length,
        embedder: embedder.id,
        ...(isReranking(reranker) ? { reranker: reranker.id } : {}),
        ...(answerer ? { answerer: answerer.backend, answer_top_k: config.DEFAULT_TOP_K } : {}),
        runs,
      }),
    );
  } else {
    for (const line of report(runs, options, questions.length)) io.out(line);
  }
  return 0;

  /**
   * The collection's runs: one, or one per dense weight. Text and vector
   * search do not fuse, so they are measured in the first run only.
   */
  async function weighed(collection: string, run: Omit<EvalRun, 'collection' | 'targets'>): Promise<EvalRun[]> {
    if (!options.denseWeights) return [{ collection, ...run, targets: await evaluate(collection, options.modes) }];
    const runs: EvalRun[] = [];
    for (const [i, weight] of options.denseWeights.entries()) {
      const modes = i === 0 ? options.modes : options.modes.filter((mode) => mode === 'hybrid');
      runs.push({ collection, ...run, dense_weight: weight, targets: await evaluate(collection, modes, weight) });
    }
    return runs;
  }

  async function evaluate(collection: string, modes: readonly SearchMode[], denseWeight?: number): Promise<TargetOutcome[]> {
    const bar = evalBar(io.stream);
    const total = questions.length * (modes.length + (isReranking(reranker) ? 1 : 0) + (answerer ? 1 : 0));
    if (showProgress) bar.start(total, 0, { target: modes[0] ?? 'answer' });
    const deps = { store, embedder, answerer, reranker, rerankCandidates: config.RERANK_CANDIDATES, ...(denseWeight !== undefined ? { denseWeight } : {}) };
    try {
      return await evaluateQuestions(deps, questions as EvalQuestion[], {
        tenant: options.tenant,
        collection,
        modes,
        k: options.k,
        ...(answerer ? { answers: { topK: config.DEFAULT_TOP_K } } : {}),
        onProgress: ({ target }) => showProgress && bar.increment({ target }),
      });
    } finally {
      if (showProgress) bar.stop();
    }
  }

  async function build(target: VectorStore, name: string, size: number, files: Parameters<typeof ingestDocuments>[1]) {
    const parser = parsePoolFromConfig(config);
    const bar = documentsBar(io.stream);
    const started = Date.now();
    let chunks = 0;
    let failed = 0;
    if (showProgress) bar.start(files.length, 0, { chunks, failed, rate: '0.0' });
    try {
      const summary = await ingestDocuments({ store: target, embedder, parser }, files, {
        tenant: options.tenant,
        collection: name,
        chunking: { size, overlap: config.CHUNK_OVERLAP, unit: 'tokens' },
        onDocument: (progress) => {
          chunks += progress.chunks;
          if (progress.outcome === 'failed') failed++;
          const seconds = Math.max(0.001, (Date.now() - started) / 1000);
          if (showProgress) bar.increment({ chunks, failed, rate: ((bar.getProgress() * files.length) / seconds).toFixed(1) });
        },
      });
      await target.compact(options.tenant, name);
      for (const failure of summary.failed) io.err(`failed ${failure.id}: ${failure.error}`);
      return {
        documents: summary.documents - summary.failed.length,
        chunks: summary.chunks,
        failed: summary.failed.length,
        seconds: (Date.now() - started) / 1000,
      };
    } finally {
      if (showProgress) bar.stop();
      await parser.close();
    }
  }
}
