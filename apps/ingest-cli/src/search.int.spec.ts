import { runApp } from '@rag/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from './cli';
import { CLI, useCliSuite } from './cli-suite.spec-helper';

type Result = { id: string; doc_id: string; heading?: string; chunk: string; score: number; ranks: { vector?: number; text?: number } };

// `rag-ingest search` as a real process over LanceDB in a temp folder, the
// documents loaded by `rag-ingest` itself (a private redis-server for its locks).
describe('rag-ingest search', () => {
  const suite = useCliSuite('rag-cli-search-');
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runApp(CLI, env, args);

  beforeAll(async () => {
    env = { REDIS_URL: suite.redis.url, QUEUE_PREFIX: 'rag-cli-search', DATA_DIR: path.join(suite.data.path, 'data') };
    const docs = path.join(suite.data.path, 'docs');
    mkdirSync(path.join(docs, 'hr'), { recursive: true });
    writeFileSync(
      path.join(docs, 'hr/vacation.md'),
      '# Vacation\n\n## Annual leave\n\nNew employees get 25 vacation days per year, starting from their first day.\n',
    );
    writeFileSync(path.join(docs, 'travel.md'), '# Travel\n\nTravel expenses are reimbursed within 30 days of a claim.\n');
    writeFileSync(path.join(docs, 'badges.md'), '# Badges\n\nBadges for the zygomorphic atrium are issued at reception.\n');
    const acme = path.join(suite.data.path, 'acme');
    mkdirSync(acme);
    writeFileSync(path.join(acme, 'rockets.md'), '# Rockets\n\nAcme rockets launch on Fridays.\n');
    // Loaded in this process through the same runCli the command runs (a process each would only add start-up time).
    const load = async (extraEnv: NodeJS.ProcessEnv, ...args: string[]) => {
      const err: string[] = [];
      const code = await runCli(
        [...args, '--no-progress', '--json'],
        { ...env, ...extraEnv },
        { out: () => undefined, err: (l) => err.push(l), stream: process.stderr },
      );
      expect([args.join(' '), code, err]).toEqual([args.join(' '), 0, []]);
    };
    await load({}, docs, '--collection', 'handbook');
    await load({}, acme, '--collection', 'handbook', '--tenant', 'acme');
    // Built with another embedder than the default one.
    await load({ EMBEDDING_DIM: '64' }, docs, '--collection', 'small');
  }, 180_000);

  it('prints the ranked results: rank, score, document id, heading, each retriever’s rank and the start of the chunk', async () => {
    const run = await cli('search', 'How many vacation days do new employees get?', '--collection', 'handbook');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const [rank, score, docId, heading, ranks, snippet] = lines[0].split('\t');
    expect([rank, docId, heading, ranks]).toEqual(['1', 'hr/vacation.md', 'Vacation > Annual leave', 'vector 1, text 1']);
    expect(Number(score)).toBeGreaterThan(0);
    expect(snippet).toBe('New employees get 25 vacation days per year, starting from their first day.');
    expect(lines.map((l) => l.split('\t')[0])).toEqual(['1', '2', '3']);
  });

  it('prints the API’s JSON with --json, and honours --mode and --top-k', async () => {
    const text = await cli('search', 'zygomorphic', '--collection', 'handbook', '--mode', 'text', '--json');
    expect(text.code).toBe(0);
    const answer = JSON.parse(text.stdout);
    expect(answer).toMatchObject({ collection: 'handbook', mode: 'text', query: 'zygomorphic', took_ms: expect.any(Number) });
    expect(answer.results.map((r: Result) => [r.id, r.doc_id, r.ranks])).toEqual([['badges.md#0', 'badges.md', { text: 1 }]]);

    const vector = await cli('search', 'travel expenses', '-c', 'handbook', '--mode', 'vector', '--top-k', '2', '--json');
    expect(vector.code).toBe(0);
    const results = JSON.parse(vector.stdout).results as Result[];
    expect(results.map((r) => r.ranks)).toEqual([{ vector: 1 }, { vector: 2 }]);
    expect(results[0].doc_id).toBe('travel.md');
  });

  it("searches the tenant's own collection with --tenant", async () => {
    const acme = await cli('search', 'rockets', '--collection', 'handbook', '--tenant', 'acme', '--json');
    expect(acme.code).toBe(0);
    expect(JSON.parse(acme.stdout).results.map((r: Result) => r.doc_id)).toEqual(['rockets.md']);
    const theirs = await cli('search', 'rockets', '--collection', 'handbook', '--mode', 'text');
    expect(theirs.code).toBe(0);
    expect(theirs.stdout.trim()).toBe('(no results)');
  });

  it('refuses bad input with a clear message and a non-zero exit code', async () => {
    const cases: [string[], number, RegExp][] = [
      [['search', 'vacation', '--collection', 'handbook', '--top-k', '0'], 2, /--top-k.*whole number from 1 to 50/],
      [['search', 'vacation', '--collection', 'handbook', '--top-k', '51'], 2, /whole number from 1 to 50/],
      [['search', 'vacation', '--collection', 'handbook', '--mode', 'fuzzy'], 2, /Allowed choices are hybrid, vector, text/],
      [['search', 'vacation'], 2, /required option '-c, --collection <name>' not specified/],
      [['search', '--collection', 'handbook'], 2, /missing required argument 'query'/],
      [['search', '   ', '--collection', 'handbook'], 2, /query: query must contain at least one non-space character/],
      [['search', 'x'.repeat(4001), '--collection', 'handbook'], 2, /query: query must be shorter than or equal to 4000 characters/],
      [['search', 'vacation', '--collection', 'Bad.Name'], 2, /--collection/],
      [['search', 'vacation', '--collection', 'ghost'], 1, /collection "ghost" does not exist; run "rag-ingest list" to see the collections/],
      [['search', 'rockets', '--collection', 'ghost', '--tenant', 'acme'], 1, /run "rag-ingest list --tenant acme"/],
    ];
    // In this process (the same runCli the command runs), then one case as a real process: its exit code.
    for (const [args, code, message] of cases) {
      const out: string[] = [];
      const err: string[] = [];
      const exit = await runCli(args, env, { out: (l) => out.push(l), err: (l) => err.push(l), stream: process.stderr });
      expect([args.join(' ').slice(0, 60), exit]).toEqual([args.join(' ').slice(0, 60), code]);
      expect(err.join('\n')).toMatch(message);
      expect(out).toEqual([]);
    }
    const ghost = await cli('search', 'vacation', '--collection', 'ghost');
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toMatch(/collection "ghost" does not exist/);
    expect(ghost.stdout).toBe('');
  });

  it('says a collection was built with another embedder (exit 1); --mode text still searches it', async () => {
    const hybrid = await cli('search', 'vacation', '--collection', 'small');
    expect(hybrid.code).toBe(1);
    expect(hybrid.stderr).toMatch(/built with the embedder local-hash-v4-64 .* but local-hash-v4-2048 .* is configured/);
    expect(hybrid.stderr).toContain('--mode text');
    const text = await cli('search', 'zygomorphic', '--collection', 'small', '--mode', 'text', '--json');
    expect(text.code).toBe(0);
    expect(JSON.parse(text.stdout).results.map((r: Result) => r.doc_id)).toEqual(['badges.md']);
  });
});
