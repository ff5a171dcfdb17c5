import { PassThrough } from 'node:stream';
import { createLogger, errorMessage, redactSecrets, registerSecrets } from './index';

const SECRET = 'configured-provider-credential-7f3a9c';

/** Every line a logger given `SECRET` writes, as text. */
function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logger = createLogger({ service: 'redact-test', stream, secrets: [SECRET, '', undefined, 'ab'] });
  return { logger, text: async () => (await new Promise((r) => setImmediate(r)), text) };
}

describe('redactSecrets', () => {
  it.each([
    ['a Bearer token', 'sent Authorization: Bearer abcdefgh12345678', 'sent Authorization: Bearer ***'],
    ['an OpenAI-style key', 'Incorrect API key provided: sk-proj-AbCdEf0123456789xyz.', 'Incorrect API key provided: sk-***.'],
    ['one of our keys', `key rag_${'A'.repeat(43)} refused`, 'key rag_*** refused'],
    ['a password in a URL', 'connect redis://default:hunter22@10.0.0.7:6379 failed', 'connect redis://***@10.0.0.7:6379 failed'],
    ['an api_key field', '{"api_key": "abcdef123456"}', '{"api_key": "***"}'],
    ['a password parameter', 'GET /x?user=a&password=hunter22&x=1', 'GET /x?user=a&password=***&x=1'],
    ['a Basic credential', 'sent Authorization: Basic dXNlcjpodW50ZXIyMg==', 'sent Authorization: Basic ***'],
    ['a secret parameter', 'POST /hook?secret=whsec0123456789', 'POST /hook?secret=***'],
    ['an API-KEY field in capitals', 'API-KEY = abcdef123456', 'API-KEY = ***'],
  ])('masks %s', (_label, text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });

  it('leaves ordinary words, service names and metric names alone', () => {
    const text = 'rag-worker: rag_jobs_finished_total rose; sk-1 short; tokens: 800; invalid job payload: api_key: property api_key should not exist';
    expect(redactSecrets(text)).toBe(text);
  });

  it('masks a configured value of any shape once it is registered, and ignores values too short to be secrets', () => {
    const value = 'plain-looking-value-9b1e';
    expect(redactSecrets(`401: Incorrect API key provided: ${value}`)).toContain(value);
    registerSecrets([value, 'ab', '', undefined]);
    expect(redactSecrets(`401: Incorrect API key provided: ${value}.`)).toBe('401: Incorrect API key provided: ***.');
    expect(redactSecrets('ab abc')).toBe('ab abc');
  });
});

describe('errorMessage masks secrets across the whole cause chain', () => {
  it('masks a secret in the innermost cause', () => {
    registerSecrets([SECRET]);
    const provider = Object.assign(new Error(`401 Incorrect API key provided: ${SECRET}`), { status: 401 });
    const outer = new Error('chat was refused (401); check OPENAI_API_KEY', { cause: new Error('call failed', { cause: provider }) });
    const text = errorMessage(outer);
    expect(text).toContain('check OPENAI_API_KEY');
    expect(text).toContain('Incorrect API key provided: ***');
    expect(text).not.toContain(SECRET);
  });
});

describe('the logger masks secrets in every field of every line', () => {
  it('masks the message, per-call fields (nested ones too), a logged error, its stack and its causes', async () => {
    const { logger, text } = capture();
    const caller = { detail: { body: `key=${SECRET}` }, list: [`Bearer ${SECRET}`] };
    logger.warn(`provider said ${SECRET}`, {
      error: errorMessage(new Error('x', { cause: new Error(SECRET) })),
      meta: caller,
      raw: new Error('wrapped', { cause: new Error(SECRET) }),
    });
    logger.error(new Error(`failed with ${SECRET}`));
    const written = await text();
    expect(written).not.toContain(SECRET);
    const lines = written
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ message: 'provider said ***', meta: { detail: { body: 'key=***' }, list: ['Bearer ***'] }, raw: 'wrapped (cause: ***)' });
    expect(lines[1]).toMatchObject({ level: 'error', message: 'failed with ***' });
    expect(String(lines[1].stack)).toContain('failed with ***');
    // What the caller passed is not changed.
    expect(caller.detail.body).toBe(`key=${SECRET}`);
  });
});
