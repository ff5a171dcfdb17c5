import { jobEventsOpener, openQueryQueue } from '@rag/jobs';
import { JobName, type QueryJobPayload } from '@rag/queue-contracts';
import { json, openEventStream, useRedisSuite, type EventStreamClient, type SseEvent } from '@rag/testing';
import type { Queue } from 'bull';
import { startInProcessGateway, type InProcessGateway } from './in-process-gateway.spec-helper';

const KEYS = { acme: 'acme_events_key_0123456789abcdef', globex: 'globex_events_key_0123456789abcdef' };
const API_KEYS = `acme:query:${KEYS.acme},globex:query:${KEYS.globex}`;
const HEARTBEAT_MS = 200;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const payload = (e: SseEvent) => JSON.parse(e.data) as Record<string, unknown>;

// GET /v1/jobs/:id/events on the real gateway (in-process, as main.ts wires it) over a private
// redis-server; the events come from a real JobEventsWriter, as a worker writes them.
describe('GET /v1/jobs/:id/events (Server-Sent Events; real Redis, real gateway)', () => {
  let gateway: InProcessGateway;
  const streams: EventStreamClient[] = [];
  // Before the suite's Redis stops (afterAll hooks run in the order they are declared).
  afterAll(() => gateway?.close());
  const redis = useRedisSuite();

  beforeAll(async () => {
    gateway = await startInProcessGateway(redis.url, {
      API_KEYS,
      QUEUE_PREFIX: 'sse',
      SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      SSE_MAX_CLIENTS: '4',
      MAX_LONG_POLLS_PER_CLIENT: '100',
    });
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));

  const ask = async (key = KEYS.acme, body: Record<string, unknown> = { query: 'How many vacation days?', collection: 'handbook' }) => {
    const res = await fetch(`${gateway.base}/v1/chat`, {
      method: 'POST',
      headers: { ...auth(key), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    return (await json(res)) as { job_id: string; status_url: string; events_url: string };
  };
  const follow = async (path: string, headers: Record<string, string> = {}, key = KEYS.acme) => {
    const stream = await openEventStream(`${gateway.base}${path}`, { ...auth(key), ...headers });
    streams.push(stream);
    return stream;
  };
  /** The gateway's rag_event_streams gauge, as Prometheus scrapes it. */
  const streamsGauge = async () => Number(/^rag_event_streams(?:\{[^}]*\})? (\d+)$/m.exec(await (await fetch(`${gateway.base}/metrics`)).text())?.[1]);
  /** A question's events as the worker writes them, a retried attempt included, then the job completed as Bull records it. */
  const answer = async (jobId: string) => {
    const queue: Queue<QueryJobPayload> = openQueryQueue(gateway.config);
    const job = await queue.getNextJob();
    expect(job?.id).toBe(jobId);
    const events = jobEventsOpener(redis.client, gateway.config)(jobId);
    events.emit('status', { status: 'active', attempt: 1 });
    events.emit('stage', { stage: 'retrieving' });
    events.token('New employees');
    events.emit('error', { code: 'llm_unavailable', message: 'the LLM provider answered 500', permanent: false, will_retry: true });
    events.emit('status', { status: 'active', attempt: 2 });
    events.emit('stage', { stage: 'generating' });
    events.token('New employees get 25 days. [1]');
    events.emit('citation', { id: 'vacation.md#0', source: 'vacation.md', chunk: '25 days', score: 0.9 });
    events.emit('done', { status: 'completed', model: 'extractive-bm25-v1' });
    await events.close();
    const result = { answer: 'New employees get 25 days. [1]', citations: [], model: 'extractive-bm25-v1', usage: {}, timings: {} };
    // Bull stores the value JSON-encoded, as a processor's return value; its typings say string.
    await job!.moveToCompleted(result as unknown as string, true, true);
    await queue.close();
  };

  let answered: { jobId: string; events: SseEvent[] };

  it('streams every event in order with its stream id, through a retried attempt, and ends after done', async () => {
    const accepted = await ask(KEYS.acme, { query: 'How many vacation days?', collection: 'handbook', stream: true });
    expect(accepted.events_url).toBe(`/v1/jobs/${accepted.job_id}/events`);
    const stream = await follow(accepted.events_url);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    await answer(accepted.job_id);
    const events = await stream.rest(10_000);
    await stream.ended;
    expect(events.map((e) => e.event)).toEqual(['status', 'stage', 'token', 'error', 'status', 'stage', 'token', 'citation', 'done']);
    expect(events.map(payload)[4]).toEqual({ status: 'active', attempt: 2 });
    expect(payload(events[6])).toEqual({ text: 'New employees get 25 days. [1]' });
    const ids = events.map((e) => e.id ?? '');
    expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true);
    const asNumbers = ids.map((id) => id.split('-').map(BigInt) as [bigint, bigint]);
    for (let i = 1; i < asNumbers.length; i++) {
      const [[ms0, seq0], [ms1, seq1]] = [asNumbers[i - 1], asNumbers[i]];
      expect(ms1 > ms0 || (ms1 === ms0 && seq1 > seq0)).toBe(true);
    }
    answered = { jobId: accepted.job_id, events };
  });

  it('resumes after Last-Event-ID (or ?last_event_id=) with exactly the events after it', async () => {
    const { jobId, events } = answered;
    const byHeader = await follow(`/v1/jobs/${jobId}/events`, { 'last-event-id': events[3].id! });
    expect(await byHeader.rest()).toEqual(events.slice(4));
    const byQuery = await follow(`/v1/jobs/${jobId}/events?last_event_id=${events[6].id}`);
    expect(await byQuery.rest()).toEqual(events.slice(7));
    // EventSource sends the header on reconnect while its URL keeps the first ?last_event_id=: the header wins.
    const both = await follow(`/v1/jobs/${jobId}/events?last_event_id=${events[0].id}`, { 'last-event-id': events[7].id! });
    expect(await both.rest()).toEqual(events.slice(8));
  });

  it("gives a client that connects after the job finished the job's whole history", async () => {
    const late = await follow(`/v1/jobs/${answered.jobId}/events`);
    expect(await late.rest()).toEqual(answered.events);
  });

  it("answers another tenant's, an unknown and a malformed job id with the same 404 JSON, before any stream", async () => {
    const bodies: unknown[] = [];
    for (const [path, key] of [
      [`/v1/jobs/${answered.jobId}/events`, KEYS.globex],
      ['/v1/jobs/00000000-0000-4000-8000-000000000000/events', KEYS.acme],
      ['/v1/jobs/not-a-job/events', KEYS.acme],
    ]) {
      const res = await follow(path, {}, key);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      bodies.push(JSON.parse(await res.body()));
    }
    expect(bodies[0]).toEqual({ error: { code: 'job_not_found', message: expect.any(String) } });
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });

  it('refuses a malformed Last-Event-ID with 400 JSON before any stream', async () => {
    for (const headers of [{ 'last-event-id': 'abc' }, { 'last-event-id': '1-2-3' }]) {
      const res = await follow(`/v1/jobs/${answered.jobId}/events`, headers);
      expect(res.status).toBe(400);
      expect(JSON.parse(await res.body())).toMatchObject({ error: { code: 'invalid_event_id', message: expect.stringContaining('is not a job event id') } });
    }
    const res = await follow(`/v1/jobs/${answered.jobId}/events?last_event_id=-1`);
    expect(res.status).toBe(400);
  });

  it('sends a keep-alive comment every SSE_HEARTBEAT_MS while nothing happens', async () => {
    const { events_url } = await ask();
    const stream = await follow(events_url);
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 4 + 100));
    expect(stream.comments.filter((c) => c === 'keep-alive').length).toBeGreaterThanOrEqual(3);
    await expect(stream.next(10)).rejects.toThrow(/no event/);
  });

  it('ends the stream of a waiting job cancelled with DELETE with status cancelled', async () => {
    const { job_id, events_url } = await ask();
    const stream = await follow(events_url);
    const cancel = await fetch(`${gateway.base}/v1/jobs/${job_id}`, { method: 'DELETE', headers: auth(KEYS.acme) });
    expect(cancel.status).toBe(200);
    const events = await stream.rest(5000);
    expect(events.map((e) => [e.event, payload(e)])).toEqual([['status', { status: 'cancelled' }]]);
    expect(events[0].id).toMatch(/^\d+-\d+$/);
  });

  it('ends, from the job view, the stream of a job that finished without a terminal event', async () => {
    const { job_id, events_url } = await ask();
    const stream = await follow(events_url);
    // A consumer that writes no events (an older worker, or a stream that expired before its record).
    const worker: Queue<QueryJobPayload> = openQueryQueue(gateway.config);
    try {
      void worker.process(JobName.Answer, 1, async () => ({ answer: 'ok', citations: [], model: 'm', usage: {}, timings: {} }));
      const events = await stream.rest(5000);
      expect(events.map((e) => [e.event, payload(e)])).toEqual([['done', { status: 'completed', model: 'm', usage: {}, timings: {} }]]);
      // Not a stream entry: the client's Last-Event-ID stays at the last real event.
      expect(events[0].id).toBeUndefined();
      expect((await json(await fetch(`${gateway.base}/v1/jobs/${job_id}`, { headers: auth(KEYS.acme) }))).status).toBe('completed');
    } finally {
      await worker.close();
    }
  });

  it('sends the terminal event only once the job reads as finished, so GET /v1/jobs/:id on done reads it completed', async () => {
    const { job_id, events_url } = await ask();
    const stream = await follow(events_url);
    // As the worker does: the terminal event written, then the job recorded completed by Bull (here 300 ms later).
    const worker: Queue<QueryJobPayload> = openQueryQueue(gateway.config);
    try {
      void worker.process(JobName.Answer, 1, async (job) => {
        const events = jobEventsOpener(redis.client, gateway.config)(String(job.id));
        events.emit('status', { status: 'active', attempt: 1 });
        events.emit('done', { status: 'completed', model: 'm' });
        await events.close();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { answer: 'ok', citations: [], model: 'm', usage: {}, timings: {} };
      });
      const events = await stream.rest(5000);
      expect(events.map((e) => e.event)).toEqual(['status', 'done']);
      expect((await json(await fetch(`${gateway.base}/v1/jobs/${job_id}`, { headers: auth(KEYS.acme) }))).status).toBe('completed');
    } finally {
      await worker.close();
    }
  });

  it('caps the streams one gateway serves (SSE_MAX_CLIENTS) with 503 and Retry-After, and a client that hangs up frees its place', async () => {
    const { events_url } = await ask();
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await follow(events_url));
    expect(open.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    expect(await streamsGauge()).toBe(4);
    const refused = await follow(events_url);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(await refused.body())).toMatchObject({ error: { code: 'too_many_event_streams', message: expect.stringContaining('SSE_MAX_CLIENTS') } });
    open[0].close();
    let again = await follow(events_url);
    for (let i = 0; again.status === 503 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      again = await follow(events_url);
    }
    expect(again.status).toBe(200);
    expect(await streamsGauge()).toBe(4);
  });
});

