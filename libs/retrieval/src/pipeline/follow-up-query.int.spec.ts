import { startFakeOpenAI, type FakeOpenAI } from '@rag/fake-openai';
import { OpenAIQueryCondenser, createLlmResilience, createOpenAIClient } from '@rag/llm-client';
import { createLogger } from '@rag/observability';
import { captureLogs } from '@rag/testing';
import { followUpQuery } from './follow-up-query';

const KEY = 'sk-follow-up-key';
const HISTORY = [
  { role: 'user' as const, content: 'How many vacation days do new employees get?' },
  { role: 'assistant' as const, content: 'New employees get 25 vacation days per year. [1]' },
];
const HEURISTIC = { text: 'and for contractors?', context: 'many vacation days new employees get' };

// The condensation's failure policy with the real condenser over HTTP (tools/fake-openai) and the LLM resilience.
describe('followUpQuery with an OpenAI condenser', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: KEY });
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake.setOptions({ fault: null }));

  const setup = (breakerFailures = 5) => {
    const logs = captureLogs();
    const resilience = createLlmResilience({ breakerFailures, timeoutMs: 2000 });
    const client = createOpenAIClient({ baseUrl: fake.url, apiKey: KEY, timeoutMs: 5000, maxRetries: 0 });
    const condenser = new OpenAIQueryCondenser(client, { model: 'chat-model', baseUrl: fake.url, resilience });
    return { logs, resilience, deps: { condenser, logger: createLogger({ service: 'test', stream: logs.stream }) } };
  };
  const warnings = (logs: ReturnType<typeof captureLogs>) => logs.lines.filter((l) => String(l.message).startsWith('query condensation failed'));

  it('uses the standalone question the model writes', async () => {
    const { deps } = setup();
    expect(await followUpQuery(deps, 'and for contractors?', HISTORY)).toEqual({
      text: 'and for contractors? (about: How many vacation days do new employees get?)',
    });
  });

  it('falls back to the heuristic, logged, when the call times out, and when the breaker is open', async () => {
    const { deps, logs, resilience } = setup(1);
    fake.setOptions({ fault: { kind: 'hang', endpoints: ['chat'], times: 1 } });
    expect(await followUpQuery(deps, 'and for contractors?', HISTORY)).toEqual(HEURISTIC);
    // That timeout opened the breaker (one failure allowed): the next condensation is refused at once, and falls back too.
    expect(resilience.breakers.chat.state).toBe('open');
    expect(await followUpQuery(deps, 'and for contractors?', HISTORY)).toEqual(HEURISTIC);
    const logged = warnings(logs);
    expect(logged).toHaveLength(2);
    expect(logged.map((l) => l.code)).toEqual(['llm_timeout', 'llm_unavailable']);
    expect(logged[1].error).toEqual(expect.stringContaining('circuit breaker open'));
  });

  it('does not fall back when the job is cancelled during the call: the cancellation wins', async () => {
    const { deps, logs } = setup();
    fake.setOptions({ fault: { kind: 'hang', endpoints: ['chat'], times: 1 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(followUpQuery(deps, 'and for contractors?', HISTORY, controller.signal)).rejects.toThrow(/abort/i);
    expect(warnings(logs)).toEqual([]);
  });
});
