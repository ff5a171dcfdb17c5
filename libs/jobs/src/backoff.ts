/** Name of the retry backoff every queue registers: exponential with jitter. */
export const JITTER_BACKOFF = 'exponential-jitter';

/**
 * Delay before retry `attemptsMade` (1 after the first failure): base × 2^(n-1),
 * scaled by a random factor in [0.5, 1] so retries of many jobs that failed
 * together (an outage) do not hit the dependency again in lockstep.
 */
export function jitteredDelay(attemptsMade: number, baseMs: number, random: () => number = Math.random): number {
  const exponential = baseMs * 2 ** Math.max(0, attemptsMade - 1);
  return Math.round(exponential * (0.5 + 0.5 * random()));
}
