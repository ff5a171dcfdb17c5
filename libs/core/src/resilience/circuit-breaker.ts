import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  timeout,
  type CircuitBreakerPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { AppError, RetryableError, type AppErrorOptions } from '../errors';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive counted failures that open the breaker (BREAKER_FAILURES). */
  failures: number;
  /** How long it stays open before one trial call goes through (BREAKER_HALF_OPEN_MS). */
  halfOpenAfterMs: number;
  /** Bound on each call, streamed bodies included; a timeout counts as a failure. 0 or absent: none. */
  timeoutMs?: number;
  /** Which errors count as failures; default `isRetryableError`. */
  isFailure?: (error: unknown) => boolean;
}

/** A circuit breaker around one dependency ('chat', 'embeddings', a vector store). */
export interface Breaker {
  readonly name: string;
  /** Cockatiel's view: it stays 'open' after the wait until the next call becomes the trial. */
  readonly state: BreakerState;
  /** Called on every transition, e.g. to update a gauge. */
  onStateChange(listener: (state: BreakerState, name: string) => void): { dispose(): void };
  /** Throws BreakerOpenError now if a call would be refused, so callers need not queue for rate limits first. */
  assertAvailable(): void;
  /** Runs `fn` through the breaker (and the timeout); `fn` gets a signal that aborts on timeout or when `signal` aborts. */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * The caller gave up (job cancelled, or a worker shutting down): still
 * retryable, but says nothing about the dependency's health, so it never
 * counts towards a circuit breaker.
 */
export class CallAbortedError extends RetryableError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, { ...options, code: options.code ?? 'cancelled' });
  }
}

/**
 * The dependency is failing, so calls fail fast without reaching it. Retryable:
 * an open breaker makes jobs wait and retry rather than fail. Its code is
 * `llm_unavailable` whatever the dependency, as it was when the LLM's breaker
 * was the first.
 */
export class BreakerOpenError extends RetryableError {
  constructor(
    readonly dependency: string,
    /** Until the next trial call is allowed, as far as this process knows. */
    readonly retryInMs: number,
    options: { cause?: unknown } = {},
  ) {
    super(
      `${dependency} is unavailable (circuit breaker open after repeated failures); calls fail fast for about ${Math.ceil(retryInMs / 1000)} s, then one trial call goes through; the job will retry`,
      { ...options, code: 'llm_unavailable' },
    );
  }
}

/** A call that took longer than the breaker's timeout. */
export class DependencyTimeoutError extends RetryableError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, { ...options, code: options.code ?? 'llm_timeout' });
  }
}

/**
 * What counts against a breaker: our failures a retry may fix (RetryableError:
 * timeouts, 429, 5xx, connection errors). Permanent ones (401, 404, 400,
 * dimension mismatch) and the caller's own aborts say nothing about the
 * dependency's health, and fast-fail errors are not new evidence.
 */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof CallAbortedError || error instanceof BreakerOpenError) return false;
  return error instanceof AppError && !error.permanent;
}

/** One breaker: `ConsecutiveBreaker(failures)` from cockatiel, optionally with an aggressive timeout inside it. */
export function createBreaker(name: string, options: BreakerOptions): Breaker {
  return new CockatielBreaker(name, options);
}

/** Runs `fn` behind `breaker`, e.g. a vector-store call: `withBreaker(storeBreaker, () => store.search(q))`. */
export function withBreaker<T>(breaker: Breaker, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
  return breaker.execute(fn, signal);
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

class CockatielBreaker implements Breaker {
  private readonly policy: CircuitBreakerPolicy;
  private readonly timeoutPolicy: TimeoutPolicy | undefined;
  private openedAt = 0;

  constructor(
    readonly name: string,
    private readonly options: BreakerOptions,
  ) {
    const isFailure = options.isFailure ?? isRetryableError;
    this.policy = circuitBreaker(
      handleWhen((error) => isFailure(error)),
      { halfOpenAfter: options.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.failures) },
    );
    this.policy.onBreak(() => (this.openedAt = Date.now()));
    // Aggressive: an OpenAI stream that is aborted ends quietly instead of throwing, so the timeout must throw itself.
    this.timeoutPolicy = options.timeoutMs ? timeout(options.timeoutMs, TimeoutStrategy.Aggressive) : undefined;
  }

  get state(): BreakerState {
    return STATES[this.policy.state];
  }

  onStateChange(listener: (state: BreakerState, name: string) => void): { dispose(): void } {
    return this.policy.onStateChange((state) => listener(STATES[state], this.name));
  }

  assertAvailable(): void {
    const state = this.policy.state;
    if (state === CircuitState.Isolated || (state === CircuitState.Open && this.retryInMs() > 0)) throw this.openError();
  }

  async execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await this.policy.execute(() => this.attempt(fn, signal), signal);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.openError();
      // Cockatiel's own cancellation (the caller aborted while waiting for a trial call).
      if (error instanceof TaskCancelledError) throw new CallAbortedError(`${this.name} call was aborted`, { cause: error });
      throw error;
    }
  }

  private async attempt<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!this.timeoutPolicy) return fn(signal ?? new AbortController().signal);
    try {
      return await this.timeoutPolicy.execute((_context, inner) => fn(inner), signal);
    } catch (error) {
      if (!(error instanceof TaskCancelledError)) throw error;
      if (signal?.aborted) throw new CallAbortedError(`${this.name} call was aborted`, { cause: error });
      throw new DependencyTimeoutError(
        `${this.name} did not answer within ${this.options.timeoutMs} ms; the job will retry (raise LLM_TIMEOUT_MS if the model is slow)`,
        {
          cause: error,
          code: 'llm_timeout',
        },
      );
    }
  }

  private retryInMs(): number {
    return Math.max(0, this.openedAt + this.options.halfOpenAfterMs - Date.now());
  }

  private openError(): BreakerOpenError {
    const last = this.policy.lastFailure;
    return new BreakerOpenError(this.name, this.retryInMs(), last && 'error' in last ? { cause: last.error } : undefined);
  }
}
