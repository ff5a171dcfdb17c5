import { ChatRequestDto, Limits, OpenAIChatRequestDto, QUESTION_MISSING, QueryJobPayload, conversationOf, historyBeforeLastUser } from './index';
import { accepted, issueFields as fields, rejected } from './validation.spec-helper';

const accept = (body: unknown) => accepted(ChatRequestDto, body);
const reject = (body: unknown) => rejected(ChatRequestDto, body);
const problems = (body: unknown) => reject(body).flatMap((issue) => issue.problems);

const FIRST = { role: 'user', content: 'How many vacation days do new employees get?' };
const ANSWER = { role: 'assistant', content: 'New employees get 25 vacation days per year. [1]' };
const FOLLOW_UP = { role: 'user', content: 'and for contractors?' };

describe('ChatRequestDto: messages (conversations)', () => {
  describe('accepts, and reads the question and history by the rule', () => {
    it('messages alone: the last (user) message is the question, the earlier user and assistant turns the history; system messages are dropped', () => {
      const value = accept({ messages: [{ role: 'system', content: 'Be brief.' }, FIRST, ANSWER, FOLLOW_UP] });
      expect(value.query).toBeUndefined();
      expect(conversationOf(value)).toEqual({ question: 'and for contractors?', history: [FIRST, ANSWER] });
    });

    it('query and messages: query is the question and every message is history, whatever the last one is', () => {
      const value = accept({ query: 'and for contractors?', messages: [FIRST, ANSWER] });
      expect(conversationOf(value)).toEqual({ question: 'and for contractors?', history: [FIRST, ANSWER] });
    });

    it('query alone (no history), and query with an empty messages list', () => {
      expect(conversationOf(accept({ query: 'q' }))).toEqual({ question: 'q', history: [] });
      expect(conversationOf(accept({ query: 'q', messages: [] }))).toEqual({ question: 'q', history: [] });
    });

    it('blank history turns, which carry nothing, are left out of the history', () => {
      expect(conversationOf(accept({ query: 'q', messages: [{ role: 'assistant', content: '' }, FIRST] })).history).toEqual([FIRST]);
    });

    it(`exactly Limits.chatMessagesMax messages, one of Limits.chatMessageMaxChars characters, within Limits.chatMessagesTotalMaxChars`, () => {
      const messages = Array.from({ length: Limits.chatMessagesMax }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'x' }));
      messages[0].content = 'y'.repeat(Limits.chatMessageMaxChars);
      expect(accept({ query: 'q', messages }).messages).toHaveLength(Limits.chatMessagesMax);
    });
  });

  describe('rejects, saying what is wrong', () => {
    it('neither query nor messages', () => {
      const issues = reject({ collection: 'docs' });
      expect(fields(issues)).toEqual(['query']);
      expect(issues[0].problems).toContain(QUESTION_MISSING);
    });

    it('messages alone that do not end with a user message', () => {
      expect(fields(reject({ messages: [FIRST, ANSWER] }))).toEqual(['messages']);
      expect(problems({ messages: [FIRST, ANSWER] })).toEqual([
        'messages must end with a user message (the question) when there is no query; or send the question as query',
      ]);
      expect(fields(reject({ messages: [] }))).toEqual(['messages']);
    });

    it('messages alone whose last user message is blank or longer than a query', () => {
      expect(problems({ messages: [FIRST, ANSWER, { role: 'user', content: ' \n ' }] })).toEqual([
        'the last message of messages (the question) must contain text',
      ]);
      expect(problems({ messages: [{ role: 'user', content: 'x'.repeat(Limits.queryMaxChars + 1) }] })).toEqual([
        `the last message of messages (the question) must be at most ${Limits.queryMaxChars} characters`,
      ]);
    });

    it.each([
      ['a role other than system, user or assistant', { role: 'tool', content: 'x' }, 'messages.0.role'],
      ['content that is not a string', { role: 'user', content: [{ type: 'text', text: 'x' }] }, 'messages.0.content'],
      ['a message longer than Limits.chatMessageMaxChars', { role: 'user', content: 'x'.repeat(Limits.chatMessageMaxChars + 1) }, 'messages.0.content'],
      ['a control character in content', { role: 'user', content: 'bad\u0007' }, 'messages.0.content'],
      ['an unknown field in a message', { role: 'user', content: 'x', name: 'bob' }, 'messages.0.name'],
    ])('%s', (_label, message, field) => {
      expect(fields(reject({ query: 'q', messages: [message] }))).toEqual([field]);
    });

    it('more than Limits.chatMessagesMax messages, or more than Limits.chatMessagesTotalMaxChars characters in all', () => {
      const many = Array.from({ length: Limits.chatMessagesMax + 1 }, () => ({ role: 'user', content: 'x' }));
      expect(fields(reject({ query: 'q', messages: many }))).toEqual(['messages']);
      const big = Array.from({ length: 3 }, () => ({ role: 'user', content: 'x'.repeat(Limits.chatMessageMaxChars) }));
      expect(problems({ query: 'q', messages: big })).toEqual([`messages must hold at most ${Limits.chatMessagesTotalMaxChars} characters of content in all`]);
    });

    it.each([
      ['a string', 'hello'],
      ['an object', { role: 'user' }],
      ['a list of strings', ['hello']],
    ])('messages as %s', (_label, messages) => {
      expect(fields(reject({ query: 'q', messages }))[0]).toMatch(/^messages/);
    });
  });
});

describe('QueryJobPayload: history', () => {
  const payload = (history: unknown) => ({
    query: 'and for contractors?',
    collection: 'default',
    top_k: 5,
    stream: false,
    request_id: 'r-1',
    tenant: 'acme',
    history,
  });

  it('accepts user and assistant turns, and its own payload after a JSON round trip', () => {
    const value = accepted(QueryJobPayload, payload([FIRST, ANSWER]));
    expect(value.history).toEqual([FIRST, ANSWER]);
    expect(accepted(QueryJobPayload, JSON.parse(JSON.stringify(value)))).toEqual(value);
  });

  it.each([
    ['a system turn (never carried to a worker)', [{ role: 'system', content: 'x' }], 'history.0.role'],
    ['too many turns', Array.from({ length: Limits.chatMessagesMax + 1 }, () => FIRST), 'history'],
    ['an over-long turn', [{ role: 'user', content: 'x'.repeat(Limits.chatMessageMaxChars + 1) }], 'history.0.content'],
    ['a turn that is not an object', ['hello'], 'history'],
  ])('rejects %s', (_label, history, field) => {
    expect(fields(rejected(QueryJobPayload, payload(history)))).toContain(field);
  });
});

describe('OpenAI chat requests: historyBeforeLastUser', () => {
  it('is every user and assistant message before the last user message, text parts joined, system messages dropped', () => {
    const request = accepted(OpenAIChatRequestDto, {
      model: 'docs',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: FIRST.content }] }, ANSWER, FOLLOW_UP],
    });
    expect(historyBeforeLastUser(request.messages)).toEqual([FIRST, ANSWER]);
    expect(historyBeforeLastUser(accepted(OpenAIChatRequestDto, { model: 'docs', messages: [FOLLOW_UP] }).messages)).toEqual([]);
  });
});
