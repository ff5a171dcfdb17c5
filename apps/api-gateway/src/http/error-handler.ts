import type { Logger } from '@rag/observability';
import { errorMessage } from '@rag/observability';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpError, errorBody } from './http-error';
import { isRedisUnavailable, queueUnavailable } from './queue-unavailable';

/** body-parser's error types, mapped to what the client did wrong. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.too.large': [413, 'payload_too_large', 'request body is larger than the limit'],
  'entity.parse.failed': [400, 'invalid_json', 'request body is not valid JSON'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'unsupported Content-Encoding'],
  'charset.unsupported': [415, 'unsupported_charset', 'unsupported charset; send UTF-8 JSON'],
  'request.aborted': [400, 'request_aborted', 'request was aborted by the client'],
  'request.size.invalid': [400, 'invalid_body', 'request body size does not match Content-Length'],
  'stream.encoding.set': [500, 'internal', 'internal error'],
};

/** body-parser's and other 4xx errors carry a status or type: the client's doing, whatever Redis does. */
function isClientError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { type, status } = err as { type?: unknown; status?: unknown };
  return (typeof type === 'string' && type in BODY_ERRORS) || (Number(status) >= 400 && Number(status) < 500);
}

export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    res.status(404).json(errorBody('not_found', `no route for ${req.method} ${req.path}; see the API section of the README`));
  };
}

/**
 * The one place errors become HTTP answers. Client errors say what was wrong;
 * Redis out of reach is a 503 to retry, whichever route or middleware met it
 * (`redisReady` tells an outage from a bug when the error alone does not);
 * anything else unexpected is logged with its stack and answered with a
 * generic 500 that leaks no internals.
 */
export function errorHandler(logger: Logger, maxBodyBytes: number, redisReady: () => boolean = () => true): ErrorRequestHandler {
  return (raw: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    const err = !(raw instanceof HttpError) && !isClientError(raw) && (isRedisUnavailable(raw) || !redisReady()) ? queueUnavailable(raw) : raw;
    if (err instanceof HttpError) {
      if (err.status >= 500)
        logger.warn('request failed', {
          status: err.status,
          code: err.code,
          error: errorMessage(err),
          cause: err.cause === undefined ? undefined : errorMessage(err.cause),
        });
      // Retry-After for what may be retried, the WWW-Authenticate challenge of a 401.
      for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
      res.status(err.status).json(errorBody(err.code, err.message, err.details));
      return;
    }
    const type = typeof err === 'object' && err !== null ? (err as { type?: unknown }).type : undefined;
    const mapped = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
    if (mapped && mapped[0] < 500) {
      const message = mapped[1] === 'payload_too_large' ? `request body is larger than ${maxBodyBytes} bytes` : mapped[2];
      res.status(mapped[0]).json(errorBody(mapped[1], message));
      return;
    }
    const status = typeof err === 'object' && err !== null ? Number((err as { status?: unknown }).status) : NaN;
    if (status >= 400 && status < 500) {
      res.status(status).json(errorBody('bad_request', 'the request could not be read'));
      return;
    }
    logger.error('unhandled error', { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined, path: req.path });
    res.status(500).json(errorBody('internal', 'internal error; the request id in X-Request-Id helps the operator find it in the logs'));
  };
}
