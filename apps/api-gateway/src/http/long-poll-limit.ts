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

/**
 * Caps the long-polls (`?wait=N`) each API key, or each client address with
 * auth off, holds open at once, counted in Redis so the cap holds over every
 * gateway: each open poll costs a connection and a waiter, and without a cap
 * one client could hold thousands even with no rate limit.
 */
export class LongPollLimit {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly cap: number,
  ) {}

  /** Runs `poll` in one of the caller's slots; 429 `too_many_long_polls` when they are all taken. */
  async run<T>(req: Request, waitSeconds: number, poll: () => Promise<T>): Promise<T> {
    if (this.cap <= 0) return poll();
    const key = `${this.prefix}:long-polls:${clientSubject(req)}`;
    const id = randomUUID();
    const open = await queueCall(() => ACQUIRE.run(this.redis, [key], [id, this.cap, Math.ceil(waitSeconds * 1000) + SLACK_MS]));
    if (open === 0) {
      throw new HttpError(
        429,
        'too_many_long_polls',
        `${req.principal?.key_id ? 'this API key' : 'this client address'} already holds ${this.cap} long-polls open (MAX_LONG_POLLS_PER_CLIENT); wait for one to return before opening another, or read without ?wait`,
        { retry_after_seconds: 1 },
      );
    }
    try {
      return await poll();
    } finally {
      // If Redis is gone the entry expires at its deadline anyway.
      await this.redis.zrem(key, id).catch(() => undefined);
    }
  }
}
