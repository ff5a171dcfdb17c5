import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** Qdrant's own API description, copied beside this project (see NOTICE). */
export const QDRANT_OPENAPI_PATH = path.join(__dirname, '..', 'qdrant-openapi-1.19.0.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaObject = { [key: string]: Json };

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: SchemaObject;
}

interface OpenApiOperation {
  operationId: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: SchemaObject }> };
  responses: Record<string, { content?: Record<string, { schema: SchemaObject }> }>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, SchemaObject> };
}

/** One operation of the API, with its request and response validators compiled. */
export interface Operation {
  operationId: string;
  method: string;
  /** The path template, e.g. `/collections/{collection_name}/points`. */
  template: string;
  pathParams: Record<string, string>;
}

export type RouteMatch = { ok: true; operation: Operation } | { ok: false; status: 404 | 405; error: string };

interface CompiledOperation {
  operationId: string;
  method: string;
  template: string;
  pattern: RegExp;
  paramNames: string[];
  literalSegments: number;
  pathParams: Map<string, ValidateFunction>;
  queryParams: Map<string, { required: boolean; type: string | undefined; validate: ValidateFunction }>;
  body?: { required: boolean; validate: ValidateFunction };
  response?: ValidateFunction;
}

const SCHEMA_ID = 'qdrant-openapi.json';

/**
 * Checks HTTP requests against Qdrant's OpenAPI 3.0 document with Ajv.
 *
 * OpenAPI 3.0 schemas are not quite JSON Schema, so they are converted first:
 * `nullable` becomes a `null` type, and a bare `{ nullable: true }` (how the
 * document spells Rust's `Option` inside `anyOf`) means null. The check is
 * stricter than Qdrant in one way, on purpose: an object schema that lists
 * its properties rejects any other property. Qdrant ignores unknown fields,
 * so a misspelt option would otherwise pass silently and do nothing.
 */
export class QdrantApiValidator {
  private readonly operations: CompiledOperation[] = [];

  constructor(document: OpenApiDocument = JSON.parse(fs.readFileSync(QDRANT_OPENAPI_PATH, 'utf8')) as OpenApiDocument) {
    const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(ajv, ['uuid', 'date-time', 'uri']);
    const integer = (min: number, max: number) => ({ type: 'number' as const, validate: (n: number) => Number.isInteger(n) && n >= min && n <= max });
    ajv.addFormat('uint', integer(0, Number.MAX_SAFE_INTEGER));
    ajv.addFormat('uint8', integer(0, 255));
    ajv.addFormat('uint32', integer(0, 0xffffffff));
    ajv.addFormat('uint64', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
    ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    ajv.addFormat('float', { type: 'number', validate: () => true });
    ajv.addFormat('double', { type: 'number', validate: () => true });
    ajv.addFormat('partial-date-time', { type: 'string', validate: () => true });

    const definitions: SchemaObject = {};
    for (const [name, schema] of Object.entries(document.components.schemas)) definitions[name] = convert(schema);
    ajv.addSchema({ $id: SCHEMA_ID, definitions });
    const compile = (schema: SchemaObject) => ajv.compile(convert(schema) as object);

    for (const [template, methods] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.operationId) continue;
        const paramNames: string[] = [];
        const pattern = new RegExp(
          '^' +
            template
              .split('/')
              .map((segment) => {
                const param = /^\{(.+)\}$/.exec(segment);
                if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
                paramNames.push(param[1]);
                return '([^/]+)';
              })
              .join('/') +
            '$',
        );
        const compiled: CompiledOperation = {
          operationId: op.operationId,
          method: method.toUpperCase(),
          template,
          pattern,
          paramNames,
          literalSegments: template.split('/').filter((s) => s && !s.startsWith('{')).length,
          pathParams: new Map(),
          queryParams: new Map(),
        };
        for (const p of op.parameters ?? []) {
          const schema = p.schema ?? {};
          if (p.in === 'path') compiled.pathParams.set(p.name, compile(schema));
          if (p.in === 'query') {
            const type = typeof schema.type === 'string' ? schema.type : undefined;
            compiled.queryParams.set(p.name, { required: p.required === true, type, validate: compile(schema) });
          }
        }
        const bodySchema = op.requestBody?.content['application/json']?.schema;
        if (bodySchema) compiled.body = { required: op.requestBody?.required === true, validate: compile(bodySchema) };
        const okSchema = op.responses['200']?.content?.['application/json']?.schema;
        if (okSchema) compiled.response = compile(okSchema);
        this.operations.push(compiled);
      }
    }
    // The most literal template wins: `/collections/aliases` before `/collections/{collection_name}`.
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** The operation a method and path name, or why there is none. */
  match(method: string, pathname: string): RouteMatch {
    const candidates = this.operations.filter((o) => o.pattern.test(pathname));
    if (candidates.length === 0) return { ok: false, status: 404, error: `no operation of the Qdrant API has the path ${pathname}` };
    const op = candidates.find((o) => o.method === method.toUpperCase());
    if (!op) {
      const allowed = [...new Set(candidates.map((o) => o.method))].join(', ');
      return { ok: false, status: 405, error: `${method} is not an operation on ${candidates[0].template} (allowed: ${allowed})` };
    }
    const values = op.pattern.exec(pathname)?.slice(1) ?? [];
    const pathParams = Object.fromEntries(op.paramNames.map((name, i) => [name, decodeURIComponent(values[i])]));
    return { ok: true, operation: { operationId: op.operationId, method: op.method, template: op.template, pathParams } };
  }

