import { PermanentError, RetryableError } from '../errors';
import { BreakerOpenError, CallAbortedError, DependencyTimeoutError, createBreaker, isRetryableError, withBreaker, type BreakerState } from './circuit-breaker';

const retryable = () => Promise.reject(new RetryableError('503'));
const permanent = () => Promise.reject(new PermanentError('401'));
const ok = () => Promise.resolve('ok');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('isRetryableError', () => {
  it('counts retryable failures, not permanent ones, aborts or fast fails', () => {
    expect(isRetryableError(new RetryableError('store down'))).toBe(true);
    expect(isRetryableError(new DependencyTimeoutError('slow'))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('store down'), { permanent: false }))).toBe(false);
    expect(isRetryableError(new PermanentError('x'))).toBe(false);
    expect(isRetryableError(new CallAbortedError('x'))).toBe(false);
    expect(isRetryableError(new BreakerOpenError('chat', 100))).toBe(false);
    expect(isRetryableError(new Error('plain'))).toBe(false);
  });
});

describe('createBreaker', () => {
  it('opens after N consecutive retryable failures, fails fast, half-opens after the delay and closes on success', async () => {
    const breaker = createBreaker('chat', { failures: 2, halfOpenAfterMs: 80 });
    const states: BreakerState[] = [];
    breaker.onStateChange((s) => states.push(s));
    const fn = jest.fn(retryable);
    await expect(breaker.execute(fn)).rejects.toThrow('503');
    await expect(breaker.execute(fn)).rejects.toThrow('503');
    expect(breaker.state).toBe('open');

    const fast = breaker.execute(fn);
    await expect(fast).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(fast).rejects.toMatchObject({
      permanent: false,
      dependency: 'chat',
      message: expect.stringMatching(/chat is unavailable.*the job will retry/),
    });
    expect(() => breaker.assertAvailable()).toThrow(BreakerOpenError);
    expect(fn).toHaveBeenCalledTimes(2);

    await sleep(100);
    expect(() => breaker.assertAvailable()).not.toThrow();
    await expect(withBreaker(breaker, ok)).resolves.toBe('ok');
    expect(states).toEqual(['open', 'half-open', 'closed']);
    expect(breaker.state).toBe('closed');
  });

  it('does not count permanent failures or aborts, and a success resets the count', async () => {
    const breaker = createBreaker('embeddings', { failures: 2, halfOpenAfterMs: 1000 });
    for (let i = 0; i < 5; i++) await expect(breaker.execute(permanent)).rejects.toBeInstanceOf(PermanentError);
    await expect(breaker.execute(() => Promise.reject(new CallAbortedError('cancelled')))).rejects.toBeInstanceOf(CallAbortedError);
    await expect(breaker.execute(retryable)).rejects.toThrow('503');
    await breaker.execute(ok);
    await expect(breaker.execute(retryable)).rejects.toThrow('503');
    expect(breaker.state).toBe('closed');
  });

  it('reopens when the trial call fails', async () => {
    const breaker = createBreaker('chat', { failures: 1, halfOpenAfterMs: 30 });
    await expect(breaker.execute(retryable)).rejects.toThrow('503');
    await sleep(40);
    await expect(breaker.execute(retryable)).rejects.toThrow('503');
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(BreakerOpenError);
  });

  it('times calls out, aborting their signal, and counts the timeout', async () => {
    const breaker = createBreaker('vectors', { failures: 1, halfOpenAfterMs: 1000, timeoutMs: 30 });
    let seen: AbortSignal | undefined;
    const hang = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    };
    await expect(breaker.execute(hang)).rejects.toBeInstanceOf(DependencyTimeoutError);
    expect(seen?.aborted).toBe(true);
    expect(breaker.state).toBe('open');
  });

  it("turns the caller's abort into CallAbortedError, which does not count", async () => {
    const breaker = createBreaker('chat', { failures: 1, halfOpenAfterMs: 1000, timeoutMs: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(breaker.execute(() => new Promise<never>(() => undefined), controller.signal)).rejects.toBeInstanceOf(CallAbortedError);
    expect(breaker.state).toBe('closed');
  });
});
