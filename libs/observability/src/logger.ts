import winston from 'winston';
import { currentContext } from './context';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
  /** Extra fields on every line, e.g. a worker id. */
  defaultMeta?: Record<string, unknown>;
}

// Context fills in ids a line does not set itself; an explicit field wins.
const withContext = winston.format((info) => {
  for (const [key, value] of Object.entries(currentContext())) {
    if (info[key] === undefined) info[key] = value;
  }
  return info;
});

/** JSON lines with timestamp, service and the active request/job ids. */
export function createLogger(options: LoggerOptions): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service, ...options.defaultMeta },
    format: winston.format.combine(
      withContext(),
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [transport],
  });
}

/** A short, safe description of an unknown thrown value, causes included. */
export function errorMessage(error: unknown): string {
  return describeError(error, new Set());
}

// `seen` stops a cyclic cause chain from recursing until the stack overflows.
function describeError(error: unknown, seen: Set<Error>): string {
  if (!(error instanceof Error)) return String(error);
  if (seen.has(error)) return '[cycle]';
  seen.add(error);
  const cause = error.cause !== undefined ? ` (cause: ${describeError(error.cause, seen)})` : '';
  return `${error.message}${cause}`;
}