// MAX_LONG_POLLS_PER_CLIENT counts a key's event streams and long-polls together: each holds a connection.
describe('event streams and long-polls share the per-client cap (real Redis, real gateway)', () => {
  let gateway: InProcessGateway;
  afterAll(() => gateway?.close());
  const redis = useRedisSuite();

  it('refuses a third connection of a key holding two with 429, whichever kind, and frees a slot on hang-up', async () => {
    gateway = await startInProcessGateway(redis.url, {
      API_KEYS,
      QUEUE_PREFIX: 'ssecap',
      SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      MAX_LONG_POLLS_PER_CLIENT: '2',
    });
    const res = await fetch(`${gateway.base}/v1/chat`, {
      method: 'POST',
      headers: { ...auth(KEYS.acme), 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'q' }),
    });
    const { job_id, events_url } = (await json(res)) as { job_id: string; events_url: string };
    const url = `${gateway.base}${events_url}`;
    const first = await openEventStream(url, auth(KEYS.acme));
    const poll = new AbortController();
    const polling = fetch(`${gateway.base}/v1/jobs/${job_id}?wait=20`, { headers: auth(KEYS.acme), signal: poll.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const third = await openEventStream(url, auth(KEYS.acme));
    expect(third.status).toBe(429);
    expect(JSON.parse(await third.body())).toMatchObject({ error: { code: 'too_many_long_polls', message: expect.stringContaining('event streams') } });
    first.close();
    let again = await openEventStream(url, auth(KEYS.acme));
    for (let i = 0; again.status === 429 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      again = await openEventStream(url, auth(KEYS.acme));
    }
    expect(again.status).toBe(200);
    again.close();
    poll.abort();
    await polling;
  });
});
