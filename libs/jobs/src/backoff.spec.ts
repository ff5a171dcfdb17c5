import { jitteredDelay } from './backoff';

describe('jitteredDelay', () => {
  it('doubles per attempt and stays within half to all of the exponential delay', () => {
    for (const attempt of [1, 2, 3, 4]) {
      const full = 1000 * 2 ** (attempt - 1);
      expect(jitteredDelay(attempt, 1000, () => 0)).toBe(full / 2);
      expect(jitteredDelay(attempt, 1000, () => 1)).toBe(full);
      const sampled = jitteredDelay(attempt, 1000);
      expect(sampled).toBeGreaterThanOrEqual(full / 2);
      expect(sampled).toBeLessThanOrEqual(full);
    }
  });

  it('spreads the retries of jobs that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => jitteredDelay(3, 1000)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
