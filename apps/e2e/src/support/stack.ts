import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from '@rag/fake-openai';
import { freePort, json, startApp, startRedis, startedFields, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import * as path from 'node:path';

export const GATEWAY_MAIN = 'apps/api-gateway/src/main.ts';
export const WORKER_MAIN = 'apps/rag-worker/src/main.ts';
export const CLI_MAIN = 'apps/ingest-cli/src/main.ts';

export interface StackOptions {
  /** Also start a fake OpenAI server with these options. */
  fakeOpenAI?: FakeOpenAIOptions;
}

export interface Stack {
  readonly redis: PrivateRedis;
  readonly data: TempDir;
  /** The fake OpenAI server (only when the options asked for one). */
  readonly fake: FakeOpenAI;
  /** The gateway's port, free when the suite started, and its base URL. */
  readonly port: number;
  readonly base: string;
  /** What every app of the suite is given: its Redis, `<data>/data`, the gateway's port, NODE_ENV=test. */
  readonly env: Record<string, string>;
  /** Settings that put both the LLM and the embeddings on the fake, with 64-dimensional vectors. */
  openAIEnv(apiKey: string): Record<string, string>;
  /** Starts an app as a real process, killed when the suite ends. */
  startApp(entry: string, env: NodeJS.ProcessEnv): AppProcess;
  /** Starts the gateway and `workers` workers and waits until it listens and they are ready. */
  startGatewayAndWorkers(env: NodeJS.ProcessEnv, options?: { workers?: number; workerReady?: string }): Promise<{ gateway: AppProcess; workers: AppProcess[] }>;
  /** Runs `close` when the suite ends, before the apps, the fake and Redis stop (last registered, first run). */
  onTeardown(close: () => unknown): void;
}

/**
 * The whole stack's surroundings for the enclosing `describe`: a private
 * redis-server, a temporary folder, a free port for the gateway and, if asked,
 * a fake OpenAI server, started before its tests; after them every app started
 * through it is killed and the rest stopped and removed. Read its fields inside
 * hooks and tests (they exist only once the suite has started).
 */
export function useStack(tempPrefix: string, options: StackOptions = {}): Stack {
  let redis: PrivateRedis | undefined;
  let data: TempDir | undefined;
  let fake: FakeOpenAI | undefined;
  let port: number | undefined;
  const apps: AppProcess[] = [];
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    data = tempDir(tempPrefix);
    if (options.fakeOpenAI) fake = await startFakeOpenAI(options.fakeOpenAI);
    port = await freePort();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await Promise.all(apps.map((p) => p.stop('SIGKILL')));
    await fake?.close();
    await redis?.stop();
    data?.remove();
  });

  const fields = startedFields<Pick<Stack, 'redis' | 'data' | 'fake' | 'port'>>('useStack', {
    redis: () => redis,
    data: () => data,
    fake: () => {
      if (!options.fakeOpenAI) throw new Error('useStack: no fake OpenAI server in this suite: pass { fakeOpenAI: {...} }');
      return fake;
    },
    port: () => port,
  });
  const methods: Omit<Stack, 'redis' | 'data' | 'fake' | 'port' | 'base' | 'env'> = {
    openAIEnv: (apiKey) => openAIEnv(fields.fake.url, apiKey),
    startApp(entry, env) {
      const app = startApp(entry, env);
      apps.push(app);
      return app;
    },
    async startGatewayAndWorkers(env, { workers: count = 1, workerReady = 'consuming' } = {}) {
      const gateway = methods.startApp(GATEWAY_MAIN, env);
      const workers = Array.from({ length: count }, () => methods.startApp(WORKER_MAIN, env));
      await Promise.all([gateway.waitForLog((l) => l.message === 'listening'), ...workers.map((w) => w.waitForLog((l) => l.message === workerReady))]);
      return { gateway, workers };
    },
    onTeardown(close) {
      closers.push(close);
    },
  };
  return Object.defineProperties(Object.assign(fields, methods), {
    base: { enumerable: true, get: () => `http://127.0.0.1:${fields.port}` },
    env: {
      enumerable: true,
      get: () => ({ REDIS_URL: fields.redis.url, DATA_DIR: path.join(fields.data.path, 'data'), PORT: String(fields.port), NODE_ENV: 'test' }),
    },
  }) as Stack;
}

/** Settings that put both the LLM and the embeddings on a fake OpenAI server, with 64-dimensional vectors. */
export function openAIEnv(fakeUrl: string, apiKey: string): Record<string, string> {
  return { LLM: 'openai', EMBEDDINGS: 'openai', OPENAI_BASE_URL: fakeUrl, OPENAI_API_KEY: apiKey, EMBEDDING_DIM: '64' };
}

/** Uploads files into a collection through the gateway (202 expected); returns the ingest run's status URL. */
export async function uploadFiles(base: string, collection: string, files: [name: string, bytes: Buffer | string][]): Promise<string> {
  const body = new FormData();
  for (const [name, bytes] of files) body.append('file', new Blob([bytes]), name);
  const res = await fetch(`${base}/v1/collections/${collection}/documents`, { method: 'POST', body });
  expect(res.status).toBe(202);
  return (await json(res)).status_url as string;
}

/** Reads an ingest run every 250 ms until it has finished, at most `reads` more times (30 s by default); returns the last reading. */
export async function finishedRun(base: string, statusUrl: string, reads = 120) {
  let run = await json(await fetch(`${base}${statusUrl}`));
  for (let i = 0; i < reads && !run.finished; i++) run = (await new Promise((r) => setTimeout(r, 250)), await json(await fetch(`${base}${statusUrl}`)));
  return run;
}

/** POST /v1/chat of `body` to the gateway at `base`. */
export function postChat(base: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Asks through the gateway at `base` and waits up to `waitSeconds` for the job; returns the job's view as GET /v1/jobs/:id gives it. */
export async function askAndWait(base: string, body: Record<string, unknown>, waitSeconds: number) {
  const { job_id } = await json(await postChat(base, body));
  return json(await fetch(`${base}/v1/jobs/${job_id}?wait=${waitSeconds}`));
}

/** The job ids in the log lines of `apps` whose message is one of `messages`. */
export function loggedJobIds(apps: AppProcess[], ...messages: string[]): string[] {
  return apps.flatMap((app) =>
    app
      .logs()
      .filter((l) => messages.includes(String(l.message)))
      .map((l) => String(l.job_id)),
  );
}
