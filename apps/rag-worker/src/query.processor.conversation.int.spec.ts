import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '@rag/fake-openai';
import { OpenAIAnswerer, OpenAIEmbedder, OpenAIQueryCondenser, createLlmResilience, createOpenAIClient } from '@rag/llm-client';
import { JobName, QueueName, type QueryResult } from '@rag/queue-contracts';
import { ingestDocuments } from '@rag/retrieval';
import { queryRunner } from './query.processor';
import { TEST_SIGNING, signedQuery } from './testing/signed-jobs';
import { useWorkerSuite } from './testing/worker-suite.spec-helper';

const KEY = 'sk-worker-conversation-key';
const FIRST = 'How many vacation days do new employees get?';
const FOLLOW_UP = 'and for contractors?';
const HISTORY = [
  { role: 'user', content: FIRST },
  { role: 'assistant', content: 'New employees get 25 vacation days per year. [1]' },
];

interface ChatBody {
  stream?: boolean;
  max_tokens?: number;
  messages: { role: string; content: string }[];
}

// A follow-up through the processor with an OpenAI-compatible LLM (tools/fake-openai over
// real HTTP): condensed before retrieval, or, when that call fails, the earlier turns' terms.
describe('query processor: follow-up questions with an OpenAI-compatible LLM', () => {
  const suite = useWorkerSuite(QueueName.Query, 'rag-worker-conversation-');
  let fake: FakeOpenAI;
  /** Requests the fake received since `from`. */
  const since = (from: number, path: string): RecordedRequest[] => fake.requests.slice(from).filter((r) => r.path === path);

  beforeAll(async () => {
    const { store, parser } = suite;
    fake = await startFakeOpenAI({ dimension: 64, apiKey: KEY });
    const client = createOpenAIClient({ baseUrl: fake.url, apiKey: KEY, timeoutMs: 5000, maxRetries: 0 });
    const embedder = new OpenAIEmbedder(client, { model: 'embed-model', dimension: 64, batchSize: 8, baseUrl: fake.url });
    const docs: Record<string, string> = {
      'vacation.md':
        '# Vacation policy\n\n## Annual leave\n\nNew employees get 25 vacation days per year.\n\n## Contractors\n\nContractors get no paid vacation days.',
      'badges.md': '# Badges\n\n## Contractors\n\nContractors receive a visitor badge at reception.',
    };
    await ingestDocuments(
      { store, embedder, parser },
      Object.entries(docs).map(([id, text]) => ({ id, read: async () => Buffer.from(text) })),
      { tenant: 'default', collection: 'handbook', chunking: { size: 800, overlap: 0 } },
    );
    // One resilience for both calls, as the worker wires them: the condensation counts against the same breaker and limits.
    const resilience = createLlmResilience({ breakerFailures: 5 });
    const answerer = new OpenAIAnswerer(client, { model: 'chat-model', maxTokens: 200, baseUrl: fake.url, resilience });
    const condenser = new OpenAIQueryCondenser(client, { model: 'chat-model', baseUrl: fake.url, resilience });
    void suite.queue.process(
      JobName.Answer,
      1,
      queryRunner({ store, embedder, answerer, condenser }, { logger: suite.logger, openEvents: suite.openEvents, signing: TEST_SIGNING }).process,
    );
  });

  afterAll(() => fake?.close());

  beforeEach(() => fake.setOptions({ fault: null }));

  const ask = async (history?: typeof HISTORY) => {
    const from = fake.requests.length;
    const payload = {
      query: FOLLOW_UP,
      collection: 'handbook',
      top_k: 2,
      stream: false,
      request_id: 'r-1',
      tenant: 'default',
      ...(history ? { history } : {}),
    };
    const job = await suite.queue.add(JobName.Answer, signedQuery(payload), { attempts: 1 });
    const result = (await job.finished()) as QueryResult;
    return { result, chats: since(from, '/v1/chat/completions').map((r) => r.body as ChatBody), embeddings: since(from, '/v1/embeddings') };
  };

  it('writes a standalone question with one short chat call, and that question is what retrieval searches', async () => {
    const { result, chats, embeddings } = await ask(HISTORY);
    expect(chats).toHaveLength(2);
    const [condense, answer] = chats;
    // The condensation: not streamed, bounded, the conversation fenced in the user message.
    expect(condense.stream).toBeFalsy();
    expect(condense.max_tokens).toBe(96);
    expect(condense.messages[0].role).toBe('system');
    expect(condense.messages[0].content).not.toContain(FIRST);
    expect(condense.messages[1].content).toMatch(/^<conversation-[0-9a-f]{24}>\nUser: How many vacation days/);
    expect(condense.messages[1].content).toMatch(/\n\nFollow-up question: and for contractors\?$/);
    // The fake's rewrite (condensedReply) reached the embedder, alone.
    const standalone = `${FOLLOW_UP} (about: ${FIRST})`;
    expect(embeddings.map((r) => (r.body as { input: unknown }).input)).toEqual([[standalone]]);
    // The answer sees the bounded history, fenced, and the question as asked.
    expect(answer.stream).toBe(true);
    expect(answer.messages[1].content).toMatch(
      /^<conversation-([0-9a-f]{24})>\nUser: How many vacation days do new employees get\?\n\nAssistant: New employees get 25 vacation days per year\. \(1\)\n<\/conversation-\1>\n\n<documents-\1>/,
    );
    expect(answer.messages[1].content).toMatch(/Question: and for contractors\?$/);
    expect(result.citations[0].source).toBe('vacation.md');
    expect(result.answer).toContain('Contractors');
  });

  it('makes no condensation call for a question without history', async () => {
    const { chats, embeddings } = await ask();
    expect(chats).toHaveLength(1);
    expect(embeddings.map((r) => (r.body as { input: unknown }).input)).toEqual([[FOLLOW_UP]]);
  });

  it('falls back to the earlier user turns when the condensation fails, logs it, and still answers', async () => {
    fake.setOptions({ fault: { kind: 'status500', endpoints: ['chat'], times: 1 } });
    const { result, chats, embeddings } = await ask(HISTORY);
    // The failed condensation (not recorded as a chat reply) and the answer.
    expect(chats.filter((c) => c.stream === true)).toHaveLength(1);
    expect(embeddings.map((r) => (r.body as { input: unknown }).input)).toEqual([[FOLLOW_UP, 'many vacation days new employees get']]);
    expect(result.citations[0].source).toBe('vacation.md');
    const warning = suite
      .logText()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { message: string; level: string; code?: string })
      .find((entry) => entry.message.startsWith('query condensation failed'));
    expect(warning).toMatchObject({ level: 'warn', code: 'llm_unavailable' });
  });
});
