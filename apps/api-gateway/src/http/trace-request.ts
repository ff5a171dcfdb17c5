import { startSpan, tracingEnabled, validTraceparent } from '@rag/observability';
import type { RequestHandler } from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request's span as a W3C traceparent, for the job it queues; set only on traced routes with tracing on. */
    traceparent?: string;
  }
}

/**
 * A server span for a request that asks a question (mount it on those
 * routes only): the root of the question's trace, or a child of the
 * caller's, when it sends a valid `traceparent` header. Its traceparent goes
 * into the job, so the worker's spans join the trace. Ended when the
 * response is sent or the client goes away; it records the route, the
 * status, the request id and the tenant, never the body.
 */
export function traceRequest(route: string): RequestHandler {
  return (req, res, next) => {
    if (!tracingEnabled()) return next();
    const span = startSpan(
      `${req.method} ${route}`,
      { 'http.request.method': req.method, 'http.route': route, 'rag.request_id': req.requestId },
      { kind: 'server', parent: validTraceparent(req.get('traceparent')) },
    );
    req.traceparent = span.traceparent();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttributes({ 'http.response.status_code': res.statusCode, 'rag.tenant': req.principal?.tenant });
      span.end(res.statusCode >= 500 ? new Error(`status ${res.statusCode}`) : undefined);
    };
    res.on('finish', end);
    res.on('close', end);
    next();
  };
}
