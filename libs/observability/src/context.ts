import { AsyncLocalStorage } from 'node:async_hooks';

/** Correlation ids that every log line written inside a request or job carries. */
export interface LogContext {
  request_id?: string;
  job_id?: string;
  tenant?: string;
  queue?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `ctx` merged over the current context. */
export function runWithContext<T>(ctx: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...ctx }, fn);
}

export function currentContext(): LogContext {
  return storage.getStore() ?? {};
}
