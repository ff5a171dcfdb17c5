import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, currentContext, runWithContext, type Logger } from './index';

type Line = Record<string, unknown>;

/** A logger writing into memory, and the JSON lines it has written so far. */
function capturedLogger(): { logger: Logger; lines: () => Promise<Line[]> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const logger = createLogger({ service: 'ctx-test', stream });
  const lines = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Line);
  };
  return { logger, lines };
}

const byMessage = (lines: Line[]) => new Map(lines.map((line) => [line.message, line]));

describe('currentContext', () => {
  it('is empty outside any context', () => {
    expect(currentContext()).toEqual({});
  });

  it('is the context given inside runWithContext', () => {
    runWithContext({ request_id: 'req-1', tenant: 'acme' }, () => {
      expect(currentContext()).toEqual({ request_id: 'req-1', tenant: 'acme' });
    });
  });
});

describe('runWithContext', () => {
  it("returns the function's result, promises included", async () => {
    expect(runWithContext({ request_id: 'r' }, () => 41 + 1)).toBe(42);
    await expect(runWithContext({ request_id: 'r' }, async () => 'done')).resolves.toBe('done');
  });

  it('adds the ids to every line written inside it, and to none outside', async () => {
    const { logger, lines } = capturedLogger();
    logger.info('before');
    runWithContext({ request_id: 'req-1', job_id: '17' }, () => {
      logger.info('first');
      logger.warn('second');
    });
    logger.info('after');

    const seen = byMessage(await lines());
    for (const message of ['first', 'second']) {
      expect(seen.get(message)).toMatchObject({ request_id: 'req-1', job_id: '17' });
    }
    for (const message of ['before', 'after']) {
      expect(seen.get(message)).toBeDefined();
      expect(seen.get(message)).not.toHaveProperty('request_id');
      expect(seen.get(message)).not.toHaveProperty('job_id');
    }
  });

  it('keeps the ids after an await, a timer and a microtask', async () => {
    const { logger, lines } = capturedLogger();
    await runWithContext({ request_id: 'req-async' }, async () => {
      await sleep(5);
      logger.info('after sleep');
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          logger.info('in timer');
          resolve();
        }, 1),
      );
      await Promise.resolve();
      queueMicrotask(() => logger.info('in microtask'));
      await sleep(1);
    });
    logger.info('outside');

    const seen = byMessage(await lines());
    for (const message of ['after sleep', 'in timer', 'in microtask']) {
      expect(seen.get(message)).toMatchObject({ request_id: 'req-async' });
    }
    expect(seen.get('outside')).not.toHaveProperty('request_id');
  });

  it('merges a nested context over the outer one, and restores the outer one after it', async () => {
    const { logger, lines } = capturedLogger();
    await runWithContext({ request_id: 'req-outer', tenant: 'acme' }, async () => {
      logger.info('outer before');
      await runWithContext({ job_id: 'job-9', queue: 'rag-query' }, async () => {
        await sleep(1);
        logger.info('inner');
        runWithContext({ request_id: 'req-override' }, () => logger.info('innermost'));
      });
      logger.info('outer after');
    });

    const seen = byMessage(await lines());
    expect(seen.get('inner')).toMatchObject({ request_id: 'req-outer', tenant: 'acme', job_id: 'job-9', queue: 'rag-query' });
    expect(seen.get('innermost')).toMatchObject({ request_id: 'req-override', tenant: 'acme', job_id: 'job-9' });
    for (const message of ['outer before', 'outer after']) {
      expect(seen.get(message)).toMatchObject({ request_id: 'req-outer', tenant: 'acme' });
      expect(seen.get(message)).not.toHaveProperty('job_id');
      expect(seen.get(message)).not.toHaveProperty('queue');
    }
  });

  it('keeps concurrent contexts apart', async () => {
    const { logger, lines } = capturedLogger();
    const job = (id: string, delays: number[]) =>
      runWithContext({ job_id: id }, async () => {
        for (const [step, delay] of delays.entries()) {
          await sleep(delay);
          logger.info(`${id}:${step}`);
        }
      });
    await Promise.all([job('a', [3, 1, 4, 1]), job('b', [1, 5, 1, 2]), job('c', [2, 2, 2, 2])]);

    const written = await lines();
    expect(written).toHaveLength(12);
    for (const line of written) expect(line.job_id).toBe(String(line.message).split(':')[0]);
  });

  it('tags every line of a burst written in one tick', async () => {
    const { logger, lines } = capturedLogger();
    runWithContext({ request_id: 'A' }, () => {
      for (let i = 0; i < 200; i++) logger.info(`A${i}`);
    });
    runWithContext({ request_id: 'B' }, () => {
      for (let i = 0; i < 200; i++) logger.info(`B${i}`);
    });
    const written = await lines();
    expect(written).toHaveLength(400);
    for (const line of written) expect(line.request_id).toBe(String(line.message)[0]);
  });
});
