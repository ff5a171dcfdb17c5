import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './http-error';

/** Node's HTTP parser errors that the client can fix, as our JSON errors. */
const PARSER_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'headers_too_large',
    'the request line and headers are larger than the server accepts (16 KB); send long questions in a JSON body to POST /v1/chat',
  ],
  HPE_URI_TOO_LONG: [414, 'uri_too_long', 'the URL is too long; send long questions in a JSON body to POST /v1/chat'],
};

/**
 * Requests so malformed that Node's parser refuses them never reach Express;
 * Node would answer a bare 400 or 431. Answer them with the same JSON error
 * shape as everything else, then close the connection.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, message] = PARSER_ERRORS[error.code ?? ''] ?? [400, 'bad_request', 'the request is not valid HTTP'];
    const body = JSON.stringify(errorBody(code, message));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
