import { Limits } from '@rag/queue-contracts';
import { runWithContext, type Histogram, type Logger } from '@rag/observability';
import type { RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';

declare module 'express-serve-static-core' {
  interface Request {
    requestId: string;
    /** What a route adds to the request's one access log line, e.g. the job it queued. */
    logFields?: Record<string, unknown>;
  }
}

/**
 * Gives every request an id (the caller's `X-Request-Id` when well-formed),
 * runs the rest of the request inside its log context, and writes one access
 * log line when the response is done (with the route's `req.logFields`).
 */
export function requestContext(logger: Logger, duration?: Histogram<'method' | 'route' | 'status'>): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && Limits.requestIdPattern.test(incoming) ? incoming : randomUUID();
    req.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    runWithContext({ request_id: requestId }, () => {
      res.on('finish', () => {
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        // The route template, never the raw path: metric labels must not grow with what clients send.
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.baseUrl || 'unmatched';
        duration?.observe({ method: req.method, route, status: String(res.statusCode) }, durationMs / 1000);
        logger.info('request', {
          ...req.logFields,
          method: req.method,
          route,
          path: req.path.slice(0, 200),
          status: res.statusCode,
          duration_ms: Math.round(durationMs * 100) / 100,
          tenant: req.principal?.tenant,
        });
      });
      next();
    });
  };
}
