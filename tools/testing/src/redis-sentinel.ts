import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { askRedis, startRedis, type PrivateRedis } from './redis-server';
import { tempDir } from './temp-dir';

export interface PrivateRedisSentinel {
  /** The master at start, then its replica. */
  master: PrivateRedis;
  replica: PrivateRedis;
  sentinel: PrivateRedis;
  /** The name the sentinel monitors the master under (REDIS_SENTINEL_NAME). */
  name: string;
  /** What REDIS_SENTINELS takes. */
  sentinelsSetting: string;
  /** Stops the sentinel and both servers (by pid) and removes their folders. */
  stop(): Promise<void>;
}

/**
 * Starts a master, one replica of it and one sentinel monitoring them
 * (quorum 1, a master down after 1 s), each a private redis-server on a free
 * loopback port. Resolves once the replica is in sync and the sentinel knows
 * the master.
 */
export async function startRedisSentinel(options: { args?: string[] } = {}): Promise<PrivateRedisSentinel> {
  const name = 'rag-master';
  // The replica's first sync starts at once, not after the 5 s a master waits for more replicas by default.
  const master = await startRedis({ args: ['--repl-diskless-sync-delay', '0', ...(options.args ?? [])] });
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port), ...(options.args ?? [])] });
  const folder = tempDir('rag-sentinel-');
  const configFile = path.join(folder.path, 'sentinel.conf');
  writeFileSync(
    configFile,
    [
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const sentinel = await startRedis({ configFile, dir: folder.path, args: ['--sentinel'] });
  const stop = async () => {
    await Promise.all([sentinel, replica, master].map((node) => node.stop('SIGKILL')));
    folder.remove();
  };
  try {
    await until(15_000, 'the replica in sync and known to the sentinel', async () => {
      const [info, replicas] = await Promise.all([askRedis(replica.port, 'INFO', 'replication'), askRedis(sentinel.port, 'SENTINEL', 'REPLICAS', name)]);
      return String(info).includes('master_link_status:up') && (replicas as unknown[]).length > 0;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { master, replica, sentinel, name, sentinelsSetting: `127.0.0.1:${sentinel.port}`, stop };
}

/** The port of the server the sentinel on `sentinelPort` names as master of `name` now. */
export async function sentinelMasterPort(sentinelPort: number, name: string): Promise<number> {
  const [, port] = (await askRedis(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
  return Number(port);
}

async function until(timeoutMs: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
