import { jobChangedChannel } from '@rag/queue-contracts';
import type { Queue } from 'bull';
import type { Redis } from 'ioredis';

export interface Wakeup {
  promise: Promise<void>;
  cancel(): void;
}

/**
 * Long-poll support: one subscription per process serves every waiting
 * request, keyed by job id, so a waiting client costs no Redis traffic until
 * its job changes. It hears every change from every process: Bull's global
 * completion and failure events (published by whichever worker ran the job)
 * and the job-changed channel, on which any gateway publishes the changes
 * Bull has no event for (a waiting job removed by a cancel, see QueryJobs).
 */
export class JobWaiter {
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly ready: Promise<void>;
  private readonly channel: string;

  constructor(queue: Queue, prefix: string) {
    this.channel = jobChangedChannel(prefix);
    // A failed attempt that will be retried also fires global:failed; the waiter re-reads and keeps waiting.
    queue.on('global:completed', (jobId: string | number) => this.wake(String(jobId)));
    queue.on('global:failed', (jobId: string | number) => this.wake(String(jobId)));
    // Bull's own subscriber connection (it carries the global events above; Bull ignores channels it does not know):
    // no connection of our own, closed with the queue, resubscribed by ioredis after a reconnect.
    const subscriber = (queue as Queue & { eclient: Redis }).eclient;
    subscriber.on('message', (channel: string, jobId: string) => {
      if (channel === this.channel) this.wake(jobId);
    });
    this.ready = Promise.all([queue.isReady(), subscriber.subscribe(this.channel)]).then(() => undefined);
  }

  /** Wakes this process's requests waiting on `jobId`. */
  wake(jobId: string): void {
    const set = this.waiting.get(jobId);
    if (!set) return;
    this.waiting.delete(jobId);
    for (const resolve of set) resolve();
  }

  /** Registers interest in the next event for `jobId`; register before reading the job to avoid a lost wakeup. */
  next(jobId: string): Wakeup {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    let set = this.waiting.get(jobId);
    if (!set) this.waiting.set(jobId, (set = new Set()));
    set.add(resolve);
    return {
      promise,
      cancel: () => {
        const current = this.waiting.get(jobId);
        current?.delete(resolve);
        if (current?.size === 0) this.waiting.delete(jobId);
        resolve();
      },
    };
  }

  get pending(): number {
    return this.waiting.size;
  }

  whenReady(): Promise<void> {
    return this.ready;
  }
}
