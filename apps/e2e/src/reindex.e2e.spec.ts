import { openIngestQueue } from '@rag/jobs';
import type { Citation } from '@rag/queue-contracts';
import { LanceDbStore } from '@rag/retrieval';
import { json, runApp, type AppProcess, type JsonBody } from '@rag/testing';
import type { Queue } from 'bull';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_MAIN, askAndWait, postChat, uploadFiles, useStack } from './support/stack';

const DOCS = 12;
const TOPICS = ['budget', 'vacation', 'backup', 'deploy', 'security', 'travel'];

/** A page of several paragraphs: one chunk at the default CHUNK_SIZE, several at a small one. */
function page(i: number): string {
  const topic = TOPICS[i % TOPICS.length];
  const paragraph = (n: number) => `Rule ${i}.${n}: the ${topic} rule number ${n} of team ${i} applies to everyone in team ${i} from day ${n}.`;
  return `# Team ${i} ${topic} handbook\n\n${[1, 2, 3, 4, 5, 6].map(paragraph).join('\n\n')}\n`;
}

/** Every chunk of a collection's version as LanceDB holds it: "<id>\n<text>" (a citation carries both). */
async function chunkKeys(dataDir: string, collection: string): Promise<Set<string>> {
  const store = await LanceDbStore.open(path.join(dataDir, 'lancedb'));
  try {
    const keys = new Set<string>();
    for (const doc of await store.listDocuments('default', collection)) {
      for (const c of await store.documentChunks('default', collection, doc.docId)) keys.add(`${c.id}\n${c.text}`);
    }
    return keys;
  } finally {
    await store.close();
  }
}

const citationKey = (c: Citation) => `${c.id}\n${c.chunk}`;

/** Reads GET /v1/collections/:name/reindex until `done` holds (at most 60 s). */
async function reindexStatus(base: string, collection: string, done: (view: JsonBody) => boolean) {
  let view = await json(await fetch(`${base}/v1/collections/${collection}/reindex`));
  for (let i = 0; i < 240 && !done(view); i++) {
    await new Promise((r) => setTimeout(r, 250));
    view = await json(await fetch(`${base}/v1/collections/${collection}/reindex`));
  }
  return view;
}

