import { Limits } from '@rag/queue-contracts';
import { runWithContext, type Logger } from '@rag/observability';
import type { RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
  }
}

/**
 * Gives every request an id (the caller's `X-Request-Id` when well-formed),
 * runs the rest of the request inside its log context, and writes one access
 * log line when the response is done.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && Limits.requestIdPattern.test(incoming) ? incoming : randomUUID();
    req.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    runWithContext({ request_id: requestId }, () => {
      res.on('finish', () => {
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        logger.http('request', {
          method: req.method,
          route: req.route?.path ?? req.path,
          status: res.statusCode,
          duration_ms: Math.round(durationMs * 100) / 100,
        });
      });
      next();
    });
  };
}
