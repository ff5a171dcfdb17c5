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
    const wake = (jobId: string | number) => {
      const id = String(jobId);
      const set = this.waiting.get(id);
      if (!set) return;
      this.waiting.delete(id);
      for (const resolve of set) resolve();
    };
    queue.on('global:completed', wake);
    queue.on('global:failed', wake);
    // global:active marks a retry starting; the waiter re-reads and keeps waiting.
    queue.on('global:removed', wake);
    this.ready = queue.isReady().then(() => undefined);
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
