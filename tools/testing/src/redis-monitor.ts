import Redis from 'ioredis';

/** What Redis saw while a piece of code ran (see monitorRequests). */
export interface MonitoredRequests {
  /** Requests by the name `sideOf` gave their sender (a MULTI … EXEC block counted once). */
  requests: Map<string, number>;
  /** Every command Redis executed, those run by scripts included. */
  commands: number;
}

/**
 * Counts the requests Redis receives while `run` runs, as MONITOR sees them:
 * each client request once (a MULTI … EXEC block, a script, one command),
 * grouped by `sideOf(source)` (the sender's `host:port`; undefined leaves it
 * out), and every command executed, scripts' own included. MONITOR slows
 * Redis: count with it, time without it.
 */
export async function monitorRequests(
  redisUrl: string,
  run: () => Promise<unknown>,
  sideOf: (source: string) => string | undefined,
): Promise<MonitoredRequests> {
  const counted: MonitoredRequests = { requests: new Map(), commands: 0 };
  const inMulti = new Set<string>();
  const connection = new Redis(redisUrl);
  const monitor = await connection.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    counted.commands++;
    if (source === 'lua') return;
    const command = String(args[0]).toLowerCase();
    // A transaction is one request: counted at MULTI, not for the commands it queues or its EXEC.
    if (inMulti.has(source)) {
      if (command === 'exec' || command === 'discard') inMulti.delete(source);
      return;
    }
    if (command === 'multi') inMulti.add(source);
    const side = sideOf(source);
    if (side !== undefined) counted.requests.set(side, (counted.requests.get(side) ?? 0) + 1);
  });
  try {
    // MONITOR starts streaming a moment after it is acknowledged; so do the replies of what `run` sent last.
    await new Promise((r) => setTimeout(r, 150));
    await run();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    monitor.disconnect();
    connection.disconnect();
  }
  return counted;
}
