import { writeSync } from 'node:fs';
import TransportStream from 'winston-transport';

// winston's formatted line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');

/** A batch this large is written at once instead of waiting for the end of the turn. */
export const MAX_BUFFERED_CHARS = 64 * 1024;

/** Transports with lines not yet written; the exit hook writes them. */
const pending = new Set<BufferedLinesTransport>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' follows process.exit(), the end of the event loop and an uncaught exception; only synchronous work runs here.
  process.on('exit', () => {
    for (const transport of pending) transport.flushSync();
  });
}

/**
 * Log lines gathered in memory and written to the stream in one write per
 * event-loop turn (sooner once MAX_BUFFERED_CHARS are waiting), so a burst of
 * requests costs one write system call rather than one per line. Whatever is
 * still buffered when the process exits is written synchronously.
 */
export class BufferedLinesTransport extends TransportStream {
  private lines: string[] = [];
  private chars = 0;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {
    super();
    installExitHook();
  }

  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    const line = `${String(info[MESSAGE])}\n`;
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= MAX_BUFFERED_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = setImmediate(() => this.flush());
      pending.add(this);
    }
    callback();
  }

  /** Writes the buffered lines now, in one write. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    pending.delete(this);
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    this.chars = 0;
    this.stream.write(text);
  }

  /**
   * As flush, but to stdout with a synchronous write: the process is exiting
   * and its event loop will not run again. When stdout still holds earlier
   * text (a reader behind by a full pipe), the lines go after it as before.
   */
  flushSync(): void {
    if (this.stream !== process.stdout || process.stdout.writableLength > 0) return this.flush();
    const text = this.lines.join('');
    this.lines = [];
    this.chars = 0;
    pending.delete(this);
    writeAll(1, text);
  }
}

/** How long an exiting process keeps trying to write its last lines to a pipe nobody reads. */
const EXIT_WRITE_MS = 2000;

// A non-blocking pipe may take part of the text, or none for now (EAGAIN): keep writing until all of it is out,
// or until EXIT_WRITE_MS have passed (a reader that stopped reading must not keep the process from exiting).
function writeAll(fd: number, text: string): void {
  let rest = Buffer.from(text);
  const deadline = Date.now() + EXIT_WRITE_MS;
  while (rest.length > 0 && Date.now() < deadline) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}
