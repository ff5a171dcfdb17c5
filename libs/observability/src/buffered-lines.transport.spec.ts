import { Writable } from 'node:stream';
import { MAX_BUFFERED_CHARS } from './buffered-lines.transport';
import { createLogger, runWithContext } from './index';

/** A stream that keeps every write it is given, one entry per write call. */
function countingStream() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString());
      callback();
    },
  });
  const lines = () =>
    writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, writes, lines };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('buffered log lines (createLogger on stdout)', () => {
  it('writes the lines of one turn in one write, intact, in order, as JSON with their context', async () => {
    const out = countingStream();
    const logger = createLogger({ service: 'api-gateway', stream: out.stream, buffered: true });
    runWithContext({ request_id: 'req-1', job_id: 'job-1' }, () => {
      for (let seq = 0; seq < 100; seq++) logger.info('request', { seq, route: '/v1/chat', path: 'with "quotes"\nand a newline' });
    });
    expect(out.writes).toHaveLength(0);
    await nextTurn();
    expect(out.writes).toHaveLength(1);
    expect(out.writes[0].endsWith('\n')).toBe(true);
    const lines = out.lines();
    expect(lines.map((line) => line.seq)).toEqual(Array.from({ length: 100 }, (_, seq) => seq));
    for (const line of lines) {
      expect(line).toMatchObject({
        service: 'api-gateway',
        level: 'info',
        message: 'request',
        request_id: 'req-1',
        job_id: 'job-1',
        path: 'with "quotes"\nand a newline',
      });
      expect(typeof line.timestamp).toBe('string');
    }
  });

  it('writes each turn of lines in its own write', async () => {
    const out = countingStream();
    const logger = createLogger({ service: 's', stream: out.stream, buffered: true });
    for (let turn = 0; turn < 3; turn++) {
      logger.info('one', { turn });
      logger.warn('two', { turn });
      await nextTurn();
    }
    expect(out.writes).toHaveLength(3);
    expect(out.lines().map((line) => `${String(line.turn)} ${String(line.message)}`)).toEqual(['0 one', '0 two', '1 one', '1 two', '2 one', '2 two']);
  });

  it('does not hold more than a batch: a large burst goes out in a few writes of whole lines', async () => {
    const out = countingStream();
    const logger = createLogger({ service: 's', stream: out.stream, buffered: true });
    const filler = 'x'.repeat(1000);
    const count = Math.ceil((3 * MAX_BUFFERED_CHARS) / filler.length);
    for (let seq = 0; seq < count; seq++) logger.info('big', { seq, filler });
    // Three batches are full before the turn ends; the rest goes at its end.
    expect(out.writes).toHaveLength(3);
    await nextTurn();
    expect(out.writes).toHaveLength(4);
    for (const write of out.writes) {
      expect(write.endsWith('\n')).toBe(true);
      expect(write.length).toBeLessThan(MAX_BUFFERED_CHARS + 2 * filler.length);
    }
    expect(out.lines().map((line) => line.seq)).toEqual(Array.from({ length: count }, (_, seq) => seq));
  });

  it('gives a stream passed without `buffered` each line as it is logged', () => {
    const out = countingStream();
    const logger = createLogger({ service: 's', stream: out.stream });
    logger.info('first');
    logger.info('second');
    expect(out.writes).toHaveLength(2);
  });
});
