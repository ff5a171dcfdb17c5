import express, { Router, type Response } from 'express';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HttpError } from '../http/http-error';

/**
 * The chat page's Content-Security-Policy: everything from this origin only,
 * no inline script or style, no eval, no plugins, no framing, and Trusted
 * Types enforced so the page cannot write HTML from strings at all.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** The names of the page's files: flat, lower case, scripts, styles and images. */
const ASSET = /^\/[a-z0-9-]+\.(js|css|svg)$/;

/**
 * Where the page's files are: beside the bundle in a built image (the build
 * copies `src/web` to `web/`), or `src/web` when run from source.
 */
function webDirectory(): string | undefined {
  const candidates = [path.join(__dirname, 'web'), path.join(__dirname, '..', 'web')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
}

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  // Revalidated on every load (ETag), so a new version shows at once after an upgrade.
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/**
 * The chat page: `GET /` and its files under `/ui/`. Open to anyone (it holds
 * no data: everything it shows comes from the API with the key the user signs
 * in with). Off with `WEB_UI=off`.
 */
export function webRoutes(enabled: boolean): Router {
  const router = Router();
  const dir = enabled ? webDirectory() : undefined;
  if (!dir) return router;
  const index = path.join(dir, 'index.html');
  router.get('/', (_req, res) => {
    pageHeaders(res);
    res.type('html').sendFile(index);
  });
  const files = express.static(dir, { index: false, redirect: false, dotfiles: 'deny', setHeaders: pageHeaders });
  // Only the page's own scripts, styles and images (not, say, the folder's tsconfig.json when run from source).
  router.use('/ui', (req, res, next) => (ASSET.test(req.path) ? files(req, res, next) : next()));
  router.use('/ui', () => {
    throw new HttpError(404, 'not_found', 'no such file of the chat page; open / for the page');
  });
  return router;
}
