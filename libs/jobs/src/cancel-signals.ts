import { CancelledError } from '@rag/core';
import { cancelChannel, cancelKey } from '@rag/queue-contracts';
import type { Redis } from 'ioredis';
import { existsWithEvents } from './job-events.writer';

export class JobCancelledError extends CancelledError {
  constructor(jobId: string) {
    super(`job ${jobId} was cancelled`);
    this.name = 'JobCancelledError';
  }
}

/** Gateway side: marks the job cancelled and tells every worker at once. */
export async function requestCancel(redis: Redis, prefix: string, jobId: string, ttlSeconds: number): Promise<void> {
  await redis.multi().set(cancelKey(prefix, jobId), String(Date.now()), 'EX', ttlSeconds).publish(cancelChannel(prefix), jobId).exec();
}

export async function isCancelRequested(redis: Redis, prefix: string, jobId: string): Promise<boolean> {
  return (await redis.exists(cancelKey(prefix, jobId))) === 1;
}

/**
 * Worker side: one subscription for all of a worker's active jobs. Each job
 * gets an AbortController that fires when its cancellation is published, or
 * at once if it was asked for before the job started.
 */
export class CancelSignals {
  private readonly active = new Map<string, AbortController>();
  private started: Promise<unknown> | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  start(): Promise<unknown> {
    this.started ??= (async () => {
      this.subscriber.on('message', (channel: string, jobId: string) => {
        if (channel === cancelChannel(this.prefix)) this.active.get(jobId)?.abort(new JobCancelledError(jobId));
      });
      await this.subscriber.subscribe(cancelChannel(this.prefix));
    })();
    return this.started;
  }

  /**
   * The signal for one job; call `release` when the job ends. A cancel asked
   * for before the job was tracked is read from Redis, in the same MULTI as
   * the job events emitted in this turn when they go through the same
   * connection (a worker's `active` status event: no round trip of its own).
   */
  async track(jobId: string): Promise<AbortSignal> {
    const controller = new AbortController();
    this.active.set(jobId, controller);
    if (await existsWithEvents(this.client, cancelKey(this.prefix, jobId))) controller.abort(new JobCancelledError(jobId));
    return controller.signal;
  }

  release(jobId: string): void {
    this.active.delete(jobId);
  }

  get tracked(): number {
    return this.active.size;
  }
}
