import { json } from '@rag/testing';
import OpenAI from 'openai';
import { startGatewayWithWorker, type GatewayWithWorker } from './gateway-with-worker.spec-helper';
import type { InProcessGateway } from './in-process-gateway.spec-helper';

const KEY = 'acme_conversation_key_0123456789abcdef';
const FIRST = 'How many vacation days do new employees get?';
const ANSWER = 'New employees get 25 vacation days per year. [1]';
const FOLLOW_UP = 'and for contractors?';
const DOCS: Record<string, string> = {
  'vacation.md':
    '# Vacation policy\n\n## Annual leave\n\nNew employees get 25 vacation days per year, starting from their first day.\n\n' +
    '## Contractors\n\nContractors get no paid vacation days from the company; their agency contract sets their time off.',
  'onboarding.md':
    '# Onboarding guide\n\n## Your first week\n\nYour buddy meets you at reception on your first day.\n\n' +
    '## Contractors\n\nContractors receive a visitor badge at reception. Contractors return the badge on their last day.',
};

type Citations = { citations: { source: string; heading?: string }[] };

// Conversations through both doors: POST /v1/chat with `messages`, and the
// OpenAI-compatible door through the official openai client; the gateway in
// this process on a private redis-server, a real rag-worker process answering
// with the extractive answerer from LanceDB.
describe('api-gateway: follow-up questions in a conversation (official openai client, real Redis, a real worker)', () => {
  let stack: GatewayWithWorker;
  let gateway: InProcessGateway;
  let client: OpenAI;
  const payloadOf = async (jobId: string) => (await gateway.queue.getJob(jobId.replace(/^chatcmpl-/, '')))?.data;
  const chat = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateway.base}/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    // A small history budget, so the gateway's bound shows in the payload.
    stack = await startGatewayWithWorker({
      docs: DOCS,
      tenant: 'acme',
      collection: 'handbook',
      prefix: 'conv',
      gatewayEnv: { API_KEYS: `acme:query:${KEY}`, CHAT_HISTORY_MAX_TOKENS: '100' },
    });
    gateway = stack.gateway;
    client = new OpenAI({ baseURL: `${gateway.base}/v1`, apiKey: KEY, maxRetries: 0 });
  });

  afterAll(() => stack?.close());

  it('the OpenAI door passes the messages before the last user message as history, and the follow-up is answered in their context', async () => {
    const completion = await client.chat.completions.create({
      model: 'handbook',
      messages: [
        { role: 'system', content: 'Answer from the handbook.' },
        { role: 'user', content: FIRST },
        { role: 'assistant', content: ANSWER },
        { role: 'user', content: FOLLOW_UP },
      ],
    });
    expect(completion.choices[0].message.content).toMatch(/^Contractors get no paid vacation days from the company/);
    expect((completion as unknown as Citations).citations[0]).toMatchObject({ source: 'vacation.md', heading: 'Vacation policy > Contractors' });
    // The job carries the question and the user/assistant turns before it; the caller's system message is not carried.
    expect(await payloadOf(completion.id)).toMatchObject({
      query: FOLLOW_UP,
      history: [
        { role: 'user', content: FIRST },
        { role: 'assistant', content: ANSWER },
      ],
    });
  });

  it('the same follow-up without its conversation is answered from another document', async () => {
    const completion = await client.chat.completions.create({ model: 'handbook', messages: [{ role: 'user', content: FOLLOW_UP }] });
    expect(completion.choices[0].message.content).toMatch(/^Contractors receive a visitor badge/);
    expect((completion as unknown as Citations).citations[0].source).toBe('onboarding.md');
    expect((await payloadOf(completion.id))?.history).toBeUndefined();
  });

  it('POST /v1/chat takes messages ending with the question, or query plus messages as its history', async () => {
    const alone = await chat({
      collection: 'handbook',
      messages: [
        { role: 'user', content: FIRST },
        { role: 'assistant', content: ANSWER },
        { role: 'user', content: FOLLOW_UP },
      ],
    });
    expect(alone.status).toBe(202);
    const both = await chat({
      collection: 'handbook',
      query: FOLLOW_UP,
      messages: [
        { role: 'user', content: FIRST },
        { role: 'assistant', content: ANSWER },
      ],
    });
    expect(both.status).toBe(202);
    for (const res of [alone, both]) {
      const { job_id } = await json(res);
      expect(await payloadOf(job_id)).toMatchObject({
        query: FOLLOW_UP,
        history: [
          { role: 'user', content: FIRST },
          { role: 'assistant', content: ANSWER },
        ],
      });
      const view = await json(await fetch(`${gateway.base}/v1/jobs/${job_id}?wait=20`, { headers: { authorization: `Bearer ${KEY}` } }));
      expect(view.status).toBe('completed');
      expect(view.result.citations[0].source).toBe('vacation.md');
    }
  });

  it('drops the oldest turns beyond CHAT_HISTORY_MAX_TOKENS before queueing', async () => {
    const old = { role: 'user', content: `Tell me about parking. ${'filler '.repeat(60)}` };
    const res = await chat({
      collection: 'handbook',
      query: FOLLOW_UP,
      messages: [old, { role: 'assistant', content: 'Behind building B.' }, { role: 'user', content: FIRST }, { role: 'assistant', content: ANSWER }],
    });
    expect(res.status).toBe(202);
    expect((await payloadOf((await json(res)).job_id))?.history).toEqual([
      { role: 'assistant', content: 'Behind building B.' },
      { role: 'user', content: FIRST },
      { role: 'assistant', content: ANSWER },
    ]);
  });

  it.each([
    ['neither query nor messages', { collection: 'handbook' }, 'query: send query (the question), messages'],
    [
      'messages that do not end with the question',
      {
        messages: [
          { role: 'user', content: FIRST },
          { role: 'assistant', content: ANSWER },
        ],
      },
      'messages must end with a user message',
    ],
    [
      'a message with an unknown role',
      { query: FOLLOW_UP, messages: [{ role: 'tool', content: 'x' }] },
      'messages.0.role: role must be one of system, user, assistant',
    ],
  ])('refuses %s with 400 saying what is wrong', async (_label, body, message) => {
    const res = await chat(body);
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain(message);
  });

  it('counts the history in what an Idempotency-Key stands for: another conversation with the same key is a conflict', async () => {
    const first = await chat({ collection: 'handbook', query: FOLLOW_UP, messages: [{ role: 'user', content: FIRST }] }, { 'idempotency-key': 'conv-1' });
    expect(first.status).toBe(202);
    const again = await chat({ collection: 'handbook', query: FOLLOW_UP, messages: [{ role: 'user', content: FIRST }] }, { 'idempotency-key': 'conv-1' });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await chat(
      { collection: 'handbook', query: FOLLOW_UP, messages: [{ role: 'user', content: 'Where do I park?' }] },
      { 'idempotency-key': 'conv-1' },
    );
    expect(other.status).toBe(422);
  });
});
