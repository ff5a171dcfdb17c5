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

/** The pause every worker sees: the key `<prefix>:llm:paused-until`. */
export class RedisProviderPause implements ProviderPause {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:llm:paused-until`;
  }

  async remainingMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.key));
  }

  async extend(ms: number): Promise<number> {
    const whole = Math.ceil(ms);
    if (whole <= 0) return this.remainingMs();
    return Number(await this.redis.eval(EXTEND_SCRIPT, 1, this.key, String(whole), String(Date.now() + whole)));
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
