import { PassThrough } from 'node:stream';
import { createLogger, errorMessage, runWithContext, type LoggerOptions } from './index';

type Line = Record<string, unknown>;

function capture(options: Omit<LoggerOptions, 'stream'>) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const logger = createLogger({ ...options, stream });
  const raw = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return text;
  };
  const lines = async () =>
    (await raw())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Line);
  return { logger, raw, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with service, level, message and timestamp', async () => {
    const { logger, raw, lines } = capture({ service: 'rag-worker' });
    const before = Date.now();
    logger.info('job started');
    logger.warn('job slow');
    const after = Date.now();

    const text = await raw();
    expect(text.endsWith('\n')).toBe(true);
    const written = await lines();
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({ service: 'rag-worker', level: 'info', message: 'job started' });
    expect(written[1]).toMatchObject({ service: 'rag-worker', level: 'warn', message: 'job slow' });
    for (const line of written) {
      expect(typeof line.timestamp).toBe('string');
      const time = Date.parse(String(line.timestamp));
      expect(time).toBeGreaterThanOrEqual(before - 1000);
      expect(time).toBeLessThanOrEqual(after + 1000);
    }
  });

  it('adds defaultMeta and per-call fields to the line', async () => {
    const { logger, lines } = capture({ service: 'rag-worker', defaultMeta: { worker_id: 'w-3' } });
    logger.info('retrieved', { chunks: 4, collection: 'default' });
    expect((await lines())[0]).toMatchObject({ service: 'rag-worker', worker_id: 'w-3', chunks: 4, collection: 'default' });
  });

  it('logs at info and above by default', async () => {
    const { logger, lines } = capture({ service: 's' });
    logger.debug('hidden');
    logger.info('shown');
    logger.error('also shown');
    expect((await lines()).map((line) => line.message)).toEqual(['shown', 'also shown']);
  });

  it('honours the level option', async () => {
    const { logger, lines } = capture({ service: 's', level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    logger.error('also shown');
    expect((await lines()).map((line) => line.level)).toEqual(['warn', 'error']);
  });

  it('keeps the stack of a logged error', async () => {
    const { logger, lines } = capture({ service: 's' });
    logger.error(new Error('redis went away'));
    const [line] = await lines();
    expect(line).toMatchObject({ level: 'error', message: 'redis went away' });
    expect(String(line.stack)).toContain('redis went away');
    expect(String(line.stack)).toContain('logger.spec.ts');
  });

  it('escapes messages so each line stays one JSON object', async () => {
    const { logger, lines } = capture({ service: 's' });
    logger.info('two\nlines "quoted"');
    const written = await lines();
    expect(written).toHaveLength(1);
    expect(written[0].message).toBe('two\nlines "quoted"');
  });
});

describe('errorMessage', () => {
  it.each([
    ['a string', 'plain failure', 'plain failure'],
    ['a number', 42, '42'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
  ])('describes %s as its string form', (_label, thrown, expected) => {
    expect(errorMessage(thrown)).toBe(expected);
  });

  it('is the message of an error without a cause', () => {
    expect(errorMessage(new TypeError('bad input'))).toBe('bad input');
  });

  it('includes every cause, outermost first', () => {
    const root = new Error('ECONNREFUSED 127.0.0.1:6379');
    const middle = new Error('redis unavailable', { cause: root });
    const outer = new Error('could not enqueue question', { cause: middle });
    const text = errorMessage(outer);
    const positions = [outer.message, middle.message, root.message].map((m) => text.indexOf(m));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('includes a cause that is not an Error', () => {
    const text = errorMessage(new Error('lookup failed', { cause: 'timeout after 5s' }));
    expect(text).toContain('lookup failed');
    expect(text).toContain('timeout after 5s');
  });

  it('does not recurse forever on a cyclic cause', () => {
    const a = new Error('first');
    const b = new Error('second', { cause: a });
    a.cause = b;
    const text = errorMessage(a);
    expect(text).toContain('first');
    expect(text).toContain('second');
  });
});

describe('context and explicit fields', () => {
  it('lets a field passed to the log call win over the context', async () => {
    const { logger, lines } = capture({ service: 'svc' });
    runWithContext({ job_id: 'from-context', request_id: 'r1' }, () => logger.info('x', { job_id: 'explicit' }));
    expect((await lines())[0]).toMatchObject({ job_id: 'explicit', request_id: 'r1' });
  });
});
