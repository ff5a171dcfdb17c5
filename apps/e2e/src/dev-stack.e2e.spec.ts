import { LanceDbStore, LocalHashEmbedder, ParsePool, ingestDocuments, type Embedder } from '@rag/retrieval';
import { WORKSPACE_ROOT, freePort, json, ping, tempDir, type TempDir } from '@rag/testing';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { launchDevStack, stopDevStack } from './support/dev-stack';

// `npm start` exactly as the README has a new user run it: with nothing
// answering on the Redis port, the launcher starts its own redis-server under
// DATA_DIR, loads the sample collection and starts gateway and workers via nx.
describe('npm start (the dev stack)', () => {
  let data: TempDir;
  let launcher: ChildProcess;
  let output = '';
  let port: number;
  let redisPort: number;

  beforeAll(async () => {
    data = tempDir('rag-devstack-');
    port = await freePort();
    redisPort = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: data.path, DEV_REDIS_PORT: String(redisPort) };
    delete env.REDIS_URL;
    launcher = launchDevStack(env, (text) => (output += text));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok && (output.match(/"message":"consuming"/g) ?? []).length >= 2) break;
      if (Date.now() > deadline || launcher.exitCode !== null) throw new Error(`stack did not start:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  afterAll(async () => {
    // If a test failed before the SIGTERM test ran, the stack is still up.
    await stopDevStack(launcher, 15_000);
    data?.remove();
  });

  it('answers the README example with a cited answer from the sample collection, with the dev key it printed', async () => {
    expect(output).toContain(`started a private redis-server on 127.0.0.1:${redisPort}`);
    const printed = /dev API key \(tenant default[^)]*\): (rag_[A-Za-z0-9_-]+)/.exec(output)?.[1];
    const keyFile = path.join(data.path, 'dev-api-key');
    expect(printed).toBeDefined();
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(printed);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const auth = { authorization: `Bearer ${printed}` };
    const anonymous = await fetch(`http://127.0.0.1:${port}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"q"}',
    });
    expect(anonymous.status).toBe(401);
    const accepted = await fetch(`http://127.0.0.1:${port}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query: 'How many vacation days do new employees get?', collection: 'sample' }),
    });
    expect(accepted.status).toBe(202);
    const { job_id } = await json(accepted);
    const view = await json(await fetch(`http://127.0.0.1:${port}/v1/jobs/${job_id}?wait=20`, { headers: auth }));
    expect(view.status).toBe('completed');
    expect(view.result.answer).toContain('25 vacation days');
    expect(view.result.citations[0].source).toBe('vacation-policy.md');
  });

  it('serves the chat page at / and tells where it is and how to sign in', async () => {
    expect(output).toContain(`chat page: open http://127.0.0.1:${port} in a browser and sign in with the dev key above`);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('data/dev-api-key');
    expect(html).toContain('<script type="module" src="/ui/app.js"></script>');
    expect((await fetch(`http://127.0.0.1:${port}/ui/app.js`)).status).toBe(200);
  });

  it('answers questions that name no collection from the sample documents, through /chat and /v1/chat', async () => {
    const auth = { authorization: `Bearer ${readFileSync(path.join(data.path, 'dev-api-key'), 'utf8').trim()}` };
    const original = await fetch(`http://127.0.0.1:${port}/chat?query=${encodeURIComponent('How many vacation days do new employees get?')}`, {
      method: 'POST',
      headers: auth,
    });
    const versioned = await fetch(`http://127.0.0.1:${port}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query: 'How many vacation days do new employees get?' }),
    });
    for (const accepted of [original, versioned]) {
      expect(accepted.status).toBe(202);
      const { job_id } = await json(accepted);
      const view = await json(await fetch(`http://127.0.0.1:${port}/job-status?job_id=${job_id}`, { headers: auth }));
      const done = view.status === 'completed' ? view : await json(await fetch(`http://127.0.0.1:${port}/v1/jobs/${job_id}?wait=20`, { headers: auth }));
      expect(done.status).toBe('completed');
      expect(done.result.answer).toContain('25 vacation days');
      expect(done.result.citations[0].source).toBe('vacation-policy.md');
    }
    expect(output).toContain('seeding the default collection "default"');
  });

  it('stops everything it started on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The private redis-server and the apps are gone.
    for (let i = 0; i < 40 && (await ping(redisPort)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await ping(redisPort)).toBe(false);
    const gatewayDown = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => false,
      () => true,
    );
    expect(gatewayDown).toBe(true);
  });

  it('says how to install Redis and exits non-zero when redis-server is missing', async () => {
    const emptyPath = tempDir('rag-nopath-');
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: emptyPath.path, DATA_DIR: data.path, DEV_REDIS_PORT: String(await freePort()) };
      delete env.REDIS_URL;
      const run = spawnSync(process.execPath, [path.join(WORKSPACE_ROOT, 'tools/dev-stack/start.mjs')], {
        cwd: WORKSPACE_ROOT,
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('redis-server is not installed');
      expect(run.stderr).toContain('apt-get install redis-server');
      expect(run.stderr).toContain('brew install redis');
      expect(run.stderr).toContain('docker run -d -p 6379:6379 valkey/valkey');
    } finally {
      emptyPath.remove();
    }
  });
});

