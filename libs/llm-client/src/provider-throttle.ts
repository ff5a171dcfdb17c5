import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { abortableSleep } from './abortable-sleep';
import { CallAbortedError, type AppErrorOptions } from '@rag/core';
import { LlmRetryableError } from './errors';
import { LocalProviderPause, RedisProviderPause, type ProviderPause } from './provider-pause';

export interface ProviderThrottleOptions {
  /** Shares limits and pauses across every worker; without it they hold within this process only. */
  redis?: Redis;
  /** Start of every key (QUEUE_PREFIX), so deployments sharing one Redis keep their own budgets. Default `rag`. */
  prefix?: string;
  /** Requests per window (LLM_RPM); 0 or absent: no limit. */
  rpm?: number;
  /** Estimated tokens per window (LLM_TPM); 0 or absent: no limit. */
  tpm?: number;
  /** The limit window, in whole seconds' worth of ms (rate-limiter-flexible counts in seconds). Default 60000. */
  windowMs?: number;
  /** The longest one call waits for its turn before giving up with a retryable error. Default 60000. */
  maxWaitMs?: number;
  /** Cap on a provider's Retry-After, so a bogus header cannot stop every worker for hours. Default 300000. */
  maxPauseMs?: number;
  /** With Redis: a pause another worker sets stops this one's calls within this time (PAUSE_CACHE_MS, 250 by default). */
  pauseCacheMs?: number;
}

export interface ThrottleRequest {
  /** Names the call in errors, e.g. `chat completions (gpt-4o-mini)`. */
  operation: string;
  /** Estimated tokens (see estimateTokens in @rag/core); capped at the TPM limit so a huge request still gets its turn. */
  tokens: number;
  signal?: AbortSignal;
}

/** Waited as long as allowed for the shared limits or the provider's pause. Retryable: the job tries again later. */
export class RateLimitWaitError extends LlmRetryableError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, { code: 'llm_rate_limited', ...options });
  }
}

export const DEFAULT_WINDOW_MS = 60_000;
export const DEFAULT_MAX_WAIT_MS = 60_000;
export const DEFAULT_MAX_PAUSE_MS = 300_000;

// A refund this close to the window's end could land in the next window and over-credit it; skip it.
const REFUND_MARGIN_MS = 50;

interface Wait {
  ms: number;
  reason: string;
}

/**
 * Admission to the provider, in order: the shared pause (a 429's Retry-After),
 * then one request point, then the request's tokens. When a limit is reached
 * the call sleeps until it may go rather than fail, bounded by its signal and
 * by `maxWaitMs`. Fixed windows, so up to twice a limit can pass around a
 * window's edge.
 */
export class ProviderThrottle {
  readonly pause: ProviderPause;
  readonly rpm: number;
  readonly tpm: number;
  private readonly requests: RateLimiterAbstract | undefined;
  private readonly tokens: RateLimiterAbstract | undefined;
  private readonly maxWaitMs: number;
  private readonly maxPauseMs: number;
  /** Waits for the limits or a provider's pause in this process so far (for metrics). */
  readonly waits = { count: 0, seconds: 0 };

