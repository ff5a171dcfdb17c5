import { RestartPolicy } from './restart-policy';

const options = { initialDelayMs: 500, maxDelayMs: 8000, healthyAfterMs: 60_000, crashLoopCrashes: 5, crashLoopWindowMs: 120_000 };

describe('RestartPolicy', () => {
  it('doubles the wait for each crash in a row, up to the maximum', () => {
    const policy = new RestartPolicy(options);
    const delays = [0, 1, 2, 3, 4, 5].map((i) => policy.onExit(1000, i * 200_000).delayMs);
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });

  it('starts again from the shortest wait after a healthy run', () => {
    const policy = new RestartPolicy(options);
    policy.onExit(1000, 0);
    policy.onExit(1000, 200_000);
    expect(policy.onExit(1000, 400_000)).toMatchObject({ delayMs: 2000, consecutive: 3 });
    expect(policy.onExit(60_000, 600_000)).toMatchObject({ delayMs: 500, consecutive: 1 });
  });

  it('calls five crashes within two minutes a crash loop, and keeps restarting at the longest wait', () => {
    const policy = new RestartPolicy(options);
    const decisions = [0, 1, 2, 3, 4, 5].map((i) => policy.onExit(100, i * 1000));
    expect(decisions.map((d) => d.crashLoop)).toEqual([false, false, false, false, true, true]);
    expect(decisions.map((d) => d.recent)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(decisions[4].delayMs).toBe(8000);
    // Crashes older than the window no longer count.
    expect(policy.onExit(100, 200_000)).toMatchObject({ crashLoop: false, recent: 1 });
  });

  it('keeps a slow crash loop (healthy runs between crashes) out of the crash-loop count', () => {
    const policy = new RestartPolicy(options);
    const decisions = [0, 1, 2, 3, 4].map((i) => policy.onExit(60_000, i * 61_000));
    expect(decisions.map((d) => d.crashLoop)).toEqual([false, false, false, false, false]);
    expect(decisions.every((d) => d.delayMs === 500)).toBe(true);
  });
});
