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

/**
 * Writes one job's events to its Redis Stream. Tokens are batched so a fast
 * model does not cost one Redis round trip per token, and events emitted while
 * a write is in flight go out together in the next one (a question's status,
 * stages, citations and end cost two or three round trips, not one each); the
 * stream is trimmed and expires with the job record.
 */
export class JobEventsWriter {
  private readonly key: string;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  /** Events not yet sent, in order. */
  private queued: [JobEventType, string][] = [];
  /** The write in flight and the ones that follow it, until the queue is empty. */
  private writing: Promise<void> | undefined;
  private failed: unknown;

  constructor(
    private readonly redis: Redis,
    jobId: string,
    private readonly options: JobEventsOptions,
  ) {
    this.key = jobEventsKey(options.prefix, jobId);
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
    await this.writing;
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
    this.queued.push([type, data]);
    this.writing ??= this.drain();
  }

  /** One write at a time, so events keep their order; each takes everything queued so far. */
  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0);
      const multi = this.redis.multi();
      for (const [type, data] of batch) multi.xadd(this.key, 'MAXLEN', '~', String(JOB_EVENTS_MAX), '*', 'type', type, 'data', data);
      await multi
        .expire(this.key, this.options.retentionSeconds)
        .exec()
        .catch((error: unknown) => (this.failed ??= error));
    }
    this.writing = undefined;
  }
}
