import * as http from 'node:http';

/** One Server-Sent Event as a client gets it. */
export interface SseEvent {
  /** Absent for an event without an `id:` line. */
  id?: string;
  event: string;
  data: string;
}

/** A `text/event-stream` response read as it arrives, as `curl -N` would. */
export interface EventStreamClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Comment lines (`: keep-alive`) in arrival order, without the colon. */
  readonly comments: string[];
  /** The next event; undefined once the stream has ended. Rejects after `timeoutMs` without one. */
  next(timeoutMs?: number): Promise<SseEvent | undefined>;
  /** Every event until the stream ends (rejects if it has not within `timeoutMs`). */
  rest(timeoutMs?: number): Promise<SseEvent[]>;
  /** The whole body of an answer that is not a stream (an error's JSON). */
  body(): Promise<string>;
  /** Resolves when the server ends the stream (or the connection closes). */
  readonly ended: Promise<void>;
  /** Hangs up. */
  close(): void;
}

/** GETs `url` and reads its events chunk by chunk with plain `http.get` (no EventSource, no buffering). */
export function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const waiters: (() => void)[] = [];
      let buffered = '';
      let raw = '';
      let done = false;
      const wake = () => waiters.splice(0).forEach((w) => w());
      const ended = new Promise<void>((resolveEnd) => {
        const end = () => {
          done = true;
          wake();
          resolveEnd();
        };
        res.on('end', end).on('close', end).on('error', end);
      });
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffered += chunk;
        for (let cut = buffered.indexOf('\n\n'); cut >= 0; cut = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, cut);
          buffered = buffered.slice(cut + 2);
          const event: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) events.push({ ...event, data: data.join('\n') });
        }
        wake();
      });
      const next = async (timeoutMs = 10_000): Promise<SseEvent | undefined> => {
        const deadline = Date.now() + timeoutMs;
        while (events.length === 0 && !done) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`no event within ${timeoutMs} ms (comments so far: ${comments.length})`);
          await new Promise<void>((r) => {
            const timer = setTimeout(r, left);
            waiters.push(() => (clearTimeout(timer), r()));
          });
        }
        return events.shift();
      };
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        comments,
        next,
        async rest(timeoutMs = 30_000) {
          const deadline = Date.now() + timeoutMs;
          const all: SseEvent[] = [];
          for (let e = await next(timeoutMs); e; e = await next(Math.max(1, deadline - Date.now()))) all.push(e);
          return all;
        },
        async body() {
          await ended;
          return raw;
        },
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
