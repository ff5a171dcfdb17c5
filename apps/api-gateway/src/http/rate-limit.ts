import type { Redis } from 'ioredis';
import type { Request, RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { HttpError } from './http-error';
import { queueUnavailable } from './queue-unavailable';

/** Whom per-client limits count: the API key, or the client address when auth is off. */
export function clientSubject(req: Request): string {
  return req.principal?.key_id ? `key:${req.principal.key_id}` : `ip:${req.ip ?? 'unknown'}`;
}

/**
 * Per-key requests per minute, counted in Redis so every gateway shares the
 * count; keyed by the key id, or by client address when auth is off.
 * `perMinute` 0 turns it off.
 */
export function rateLimit(redis: Redis, prefix: string, perMinute: number): RequestHandler {
  if (perMinute <= 0) return (_req, _res, next) => next();
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:rate-limit`, points: perMinute, duration: 60 });
  return async (req, res, next) => {
    const subject = clientSubject(req);
    try {
      const used = await limiter.consume(subject);
      res.setHeader('RateLimit-Limit', String(perMinute));
      res.setHeader('RateLimit-Remaining', String(used.remainingPoints));
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const seconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new HttpError(429, 'rate_limited', `more than ${perMinute} requests per minute; retry after ${seconds} s`, { retry_after_seconds: seconds });
      }
      throw queueUnavailable(error);
    }
    next();
  };
}
