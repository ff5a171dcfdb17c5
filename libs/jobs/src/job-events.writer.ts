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
 * model does not cost one Redis round trip per token; the stream is trimmed
 * and expires with the job record.
 */
export class JobEventsWriter {
  private readonly key: string;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
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
    await this.chain;
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
    // Writes are chained so events keep their order.
    this.chain = this.chain.then(() =>
      this.redis
        .multi()
        .xadd(this.key, 'MAXLEN', '~', String(JOB_EVENTS_MAX), '*', 'type', type, 'data', data)
        .expire(this.key, this.options.retentionSeconds)
        .exec()
        .catch((error: unknown) => (this.failed ??= error)),
    );
  }
}
