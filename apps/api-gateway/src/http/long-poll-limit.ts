import { RedisScript } from '@rag/jobs';
import type { Request } from 'express';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { HttpError } from './http-error';
import { clientSubject } from './rate-limit';
import { queueCall } from './queue-unavailable';

/** Beyond the poll's own deadline, how long its entry may outlive a gateway that died holding it. */
const SLACK_MS = 5000;

// KEYS: the subject's open polls (zset: poll id → ms when it ends at the latest).
// ARGV: poll id, cap, how long the poll may last (ms). Returns the polls open, this one included; 0 when full.
// Entries past their end are dropped first, so a gateway that died mid-poll frees its slots by itself.
const ACQUIRE = new RedisScript(
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
if open >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3])) end
return open + 1
`,
  1,
);

// KEYS: the subject's open polls. ARGV: poll id, how long from now it may last (ms). Pushes back the end of a held slot.
const RENEW = new RedisScript(
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 1
`,
  1,
);

/** One of the caller's slots, held until released (or until its end passes without a renewal). */
export interface HeldSlot {
  /** Pushes the slot's end `ms` past now (a stream renews on every heartbeat). */
  renew(ms: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * Caps the connections each API key, or each client address with auth off,
 * holds open at once waiting on jobs: long-polls (`?wait=N`) and event
 * streams (`GET /v1/jobs/:id/events`) alike, counted together in Redis so the
 * cap holds over every gateway: each costs a connection and a reader, and
 * without a cap one client could hold thousands even with no rate limit.
 */
export class LongPollLimit {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly cap: number,
  ) {}

  /** Runs `poll` in one of the caller's slots; 429 `too_many_long_polls` when they are all taken. */
  async run<T>(req: Request, waitSeconds: number, poll: () => Promise<T>): Promise<T> {
    const slot = await this.hold(req, Math.ceil(waitSeconds * 1000), 'wait for one to return before opening another, or read without ?wait');
    try {
      return await poll();
    } finally {
      await slot.release();
    }
  }

  /**
   * Takes one of the caller's slots for `ms` (renewable), or throws 429
   * `too_many_long_polls` saying `advice` when they are all taken.
   */
  async hold(req: Request, ms: number, advice: string): Promise<HeldSlot> {
    if (this.cap <= 0) return { renew: async () => undefined, release: async () => undefined };
    const key = `${this.prefix}:long-polls:${clientSubject(req)}`;
    const id = randomUUID();
    const open = await queueCall(() => ACQUIRE.run(this.redis, [key], [id, this.cap, ms + SLACK_MS]));
    if (open === 0) {
      throw new HttpError(
        429,
        'too_many_long_polls',
        `${req.principal?.key_id ? 'this API key' : 'this client address'} already holds ${this.cap} long-polls and event streams open (MAX_LONG_POLLS_PER_CLIENT); ${advice}`,
        { retry_after_seconds: 1 },
      );
    }
    return {
      renew: async (renewMs) => {
        await RENEW.run(this.redis, [key], [id, renewMs + SLACK_MS]);
      },
      // If Redis is gone the entry expires at its end anyway.
      release: async () => {
        await this.redis.zrem(key, id).catch(() => undefined);
      },
    };
  }
}
