import { json, openEventStream, runApp, type SseEvent } from '@rag/testing';
import * as path from 'node:path';
import { CLI_MAIN, useStack } from './support/stack';

const CORPUS = path.join(__dirname, '../fixtures/corpus');
const KEY = 'sk-events-key';
const payload = (e: SseEvent) => JSON.parse(e.data) as Record<string, unknown>;
const text = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === 'token')
    .map((e) => payload(e).text)
    .join('');

// A question followed live, as `curl -N` follows it: the gateway, a worker and the CLI as real processes,
// the answer streamed by an OpenAI-compatible LLM (the fake), the events read chunk by chunk from 202 to done.
describe('following a question over Server-Sent Events end to end', () => {
  const stack = useStack('rag-events-', { fakeOpenAI: { dimension: 64, apiKey: KEY, perTokenMs: 5 } });

  beforeAll(async () => {
    const env = { ...stack.env, ...stack.openAIEnv(KEY), JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '200', SSE_HEARTBEAT_MS: '1000' };
    const ingest = await runApp(CLI_MAIN, env, [CORPUS, '--collection', 'handbook', '--no-progress']);
    expect(ingest.code).toBe(0);
    await stack.startGatewayAndWorkers(env);
  });

  const ask = async (query: string) => {
    const res = await fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, collection: 'handbook', stream: true }),
    });
    expect(res.status).toBe(202);
    return (await json(res)) as { job_id: string; events_url: string };
  };

  it('streams the status, stages, tokens and citations of a real answer from the 202 to done', async () => {
    const { job_id, events_url } = await ask('When does the cafeteria serve lunch?');
    expect(events_url).toBe(`/v1/jobs/${job_id}/events`);
    const stream = await openEventStream(`${stack.base}${events_url}`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = await stream.rest(30_000);
    await stream.ended;
    expect(events[0]).toMatchObject({ event: 'status' });
    expect(payload(events[0])).toEqual({ status: 'active', attempt: 1 });
    expect(events.filter((e) => e.event === 'stage').map((e) => payload(e).stage)).toEqual(expect.arrayContaining(['retrieving', 'generating']));
    expect(events.filter((e) => e.event === 'token').length).toBeGreaterThan(1);
    const citations = events.filter((e) => e.event === 'citation').map(payload);
    expect(citations.map((c) => c.source)).toContain('cafeteria.txt');
    expect(events.at(-1)?.event).toBe('done');
    expect(events.every((e) => /^\d+-\d+$/.test(e.id ?? ''))).toBe(true);
    // The streamed text is the stored answer.
    const view = await json(await fetch(`${stack.base}/v1/jobs/${job_id}`));
    expect(view.status).toBe('completed');
    expect(text(events)).toBe(view.result.answer);
  }, 60_000);

  it("shows a retried attempt's marker, then the new attempt's text, in the same stream", async () => {
    // The LLM's stream is cut after a few chunks, once: the first attempt fails and is retried.
    stack.fake.setOptions({ fault: { kind: 'drop', endpoints: ['chat'], times: 1, dropAfterChunks: 3 } });
    try {
      const { job_id, events_url } = await ask('How much does a parking permit cost?');
      const stream = await openEventStream(`${stack.base}${events_url}`);
      const events = await stream.rest(30_000);
      const failed = events.findIndex((e) => e.event === 'error');
      expect(failed).toBeGreaterThan(0);
      expect(payload(events[failed])).toMatchObject({ permanent: false, will_retry: true });
      const retry = events.findIndex((e) => e.event === 'status' && payload(e).attempt === 2);
      expect(retry).toBeGreaterThan(failed);
      expect(payload(events[retry])).toEqual({ status: 'active', attempt: 2 });
      expect(events.at(-1)?.event).toBe('done');
      // A client that drops the text before the marker has exactly the answer.
      const view = await json(await fetch(`${stack.base}/v1/jobs/${job_id}`));
      expect(view).toMatchObject({ status: 'completed', attempts: 2 });
      expect(text(events.slice(retry))).toBe(view.result.answer);
    } finally {
      stack.fake.setOptions({ fault: null });
    }
  }, 60_000);
});
