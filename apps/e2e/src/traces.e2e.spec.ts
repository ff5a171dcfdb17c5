import { json } from '@rag/testing';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { finishedRun, uploadFiles, useStack } from './support/stack';

const KEY = 'sk-traces-key';
const CAFETERIA = readFileSync(path.join(__dirname, '../fixtures/corpus/cafeteria.txt'));
const QUESTION = 'When does the cafeteria serve lunch on Fridays?';

/** One span as OTLP/HTTP JSON carries it, with the service that sent it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpBody {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes?: OtlpAttribute[] })[] }[];
  }[];
}

const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));

/**
 * A local OTLP/HTTP receiver, as a collector would be: POST /v1/traces with a
 * JSON body, recorded (the raw bodies too, to look for what must never be sent).
 */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; bodies: string[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !/^application\/json/.test(req.headers['content-type'] ?? '')) {
        res.writeHead(404).end();
        return;
      }
      bodies.push(body);
      for (const rs of (JSON.parse(body) as OtlpBody).resourceSpans ?? []) {
        const service = String(attributesOf(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service, attributes: attributesOf(s.attributes) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Waits (polling every 100 ms, at most 10 s) until `found` holds for the spans received. */
async function until(spans: ReceivedSpan[], found: (spans: ReceivedSpan[]) => boolean): Promise<void> {
  for (let i = 0; i < 100 && !found(spans); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Whether `span` descends from `ancestor`, following parents within its trace. */
function descendsFrom(spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  const byId = new Map(spans.filter((s) => s.traceId === span.traceId).map((s) => [s.spanId, s]));
  for (let at = byId.get(span.parentSpanId ?? ''); at; at = byId.get(at.parentSpanId ?? '')) if (at.spanId === ancestor.spanId) return true;
  return false;
}

// One trace per question across processes: the gateway and a worker as real processes exporting to a receiver
// started here, the LLM and the embeddings on the fake OpenAI server, the trace context carried in the signed job.
describe('traces of a question across the gateway, the queue and a worker (OTLP/HTTP)', () => {
  const stack = useStack('rag-traces-', { fakeOpenAI: { dimension: 64, apiKey: KEY } });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack.onTeardown(() => receiver.close());
    // Batches every 100 ms, so the test need not wait the default 5 s for spans.
    const env = { ...stack.env, ...stack.openAIEnv(KEY), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    await stack.startGatewayAndWorkers(env);
    const run = await finishedRun(stack.base, await uploadFiles(stack.base, 'handbook', [['cafeteria.txt', CAFETERIA]]));
    expect(run.failed).toBe(0);
  });

  it('records one trace from POST /v1/chat through the queue wait to retrieval and the LLM, in both services, without the question', async () => {
    const res = await fetch(`${stack.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUESTION, collection: 'handbook' }),
    });
    expect(res.status).toBe(202);
    const { job_id } = (await json(res)) as { job_id: string };
    expect((await json(await fetch(`${stack.base}/v1/jobs/${job_id}?wait=10`))).status).toBe('completed');

    const { spans } = receiver;
    const ofJob = (name: string) => spans.find((s) => s.name === name && s.attributes['messaging.message.id'] === job_id);
    await until(spans, () => ofJob('process rag-query') !== undefined && spans.some((s) => s.name === 'POST /v1/chat'));
    const request = spans.find((s) => s.name === 'POST /v1/chat');
    const job = ofJob('process rag-query');
    const wait = ofJob('wait rag-query');
    expect(request).toMatchObject({ service: 'rag-api-gateway', attributes: { 'http.route': '/v1/chat', 'http.response.status_code': 202 } });
    expect(job).toMatchObject({ service: 'rag-worker', traceId: request?.traceId, attributes: { 'rag.tenant': 'default', 'rag.citations': 1 } });
    expect(job?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(descendsFrom(spans, job!, request!)).toBe(true);
    expect(wait).toMatchObject({ service: 'rag-worker', traceId: request?.traceId });
    expect(descendsFrom(spans, wait!, request!)).toBe(true);
    // The enqueue in the gateway is the parent of both the wait and the attempt.
    const enqueue = spans.find((s) => s.spanId === job?.parentSpanId);
    expect(enqueue).toMatchObject({ name: 'enqueue rag-query', service: 'rag-api-gateway', attributes: { 'messaging.message.id': job_id } });
    expect(wait?.parentSpanId).toBe(enqueue?.spanId);

    // Retrieval and the answer are the job's children; embedding and search are retrieval's.
    const children = spans.filter((s) => s.parentSpanId === job?.spanId).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(['retrieve', 'answer']));
    const retrieve = spans.find((s) => s.name === 'retrieve' && s.parentSpanId === job?.spanId);
    expect(spans.filter((s) => s.parentSpanId === retrieve?.spanId).map((s) => s.name)).toEqual(expect.arrayContaining(['embed', 'search']));
    const answer = spans.find((s) => s.name === 'answer' && s.parentSpanId === job?.spanId);
    expect(answer?.attributes).toMatchObject({ 'rag.llm': 'openai' });

    // Ids, names and counts only: neither the question nor the API key ever leaves in a span.
    const sent = receiver.bodies.join('\n');
    expect(sent).not.toContain(QUESTION);
    expect(sent).not.toContain('cafeteria serve lunch');
    expect(sent).not.toContain(KEY);
  }, 30_000);

  it('continues a caller’s trace through POST /v1/chat/completions to the worker', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await fetch(`${stack.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }] }),
    });
    expect(res.status).toBe(200);
    const { spans } = receiver;
    await until(spans, () => spans.some((s) => s.traceId === traceId && s.name === 'process rag-query' && s.service === 'rag-worker'));
    const request = spans.find((s) => s.traceId === traceId && s.name === 'POST /v1/chat/completions');
    expect(request).toMatchObject({ service: 'rag-api-gateway', parentSpanId: callerSpan });
    const job = spans.find((s) => s.traceId === traceId && s.name === 'process rag-query');
    expect(descendsFrom(spans, job!, request!)).toBe(true);
    expect(spans.filter((s) => s.parentSpanId === job?.spanId).map((s) => s.name)).toEqual(expect.arrayContaining(['retrieve', 'answer']));
  }, 30_000);
});
