import OpenAI from 'openai';
import { NO_PASSAGES_REPLY } from './grounded-reply';
import { useFakeOpenAISuite } from './fake-openai-suite.spec-helper';

const MODEL = 'gpt-4o-mini';
const PROMPT = [
  'Answer from the numbered passages and cite them.',
  '',
  '[1] Parking is free for employees. The garage closes at midnight.',
  '[2] Employees get 25 vacation days per year. Unused days expire in March.',
  '[3] The office is in Lisbon.',
  '',
  'Question: How many vacation days do employees get?',
].join('\n');

const user = (content: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content }];

describe('POST /v1/chat/completions', () => {
  const suite = useFakeOpenAISuite();

  async function reply(content: string): Promise<string | null> {
    const res = await suite.client.chat.completions.create({ model: MODEL, messages: user(content) });
    return res.choices[0].message.content;
  }

  it('answers with a chat.completion citing the passage that best matches the question', async () => {
    const res = await suite.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'system', content: 'You answer from documents.' }, ...user(PROMPT)],
      temperature: 0,
      max_completion_tokens: 200,
    });
    expect(res).toMatchObject({ object: 'chat.completion', model: MODEL });
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant' } });
    expect(res.choices[0].message.content).toBe('Employees get 25 vacation days per year. [2]');
    expect(res.usage).toMatchObject({ completion_tokens: 8 });
    expect(res.usage!.prompt_tokens).toBeGreaterThan(30);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
    expect(suite.fake.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('parses passages liberally and falls back when there are none', async () => {
    expect(await reply('[1] Cats purr.\n  [2]   Dogs bark loudly. Birds sing.\n\nWhich animals bark?')).toBe('Dogs bark loudly. [2]');
    expect(await reply('[7]\nThe refund window\nis 30 days. Ask support.\n\nQuestion: what is the refund window?')).toBe('The refund window is 30 days. [7]');
    // Headings in parentheses stay out of the answer but count when matching; a closing tag ends a passage.
    const fenced = [
      '<documents>',
      '[1] (handbook.md | Handbook > Parking)',
      'Parking is free. The garage closes at midnight.',
      '',
      '[2] (handbook.md | Handbook > Leave)',
      'Each employee gets 25 days off per year.',
      '</documents>',
      '',
      'Question: How much leave do I get?',
    ].join('\n');
    expect(await reply(fenced)).toBe('Each employee gets 25 days off per year. [2]');
    // Content parts, and only the last user message counts.
    const res = await suite.client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'user', content: '[1] Old context.' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: 'No passages here. Question: anything?' }] },
      ],
    });
    expect(res.choices[0].message.content).toBe(NO_PASSAGES_REPLY);
  });

  it('uses the reply option when given, and stops at max_tokens with finish_reason length', async () => {
    suite.fake.setOptions({ reply: (body) => `echo ${body.messages.length} message(s) to ${body.model}` });
    expect(await reply('hi')).toBe('echo 1 message(s) to gpt-4o-mini');
    const res = await suite.client.chat.completions.create({ model: MODEL, messages: user('hi'), max_tokens: 2 });
    expect(res.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'echo 1 ' } });
    expect(res.usage?.completion_tokens).toBe(2);
  });

  it('streams the same text as server-sent chunks, with a usage chunk when asked', async () => {
    const whole = await reply(PROMPT);
    const stream = await suite.client.chat.completions.create({
      model: MODEL,
      messages: user(PROMPT),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks[0].choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole);
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks.map((c) => c.choices[0].delta.content)).toEqual(['Employees ', 'get ', '25 ', 'vacation ', 'days ', 'per ', 'year. ', '[2]']);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    const finish = chunks[chunks.length - 2];
    expect(finish.choices[0].finish_reason).toBe('stop');
    const usage = chunks[chunks.length - 1];
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ completion_tokens: contentChunks.length });
  });

  it('sends text/event-stream and ends with [DONE]; no usage chunk unless asked', async () => {
    const res = await fetch(`${suite.fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: user('hello'), stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('stop');
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
  });

  it('waits firstTokenMs before the first chunk and perTokenMs between chunks', async () => {
    suite.fake.setOptions({ firstTokenMs: 120, perTokenMs: 30, reply: () => 'one two three four five' });
    const started = performance.now();
    const stream = await suite.client.chat.completions.create({ model: MODEL, messages: user('x'), stream: true });
    const arrivals: number[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) arrivals.push(performance.now() - started);
    expect(arrivals).toHaveLength(5);
    expect(arrivals[0]).toBeGreaterThanOrEqual(110);
    expect(arrivals[4] - arrivals[0]).toBeGreaterThanOrEqual(4 * 30 - 15);

    const t0 = performance.now();
    await suite.client.chat.completions.create({ model: MODEL, messages: user('x') });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120 + 4 * 30 - 15);
  });

  it('rejects bodies the real API would reject with a 400', async () => {
    const bad = [
      { model: MODEL },
      { model: MODEL, messages: [] },
      { messages: user('x') },
      { model: MODEL, messages: user('x'), temperature: 3 },
      { model: MODEL, messages: ['not a message'] },
    ];
    for (const body of bad) {
      await expect(suite.client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)).rejects.toMatchObject({
        status: 400,
        error: { type: 'invalid_request_error' },
      });
    }
  });
});
