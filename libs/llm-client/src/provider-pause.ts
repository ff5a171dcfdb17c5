import type { Redis } from 'ioredis';

/**
 * "Do not call the provider until ...", set when a 429 carries Retry-After.
 * Only ever extended, never shortened, so a short Retry-After arriving late
 * cannot cut a longer one short.
 */
export interface ProviderPause {
  /** Milliseconds left of the pause; 0 when none. */
  remainingMs(): Promise<number>;
  /** Pauses for at least `ms` from now; resolves to the pause now in force. */
  extend(ms: number): Promise<number>;
}

// Remaining time comes from PTTL, so workers with skewed clocks agree; the value
// (epoch ms of the end) is for people reading Redis.
const EXTEND_SCRIPT = `
local ttl = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[1])
if ttl < ms then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ms)
  return ms
end
return ttl
`;

/**
 * How long a process trusts what it last read of the shared pause: a pause
 * set by another worker stops this one's calls within this time (its own
 * pauses at once). Without it every call to the provider cost a Redis round
 * trip (PTTL) to learn, almost always, that there is no pause.
 */
export const PAUSE_CACHE_MS = 250;

/** The pause every worker sees: the key `<prefix>:llm:paused-until`, read at most once per `cacheMs`. */
export class RedisProviderPause implements ProviderPause {
  readonly key: string;
  /** The pause left when last read or set, and when (performance.now(): monotonic, unlike the wall clock). */
  private known: { remainingMs: number; at: number } | undefined;
  /** The read in flight: calls arriving meanwhile share it. */
  private reading: Promise<number> | undefined;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly cacheMs = PAUSE_CACHE_MS,
  ) {
    this.key = `${prefix}:llm:paused-until`;
  }

  async remainingMs(): Promise<number> {
    const known = this.known;
    if (known) {
      const elapsed = performance.now() - known.at;
      if (elapsed < this.cacheMs) return Math.max(0, known.remainingMs - elapsed);
    }
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  async extend(ms: number): Promise<number> {
    const whole = Math.ceil(ms);
    if (whole <= 0) return this.remainingMs();
    const at = performance.now();
    const remaining = Number(await this.redis.eval(EXTEND_SCRIPT, 1, this.key, String(whole), String(Date.now() + whole)));
    this.known = { remainingMs: remaining, at };
    return remaining;
  }

  private async read(): Promise<number> {
    const at = performance.now();
    const remaining = Math.max(0, await this.redis.pttl(this.key));
    this.known = { remainingMs: remaining, at };
    return remaining;
  }
}

/** The same within one process, for use without Redis. */
export class LocalProviderPause implements ProviderPause {
  private until = 0;

  async remainingMs(): Promise<number> {
    return Math.max(0, this.until - Date.now());
  }

  async extend(ms: number): Promise<number> {
    // One reading of the clock: a second one could fall a millisecond later and report less than was asked.
    const now = Date.now();
    this.until = Math.max(this.until, now + Math.ceil(ms));
    return this.until - now;
  }
}
