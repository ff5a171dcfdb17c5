import { PassThrough } from 'node:stream';

export interface CapturedLogs {
  /** The stream to give a logger (`createLogger({ service, stream })`). */
  readonly stream: PassThrough;
  /** Every JSON line written to the stream so far, parsed, in order. */
  readonly lines: Record<string, unknown>[];
  /** Everything written to the stream so far, as written. */
  text(): string;
}

/**
 * A stream that collects what a JSON logger writes to it, so that a test can
 * read the log lines of the code under test. A line that is not JSON fails
 * the test where it is written.
 */
export function captureLogs(): CapturedLogs {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let text = '';
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts.filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { stream, lines, text: () => text };
}
