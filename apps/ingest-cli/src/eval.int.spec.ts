import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './cli';
import { useCliSuite } from './cli-suite.spec-helper';

type Scores = Record<'hit_at_1' | 'hit_at_3' | 'hit_at_5' | 'hit_at_10' | 'recall_at_k' | 'mrr' | 'ndcg_at_10', number>;
interface Report {
  questions: number;
  k: number;
  runs: {
    collection: string;
    chunk_size?: number;
    dense_weight?: number;
    ingest?: { documents: number; chunks: number };
    targets: { target: string; totals: Scores; questions: { id: string; gold: string[]; documents: string[]; scores: Scores }[] }[];
  }[];
}

// `rag-ingest eval` in this process through runCli (the command's own entry), over LanceDB in a temp
// folder and a private redis-server for the loads' locks.
describe('rag-ingest eval', () => {
  const suite = useCliSuite('rag-cli-eval-');
  let env: NodeJS.ProcessEnv;
  let docs: string;
  let dataset: string;
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, env, { out: (l) => out.push(l), err: (l) => err.push(l), stream: process.stderr });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  };

  beforeAll(async () => {
    env = { REDIS_URL: suite.redis.url, QUEUE_PREFIX: 'rag-cli-eval', DATA_DIR: path.join(suite.data.path, 'data') };
    docs = path.join(suite.data.path, 'docs');
    mkdirSync(path.join(docs, 'hr'), { recursive: true });
    writeFileSync(
      path.join(docs, 'hr/vacation.md'),
      '# Vacation\n\n## Annual leave\n\nNew employees get 25 vacation days per year, starting from their first day.\n',
    );
    writeFileSync(path.join(docs, 'travel.md'), '# Travel\n\nTravel expenses are reimbursed within 30 days of a claim. Keep the receipts.\n');
    writeFileSync(path.join(docs, 'badges.md'), '# Badges\n\nBadges for the zygomorphic atrium are issued at reception.\n');
    dataset = path.join(suite.data.path, 'set.jsonl');
    writeFileSync(
      dataset,
      [
        { id: 't-001', question: 'Where are zygomorphic atrium badges issued?', gold: ['badges.md'] },
        { id: 't-002', question: 'How many vacation days do new employees get per year?', gold: ['hr/vacation.md'], note: 'ignored' },
        { id: 't-003', question: 'What about the quarterly parking permit?', gold: ['parking.md'] },
      ]
        .map((q) => JSON.stringify(q))
        .join('\n'),
    );
    const load = await cli(docs, '--collection', 'handbook', '--no-progress', '--json');
    expect([load.code, load.stderr]).toEqual([0, '']);
  }, 120_000);

  it('scores each mode and the answer’s citations per question and in total, with --json', async () => {
    const run = await cli('eval', '--dataset', dataset, '--collection', 'handbook', '--answers', '--json', '--no-progress');
    expect([run.code, run.stderr]).toEqual([0, '']);
    const report = JSON.parse(run.stdout) as Report;
    expect(report).toMatchObject({ questions: 3, k: 10 });
    const targets = report.runs[0].targets;
    expect(targets.map((t) => t.target)).toEqual(['text', 'vector', 'hybrid', 'answer']);
    const text = targets[0];
    expect(text.questions.map((q) => [q.id, q.documents[0], q.scores.hit_at_1, q.scores.mrr])).toEqual([
      ['t-001', 'badges.md', 1, 1],
      ['t-002', 'hr/vacation.md', 1, 1],
      // A gold page the collection does not have, in words no page has: nothing found, a miss.
      ['t-003', undefined, 0, 0],
    ]);
    expect(text.totals.hit_at_1).toBeCloseTo(2 / 3, 12);
    // Documents are distinct, each once.
    for (const target of targets) for (const q of target.questions) expect(new Set(q.documents).size).toBe(q.documents.length);
    // The extractive answer cites the vacation page for the vacation question.
    expect(targets[3].questions[1].documents).toContain('hr/vacation.md');
  });

  it('with RERANKER set, measures hybrid search reranked as its own row and leaves the modes as the retrievers alone', async () => {
    const plain = JSON.parse((await cli('eval', '--dataset', dataset, '--collection', 'handbook', '--answers', '--json', '--no-progress')).stdout) as Report;
    const saved = env;
    env = { ...env, RERANKER: 'local' };
    try {
      const run = await cli('eval', '--dataset', dataset, '--collection', 'handbook', '--answers', '--json', '--no-progress');
      expect([run.code, run.stderr]).toEqual([0, '']);
      const report = JSON.parse(run.stdout) as Report & { reranker?: string };
      expect(report.reranker).toBe('local');
      const targets = report.runs[0].targets;
      expect(targets.map((t) => t.target)).toEqual(['text', 'vector', 'hybrid', 'reranked', 'answer']);
      expect(targets.slice(0, 3)).toEqual(plain.runs[0].targets.slice(0, 3));
      expect(targets[3].questions.map((q) => q.documents[0])).toEqual(['badges.md', 'hr/vacation.md', expect.any(String)]);
      expect(plain).not.toHaveProperty('reranker');
    } finally {
      env = saved;
    }
  });

  it('prints a table per run, then each mode’s misses with the top 3 documents returned', async () => {
    const run = await cli('eval', '--dataset', dataset, '--collection', 'handbook', '--modes', 'text,hybrid', '--k', '2', '--no-progress');
    expect([run.code, run.stderr]).toEqual([0, '']);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('collection handbook: 3 questions, search depth 50 chunks, documents ranked by first occurrence');
    expect(lines[1].split(/\s+/)).toEqual(['target', 'hit@1', 'hit@3', 'hit@5', 'hit@10', 'recall@2', 'MRR', 'nDCG@10']);
    expect(lines[2].split(/\s+/).slice(0, 2)).toEqual(['text', '0.667']);
    expect(lines[3].split(/\s+/)[0]).toBe('hybrid');
    expect(run.stdout).toContain('text: 1 of 3 missed (no gold document in the top 5); id, gold, top 3 returned');
    expect(lines.find((l) => l.startsWith('  t-003'))).toBe('  t-003\tgold parking.md\tgot (nothing)');
  });

  it('builds a temporary collection per chunk size from --corpus, evaluates each and drops it', async () => {
    const run = await cli('eval', '--dataset', dataset, '--corpus', docs, '--chunk-sizes', '64,128', '--modes', 'text', '--json', '--no-progress');
    expect([run.code, run.stderr]).toEqual([0, '']);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.runs.map((r) => [r.chunk_size, r.ingest?.documents, r.targets.map((t) => t.target)])).toEqual([
      [64, 3, ['text']],
      [128, 3, ['text']],
    ]);
    for (const r of report.runs) expect(r.targets[0].totals.hit_at_1).toBeCloseTo(2 / 3, 12);
    const list = await cli('list', '--json');
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain('eval-tmp');
    expect(list.stdout).toContain('handbook');
  });

  it('compares fusion weights with --dense-weights: a run each (text and vector once), a heavy dense weight ranking as vector search, a light one as full-text search', async () => {
    const run = await cli('eval', '--dataset', dataset, '--collection', 'handbook', '--dense-weights', '0.01,100', '--answers', '--json', '--no-progress');
    expect([run.code, run.stderr]).toEqual([0, '']);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.runs.map((r) => [r.collection, r.dense_weight, r.targets.map((t) => t.target)])).toEqual([
      ['handbook', 0.01, ['text', 'vector', 'hybrid', 'answer']],
      ['handbook', 100, ['hybrid', 'answer']],
    ]);
    const docs = (target: Report['runs'][number]['targets'][number]) => target.questions.map((q) => q.documents);
    const [light, heavy] = report.runs;
    const [text, vector] = light.targets;
    expect(docs(heavy.targets[0])).toEqual(docs(vector));
    // Light: full-text search's documents first, in its order, then the dense ranking's others.
    light.targets[2].questions.forEach((q, i) => expect(q.documents.slice(0, text.questions[i].documents.length)).toEqual(text.questions[i].documents));
    const table = await cli('eval', '--dataset', dataset, '--collection', 'handbook', '--dense-weights', '0.5', '--modes', 'hybrid', '--no-progress');
    expect(table.stdout.split('\n')[0]).toBe(
      'collection handbook, dense weight 0.5 in hybrid fusion: 3 questions, search depth 50 chunks, documents ranked by first occurrence',
    );
  });

  it.each([
    [['--dense-weights', '0'], 2, 'numbers above 0 and up to 100'],
    [['--dense-weights', '1,heavy'], 2, 'numbers above 0 and up to 100'],
    [['--collection', 'handbook', '--corpus', '.'], 2, 'give either --collection'],
    [['--chunk-sizes', '200'], 2, '--chunk-sizes needs --corpus'],
    [['--modes', 'text,fuzzy'], 2, 'comma-separated list of hybrid, vector, text'],
    [['--k', '0'], 2, 'whole number from 1 to 50'],
    [['--corpus', '.', '--chunk-sizes', '40'], 2, 'not larger than CHUNK_OVERLAP'],
  ])('refuses %p with exit %p, saying what to do', async (args, code, message) => {
    const run = await cli(
      'eval',
      '--dataset',
      dataset,
      ...(args.includes('--corpus') || args.includes('--collection') ? [] : ['--collection', 'handbook']),
      ...args,
    );
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(message);
  });

  it('refuses a missing or malformed dataset (2) and an unknown collection (1)', async () => {
    const missing = await cli('eval', '--dataset', path.join(suite.data.path, 'nope.jsonl'), '--collection', 'handbook');
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('cannot read the dataset')]);
    const bad = path.join(suite.data.path, 'bad.jsonl');
    writeFileSync(bad, '{"id": "x-001", "question": "q", "gold": []}\nnot json\n');
    const malformed = await cli('eval', '--dataset', bad, '--collection', 'handbook');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('line 1: expected {"id": "…", "question": "…", "gold": ["doc id", …]}; line 2: not JSON');
    const unknown = await cli('eval', '--dataset', dataset, '--collection', 'nosuch', '--no-progress');
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('collection "nosuch" does not exist')]);
  });
});
