import { json, type AppProcess } from '@rag/testing';
import OpenAI from 'openai';
import { useStack } from './support/stack';

const KEY = 'rag_e2e_openai_compat_key_0123456789abcdef';
const QUESTION = 'How many vacation days do new employees get?';

interface ChatBody {
  max_tokens?: number;
  temperature?: number;
  stream?: boolean;
}

// The official openai client against the whole stack: the gateway and a worker
// as real processes, the worker's LLM and embeddings on the fake OpenAI, which
// streams its answer token by token, so the chunks carry the LLM's tokens.
describe('the OpenAI-compatible door end to end (official openai client, fake OpenAI as the LLM)', () => {
  const stack = useStack('rag-openai-compat-', { fakeOpenAI: { dimension: 64, perTokenMs: 5 } });
  let gateway: AppProcess;
  let client: OpenAI;
  const headers = { authorization: `Bearer ${KEY}` };
  const job = async (completionId: string) => json(await fetch(`${stack.base}/v1/jobs/${completionId.replace(/^chatcmpl-/, '')}`, { headers }));
  const chatRequests = () => stack.fake.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => r.body as ChatBody);

  beforeAll(async () => {
    const env = { ...stack.env, WORKER_METRICS_PORT: '0', ...stack.openAIEnv('sk-fake'), API_KEYS: `default:query+ingest:${KEY}` };
    ({ gateway } = await stack.startGatewayAndWorkers(env));
    const body = new FormData();
    body.append('file', new Blob(['# Leave\n\n## Vacation\n\nNew employees get 25 vacation days per year, starting from their first day.']), 'leave.md');
    body.append('file', new Blob(['# Travel\n\n## Hotels\n\nHotels are booked through the travel desk, up to 180 euros per night.']), 'travel.md');
    const upload = await fetch(`${stack.base}/v1/collections/handbook/documents`, { method: 'POST', headers, body });
    expect(upload.status).toBe(202);
    const statusUrl = `${stack.base}${(await json(upload)).status_url}`;
    let run = await json(await fetch(statusUrl, { headers }));
    for (let i = 0; i < 120 && !run.finished; i++) run = (await new Promise((r) => setTimeout(r, 250)), await json(await fetch(statusUrl, { headers })));
    expect(run).toMatchObject({ status: 'completed', added: 2 });
    client = new OpenAI({ baseURL: `${stack.base}/v1`, apiKey: KEY, maxRetries: 0 });
  });

  it("streams the LLM's tokens as chunks, markers matching the citations of the last chunk, then [DONE]", async () => {
    const stream = await client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }], stream: true });
    const chunks: (OpenAI.ChatCompletionChunk & { citations?: { source: string }[] })[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const contentChunks = chunks.filter((c) => c.choices[0].delta.content);
    // Tokens arrive in several batches rather than as one answer at the end.
    expect(contentChunks.length).toBeGreaterThan(1);
    const last = chunks[chunks.length - 1];
    expect(last.choices[0].finish_reason).toBe('stop');
    const content = contentChunks.map((c) => c.choices[0].delta.content).join('');
    const view = await job(last.id);
    expect(view.status).toBe('completed');
    expect(view.result.backends.llm).toBe('openai');
    expect(content.trim()).toBe(view.result.answer);
    expect(last.citations).toEqual(view.result.citations);
    expect(last.citations?.[0].source).toBe('leave.md');
    const markers = [...content.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(markers.length).toBeGreaterThan(0);
    for (const n of markers) expect(n).toBeLessThanOrEqual(last.citations?.length ?? 0);
    expect(last.usage?.completion_tokens).toBe(view.result.usage.completion_tokens);
  });

  it('passes max_tokens and temperature on to the LLM, and the configured maximum and 0 otherwise', async () => {
    stack.fake.reset();
    const completion = await client.chat.completions.create({
      model: 'handbook',
      messages: [{ role: 'user', content: QUESTION }],
      max_tokens: 120,
      temperature: 0.7,
    });
    expect(completion.choices[0].message.content).toContain('[1]');
    expect(chatRequests()).toEqual([expect.objectContaining({ max_tokens: 120, temperature: 0.7, stream: true })]);
    stack.fake.reset();
    await client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }] });
    expect(chatRequests()).toEqual([expect.objectContaining({ max_tokens: 800, temperature: 0 })]);
  });

  it('cancels the running job when the client closes the stream', async () => {
    stack.fake.setOptions({ perTokenMs: 300 });
    try {
      const stream = await client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: QUESTION }], stream: true });
      // Read (without leaving the stream) until the LLM has started answering: the job is active.
      const chunks = stream[Symbol.asyncIterator]();
      let chunk = (await chunks.next()).value as OpenAI.ChatCompletionChunk;
      while (!chunk.choices[0].delta.content) chunk = (await chunks.next()).value as OpenAI.ChatCompletionChunk;
      const id = chunk.id;
      expect((await job(id)).status).toBe('active');
      stream.controller.abort();
      const deadline = Date.now() + 15_000;
      let view = await job(id);
      while (view.status !== 'cancelled' && Date.now() < deadline) view = (await new Promise((r) => setTimeout(r, 200)), await job(id));
      expect(view.status).toBe('cancelled');
      expect(
        await gateway.waitForLog((l) => l.message === 'chat completions stream closed by the client; cancelling its job' && l.job_id === view.job_id, 5000),
      ).toBeDefined();
    } finally {
      stack.fake.setOptions({ perTokenMs: 5 });
    }
  });
});
