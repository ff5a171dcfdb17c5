import { Limits, OpenAIChatMessageDto, OpenAIChatRequestDto, QueryJobPayload, lastUserText } from './index';
import { accepted, issueFields as fields, rejected } from './validation.spec-helper';

const accept = (body: unknown) => accepted(OpenAIChatRequestDto, body);
const reject = (body: unknown) => rejected(OpenAIChatRequestDto, body);
const user = (content: unknown) => ({ role: 'user', content });

describe('OpenAIChatRequestDto', () => {
  it('accepts what the openai client sends: messages of every role, text parts, stream, max_tokens, temperature and the harmless extras', () => {
    const value = accept({
      model: 'handbook',
      messages: [
        { role: 'system', content: 'Be brief.' },
        user('How many vacation days?'),
        { role: 'assistant', content: '25 [1]', name: 'bot' },
        user([
          { type: 'text', text: 'And for' },
          { type: 'text', text: 'contractors?' },
        ]),
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 64,
      max_completion_tokens: 64,
      temperature: 0.3,
      n: 1,
      user: 'user-42',
    });
    expect(value.messages[0]).toBeInstanceOf(OpenAIChatMessageDto);
    expect(lastUserText(value.messages)).toBe('And for\ncontractors?');
    expect(value).toMatchObject({ stream: true, max_tokens: 64, temperature: 0.3 });
  });

  it('has no question without a user message', () => {
    expect(lastUserText(accept({ model: 'm', messages: [{ role: 'system', content: 'x' }] }).messages)).toBeUndefined();
  });

  it.each([
    ['no messages', { model: 'm', messages: [] }, ['messages']],
    ['a message that is not an object', { model: 'm', messages: ['hi'] }, ['messages', 'messages.0']],
    ['an unknown role', { model: 'm', messages: [{ role: 'tool', content: 'x' }] }, ['messages.0.role']],
    ['content that is neither text nor parts', { model: 'm', messages: [user(42)] }, ['messages.0.content']],
    ['an image part', { model: 'm', messages: [user([{ type: 'image_url', image_url: { url: 'http://x' } }])] }, ['messages.0.content']],
    ['a text part with extra fields', { model: 'm', messages: [user([{ type: 'text', text: 'x', extra: 1 }])] }, ['messages.0.content']],
    ['control characters', { model: 'm', messages: [user('a\u0000b')] }, ['messages.0.content']],
    ['too many messages', { model: 'm', messages: Array.from({ length: Limits.chatMessagesMax + 1 }, () => user('x')) }, ['messages']],
    ['a message too long', { model: 'm', messages: [user('x'.repeat(Limits.chatMessageMaxChars + 1))] }, ['messages.0.content']],
    [
      'too much text in all',
      { model: 'm', messages: [user('x'.repeat(Limits.chatMessageMaxChars)), user('x'.repeat(Limits.chatMessageMaxChars)), user('x')] },
      ['messages'],
    ],
    ['a temperature out of range', { model: 'm', messages: [user('x')], temperature: 2.5 }, ['temperature']],
    ['max_tokens of 0', { model: 'm', messages: [user('x')], max_tokens: 0 }, ['max_tokens']],
    ['n of 2', { model: 'm', messages: [user('x')], n: 2 }, ['n']],
    ['an unknown field', { model: 'm', messages: [user('x')], tools: [] }, ['tools']],
    ['no model', { messages: [user('x')] }, ['model']],
  ])('rejects %s', (_what, body, expected) => {
    expect(fields(reject(body))).toEqual(expected);
  });
});

describe('QueryJobPayload max_tokens and temperature', () => {
  const payload = { query: 'q', collection: 'c', top_k: 5, stream: false, request_id: 'r1', tenant: 'default' };
  it('are optional and bounded', () => {
    expect(accepted(QueryJobPayload, { ...payload, max_tokens: 10, temperature: 1.5 })).toMatchObject({ max_tokens: 10, temperature: 1.5 });
    expect(accepted(QueryJobPayload, payload).max_tokens).toBeUndefined();
    expect(fields(rejected(QueryJobPayload, { ...payload, max_tokens: 1.5, temperature: -1 }))).toEqual(['max_tokens', 'temperature']);
  });
});
