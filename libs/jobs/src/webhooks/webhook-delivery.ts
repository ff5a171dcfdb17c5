import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, refusedAddress, type WebhookAllowList } from './webhook-address';

/** What one delivery attempt came to. */
export type DeliveryResult =
  /** The receiver answered (any status; no redirect is followed). */
  | { kind: 'answered'; statusCode: number }
  /** No answer: DNS, connection, TLS, timeout. */
  | { kind: 'network'; error: string }
  /** The address is forbidden by the SSRF rules: nothing was sent. */
  | { kind: 'refused'; error: string };

export interface DeliveryOptions {
  allow: WebhookAllowList;
  timeoutMs: number;
  headers: Record<string, string>;
}

/** Bytes of a receiver's answer read before it is dropped: only its status matters. */
const MAX_RESPONSE_BYTES = 4096;

/**
 * POSTs `body` to `url` once. The host is resolved once, every address it
 * resolves to is checked against the SSRF rules (one forbidden address
 * refuses the delivery), and the connection goes to the checked address
 * (a lookup that returns only it), so a DNS answer that changes between
 * the check and the connection (rebinding) cannot move it. The Host header
 * and TLS server name stay the URL's host. Redirects are not followed.
 */
export async function deliverWebhook(url: string, body: string, options: DeliveryOptions): Promise<DeliveryResult> {
  const target = new URL(url);
  const host = hostOf(url);
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = isIP(literal) ? [{ address: literal, family: isIP(literal) }] : await lookup(literal, { all: true, verbatim: true });
  } catch (e) {
    return { kind: 'network', error: `could not resolve ${host}: ${(e as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  for (const { address } of addresses) {
    const refused = refusedAddress(host, address, options.allow);
    if (refused) return { kind: 'refused', error: refused };
  }
  const pinned = addresses[0];
  if (!pinned) return { kind: 'network', error: `${host} resolves to no address` };
  const pinnedLookup: LookupFunction = (_hostname, opts, callback) => {
    if (opts.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<DeliveryResult>((resolve) => {
    const request = client.request(
      {
        protocol: target.protocol,
        hostname: literal,
        port: target.port || undefined,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        lookup: pinnedLookup,
        ...(isIP(literal) ? {} : { servername: literal }),
        headers: { ...options.headers, host: target.host, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(options.timeoutMs),
        agent: false,
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        response.on('error', () => undefined);
        response.on('close', () => resolve({ kind: 'answered', statusCode: response.statusCode ?? 0 }));
        // The answer arrived; its body is not needed past a small bound.
        response.resume();
      },
    );
    request.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        kind: 'network',
        error: e.name === 'AbortError' || e.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `${e.code ?? e.name}: ${e.message}`,
      }),
    );
    request.end(body);
  });
}
