import { HttpError } from './http-error';

/** Seconds a client is told to wait before retrying while Redis is unreachable. */
export const QUEUE_RETRY_AFTER_SECONDS = 5;

/** The one answer to "Redis did not answer": 503 `queue_unavailable` with Retry-After, never a 500. */
export function queueUnavailable(cause: unknown): HttpError {
  return new HttpError(
    503,
    'queue_unavailable',
    'the job queue (Redis) is unavailable; retry after the Retry-After delay',
    { retry_after_seconds: QUEUE_RETRY_AFTER_SECONDS },
    { cause },
  );
}

/** Redis failures become 503 (retry later), never 500; HTTP errors pass through. */
export async function queueCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw queueUnavailable(error);
  }
}

// What ioredis rejects a command with when it has no connection: the fail-fast client refuses while
// disconnected, commands in flight when the socket drops are flushed, a retry budget runs out.
const CONNECTION_ERRORS = [
  /^Stream isn't writeable and enableOfflineQueue options is false/,
  /^Connection is closed\.?$/,
  /^Reached the max retries per request limit/,
  /^Command aborted due to connection close/,
  /^Command timed out/,
  /^connect (ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH)/,
  // What Redis answers while a failover moves the master: a demoted master (Sentinel) refuses writes until the
  // client has moved, a master without its replica refuses writes (min-replicas-to-write), a replica still loads its
  // data, a Cluster's slot has no master yet.
  /^(READONLY|NOREPLICAS|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN) /,
];
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * Whether `error` (or an error in its cause chain) says Redis could not be
 * reached, as opposed to a bug. Any route, middleware or library that reads
 * Redis (authentication, rate limits, the dashboard) fails this way during
 * an outage; the error handler turns it into `queueUnavailable` in one place.
 */
export function isRedisUnavailable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    const { name, message } = e;
    if (name === 'MaxRetriesPerRequestError' || name === 'AbortError') return true;
    if (CONNECTION_ERRORS.some((pattern) => pattern.test(message))) return true;
    const code = (e as NodeJS.ErrnoException).code;
    if (code && CONNECTION_CODES.has(code)) return true;
    e = e.cause;
  }
  return false;
}
