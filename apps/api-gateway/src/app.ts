import { parseCorsOrigins } from '@rag/config';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { GatewayDeps } from './gateway-deps';
import { authenticate } from './http/authenticate';
import { cors } from './http/cors';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { utf8JsonOnly } from './http/json-charset';
import { rateLimit } from './http/rate-limit';
import { requestContext } from './http/request-context';
import { traceRequest } from './http/trace-request';
import { openApiRoutes } from './openapi/openapi.routes';
import { adminRoutes } from './routes/admin.routes';
import { chatRoutes } from './routes/chat.routes';
import { collectionRoutes } from './routes/collections.routes';
import { eventRoutes } from './routes/events.routes';
import { healthRoutes } from './routes/health.routes';
import { jobRoutes } from './routes/jobs.routes';
import { meRoutes } from './routes/me.routes';
import { openAIRoutes } from './routes/openai.routes';
import { queueBoardRoutes } from './routes/queue-board.routes';
import { reindexRoutes } from './routes/reindex.routes';
import { searchRoutes } from './routes/search.routes';
import { seedCompatRoutes } from './routes/seed-compat.routes';
import { uploadRoutes } from './routes/uploads.routes';
import { webRoutes } from './routes/web.routes';

/** Builds the gateway's Express app; `main.ts` owns listening and shutdown. */
export function createApp(deps: GatewayDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger, deps.metrics.http));
  // A question's trace starts here (when tracing is on), before authentication and the body are read.
  for (const route of ['/v1/chat', '/v1/chat/completions']) app.post(route, traceRequest(route));
  const headers = [helmet(), cors(parseCorsOrigins(deps.config.CORS_ORIGINS))];
  // What every route after the open ones runs: a key, the rate limit and a JSON body.
  const api = [
    authenticate(deps.auth),
    rateLimit(deps.queue.client, deps.config.QUEUE_PREFIX, deps.config.RATE_LIMIT_PER_MINUTE),
    utf8JsonOnly(),
    express.json({ limit: deps.config.MAX_BODY_BYTES, strict: true }),
  ];
  // The hottest route, asking a question, runs the same middleware in the same order as the chain below, without
  // passing through the routers that serve other paths (probes, docs, the page, the dashboard, OpenAI's door):
  // about 10 % less CPU per question (docs/benchmarks.md, "Where the gateway's CPU goes").
  app.post('/v1/chat', ...headers, ...api, chatRoutes(deps));
  app.use(...headers);
  // Open to probes; everything after needs a key when auth is on, and is rate limited.
  app.use(healthRoutes(deps));
  app.use(openApiRoutes());
  // The chat page: static files open to anyone (it signs in with a key and uses only the API below).
  app.use(webRoutes(deps.config.WEB_UI === 'on'));
  // The dashboard takes its key from a browser login too, so it authenticates itself (admin keys only).
  app.use(queueBoardRoutes(deps));
  // OpenAI's door authenticates and limits itself like the routes below, so its errors are in OpenAI's shape.
  app.use(openAIRoutes(deps));
  app.use(...api);
  app.use(meRoutes(deps));
  app.use(jobRoutes(deps));
  app.use(eventRoutes(deps));
  // Multipart uploads are read by the route itself (busboy), one file at a time, before the JSON parser could.
  app.use(uploadRoutes(deps));
  app.use(collectionRoutes(deps));
  app.use(reindexRoutes(deps));
  app.use(searchRoutes(deps));
  app.use(seedCompatRoutes(deps));
  app.use(adminRoutes(deps));
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger, deps.config.MAX_BODY_BYTES, () => deps.queue.client.status === 'ready'));
  return app;
}
