import { basicAuthKey, bearerKey, type Authenticator } from '@rag/auth';
import { errorMessage } from '@rag/observability';
import express, { Router, type Express, type RequestHandler } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { HttpError, errorBody } from '../http/http-error';
import { isRedisUnavailable, queueUnavailable } from '../http/queue-unavailable';

export const QUEUE_BOARD_PATH = '/admin/queues';

/** bull-board's status type lists no 503, but Express sends whatever status it is given. */
const SERVICE_UNAVAILABLE = 503 as number as 500;

/** A 401 that makes a browser show its login prompt; the password is an operator API key. */
class BoardLoginRequired extends HttpError {
  constructor(message: string) {
    super(401, 'unauthorized', message, undefined, {
      headers: { 'WWW-Authenticate': 'Basic realm="rag operators: any user name, an operator API key as password", charset="UTF-8"' },
    });
  }
}

/**
 * Operator keys only: the board shows every tenant's jobs. A browser cannot
 * send a Bearer header by itself, so the dashboard also takes Basic
 * credentials whose password is the key; the answer to a missing or bad key
 * asks the browser for them.
 */
function operatorOnly(auth: Authenticator): RequestHandler {
  return async (req, _res, next) => {
    if (!(await auth.required())) return next();
    const header = req.get('authorization');
    const key = bearerKey(header) ?? basicAuthKey(header);
    if (!key)
      throw new BoardLoginRequired(
        'the queue dashboard needs an operator API key: sign in with any user name and the key as password, or send Authorization: Bearer <key>',
      );
    const principal = await auth.verify(key);
    if (!principal) throw new BoardLoginRequired('the API key is not valid (unknown, revoked or malformed)');
    if (!principal.scopes.includes('operator')) {
      throw new HttpError(
        403,
        'forbidden',
        'this API key lacks the "operator" scope: the queue dashboard shows every tenant\'s jobs, so an "admin" key (one tenant) cannot open it; an operator key is granted only from the CLI (rag-ingest keys create --scopes operator)',
      );
    }
    req.principal = principal;
    next();
  };
}

/**
 * A browser that has the Basic login cached sends it with any request, a
 * cross-site one too. Only the board's own pages and a top-level navigation
 * to it are served: other sites cannot make the browser read (or write) it.
 */
function sameOriginOnly(): RequestHandler {
  return (req, _res, next) => {
    const site = req.get('sec-fetch-site');
    const navigation = req.get('sec-fetch-mode') === 'navigate' && (req.method === 'GET' || req.method === 'HEAD');
    const crossSite = site !== undefined && site !== 'same-origin' && site !== 'none' && !navigation;
    const origin = req.get('origin');
    // Browsers without Sec-Fetch-* still send Origin on cross-origin writes and fetches.
    const foreignOrigin = origin !== undefined && origin !== 'null' ? hostOf(origin) !== req.get('host') : origin === 'null';
    if (crossSite || foreignOrigin)
      throw new HttpError(403, 'cross_origin_refused', 'the queue dashboard answers only its own pages; open it directly at /admin/queues');
    next();
  };
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** The dashboard only shows: no route of it adds, retries, promotes, cleans, removes or pauses anything. */
function readOnly(): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.setHeader('Allow', 'GET, HEAD');
    throw new HttpError(
      405,
      'read_only',
      'the queue dashboard is read-only; replay failed jobs with POST /v1/admin/dead-letters/:id/replay or rag-ingest dlq replay',
    );
  };
}

/**
 * bull-board's Express app over both queues, read-only. Its packages (an
 * Express app of their own, their templates: ~3 MiB of heap) are imported
 * here, with the first request that passes the guards: a gateway whose
 * dashboard no operator opens never loads them.
 */
async function bullBoard(deps: GatewayDeps): Promise<Express> {
  const [{ createBullBoard }, { BullAdapter }, { ExpressAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullAdapter'),
    import('@bull-board/express'),
  ]);
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_BOARD_PATH);
  const options = { readOnlyMode: true, allowRetries: false };
  createBullBoard({
    queues: [new BullAdapter(deps.queue, options), new BullAdapter(deps.ingestQueue, options)],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'rag queues' } },
  });
  // bull-board answers its own API's errors, by default with a 500 carrying the library's message.
  adapter.setErrorHandler((error) => {
    const down = isRedisUnavailable(error) || deps.queue.client.status !== 'ready';
    if (!down) deps.logger.error('queue dashboard failed', { error: errorMessage(error), stack: error.stack });
    return down
      ? { status: SERVICE_UNAVAILABLE, body: errorBody('queue_unavailable', queueUnavailable(error).message) }
      : { status: 500, body: errorBody('internal', 'internal error; the request id in X-Request-Id helps the operator find it in the logs') };
  });
  const board = adapter.getRouter() as Express;
  // bull-board's inner Express app would announce itself on every answer.
  board.disable('x-powered-by');
  return board;
}

/**
 * The Bull dashboard (bull-board) at /admin/queues: queue counts and jobs,
 * read-only. It shows every tenant's questions, so only operator keys open
 * it. Writes are refused twice: bull-board's own read-only mode per queue,
 * and our middleware before any request reaches it.
 */
export function queueBoardRoutes(deps: GatewayDeps): Router {
  // Known down: the 503 with Retry-After from the error handler, before bull-board tries.
  const redisUp: RequestHandler = (_req, _res, next) => {
    if (deps.queue.client.status !== 'ready') throw queueUnavailable(new Error(`redis client ${deps.queue.client.status}`));
    next();
  };
  let board: Promise<Express> | undefined;
  const loaded: RequestHandler = async (req, res, next) => {
    // A failed load is not kept: the next request tries again.
    board ??= bullBoard(deps).catch((error: unknown) => {
      board = undefined;
      throw error;
    });
    (await board)(req, res, next);
  };
  // Mounted as an application of its own, as bull-board's is (the route walk of the OpenAPI test counts it so).
  const mount = express();
  mount.disable('x-powered-by');
  mount.use(loaded);
  const router = Router();
  router.use(QUEUE_BOARD_PATH, sameOriginOnly(), readOnly(), operatorOnly(deps.auth), redisUp, mount);
  return router;
}