  constructor(options: ProviderThrottleOptions = {}) {
    const prefix = options.prefix ?? 'rag';
    const duration = Math.max(1, Math.ceil((options.windowMs ?? DEFAULT_WINDOW_MS) / 1000));
    this.rpm = Math.max(0, Math.floor(options.rpm ?? 0));
    this.tpm = Math.max(0, Math.floor(options.tpm ?? 0));
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.maxPauseMs = options.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    const redis = options.redis;
    const limiter = (points: number, name: string): RateLimiterAbstract | undefined => {
      if (points === 0) return undefined;
      const keyPrefix = `${prefix}:llm:${name}`;
      return redis ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration }) : new RateLimiterMemory({ keyPrefix, points, duration });
    };
    this.requests = limiter(this.rpm, 'rpm');
    this.tokens = limiter(this.tpm, 'tpm');
    this.pause = redis ? new RedisProviderPause(redis, prefix, options.pauseCacheMs) : new LocalProviderPause();
  }

  /** Resolves when the call may go; the request and its tokens are then counted. */
  async acquire(request: ThrottleRequest): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    for (;;) {
      if (request.signal?.aborted) throw abortedWhileWaiting(request.operation);
      const wait = await this.tryAcquire(request);
      if (!wait) return;
      const left = deadline - Date.now();
      if (wait.ms > left) {
        throw new RateLimitWaitError(
          `${request.operation} would wait ${seconds(wait.ms)} s for ${wait.reason}, past the ${seconds(this.maxWaitMs)} s a call may wait; the job will retry`,
        );
      }
      // A little jitter so the workers woken by one window do not all collide again.
      const jitter = Math.floor(Math.random() * Math.min(100, wait.ms * 0.1));
      this.waits.count++;
      this.waits.seconds += Math.min(left, wait.ms + jitter) / 1000;
      if (!(await abortableSleep(Math.min(left, wait.ms + jitter), request.signal))) throw abortedWhileWaiting(request.operation);
    }
  }

  /** Pauses every call (every worker, with Redis) for `ms`, capped at maxPauseMs; never shortens a longer pause. */
  async pauseFor(ms: number): Promise<number> {
    return store('set the shared LLM pause', () => this.pause.extend(Math.min(ms, this.maxPauseMs)));
  }

  private async tryAcquire(request: ThrottleRequest): Promise<Wait | undefined> {
    const paused = await store('read the shared LLM pause', () => this.pause.remainingMs());
    if (paused > 0) return { ms: paused, reason: "the provider's Retry-After" };
    const requests = this.requests;
    const requestTaken = requests ? await take(requests, 'requests', 1) : undefined;
    if (requestTaken && 'waitMs' in requestTaken) return { ms: requestTaken.waitMs, reason: `LLM_RPM=${this.rpm}` };
    if (this.tokens) {
      const tokens = Math.min(this.tpm, Math.max(1, Math.ceil(request.tokens)));
      const tokensTaken = await take(this.tokens, 'tokens', tokens);
      if ('waitMs' in tokensTaken) {
        // Give the request point back: this call did not go.
        if (requests && requestTaken && requestTaken.msLeft > REFUND_MARGIN_MS) await store('refund a request point', () => requests.reward('requests', 1));
        return { ms: tokensTaken.waitMs, reason: `LLM_TPM=${this.tpm}` };
      }
    }
    return undefined;
  }
}

/**
 * Consumes `points`, or says how long until the window resets. A refused
 * consume still counted its points, so they are given back: otherwise a large
 * refused request would also block smaller ones that fit.
 */
async function take(limiter: RateLimiterAbstract, key: string, points: number): Promise<{ msLeft: number } | { waitMs: number }> {
  try {
    const res = await limiter.consume(key, points);
    return { msLeft: res.msBeforeNext };
  } catch (result) {
    if (!(result instanceof RateLimiterRes)) throw unavailable('count LLM usage', result);
    if (result.msBeforeNext > REFUND_MARGIN_MS) await store('refund LLM usage', () => limiter.reward(key, points));
    return { waitMs: Math.max(1, result.msBeforeNext) };
  }
}

async function store<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw unavailable(what, error);
  }
}

function unavailable(what: string, error: unknown): LlmRetryableError {
  const message = error instanceof Error ? error.message : String(error);
  // Redis's own words (its address) stay in the logs.
  return new LlmRetryableError(`could not ${what} in Redis (${message}); the job will retry`, {
    cause: error,
    code: 'queue_unavailable',
    publicMessage: 'the shared rate limits could not be read; the job will retry',
  });
}

function abortedWhileWaiting(operation: string): CallAbortedError {
  return new CallAbortedError(`${operation} was aborted while waiting for the shared rate limits`);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1).replace(/\.0$/, '');
}
