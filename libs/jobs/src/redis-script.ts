import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';

/**
 * A Lua script run by its SHA1 (EVALSHA), sent in full only when Redis does
 * not know it yet (after a restart or a SCRIPT FLUSH): scripts on a hot path
 * cost one short command, not their whole text on every call.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(
    private readonly lua: string,
    private readonly keyCount: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (keys.length !== this.keyCount) throw new Error(`script takes ${this.keyCount} keys, got ${keys.length}`);
    try {
      return await redis.evalsha(this.sha, this.keyCount, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.lua, this.keyCount, ...keys, ...args);
    }
  }
}
