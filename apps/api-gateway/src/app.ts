import express, { type Express } from 'express';
import type { GatewayDeps } from './gateway-deps';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { requestContext } from './http/request-context';
import { adminRoutes } from './routes/admin.routes';
import { chatRoutes } from './routes/chat.routes';
import { healthRoutes } from './routes/health.routes';
import { jobRoutes } from './routes/jobs.routes';
import { seedCompatRoutes } from './routes/seed-compat.routes';

/** Builds the gateway's Express app; `main.ts` owns listening and shutdown. */
export function createApp(deps: GatewayDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.logger));
  app.use(express.json({ limit: deps.config.MAX_BODY_BYTES, strict: true }));
  app.use(healthRoutes(deps));
  app.use(chatRoutes(deps));
  app.use(jobRoutes(deps));
  app.use(seedCompatRoutes(deps));
  app.use(adminRoutes(deps));
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger, deps.config.MAX_BODY_BYTES));
  return app;
}
