import { runApp } from '@rag/testing';
import * as os from 'node:os';
import { LANCE_MIN_CPU_THREADS } from './lancedb.store';

const HELPER = 'libs/retrieval/src/store/lance-threads.spec-helper.ts';

const threadsIn = async (env: NodeJS.ProcessEnv) => {
  const run = await runApp(HELPER, env);
  expect(run.stderr).not.toMatch(/error/i);
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout.trim()) as { threads?: string }).threads;
};

describe('LanceDB CPU pool size (real child process)', () => {
  it('gives LanceDB at least four CPU threads when the operator set none (one thread deadlocks its full-text index writer on 2 cores)', async () => {
    expect(await threadsIn({ LANCE_CPU_THREADS: undefined })).toBe(String(Math.max(LANCE_MIN_CPU_THREADS, os.availableParallelism() - 2)));
  }, 60_000);

  it("keeps the operator's own LANCE_CPU_THREADS", async () => {
    expect(await threadsIn({ LANCE_CPU_THREADS: '7' })).toBe('7');
  }, 60_000);
});
