import type { Config } from '@rag/config';
import type { Redis } from 'ioredis';
import { createBreaker, type Breaker } from '@rag/core';
import { ProviderThrottle, type ProviderThrottleOptions, type ThrottleRequest } from './provider-throttle';
import { retryAfterMsOf429 } from './retry-after';

/** The provider's two endpoints, each behind its own breaker; they share one rate budget. */
export type LlmDependency = 'chat' | 'embeddings';

export interface LlmResilienceOptions extends ProviderThrottleOptions {
  /** Consecutive retryable failures that open a breaker (BREAKER_FAILURES). Default 5. */
  breakerFailures?: number;
  /** How long a breaker stays open before a trial call (BREAKER_HALF_OPEN_MS). Default 10000. */
  breakerHalfOpenMs?: number;
  /** Bound on one request, a streamed answer included (LLM_TIMEOUT_MS); 0 or absent: none. */
  timeoutMs?: number;
  /** After a 429 with Retry-After: how many times the call waits out the pause and tries again itself before failing. Default 1. */
  retriesAfter429?: number;
}

/** How the worker reaches Redis for shared limits; `prefix` defaults to QUEUE_PREFIX. */
export interface LlmConnections {
  redis?: Redis;
  prefix?: string;
  /** An existing instance, so the answerer and the embedder share breakers and limits. */
  resilience?: LlmResilience;
}

export type LlmCallRequest = ThrottleRequest;

/** Breakers, shared limits and the shared 429 pause around every call to the provider. */
export interface LlmResilience {
  readonly breakers: Readonly<Record<LlmDependency, Breaker>>;
  readonly throttle: ProviderThrottle;
  /**
   * Fails fast when the dependency's breaker is open; otherwise waits for the
   * pause and the limits, then runs `fn` through the breaker and timeout. A 429
   * with Retry-After pauses every worker and, `retriesAfter429` times, is
   * waited out and tried again. `fn` must throw classified errors
   * (classifyOpenAIError) and use the signal it is given.
   */
  call<T>(dependency: LlmDependency, request: LlmCallRequest, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export function createLlmResilience(options: LlmResilienceOptions = {}): LlmResilience {
  const breakerOptions = {
    failures: options.breakerFailures ?? 5,
    halfOpenAfterMs: options.breakerHalfOpenMs ?? 10_000,
    timeoutMs: options.timeoutMs,
  };
  const breakers = { chat: createBreaker('chat', breakerOptions), embeddings: createBreaker('embeddings', breakerOptions) };
  const throttle = new ProviderThrottle(options);
  const retriesAfter429 = options.retriesAfter429 ?? 1;

  return {
    breakers,
    throttle,
    async call<T>(dependency: LlmDependency, request: LlmCallRequest, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
      const breaker = breakers[dependency];
      for (let retry = 0; ; retry++) {
        breaker.assertAvailable();
        await throttle.acquire(request);
        try {
          return await breaker.execute(fn, request.signal);
        } catch (error) {
          const retryAfterMs = retryAfterMsOf429(error);
          if (retryAfterMs === undefined) throw error;
          await throttle.pauseFor(retryAfterMs);
          if (retry >= retriesAfter429) throw error;
        }
      }
    },
  };
}

/** The resilience the settings ask for: LLM_RPM, LLM_TPM, BREAKER_*, LLM_TIMEOUT_MS, keys under QUEUE_PREFIX. */
export function llmResilienceFromConfig(config: Config, connections: LlmConnections = {}): LlmResilience {
  return (
    connections.resilience ??
    createLlmResilience({
      redis: connections.redis,
      prefix: connections.prefix ?? config.QUEUE_PREFIX,
      rpm: config.LLM_RPM,
      tpm: config.LLM_TPM,
      breakerFailures: config.BREAKER_FAILURES,
      breakerHalfOpenMs: config.BREAKER_HALF_OPEN_MS,
      timeoutMs: config.LLM_TIMEOUT_MS,
    })
  );
}
