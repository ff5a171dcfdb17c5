import type { Request, Response } from 'express';
import type { FakeState } from './fake-state';
import { FakeApiError, sendError } from './openai-error';
import type { FakeEndpoint, FaultSpec } from './options';

export const DEFAULT_RETRY_AFTER_SECONDS = 1;
export const DEFAULT_DROP_AFTER_CHUNKS = 2;

/**
 * A route of `endpoint` under the fault switch: a due fault that replaces the
 * reply is sent instead of it; otherwise `handle` answers, given that fault
 * (one it carries out itself, like `drop`) or undefined.
 */
export function faultableRoute<R extends Request, T>(
  state: FakeState,
  endpoint: FakeEndpoint,
  handle: (req: R, res: Response, fault: FaultSpec | undefined) => T,
): (req: R, res: Response) => T | undefined {
  return (req, res) => {
    const fault = state.faults.take(endpoint);
    if (fault && respondToFault(fault, res)) return undefined;
    return handle(req, res, fault);
  };
}

/**
 * Answers the request as the fault says. Returns false for `drop`, which the
 * route carries out itself once it has a response to cut short.
 */
export function respondToFault(fault: FaultSpec, res: Response): boolean {
  switch (fault.kind) {
    case 'status401': {
      const key = /^Bearer\s+(.*)$/i.exec(res.req.headers.authorization ?? '')?.[1] ?? '';
      sendError(
        res,
        new FakeApiError(
          401,
          `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          'invalid_request_error',
          'invalid_api_key',
        ),
      );
      return true;
    }
    case 'status429':
      res.set('retry-after', String(fault.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
      sendError(res, new FakeApiError(429, 'Rate limit reached for requests (fake-openai fault).', 'requests', 'rate_limit_exceeded'));
      return true;
    case 'status500':
      sendError(res, new FakeApiError(500, 'The server had an error while processing your request (fake-openai fault).', 'server_error'));
      return true;
    case 'hang':
      // Never answer; the socket closes when the client gives up or the fake closes.
      return true;
    case 'drop':
      return false;
  }
}

/** Sends the JSON, or with a drop fault, the headers and half the body before destroying the socket. */
export function sendJson(res: Response, body: unknown, drop: FaultSpec | undefined): void {
  if (drop?.kind !== 'drop') {
    res.json(body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
}

/** An AbortSignal that fires if the client goes away before the response is finished. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
