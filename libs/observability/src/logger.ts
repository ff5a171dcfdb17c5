import winston from 'winston';
import { BufferedLinesTransport } from './buffered-lines.transport';
import { currentContext } from './context';
import { redactSecrets, redactValue, registerSecrets } from './redact';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
  /**
   * Lines gathered and written once per event-loop turn (and at exit): the
   * default on stdout. A stream passed in gets each line as it is logged, so
   * a test reads it right after the call, unless this is set.
   */
  buffered?: boolean;
  /** Extra fields on every line, e.g. a worker id. */
  defaultMeta?: Record<string, unknown>;
  /** Configured secret values (see secretValues in @rag/config): masked in every line, as are credential-shaped strings. */
  secrets?: Iterable<string | undefined>;
}

// Context fills in ids a line does not set itself; an explicit field wins.
const withContext = winston.format((info) => {
  for (const [key, value] of Object.entries(currentContext())) {
    if (info[key] === undefined) info[key] = value;
  }
  return info;
});

// Last before JSON: a secret in any field (a provider's error text, a URL, an error's stack) is masked.
// Symbol-keyed fields (level, splat) are winston's own and left alone.
const redacted = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key !== 'level') info[key] = redactValue(info[key], errorMessage);
  }
  return info;
});

/** JSON lines with timestamp, service and the active request/job ids; secrets masked. */
export function createLogger(options: LoggerOptions): Logger {
  if (options.secrets) registerSecrets(options.secrets);
  const buffered = options.buffered ?? options.stream === undefined;
  const transport = buffered ? new BufferedLinesTransport(options.stream) : new winston.transports.Stream({ stream: options.stream ?? process.stdout });
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service, ...options.defaultMeta },
    format: winston.format.combine(withContext(), winston.format.errors({ stack: true }), winston.format.timestamp(), redacted(), winston.format.json()),
    transports: [transport],
  });
}

/** A short description of an unknown thrown value, every cause included, secrets masked. */
export function errorMessage(error: unknown): string {
  return redactSecrets(describeError(error, new Set()));
}

// `seen` stops a cyclic cause chain from recursing until the stack overflows.
function describeError(error: unknown, seen: Set<Error>): string {
  if (!(error instanceof Error)) return String(error);
  if (seen.has(error)) return '[cycle]';
  seen.add(error);
  const cause = error.cause !== undefined ? ` (cause: ${describeError(error.cause, seen)})` : '';
  return `${error.message}${cause}`;
}
