import { runApp, startRedis, tempDir, type PrivateRedis, type TempDir } from '@rag/testing';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { copyCorpus, corpusFolder, datasetFile, installHint, loadCorpora, type Corpus } from './corpora';

/** The CLI's entry point, run as a real process. */
const CLI = 'apps/ingest-cli/src/main.ts';

type Scores = Record<'hit_at_1' | 'hit_at_3' | 'hit_at_5' | 'hit_at_10' | 'recall_at_k' | 'mrr' | 'ndcg_at_10', number>;
interface EvalJson {
  questions: number;
  runs: { targets: { target: string; totals: Scores; questions: { id: string; documents: string[]; scores: Scores }[] }[] }[];
}

// The CI gate of issue #18: the `ci` corpora of corpora.json (the small
// Python-Markdown manual and the sample collection) loaded by `rag-ingest`
// (LanceDB in a temp dir, a private redis-server for its locks), then
// `rag-ingest eval --answers --json` on their evaluation sets. Hybrid search,
// the default retriever, must not rank worse than full-text search alone.
//
// Where the default retriever does not meet a gate yet, the check is listed
// here with the measured figures and runs as `it.failing`: it stays visible in
// every run, and turns red the moment hybrid catches up, so the entry must then
// go. Issue #18 stays open while this list is not empty.
// (Python-Markdown's MRR, hybrid 0.646 against text 0.727 with local-hash-v2-384, closed with local-hash-v3-2048:
// hybrid 0.754.)
const KNOWN_GAPS: Record<string, { metric: 'mrr' | 'hit_at_5'; measured: string }[]> = {};

describe.each(loadCorpora().filter((c) => c.role === 'ci'))('retrieval quality on $name', (corpus: Corpus) => {
  const installed = existsSync(corpusFolder(corpus));
  const mustBeInstalled = process.env.CI === 'true';
  const whenInstalled = installed || mustBeInstalled ? it : it.skip;
  /** The gate for `metric`: a known gap runs as it.failing (see KNOWN_GAPS). */
  const gate = (metric: 'mrr' | 'hit_at_5') => {
    const gap = KNOWN_GAPS[corpus.name]?.find((g) => g.metric === metric);
    if (!gap || !(installed || mustBeInstalled)) return { run: whenInstalled, note: '' };
    return { run: it.failing, note: ` — KNOWN GAP, expected to fail until the retriever improves (${gap.measured})` };
  };
  const suffix = installed || mustBeInstalled ? '' : ` — SKIPPED: ${corpusFolder(corpus)} is absent; ${installHint(corpus)}`;
  let redis: PrivateRedis;
  let work: TempDir;
  let report: EvalJson;
  const totals = (target: string) => {
    const found = report.runs[0].targets.find((t) => t.target === target);
    if (!found) throw new Error(`no ${target} figures in the report`);
    return found.totals;
  };

  beforeAll(async () => {
    if (!installed && !mustBeInstalled) return;
    redis = await startRedis();
    work = tempDir(`rag-eval-${corpus.name}-`);
    // The corpus's own pages only (include/exclude), copied with their relative paths so the ids match the gold.
    const docs = path.join(work.path, 'docs');
    copyCorpus(corpus, docs);
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: 'rag-eval', DATA_DIR: path.join(work.path, 'data'), LOG_LEVEL: 'error' };
    const ingest = await runApp(CLI, env, [docs, '--collection', corpus.name, '--no-progress', '--json']);
    expect({ code: ingest.code, stderr: ingest.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(ingest.stdout)).toMatchObject({ added: corpus.documents, failed: [] });
    const run = await runApp(CLI, env, ['eval', '--dataset', datasetFile(corpus), '--collection', corpus.name, '--answers', '--json', '--no-progress']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    report = JSON.parse(run.stdout) as EvalJson;
  }, 240_000);

  afterAll(async () => {
    await redis?.stop();
    work?.remove();
  });

  whenInstalled(`scores every question in every mode and for the answers, each figure within 0..1${suffix}`, () => {
    const targets = report.runs[0].targets;
    expect(targets.map((t) => t.target)).toEqual(['text', 'vector', 'hybrid', 'answer']);
    for (const target of targets) {
      expect(target.questions).toHaveLength(report.questions);
      for (const value of [...Object.values(target.totals), ...target.questions.flatMap((q) => Object.values(q.scores))]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
      }
      // hit@k can only grow with k.
      const t = target.totals;
      expect([t.hit_at_1 <= t.hit_at_3, t.hit_at_3 <= t.hit_at_5, t.hit_at_5 <= t.hit_at_10]).toEqual([true, true, true]);
    }
    expect(totals('hybrid').hit_at_10).toBeGreaterThan(0.5);
  });

  const hit5 = gate('hit_at_5');
  hit5.run(`hybrid search finds the gold page in the top 5 at least as often as full-text search alone${suffix}${hit5.note}`, () => {
    expect(totals('hybrid').hit_at_5).toBeGreaterThanOrEqual(totals('text').hit_at_5);
  });

  const mrr = gate('mrr');
  mrr.run(`hybrid search ranks the gold page at least as high as full-text search alone (MRR)${suffix}${mrr.note}`, () => {
    expect(totals('hybrid').mrr).toBeGreaterThanOrEqual(totals('text').mrr);
  });
});
