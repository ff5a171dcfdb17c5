import type { Citation } from '@rag/queue-contracts';
import { documentBytesKeys, json, keysWithoutExpiry, makePdf, runApp, type AppProcess } from '@rag/testing';
import Redis from 'ioredis';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_MAIN, askAndWait, finishedRun, useStack } from './support/stack';

const DOCS = 40;

// Queued ingestion with real processes: the CLI sends one job per changed
// document to rag-ingest, two workers load them beside their questions, and
// the CLI follows the run; then re-runs, edits, prunes, and questions asked
// while every document is being replaced.
describe('ingestion through the queue (rag-ingest --via-queue)', () => {
  const stack = useStack('rag-ingest-queue-');
  let client: Redis;
  let docs: string;
  let env: NodeJS.ProcessEnv;
  let workers: AppProcess[] = [];
  const cli = (args: string[]) => runApp(CLI_MAIN, env, args);
  const writeVersion = (version: number) => {
    for (let i = 0; i < DOCS; i++) {
      fs.writeFileSync(
        path.join(docs, 'topics', `topic-${i}.md`),
        `# Topic ${i}\n\n## Code word\n\nThe code word of topic number ${i} is word-${i}-v${version}. Version ${version} of this page.\n`,
      );
    }
  };
  const ids = async () => JSON.parse((await cli(['list', '--collection', 'kb', '--json'])).stdout).map((d: { docId: string }) => d.docId) as string[];

  beforeAll(async () => {
    client = new Redis(stack.redis.url);
    stack.onTeardown(() => client.disconnect());
    docs = path.join(stack.data.path, 'docs');
    fs.mkdirSync(path.join(docs, 'topics'), { recursive: true });
    writeVersion(1);
    fs.writeFileSync(path.join(docs, 'manual.pdf'), await makePdf('Manual', [['Intro page.'], ['The reset button is on the back panel.']]));
    fs.writeFileSync(path.join(docs, 'broken.pdf'), '%PDF-1.4 broken');
    env = { ...stack.env, INGEST_CONCURRENCY: '2', JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '100' };
    ({ workers } = await stack.startGatewayAndWorkers(env, { workers: 2 }));
  });

  it('loads every document through the workers, spread over both, and reports the broken one', async () => {
    const run = await cli([docs, '--collection', 'kb', '--via-queue', '--json']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ documents: DOCS + 2, added: DOCS + 1, updated: 0, unchanged: 0, removed: [] });
    expect(summary.failed).toEqual([{ id: 'broken.pdf', error: expect.stringContaining('not a readable PDF') }]);
    expect(summary.chunks).toBeGreaterThanOrEqual(DOCS + 2);
    expect(run.stderr).toMatch(/run [0-9a-f-]{36}: 42 document\(s\) queued/);
    expect(run.stderr).toContain('ingesting');
    expect(run.stderr).toContain('failed broken.pdf');
    // Both workers took documents.
    for (const worker of workers) expect(worker.logs().filter((l) => l.message === 'document ingested').length).toBeGreaterThan(0);
    expect((await ids()).length).toBe(DOCS + 1);

    const status = await cli(['status', summary.run_id, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      run_id: summary.run_id,
      status: 'completed_with_failures',
      queued: DOCS + 2,
      added: DOCS + 1,
      failed: 1,
      finished: true,
    });
    const text = await cli(['status', summary.run_id]);
    expect(text.stdout).toContain('completed_with_failures, 42/42 queued documents done');
    // Loaded or failed for good, no document's bytes are left in Redis.
    expect(await documentBytesKeys(client, 'rag')).toEqual([]);
  });

  it('answers from the documents loaded by the workers, citing the PDF page', async () => {
    const state = await askAndWait(stack.base, { query: 'Where is the reset button?', collection: 'kb' }, 20);
    expect(state.status).toBe('completed');
    expect(state.result.citations[0]).toMatchObject({ source: 'manual.pdf', page: 2 });
  });

  it('sends nothing when nothing changed, and only the changed document after an edit', async () => {
    fs.rmSync(path.join(docs, 'broken.pdf'));
    const again = await cli([docs, '--collection', 'kb', '--via-queue', '--json', '--no-progress']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, updated: 0, unchanged: DOCS + 1, chunks: 0 });
    expect(again.stderr).toContain('0 document(s) queued');

    fs.writeFileSync(path.join(docs, 'topics', 'topic-3.md'), '# Topic 3\n\n## Code word\n\nThe code word of topic number 3 is edited-word.\n');
    fs.rmSync(path.join(docs, 'topics', 'topic-4.md'));
    const edited = await cli([docs, '--collection', 'kb', '--via-queue', '--prune', '--json', '--no-progress']);
    expect(edited.code).toBe(0);
    expect(JSON.parse(edited.stdout)).toMatchObject({ added: 0, updated: 1, unchanged: DOCS - 1, removed: ['topics/topic-4.md'] });
    expect(await ids()).not.toContain('topics/topic-4.md');
  });

  it('queues and returns at once with --no-wait; status follows the run', async () => {
    // Every topic changes, and the pruned topic 4 comes back.
    writeVersion(2);
    const queued = await cli([docs, '--collection', 'kb', '--via-queue', '--no-wait', '--json']);
    expect(queued.code).toBe(0);
    const { run_id, queued: count } = JSON.parse(queued.stdout);
    expect(count).toBe(DOCS);
    let status = JSON.parse((await cli(['status', run_id, '--json'])).stdout);
    for (let i = 0; i < 60 && !status.finished; i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = JSON.parse((await cli(['status', run_id, '--json'])).stdout);
    }
    expect(status).toMatchObject({ status: 'completed', updated: DOCS - 1, added: 1, failed: 0 });
  });

  it('never shows a question two versions of a document, or none, while every document is replaced', async () => {
    writeVersion(3);
    const load = cli([docs, '--collection', 'kb', '--via-queue', '--json', '--no-progress']);
    let asked = 0;
    let finished = false;
    void load.then(() => (finished = true));
    while (!finished || asked < 10) {
      const i = asked % DOCS;
      const state = await askAndWait(
        stack.base,
        { query: `What is the code word of topic number ${i}?`, collection: 'kb', top_k: 10, filters: { sources: [`topics/topic-${i}.md`] } },
        20,
      );
      expect(state.status).toBe('completed');
      const citations = state.result.citations as Citation[];
      // Exactly one version of the document is visible: never both, never neither.
      expect(citations.length).toBeGreaterThan(0);
      const versions = new Set(citations.map((c) => /Version (\d)/.exec(c.chunk)?.[1]));
      expect(versions.size).toBe(1);
      asked++;
    }
    const summary = JSON.parse((await load).stdout);
    expect(summary).toMatchObject({ updated: DOCS, failed: [] });
    expect(asked).toBeGreaterThanOrEqual(10);
  });

  it('loads files uploaded to POST /v1/collections/:name/documents through the same workers', async () => {
    const body = new FormData();
    body.append(
      'file',
      new Blob([await makePdf('Fire safety', [['Cover page.'], ['Fire drills happen on the first Monday of each month.']])]),
      'safety/fire.pdf',
    );
    body.append('file', new Blob(['# Lunch\n\n## Menu\n\nSoup is served every Wednesday.']), 'lunch.md');
    const res = await fetch(`${stack.base}/v1/collections/uploaded/documents`, { method: 'POST', body });
    expect(res.status).toBe(202);
    const { run_id, status_url, documents } = await json(res);
    expect(documents.map((d: { doc_id: string }) => d.doc_id)).toEqual(['safety/fire.pdf', 'lunch.md']);
    const run = await finishedRun(stack.base, status_url, 60);
    expect(run).toMatchObject({ run_id, status: 'completed', added: 2, failed: 0 });
    const state = await askAndWait(stack.base, { query: 'When are fire drills?', collection: 'uploaded' }, 20);
    expect(state.result.citations[0]).toMatchObject({ source: 'safety/fire.pdf', page: 2 });
    // The same upload again changes nothing: the workers find the hashes unchanged.
    const again = new FormData();
    again.append('file', new Blob(['# Lunch\n\n## Menu\n\nSoup is served every Wednesday.']), 'lunch.md');
    const second = await json(await fetch(`${stack.base}/v1/collections/uploaded/documents`, { method: 'POST', body: again }));
    const rerun = await finishedRun(stack.base, second.status_url, 60);
    expect(rerun).toMatchObject({ status: 'completed', added: 0, updated: 0, skipped: 1, chunks: 0 });
    expect(await documentBytesKeys(client, 'rag')).toEqual([]);
  });

  it("waits, at the tenant's INGEST_MAX_PENDING_BYTES_PER_TENANT, for the workers to load earlier documents", async () => {
    const bulk = path.join(stack.data.path, 'bulk');
    fs.mkdirSync(bulk, { recursive: true });
    for (let i = 0; i < 12; i++)
      fs.writeFileSync(path.join(bulk, `part-${i}.md`), `# Part ${i}\n\n${`Filler sentence number ${i} for the bulk load. `.repeat(30)}\n`);
    // Room for about two documents at a time.
    const run = await runApp('apps/ingest-cli/src/main.ts', { ...env, INGEST_MAX_PENDING_BYTES_PER_TENANT: '3000' }, [
      bulk,
      '--collection',
      'bulk',
      '--via-queue',
      '--json',
      '--no-progress',
    ]);
    expect([run.code, run.stderr]).toEqual([0, expect.stringContaining('waiting for them to load earlier documents')]);
    expect(JSON.parse(run.stdout)).toMatchObject({ documents: 12, added: 12, failed: [] });
    expect(await documentBytesKeys(client, 'rag')).toEqual([]);
  });

  it("leaves, after every run, no key in Redis without an expiry (other than Bull's own and API keys)", async () => {
    expect(await keysWithoutExpiry(client, 'rag')).toEqual([]);
  });

  it('refuses a malformed run id with exit 2 and says an unknown one is not kept', async () => {
    const bad = await cli(['status', 'not-a-run']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a run id');
    const unknown = await cli(['status', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('runs are kept for JOB_RETENTION_SECONDS');
  });
});
