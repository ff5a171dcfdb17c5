import { JOB_EVENTS_MAX, jobEventsKey, type JobEventType } from '@rag/queue-contracts';
import type { Redis } from 'ioredis';

export interface JobEventsOptions {
  prefix: string;
  retentionSeconds: number;
  /** Tokens are sent in batches: at most this often… */
  flushMs?: number;
  /** …or when this many characters are waiting. */
  flushChars?: number;
}

/** One event waiting to be written, with its stream and that stream's life. */
interface QueuedEvent {
  key: string;
  retentionSeconds: number;
  type: JobEventType;
  data: string;
}

/** A key's existence asked for in the next write (see EventsPipe.exists). */
interface QueuedProbe {
  key: string;
  answer: (exists: boolean) => void;
  fail: (error: unknown) => void;
}

/**
 * The events of every job written through one Redis connection, sent
 * together: what was emitted in one turn of the event loop goes out in one
 * MULTI, and what is emitted while that is in flight in the next. A worker
 * answering many questions at once writes them all in a few round trips
 * instead of a few per question (each `write` to a socket costs about as much
 * CPU here as the rest of a question's bookkeeping); one job's events keep
 * their order, and a lone event waits no longer than the current turn. Reads
 * a job makes as it starts (its cancel check) ride along in the same MULTI.
 */
class EventsPipe {
  private queued: QueuedEvent[] = [];
  private probes: QueuedProbe[] = [];
  private written = settledLater();
  private busy = false;

  constructor(private readonly redis: Redis) {}

  /** Queues one event; the promise settles when the write that holds it has (rejected if it failed). */
  append(event: QueuedEvent): Promise<void> {
    this.queued.push(event);
    this.schedule();
    return this.written.promise;
  }

  /** Whether `key` exists, read in the next write (after the events queued before it). */
  exists(key: string): Promise<boolean> {
    return new Promise<boolean>((answer, fail) => {
      this.probes.push({ key, answer, fail });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy) return;
    this.busy = true;
    setImmediate(() => void this.drain());
  }

  /** One write at a time, so events keep their order; each takes everything queued so far. */
  private async drain(): Promise<void> {
    while (this.queued.length > 0 || this.probes.length > 0) {
      const batch = this.queued.splice(0);
      const probes = this.probes.splice(0);
      const written = this.written;
      this.written = settledLater();
      const multi = this.redis.multi();
      const lives = new Map<string, number>();
      for (const { key, retentionSeconds, type, data } of batch) {
        multi.xadd(key, 'MAXLEN', '~', String(JOB_EVENTS_MAX), '*', 'type', type, 'data', data);
        lives.set(key, retentionSeconds);
      }
      for (const [key, seconds] of lives) multi.expire(key, seconds);
      for (const { key } of probes) multi.exists(key);
      const writes = batch.length + lives.size;
      try {
        const results = (await multi.exec()) ?? [];
        const failed = results.slice(0, writes).find(([error]) => error)?.[0];
        if (failed) written.reject(failed);
        else written.resolve();
        probes.forEach((probe, i) => {
          const [error, exists] = results[writes + i] ?? [new Error('the MULTI holding the read was discarded')];
          if (error) probe.fail(error);
          else probe.answer(exists === 1);
        });
      } catch (error) {
        written.reject(error);
        for (const probe of probes) probe.fail(error);
      }
    }
    this.busy = false;
  }
}

/** A promise settled from outside; a rejection nobody awaits is not reported as unhandled. */
function settledLater(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

const pipes = new WeakMap<Redis, EventsPipe>();

/**
 * Whether `key` exists, read in the next write of the job events going out
 * through `redis` (one round trip fewer per job when its first event and the
 * read leave in the same turn, as a job's start and its cancel check do).
 */
export function existsWithEvents(redis: Redis, key: string): Promise<boolean> {
  return pipeFor(redis).exists(key);
}

function pipeFor(redis: Redis): EventsPipe {
  let pipe = pipes.get(redis);
  if (!pipe) pipes.set(redis, (pipe = new EventsPipe(redis)));
  return pipe;
}

/**
 * Writes one job's events to its Redis Stream. Tokens are batched so a fast
 * model does not cost one Redis round trip per token, and the events of all
 * the jobs a process runs go out together (see EventsPipe); the stream is
 * trimmed and expires with the job record.
 */
export class JobEventsWriter {
  private readonly key: string;
  private readonly pipe: EventsPipe;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  /** The write holding this job's last event. */
  private last: Promise<void> | undefined;
  private failed: unknown;

  constructor(
    redis: Redis,
    jobId: string,
    private readonly options: JobEventsOptions,
  ) {
    this.key = jobEventsKey(options.prefix, jobId);
    this.pipe = pipeFor(redis);
  }

  emit(type: JobEventType, payload: unknown): void {
    if (type !== 'token') this.flushTokens();
    this.append(type, JSON.stringify(payload));
  }

  token(text: string): void {
    this.pending += text;
    if (this.pending.length >= (this.options.flushChars ?? 64)) this.flushTokens();
    else this.timer ??= setTimeout(() => this.flushTokens(), this.options.flushMs ?? 50);
  }

  /** Flushes pending tokens and waits until every event is written. */
  async close(): Promise<void> {
    this.flushTokens();
    await this.last?.catch(() => undefined);
    if (this.failed) throw this.failed;
  }

  private flushTokens(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.append('token', JSON.stringify({ text }));
  }

  private append(type: JobEventType, data: string): void {
    const written = this.pipe.append({ key: this.key, retentionSeconds: this.options.retentionSeconds, type, data });
    if (written === this.last) return;
    this.last = written;
    written.catch((error: unknown) => (this.failed ??= error));
  }
}
