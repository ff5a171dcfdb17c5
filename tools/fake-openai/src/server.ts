import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { adminRoutes } from './admin.routes';
import { chatCompletionsRoute } from './chat-completions.route';
import { embeddingsRoute } from './embeddings.route';
import { FakeState, type RecordedRequest } from './fake-state';
import { getModelRoute, listModelsRoute } from './models.route';
import { rerankRoute } from './rerank.route';
import { FakeApiError, InvalidRequestError, sendError } from './openai-error';
import type { FakeOpenAIOptions, FakeOpenAIRuntimeOptions } from './options';

export interface FakeOpenAI {
  /** Base URL including `/v1`, e.g. http://127.0.0.1:PORT/v1: the `baseURL` of the openai client. */
  url: string;
  port: number;
  /** Every /v1 and /rerank request received, oldest first, authorization header included. */
  requests: RecordedRequest[];
  /** Changes options while running; see FakeState.setOptions. Throws InvalidOptionsError on bad values. */
  setOptions(partial: FakeOpenAIRuntimeOptions): void;
  /** Back to the start options; clears the fault and the recorded requests. */
  reset(): void;
  /** Stops listening and cuts open connections, hanging requests included. */
  close(): Promise<void>;
}

/** Starts an OpenAI-compatible HTTP server for tests and benchmarks. */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const { port = 0, host = '127.0.0.1', ...runtime } = options;
  const state = new FakeState(runtime);
  const server = createServer(createFakeApp(state));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/v1`,
    port: actualPort,
    requests: state.requests,
    setOptions: (partial) => state.setOptions(partial),
    reset: () => state.reset(),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export function createFakeApp(state: FakeState): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '50mb' }));
  app.use('/__admin', adminRoutes(state));

  const record = (req: Request, _res: Response, next: NextFunction) => {
    state.record({ method: req.method, path: req.baseUrl + req.path, headers: flatHeaders(req.headers), body: req.body ?? null });
    next();
  };
  const authorize = (req: Request, _res: Response, next: NextFunction) => {
    const key = state.options.apiKey;
    if (!key || req.headers.authorization === `Bearer ${key}`) return next();
    const message = req.headers.authorization
      ? 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.'
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    throw new FakeApiError(401, message, 'invalid_request_error', 'invalid_api_key');
  };
  // Text Embeddings Inference serves /rerank at its root; Jina and Cohere-compatible servers under their version.
  app.post('/rerank', record, authorize, rerankRoute(state));

  const v1 = express.Router();
  v1.use(record);
  v1.use(authorize);
  v1.post('/rerank', rerankRoute(state));
  v1.post('/chat/completions', chatCompletionsRoute(state));
  v1.post('/embeddings', embeddingsRoute(state));
  v1.get('/models', listModelsRoute(state));
  v1.get('/models/:id', getModelRoute(state));
  app.use('/v1', v1);

  app.use((req: Request) => {
    throw new FakeApiError(404, `Invalid URL (${req.method} ${req.path})`);
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, toApiError(error));
  });
  return app;
}

function toApiError(error: unknown): FakeApiError {
  if (error instanceof FakeApiError) return error;
  const e = error as { type?: unknown; status?: unknown; message?: unknown };
  // body-parser's errors: unparsable JSON, body too large, and so on.
  if (e.type === 'entity.parse.failed') {
    return new InvalidRequestError("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)");
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return new FakeApiError(e.status, String(e.message));
  return new FakeApiError(500, `fake-openai failed: ${error instanceof Error ? error.message : String(error)}`, 'server_error');
}

function flatHeaders(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