  /** Every way the request departs from the operation's parameters and request body; empty when valid. */
  validateRequest(operation: Operation, request: { query: URLSearchParams; contentType?: string; rawBody: string }): string[] {
    const op = this.compiled(operation);
    const problems: string[] = [];
    for (const [name, value] of Object.entries(operation.pathParams)) {
      const validate = op.pathParams.get(name);
      // A path segment is text; an integer parameter (a point id) is its digits.
      if (validate && !validate(value) && !(/^\d+$/.test(value) && validate(Number(value))))
        problems.push(`path parameter ${name}: ${describe(validate.errors)}`);
    }
    for (const name of new Set(request.query.keys())) {
      const param = op.queryParams.get(name);
      if (!param) {
        problems.push(`query parameter ${name} is not a parameter of ${op.operationId}`);
        continue;
      }
      const values = request.query.getAll(name);
      if (values.length > 1) problems.push(`query parameter ${name} is given ${values.length} times`);
      const value = coerce(values[0], param.type);
      if (!param.validate(value)) problems.push(`query parameter ${name}=${values[0]}: ${describe(param.validate.errors)}`);
    }
    for (const [name, param] of op.queryParams) {
      if (param.required && !request.query.has(name)) problems.push(`query parameter ${name} is required`);
    }

    const hasBody = request.rawBody.trim() !== '';
    if (!op.body) {
      if (hasBody) problems.push(`${op.operationId} takes no request body`);
      return problems;
    }
    if (!hasBody) {
      if (op.body.required) problems.push(`${op.operationId} requires a JSON body`);
      return problems;
    }
    if (!/^application\/json\b/i.test(request.contentType ?? ''))
      problems.push(`the body must be sent as application/json, not ${request.contentType ?? 'without a content type'}`);
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody);
    } catch (error) {
      problems.push(`the body is not JSON: ${(error as Error).message}`);
      return problems;
    }
    if (!op.body.validate(body)) problems.push(`request body: ${describe(op.body.validate.errors)}`);
    return problems;
  }

  /** How a 200 answer departs from the operation's response schema; the fake checks its own answers with it. */
  validateResponse(operation: Operation, body: unknown): string[] {
    const validate = this.compiled(operation).response;
    if (!validate || validate(body)) return [];
    return [`response body of ${operation.operationId}: ${describe(validate.errors)}`];
  }

  private compiled(operation: Operation): CompiledOperation {
    const op = this.operations.find((o) => o.operationId === operation.operationId && o.method === operation.method);
    if (!op) throw new Error(`unknown operation ${operation.operationId}`);
    return op;
  }
}

function describe(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'invalid';
  // anyOf failures list every branch; the deepest messages say most about what is wrong.
  const messages = [
    ...new Set(
      [...errors]
        .sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length)
        .map(
          (e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
        ),
    ),
  ];
  const shown = messages.slice(0, 6);
  return shown.join('; ') + (messages.length > shown.length ? `; and ${messages.length - shown.length} more` : '');
}

function coerce(value: string, type: string | undefined): unknown {
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

const SCHEMA_KEYWORDS = new Set([
  'type',
  'enum',
  '$ref',
  'properties',
  'items',
  'anyOf',
  'oneOf',
  'allOf',
  'additionalProperties',
  'format',
  'minimum',
  'maximum',
]);

/** OpenAPI 3.0 schema to the JSON Schema Ajv checks (see the class comment). */
function convert(node: Json): Json {
  if (Array.isArray(node)) return node.map(convert);
  if (node === null || typeof node !== 'object') return node;
  const out: SchemaObject = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case 'nullable':
      case 'example':
      case 'deprecated':
      case 'default':
      case 'description':
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as SchemaObject).map(([name, schema]) => [name, convert(schema)]));
        break;
      case '$ref':
        out.$ref = String(value).replace('#/components/schemas/', `${SCHEMA_ID}#/definitions/`);
        break;
      default:
        out[key] = convert(value);
    }
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (node.nullable !== true) return out;
  if (!Object.keys(node).some((k) => SCHEMA_KEYWORDS.has(k))) return { type: 'null' };
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}
