import type { Queue } from 'bull';

export interface Wakeup {
  promise: Promise<void>;
  cancel(): void;
}

/**
 * Long-poll support: one subscription to Bull's global completion and
 * failure events serves every waiting request, keyed by job id, so a
 * waiting client costs no Redis traffic until its job changes.
 */
export class JobWaiter {
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly ready: Promise<void>;

  constructor(queue: Queue) {
    // A failed attempt that will be retried also fires global:failed; the waiter re-reads and keeps waiting.
    queue.on('global:completed', (jobId: string | number) => this.wake(String(jobId)));
    queue.on('global:failed', (jobId: string | number) => this.wake(String(jobId)));
    this.ready = queue.isReady().then(() => undefined);
  }

  /**
   * Wakes the requests waiting on `jobId`. Bull publishes no event when a job
   * is removed, so a cancel calls this for the jobs it removes.
   */
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
