import { basicAuthKey, bearerKey, type Authenticator } from '@rag/auth';
import { errorMessage } from '@rag/observability';
import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Router, type RequestHandler } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { HttpError, errorBody } from '../http/http-error';
import { isRedisUnavailable, queueUnavailable } from '../http/queue-unavailable';

export const QUEUE_BOARD_PATH = '/admin/queues';

/** bull-board's status type lists no 503, but Express sends whatever status it is given. */
const SERVICE_UNAVAILABLE = 503 as number as 500;

/** A 401 that makes a browser show its login prompt; the password is an admin API key. */
class BoardLoginRequired extends HttpError {
  readonly challenge = 'Basic realm="rag admin: any user name, an admin API key as password", charset="UTF-8"';
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

/**
 * Admin keys only. A browser cannot send a Bearer header by itself, so the
 * dashboard also takes Basic credentials whose password is the key; the
 * answer to a missing or bad key asks the browser for them.
 */
function adminOnly(auth: Authenticator): RequestHandler {
  return async (_req, _res, next) => {
    if (!(await auth.required())) return next();
    const header = _req.get('authorization');
    const key = bearerKey(header) ?? basicAuthKey(header);
    if (!key) throw new BoardLoginRequired('the queue dashboard needs an admin API key: sign in with any user name and the key as password, or send Authorization: Bearer <key>');
    const principal = await auth.verify(key);
    if (!principal) throw new BoardLoginRequired('the API key is not valid (unknown, revoked or malformed)');
    if (!principal.scopes.includes('admin')) {
      throw new HttpError(403, 'forbidden', 'this API key lacks the "admin" scope; the queue dashboard shows every tenant\'s jobs (rag-ingest keys create --scopes admin)');
    }
    _req.principal = principal;
    next();
  };
}

/**
 * The Bull dashboard (bull-board) at /admin/queues: queue counts, jobs,
 * retries. It shows every tenant's questions, so only admin keys open it.
 */
export function queueBoardRoutes(deps: GatewayDeps): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({ queues: [new BullAdapter(deps.queue), new BullAdapter(deps.ingestQueue)], serverAdapter: adapter, options: { uiConfig: { boardTitle: 'rag queues' } } });
  // bull-board answers its own API's errors, by default with a 500 carrying the library's message.
  adapter.setErrorHandler((error) => {
    const down = isRedisUnavailable(error) || deps.queue.client.status !== 'ready';
    if (!down) deps.logger.error('queue dashboard failed', { error: errorMessage(error), stack: error.stack });
    return down
      ? { status: SERVICE_UNAVAILABLE, body: errorBody('queue_unavailable', queueUnavailable(error).message) }
      : { status: 500, body: errorBody('internal', 'internal error; the request id in X-Request-Id helps the operator find it in the logs') };
  });
  // Known down: the 503 with Retry-After from the error handler, before bull-board tries.
  const redisUp: RequestHandler = (_req, _res, next) => {
    if (deps.queue.client.status !== 'ready') throw queueUnavailable(new Error(`redis client ${deps.queue.client.status}`));
    next();
  };
  const router = Router();
  router.use(QUEUE_BOARD_PATH, adminOnly(deps.auth), redisUp, adapter.getRouter() as Router);
  return router;
}