// Reindexing with real processes: a gateway, two workers and the CLI on a
// private redis-server. The collection was loaded at the default CHUNK_SIZE;
// the workers run with a small one, so the two versions' chunks differ.
// Questions are asked without pause throughout the rebuild and after the
// switch: none may fail, and each answer must cite one version only.
describe('reindex without downtime (gateway, workers, CLI)', () => {
  const stack = useStack('rag-reindex-e2e-');
  let env: NodeJS.ProcessEnv;
  let ingestQueue: Queue;
  let gateway: AppProcess;
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runApp(CLI_MAIN, { ...env, ...extra }, args);

  beforeAll(async () => {
    const docs = path.join(stack.data.path, 'docs');
    fs.mkdirSync(docs, { recursive: true });
    for (let i = 0; i < DOCS; i++) fs.writeFileSync(path.join(docs, `team-${i}.md`), page(i));
    env = { ...stack.env, CHUNK_SIZE: '300', CHUNK_OVERLAP: '50' };
    const load = await cli([docs, '--collection', 'kb', '--json']);
    expect(load.code).toBe(0);
    // From here on, every process chunks small: the rebuild's new setting.
    env = { ...stack.env, CHUNK_SIZE: '40', CHUNK_OVERLAP: '10', INGEST_CONCURRENCY: '1' };
    ({ gateway } = await stack.startGatewayAndWorkers(env, { workers: 2 }));
    ingestQueue = openIngestQueue({ REDIS_URL: stack.redis.url, QUEUE_PREFIX: 'rag' });
    stack.onTeardown(() => ingestQueue.close());
  });

  it('answers every question throughout the rebuild, each from exactly one version, then switches and drops the old version', async () => {
    const dataDir = env.DATA_DIR as string;
    const v1 = await chunkKeys(dataDir, 'kb');
    expect(v1.size).toBe(DOCS);

    const answers: { status: string; citations: Citation[]; error?: unknown }[] = [];
    let asking = true;
    const ask = async (from: number) => {
      for (let n = from; asking; n += 2) {
        const team = n % DOCS;
        try {
          const state = await askAndWait(
            stack.base,
            { query: `What does the ${TOPICS[team % TOPICS.length]} rule number 3 of team ${team} say?`, collection: 'kb' },
            20,
          );
          answers.push({ status: state.status, citations: state.result?.citations ?? [], error: state.error });
        } catch (error) {
          answers.push({ status: 'request_failed', citations: [], error: String(error) + String((error as Error).cause) });
        }
      }
    };
    const askers = [ask(0), ask(1)];
    let v2 = new Set<string>();
    const fromV2 = () => answers.filter((a) => a.citations.length > 0 && a.citations.every((c) => v2.has(citationKey(c)))).length;
    try {
      // The rebuild is started with the ingest queue paused, so what it refuses meanwhile can be seen.
      await ingestQueue.pause();
      const started = await fetch(`${stack.base}/v1/collections/kb/reindex`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grace_seconds: 600 }),
      });
      expect(started.status).toBe(202);
      const run = await json(started);
      expect(run).toMatchObject({
        collection: 'kb',
        from_version: 1,
        to_version: 2,
        documents: DOCS,
        grace_seconds: 600,
        status_url: '/v1/collections/kb/reindex',
      });
      expect(await json(await fetch(`${stack.base}/v1/collections/kb/reindex`))).toMatchObject({
        active_version: 1,
        rebuilding: { run_id: run.run_id, to_version: 2 },
        last: { state: 'rebuilding', progress: { queued: DOCS, done: 0 } },
      });
      // Writes would be missing from the new version: refused until the switch.
      const upload = new FormData();
      upload.append('file', new Blob(['# New\n\nA new page.\n']), 'new.md');
      const refused = await fetch(`${stack.base}/v1/collections/kb/documents`, { method: 'POST', body: upload });
      expect(refused.status).toBe(409);
      expect((await json(refused)).error).toMatchObject({ code: 'reindex_in_progress', details: { run_id: run.run_id } });
      const deleted = await fetch(`${stack.base}/v1/collections/kb/documents/team-0.md`, { method: 'DELETE' });
      expect(deleted.status).toBe(409);
      expect((await fetch(`${stack.base}/v1/collections/kb/reindex`, { method: 'POST' })).status).toBe(409);
      await ingestQueue.resume();

      const status = await cli(['status', run.run_id, '--json']);
      expect(status.code).toBe(0);
      const switched = await reindexStatus(stack.base, 'kb', (v) => v.last?.state !== 'rebuilding');
      expect(switched).toMatchObject({ active_version: 2, rebuilding: null, last: { state: 'switched', from_version: 1, to_version: 2 } });
      v2 = await chunkKeys(dataDir, 'kb.v2');
      expect(v2.size).toBeGreaterThan(DOCS);
      // The versions are told apart by their chunks: no (id, text) is in both.
      expect([...v2].filter((k) => v1.has(k))).toEqual([]);

      // Keep asking until some answers come from the new version, then until the old one is dropped.
      for (let i = 0; i < 400 && fromV2() < 4; i++) await new Promise((r) => setTimeout(r, 50));
      // The grace period (600 s) is cut short: the delayed drop job runs now, while questions are still being asked.
      await (await ingestQueue.getJob(`drop-version:${run.run_id}`))?.promote();
      const dropped = await reindexStatus(stack.base, 'kb', (v) => v.last?.state === 'old_version_dropped');
      expect(dropped.last).toMatchObject({ state: 'old_version_dropped' });
      const afterDrop = answers.length;
      for (let i = 0; i < 400 && answers.length < afterDrop + 4; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      asking = false;
      await Promise.all(askers);
    }

    expect(answers.length).toBeGreaterThan(10);
    const failures = answers.filter((a) => a.status !== 'completed');
    if (failures.length > 0)
      process.stderr.write(
        `${JSON.stringify(failures.slice(0, 3))}\n${JSON.stringify(
          gateway
            .logs()
            .filter((l) => l.level !== 'info')
            .slice(-10),
        )}\n`,
      );
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 'completed' });
      expect(answer.citations.length).toBeGreaterThan(0);
      const inV1 = answer.citations.every((c) => v1.has(citationKey(c)));
      const inV2 = answer.citations.every((c) => v2.has(citationKey(c)));
      // Exactly one version: every citation from v1, or every one from v2.
      expect([inV1, inV2]).toContainEqual(true);
      expect(inV1 && inV2).toBe(false);
    }
    expect(answers.filter((a) => a.citations.every((c) => v1.has(citationKey(c)))).length).toBeGreaterThan(0);
    expect(fromV2()).toBeGreaterThanOrEqual(4);

    // Version 1's table is gone; the collection is listed once and takes writes again, into version 2.
    expect(await chunkKeys(dataDir, 'kb')).toEqual(new Set());
    expect(JSON.parse((await cli(['list', '--json'])).stdout)).toEqual(['kb']);
    const statusUrl = await uploadFiles(stack.base, 'kb', [['new.md', '# New\n\nThe parking rule: park in zone B.\n']]);
    expect(statusUrl).toMatch(/^\/v1\/ingest-runs\//);
    const answer = await askAndWait(stack.base, { query: 'Where do I park?', collection: 'kb' }, 20);
    for (let i = 0; i < 40 && answer.result?.citations?.[0]?.source !== 'new.md'; i++) {
      await new Promise((r) => setTimeout(r, 250));
      Object.assign(answer, await askAndWait(stack.base, { query: 'Where do I park?', collection: 'kb' }, 20));
    }
    expect(answer.result.citations[0]).toMatchObject({ source: 'new.md' });
  });

  it('rag-ingest reindex rebuilds again from the CLI, following the run, and says where it switched', async () => {
    const run = await cli(['reindex', '--collection', 'kb', '--grace-seconds', '0', '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('rebuilding collection kb as version 3');
    expect(JSON.parse(run.stdout)).toMatchObject({
      from_version: 2,
      to_version: 3,
      state: expect.stringMatching(/^(switched|old_version_dropped)$/),
      documents: DOCS + 1,
    });
    const state = await askAndWait(stack.base, { query: 'What does the budget rule number 3 of team 0 say?', collection: 'kb' }, 20);
    expect(state.status).toBe('completed');
    // Refused by name: an unknown collection, a bad grace period.
    expect((await cli(['reindex', '--collection', 'nope'])).stderr).toContain('collection "nope" does not exist');
    expect((await cli(['reindex', '--collection', 'kb', '--grace-seconds', '-1'])).code).toBe(2);
  });
});

