import { WORKSPACE_ROOT, runApp, type AppProcess } from '@rag/testing';
import * as path from 'node:path';

/** The question the single-question scenarios ask, answered from the sample collection. */
export const SAMPLE_QUESTION = 'How many vacation days do new employees get?';

/** Loads tools/dev-stack/sample-docs into collection `sample` of `tenant` with the ingest CLI, under `env`; throws with its stderr if that fails. */
export async function ingestSample(env: NodeJS.ProcessEnv, tenant = 'default'): Promise<void> {
  const load = await runApp('apps/ingest-cli/src/main.ts', env, [
    path.join(WORKSPACE_ROOT, 'tools/dev-stack/sample-docs'),
    '--collection',
    'sample',
    '--tenant',
    tenant,
    '--no-progress',
  ]);
  if (load.code !== 0) throw new Error(load.stderr);
}

/** Resolves once a server (gateway or bench server) logs that it listens. */
export const listening = (app: AppProcess) => app.waitForLog((l) => l.message === 'listening', 60_000);

/** Resolves once a worker logs that it consumes its queues. */
export const consuming = (app: AppProcess) => app.waitForLog((l) => l.message === 'consuming', 60_000);

/** POST /v1/chat of `query` about the sample collection to the server on `port`. */
export function postQuestion(port: number, query = SAMPLE_QUESTION): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, collection: 'sample' }),
  });
}

/** What every app of a run is given: its Redis, `<dataDir>/data`, production mode, workers that take no ingest jobs; then `settings`. */
export function benchEnv(redisUrl: string, dataDir: string, settings: Record<string, string>): NodeJS.ProcessEnv {
  return { REDIS_URL: redisUrl, DATA_DIR: path.join(dataDir, 'data'), NODE_ENV: 'production', INGEST_CONCURRENCY: '0', ...settings };
}

/** Settings that put the LLM on a tools/fake-openai server. */
export const fakeLLM = (url: string) => ({ LLM: 'openai', OPENAI_BASE_URL: url, OPENAI_API_KEY: 'bench' });
