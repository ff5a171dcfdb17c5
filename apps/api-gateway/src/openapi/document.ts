import { dtoSchemas, withReferenced, type JsonSchema } from './dto-schemas';
import { operations } from './paths';
import { responseSchemas } from './response-schemas';

/** The request DTOs of @rag/queue-contracts the document describes (their nested classes come along). */
export const REQUEST_DTOS = ['ChatRequestDto', 'OpenAIChatRequestDto'] as const;

const ERRORS: Record<number, string> = {
  400: 'invalid request: `error.details` (or OpenAI’s `param`) names the field',
  401: 'no key or a bad one (`WWW-Authenticate: Bearer`)',
  403: 'the key lacks the scope this route needs',
  404: 'unknown, or another tenant’s (the same answer)',
  405: 'the dashboard is read-only',
  409: 'conflicts with the current state',
  413: 'too large',
  415: 'send JSON with Content-Type: application/json (or multipart/form-data for uploads)',
  422: 'the Idempotency-Key was used with another body',
  429: 'rate limited, or too many jobs or long-polls: retry after `Retry-After`',
  500: 'internal error, or (chat completions) the job failed',
  503: 'Redis, the vector store or the event streams are unavailable: retry after `Retry-After`',
  504: 'no answer in time: `error.job_id` and `Location` name the job to poll',
};
/** What every route behind a key can answer. */
const AUTHENTICATED_ERRORS = [400, 401, 403, 404, 429, 503];

const responseName = (status: number, openai: boolean) => `${openai ? 'OpenAI' : ''}Error${status}`;

function errorResponses(): Record<string, JsonSchema> {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, description] of Object.entries(ERRORS)) {
    for (const openai of [false, true]) {
      responses[responseName(Number(status), openai)] = {
        description,
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${openai ? 'OpenAIError' : 'Error'}` } } },
      };
    }
  }
  return responses;
}

function pathsObject(): Record<string, JsonSchema> {
  const paths: Record<string, JsonSchema> = {};
  for (const [path, methods] of Object.entries(operations)) {
    const item: JsonSchema = {};
    for (const [method, op] of Object.entries(methods)) {
      const anyKey = op.scope === 'any';
      const scopes = anyKey ? [] : (op.scope?.split('|') ?? []);
      const authenticated = anyKey ? AUTHENTICATED_ERRORS.filter((status) => status !== 403 && status !== 404) : op.scope ? AUTHENTICATED_ERRORS : [];
      const statuses = [...new Set([...authenticated, ...(op.errors ?? [])])].sort();
      const responses: Record<string, JsonSchema> = {};
      for (const [status, [description, content]] of Object.entries(op.ok)) responses[status] = content ? { description, content } : { description };
      for (const status of statuses) {
        if (!responses[status]) responses[status] = { $ref: `#/components/responses/${responseName(status, op.openai === true)}` };
      }
      item[method] = {
        operationId: `${method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        summary: op.summary,
        tags: [op.tag],
        ...(anyKey
          ? { description: 'Any valid key, whatever its scopes.' }
          : op.scope
            ? { description: `Scope: ${scopes.map((s) => `\`${s}\``).join(' or ')}.` }
            : {}),
        // Scopes as role names (OpenAPI 3.1 allows them for non-OAuth schemes); an empty list: no key needed.
        security: anyKey ? [{ apiKey: [] }] : op.scope ? scopes.map((scope) => ({ apiKey: [scope] })) : [],
        ...(op.parameters ? { parameters: op.parameters } : {}),
        ...(op.body ? { requestBody: { required: op.body.required ?? true, content: op.body.content } } : {}),
        responses,
      };
    }
    paths[path] = item;
  }
  return paths;
}

/**
 * The gateway's OpenAPI 3.1 document: request bodies generated from the
 * class-validator DTOs, every route of the app (openapi.spec.ts walks the
 * Express app to prove it), our error shape and OpenAI's.
 */
export function openApiDocument(version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'rag-queue gateway',
      version,
      description:
        'Answers questions over your documents through a Redis job queue: ask (202 with a job id), then poll, long-poll or follow the job’s events. ' +
        'Errors are `{ "error": { "code", "message", "details"? } }`, except on the OpenAI-compatible routes (`/v1/chat/completions`, `/v1/models`), which answer in OpenAI’s shape.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: ['chat', 'jobs', 'openai', 'auth', 'collections', 'ingestion', 'admin', 'seed-compat', 'health'].map((name) => ({ name })),
    paths: pathsObject(),
    components: {
      schemas: { ...withReferenced(dtoSchemas(), REQUEST_DTOS), ...responseSchemas },
      responses: errorResponses(),
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            '`Authorization: Bearer rag_…`, a key made with `rag-ingest keys create` or seeded from API_KEYS. A key acts within its tenant with its scopes: ' +
            '`query` (ask, read jobs and collections), `ingest` (create, upload, delete), `admin` (the tenant’s dead letters), ' +
            '`operator` (every tenant’s dead letters, the workers, the queue dashboard; granted only from the CLI or configuration). ' +
            'The dashboard also takes Basic credentials whose password is an operator key. With auth off, no key is needed.',
        },
      },
    },
  };
}
