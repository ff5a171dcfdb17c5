import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QdrantApiValidator, type Operation } from './openapi-validator';
import { NotImplementedError, QdrantHttpError, QdrantMemory } from './qdrant-memory';

/** One request the fake received, and what it made of it. */
export interface RecordedRequest {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  /** The matched operation, e.g. `query_points`. */
  operationId?: string;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body?: unknown;
  /** The `api-key` header was present (its value is never recorded). */
  apiKey: boolean;
  status: number;
  /** Why Qdrant's API description rejects the request; empty when it is valid. */
  problems: string[];
}

export interface FakeQdrantOptions {
  /** When set, requests must carry it in the `api-key` header, as Qdrant checks its api_key. */
  apiKey?: string;
  /**
   * Refuse filters on payload fields that have no payload index, as Qdrant
   * Cloud's strict mode does. Default true: a store that works here works there.
   */
  requirePayloadIndexForFilters?: boolean;
}

/** A fault for the next request of one operation: an error answer, a delay, or both. */
export interface InjectedFault {
  /** The operation, e.g. `upsert_points`. */
  operationId: string;
  /** Answer with this HTTP status and `error` instead of carrying the request out. */
  status?: number;
  error?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** How many matching requests to let through first. Default 0. */
  after?: number;
}

export interface FakeQdrant {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The requests a real Qdrant 1.19 would reject as malformed (unknown path or method, bad parameters, bad body). */
  readonly invalid: RecordedRequest[];
  /** Answers of the fake itself that do not match the API's response schema (a bug in the fake). */
  readonly offSpecResponses: string[];
  /** Applies the fault to the next matching request, once. */
  injectFault(fault: InjectedFault): void;
  close(): Promise<void>;
}

const VERSION = { title: 'qdrant - vector search engine', version: '1.19.0', commit: null };

let sharedValidator: QdrantApiValidator | undefined;

/**
 * An HTTP stand-in for Qdrant 1.19 for tests, on 127.0.0.1 and a free port.
 * Every request is checked against Qdrant's own OpenAPI document (a request
 * the real server would reject is answered 400/404/405 and recorded as
 * invalid), and the operations the Qdrant store uses are carried out in
 * memory with Qdrant's semantics and response shapes, so the official client
 * talks to it exactly as to a real server.
 */
export async function startFakeQdrant(options: FakeQdrantOptions = {}): Promise<FakeQdrant> {
  // Compiling the schemas takes a second or so; one validator serves every fake in the process.
  const validator = (sharedValidator ??= new QdrantApiValidator());
  const memory = new QdrantMemory({ requirePayloadIndexForFilters: options.requirePayloadIndexForFilters ?? true });
  const requests: RecordedRequest[] = [];
  const offSpecResponses: string[] = [];
  const faults: InjectedFault[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const started = process.hrtime.bigint();
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://fake-qdrant');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        apiKey: req.headers['api-key'] !== undefined,
        status: 0,
        problems: [],
      };
      if (rawBody) recorded.body = parseOrRaw(rawBody);
      requests.push(recorded);

      /** Sends `body` as is, or with Qdrant's `time` (seconds) added when `timed`. */
      const send = (status: number, body: object, operation?: Operation, timed = true) => {
        recorded.status = status;
        const payload = timed ? { ...body, time: Number(process.hrtime.bigint() - started) / 1e9 } : body;
        if (status === 200 && operation) offSpecResponses.push(...validator.validateResponse(operation, payload));
        const text = JSON.stringify(payload);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      const fail = (status: number, error: string, operation?: Operation) => send(status, { status: { error } }, operation);

      if (options.apiKey !== undefined && req.headers['api-key'] !== options.apiKey) {
        fail(401, 'Must provide an API key or an Authorization bearer token');
        return;
      }
      const route = validator.match(recorded.method, url.pathname);
      if (!route.ok) {
        recorded.problems.push(route.error);
        fail(route.status, route.error);
        return;
      }
      const operation = route.operation;
      recorded.operationId = operation.operationId;
      recorded.problems.push(...validator.validateRequest(operation, { query: url.searchParams, contentType: req.headers['content-type'], rawBody }));
      if (recorded.problems.length) {
        fail(400, `Format error in JSON body: ${recorded.problems.join('; ')}`);
        return;
      }
      const fault = takeFault(faults, operation.operationId);
      const answer = () => {
        if (fault?.status !== undefined) {
          fail(fault.status, fault.error ?? 'Service internal error: injected fault');
          return;
        }
        try {
          // GET / answers the bare version object; everything else Qdrant wraps.
          if (operation.operationId === 'root') send(200, VERSION, operation, false);
          else send(200, { result: handle(memory, operation, recorded.body), status: 'ok' }, operation);
        } catch (error) {
          if (error instanceof QdrantHttpError) fail(error.status, error.message);
          else fail(500, `Service internal error: ${(error as Error).message}`);
        }
      };
      if (fault?.delayMs) setTimeout(answer, fault.delayMs);
      else answer();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get invalid() {
      return requests.filter((r) => r.problems.length > 0);
    },
    offSpecResponses,
    injectFault(fault) {
      faults.push({ ...fault });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The official client keeps connections alive; they must not hold the server open.
        server.closeAllConnections();
      }),
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the body was validated against the operation's schema */
function handle(memory: QdrantMemory, operation: Operation, body: any): unknown {
  const name = operation.pathParams.collection_name;
  switch (operation.operationId) {
    case 'get_collections':
      return memory.listCollections();
    case 'collection_exists':
      return memory.exists(name);
    case 'get_collection':
      return memory.collectionInfo(name);
    case 'create_collection':
      return memory.createCollection(name, body ?? {});
    case 'delete_collection':
      return memory.deleteCollection(name);
    case 'update_aliases':
      return memory.updateAliases(body);
    case 'get_collections_aliases':
      return memory.listAliases();
    case 'get_collection_aliases':
      return memory.listAliases(name);
    case 'create_field_index':
      return memory.createPayloadIndex(name, body);
    case 'upsert_points':
      return memory.upsert(name, body);
    case 'delete_points':
      return memory.deletePoints(name, body);
    case 'scroll_points':
      return memory.scroll(name, body ?? {});
    case 'count_points':
      return memory.count(name, body ?? {});
    case 'query_points':
      return memory.query(name, body ?? {});
    default:
      throw new NotImplementedError(`the operation ${operation.operationId} (${operation.method} ${operation.template})`);
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The first fault for the operation that is due, removed from the list; counts down the ones not yet due. */
function takeFault(faults: InjectedFault[], operationId: string): InjectedFault | undefined {
  const i = faults.findIndex((f) => f.operationId === operationId);
  if (i < 0) return undefined;
  const fault = faults[i];
  if ((fault.after ?? 0) > 0) {
    fault.after = (fault.after ?? 0) - 1;
    return undefined;
  }
  faults.splice(i, 1);
  return fault;
}

function parseOrRaw(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
