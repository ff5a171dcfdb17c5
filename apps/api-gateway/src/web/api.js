// @ts-check
// The public API, as any client would call it: a bearer key, JSON, and the documented error shape
// `{ error: { code, message, details? } }` with Retry-After on 429/503.

const KEY = 'rag.key';

/** The signed-in key: this tab only (sessionStorage), never a cookie, localStorage or the URL. */
export const session = {
  /** @returns {string | null} */
  key: () => sessionStorage.getItem(KEY),
  /** @param {string} key */
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** An answer outside 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number | undefined} retryAfter seconds, from Retry-After
   */
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** What the user reads: the server's message, and when to try again. */
  describe() {
    const retry = this.retryAfter !== undefined ? ` Retry after ${this.retryAfter} s.` : '';
    const status = this.status ? ` (${this.status}${this.code ? ` ${this.code}` : ''})` : '';
    return `${this.message}${status}.${retry}`.replace(/\.\./g, '.');
  }
}

/**
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function errorOf(res) {
  const retryHeader = res.headers.get('retry-after');
  const retryAfter = retryHeader && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  let code = '';
  let message = `the server answered ${res.status} ${res.statusText}`.trim();
  try {
    const body = await res.json();
    if (body && body.error) {
      code = String(body.error.code ?? '');
      message = String(body.error.message ?? message);
    }
  } catch {
    // Not our JSON (a proxy's page): keep the status line.
  }
  return new ApiError(res.status, code, message, retryAfter);
}

/**
 * A request to the gateway with the signed-in key (or the one given); resolves to the Response when 2xx.
 * @param {string} path
 * @param {RequestInit & { key?: string | null }} [init]
 * @returns {Promise<Response>}
 */
export async function call(path, init = {}) {
  const { key = session.key(), ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  let res;
  try {
    res = await fetch(path, { ...rest, headers, cache: 'no-store', credentials: 'omit' });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'unreachable', 'the gateway did not answer; check that it is running (npm start) and reload', undefined);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/**
 * JSON in, JSON out.
 * @param {string} path
 * @param {RequestInit & { key?: string | null, json?: unknown }} [init]
 * @returns {Promise<any>}
 */
export async function api(path, init = {}) {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  const res = await call(path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
  return res.status === 204 ? undefined : res.json();
}

/**
 * @typedef {{ id?: string, event: string, data: string }} SseEvent
 */

/**
 * The events of a text/event-stream body as they arrive (comments skipped).
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<SseEvent>}
 */
export async function* sseEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        /** @type {SseEvent} */
        const event = { event: 'message', data: '' };
        const data = [];
        for (const line of frame.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length === 0) continue;
        event.data = data.join('\n');
        yield event;
      }
    }
  } finally {
    // The consumer stopped early (a terminal event, a new conversation): close the connection.
    reader.cancel().catch(() => {});
  }
}
