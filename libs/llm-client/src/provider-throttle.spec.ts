import { CallAbortedError } from '@rag/core';
import { LocalProviderPause } from './provider-pause';
import { ProviderThrottle, RateLimitWaitError } from './provider-throttle';

// Without Redis the same limits hold within one process (rate-limiter-flexible's memory store).
describe('ProviderThrottle without Redis', () => {
  const call = (tokens = 1, signal?: AbortSignal) => ({ operation: 'chat (m)', tokens, signal });

  it('lets calls through at once when no limits are set', async () => {
    const throttle = new ProviderThrottle();
    const started = Date.now();
    for (let i = 0; i < 20; i++) await throttle.acquire(call(10_000));
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('waits for the next window when requests per window run out', async () => {
    const throttle = new ProviderThrottle({ rpm: 2, windowMs: 1000 });
    const started = Date.now();
    await Promise.all([1, 2, 3].map(() => throttle.acquire(call())));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('caps a request larger than the token budget so it still gets its turn', async () => {
    const throttle = new ProviderThrottle({ tpm: 100, windowMs: 1000 });
    await throttle.acquire(call(5000));
  });

  it('fails at once with a retryable error when the wait would pass maxWaitMs', async () => {
    const throttle = new ProviderThrottle({ tpm: 100, windowMs: 5000, maxWaitMs: 500 });
    await throttle.acquire(call(100));
    const started = Date.now();
    const waited = throttle.acquire(call(1));
    await expect(waited).rejects.toBeInstanceOf(RateLimitWaitError);
    await expect(waited).rejects.toMatchObject({ permanent: false, message: expect.stringMatching(/LLM_TPM=100.*the job will retry/) });
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('honours a pause, and the signal cuts the wait short', async () => {
    const throttle = new ProviderThrottle({ maxPauseMs: 2000 });
    expect(await throttle.pauseFor(10_000)).toBe(2000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await expect(throttle.acquire(call(1, controller.signal))).rejects.toBeInstanceOf(CallAbortedError);
    expect(Date.now() - started).toBeLessThan(300);
  });
});

describe('LocalProviderPause', () => {
  it('only ever extends', async () => {
    const pause = new LocalProviderPause();
    expect(await pause.remainingMs()).toBe(0);
    await pause.extend(1000);
    expect(await pause.extend(10)).toBeGreaterThan(900);
  });
});
