import { json, type AppProcess } from '@rag/testing';
import { finishedRun, uploadFiles, useStack } from './support/stack';

const DOCS = 6;

// A collection dropped through the gateway while two workers have it open:
// with real processes, the workers notice, a question to it fails at once
// and plainly, and an upload into the same name starts it afresh.
describe('a collection dropped while the workers have it open', () => {
  const stack = useStack('rag-dropped-');
  let workers: AppProcess[] = [];

  const upload = async () => {
    const files = Array.from({ length: DOCS }, (_, i): [string, string] => [
      `topic-${i}.md`,
      `# Topic ${i}\n\n## Code word\n\nThe code word of topic ${i} is word-${i}.\n`,
    ]);
    return finishedRun(stack.base, await uploadFiles(stack.base, 'demo', files));
  };
  const ask = async (query: string) => {
    const res = await fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, collection: 'demo' }),
    });
    const { job_id } = await json(res);
    return json(await fetch(`${stack.base}/v1/jobs/${job_id}?wait=20`));
  };
  /** Questions until both workers have answered (each then has the table open). */
  const askBoth = async () => {
    const answered = () => workers.map((w) => w.logs().filter((l) => l.message === 'job completed').length);
    const before = answered();
    const states = [];
    for (let round = 0; round < 10 && answered().some((n, i) => n === before[i]); round++) {
      states.push(...(await Promise.all(Array.from({ length: 4 }, (_, i) => ask(`What is the code word of topic ${i}?`)))));
    }
    expect(answered().every((n, i) => n > before[i])).toBe(true);
    return states;
  };

  beforeAll(async () => {
    const env = { ...stack.env, INGEST_CONCURRENCY: '2', JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '100', BREAKER_FAILURES: '3' };
    ({ workers } = await stack.startGatewayAndWorkers(env, { workers: 2 }));
  });

  it('answers again after drop and re-upload, with no failures, no open breaker and no internal text shown', async () => {
    expect(await upload()).toMatchObject({ status: 'completed', added: DOCS, failed: 0 });
    for (const state of await askBoth()) expect(state).toMatchObject({ status: 'completed' });

    expect((await fetch(`${stack.base}/v1/collections/demo`, { method: 'DELETE' })).status).toBeLessThan(300);
    // A question to the dropped collection fails at once, in plain words, without paths.
    for (let i = 0; i < 6; i++) {
      const gone = await ask('What is the code word of topic 1?');
      expect(gone).toMatchObject({ status: 'failed', attempts: 1, error: { message: expect.stringContaining('collection "demo" does not exist') } });
      expect(JSON.stringify(gone)).not.toMatch(/lance|_versions|\/tmp\//i);
    }

    const again = await upload();
    expect(again).toMatchObject({ status: 'completed', added: DOCS, failed: 0, failures: [] });
    const states = await askBoth();
    for (const state of states) expect(state).toMatchObject({ status: 'completed' });
    expect(states.some((s) => s.result.citations[0]?.source === 'topic-2.md')).toBe(true);
    for (const worker of workers) {
      expect(worker.logs().filter((l) => l.message === 'circuit breaker changed state')).toEqual([]);
      expect(worker.logs().filter((l) => l.message === 'document ingest failed')).toEqual([]);
    }
  }, 120_000);
});