// `npm start` over the data of an older version, whose local embedder was another one: the sample and default
// collections refuse the current embedder, and the launcher rebuilds them through the workers instead of failing.
describe('npm start over collections built with an older embedder', () => {
  let data: TempDir;
  let launcher: ChildProcess;
  let output = '';
  let port: number;

  beforeAll(async () => {
    data = tempDir('rag-devstack-old-');
    // What an earlier version left: both collections, the sample documents, vectors of another embedder.
    const older: Embedder = { id: 'local-hash-v2-384', dimension: 384, embed: (texts) => new LocalHashEmbedder(384).embed(texts) };
    const store = await LanceDbStore.open(path.join(data.path, 'lancedb'));
    const parser = new ParsePool();
    const docs = path.join(WORKSPACE_ROOT, 'tools/dev-stack/sample-docs');
    const files = readdirSync(docs).map((id) => ({ id, read: async () => readFileSync(path.join(docs, id)) }));
    for (const collection of ['sample', 'default'])
      await ingestDocuments({ store, embedder: older, parser }, files, { tenant: 'default', collection, chunking: { size: 300, overlap: 50 } });
    await parser.close();
    await store.close();
    port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: data.path, DEV_REDIS_PORT: String(await freePort()) };
    delete env.REDIS_URL;
    launcher = launchDevStack(env, (text) => (output += text));
    const deadline = Date.now() + 120_000;
    while ((output.match(/rebuilt with the current embedder/g) ?? []).length < 2) {
      if (Date.now() > deadline || launcher.exitCode !== null) throw new Error(`collections not rebuilt:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  afterAll(async () => {
    await stopDevStack(launcher, 15_000);
    data?.remove();
  });

  it('rebuilds both collections with the current embedder, then answers from each with hybrid retrieval', async () => {
    expect(output).toContain('collection "sample" was built with an older embedder; rebuilding it');
    expect(output).toContain('collection "default" was built with an older embedder; rebuilding it');
    expect(output).not.toContain('loading the sample collection failed');
    const auth = { authorization: `Bearer ${readFileSync(path.join(data.path, 'dev-api-key'), 'utf8').trim()}` };
    for (const collection of ['sample', undefined]) {
      const accepted = await fetch(`http://127.0.0.1:${port}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ query: 'How many vacation days do new employees get?', ...(collection ? { collection } : {}) }),
      });
      expect(accepted.status).toBe(202);
      const { job_id } = await json(accepted);
      const view = await json(await fetch(`http://127.0.0.1:${port}/v1/jobs/${job_id}?wait=20`, { headers: auth }));
      expect(view).toMatchObject({ status: 'completed' });
      expect(view.result.answer).toContain('25 vacation days');
    }
    const store = await LanceDbStore.open(path.join(data.path, 'lancedb'));
    try {
      expect(await store.collectionVersions('default', 'sample')).toContain(2);
      expect((await store.collectionInfo('default', 'sample.v2'))?.embedder).toMatchObject({ id: new LocalHashEmbedder().id });
    } finally {
      await store.close();
    }
  });
});