// A rebuild that fails (the embeddings API refuses every text while it runs)
// leaves the old version answering, and the half-built one dropped.
describe('a failed reindex (gateway, worker, fake OpenAI)', () => {
  const stack = useStack('rag-reindex-fail-', { fakeOpenAI: { dimension: 64 } });
  let env: NodeJS.ProcessEnv;
  let ingestQueue: Queue;

  beforeAll(async () => {
    env = { ...stack.env, EMBEDDINGS: 'openai', OPENAI_BASE_URL: stack.fake.url, OPENAI_API_KEY: 'sk-test-reindex', EMBEDDING_DIM: '64', JOB_ATTEMPTS: '1' };
    const docs = path.join(stack.data.path, 'docs');
    fs.mkdirSync(docs, { recursive: true });
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(docs, `team-${i}.md`), page(i));
    expect((await runApp(CLI_MAIN, env, [docs, '--collection', 'kb'])).code).toBe(0);
    await stack.startGatewayAndWorkers(env, { workers: 1 });
    ingestQueue = openIngestQueue({ REDIS_URL: stack.redis.url, QUEUE_PREFIX: 'rag' });
    stack.onTeardown(() => ingestQueue.close());
  });

  it('keeps answering from the old version', async () => {
    const before = await askAndWait(stack.base, { query: 'What does the budget rule number 3 of team 0 say?', collection: 'kb' }, 20);
    expect(before.status).toBe('completed');

    await ingestQueue.pause();
    const started = await fetch(`${stack.base}/v1/collections/kb/reindex`, { method: 'POST' });
    expect(started.status).toBe(202);
    stack.fake.setOptions({ fault: { kind: 'status401', endpoints: ['embeddings'] } });
    await ingestQueue.resume();
    const failed = await reindexStatus(stack.base, 'kb', (v) => v.last?.state !== 'rebuilding');
    stack.fake.setOptions({ fault: null });
    expect(failed).toMatchObject({
      active_version: 1,
      rebuilding: null,
      last: { state: 'failed', to_version: 2, error: expect.stringContaining('could not be rebuilt') },
    });
    expect(failed.last.progress).toMatchObject({ queued: 4, failed: 4 });

    const after = await askAndWait(stack.base, { query: 'What does the budget rule number 3 of team 0 say?', collection: 'kb' }, 20);
    expect(after.status).toBe('completed');
    expect(after.result.citations).toEqual(before.result.citations);
    // The half-built version is gone; the collection takes writes again.
    const store = await LanceDbStore.open(path.join(env.DATA_DIR as string, 'lancedb'));
    try {
      expect(await store.collectionVersions('default', 'kb')).toEqual([1]);
    } finally {
      await store.close();
    }
    const res = await postChat(stack.base, { query: 'still there?', collection: 'kb' });
    expect(res.status).toBe(202);
    expect((await fetch(`${stack.base}/v1/collections/kb/documents/team-3.md`, { method: 'DELETE' })).status).toBe(200);
  });
});
