export interface RestartPolicyOptions {
  /** Wait before the first restart; each further crash in a row doubles it. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A process that ran this long was healthy: its next crash starts the backoff again. */
  healthyAfterMs: number;
  /** This many crashes within `crashLoopWindowMs` is a crash loop. */
  crashLoopCrashes: number;
  crashLoopWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  healthyAfterMs: 60_000,
  crashLoopCrashes: 5,
  crashLoopWindowMs: 120_000,
};

export interface RestartDecision {
  delayMs: number;
  /** Crashes in a row without a healthy run between them. */
  consecutive: number;
  /** Crashes within the crash-loop window, this one included. */
  recent: number;
  /** In a crash loop the process is still restarted, at the longest delay, and the supervisor says so. */
  crashLoop: boolean;
}

/**
 * When to restart a process that exited: exponential backoff from
 * `initialDelayMs`, reset by a healthy run; a crash loop is retried at
 * `maxDelayMs` for ever (a dependency may come back), never given up on.
 */
export class RestartPolicy {
  private consecutive = 0;
  private crashes: number[] = [];

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** Records an exit at `now` after a run of `ranForMs`, and says how long to wait before the restart. */
  onExit(ranForMs: number, now: number): RestartDecision {
    const o = this.options;
    if (ranForMs >= o.healthyAfterMs) this.consecutive = 0;
    this.consecutive++;
    this.crashes = [...this.crashes.filter((t) => t > now - o.crashLoopWindowMs), now];
    const crashLoop = this.crashes.length >= o.crashLoopCrashes;
    const backoff = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** Math.min(this.consecutive - 1, 30));
    return { delayMs: crashLoop ? o.maxDelayMs : backoff, consecutive: this.consecutive, recent: this.crashes.length, crashLoop };
  }
}
