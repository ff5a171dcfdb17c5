import { APP_VERSION } from '@rag/config';
import { Router } from 'express';
import { openApiDocument } from './document';

/** `GET /openapi.json`: built once, open to anyone (it holds no tenant data), cacheable. */
export function openApiRoutes(): Router {
  const router = Router();
  const body = JSON.stringify(openApiDocument(APP_VERSION));
  router.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/json').send(body);
  });
  return router;
}
