import Redis from 'ioredis';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRedis, type PrivateRedis } from './redis-server';

export interface PrivateRedisCluster {
  /** The masters first, then the replicas (in `redis-cli --cluster create`'s order). */
  nodes: PrivateRedis[];
  /** What REDIS_CLUSTER_NODES takes: every node as `127.0.0.1:<port>`, comma-separated. */
  nodesSetting: string;
  /** The node serving `key`'s slot as master now (after a failover, a promoted replica). */
  masterOf(key: string): Promise<PrivateRedis>;
  /** Stops every node still running (by pid) and removes their folders. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters, at least 3 (Redis refuses fewer); 3 by default. */
  masters?: number;
  /** Replicas of each master; 0 by default. */
  replicas?: number;
  /** Extra `redis-server` arguments for every node, e.g. ['--appendonly', 'yes']. */
  args?: string[];
}

const run = promisify(execFile);

/**
 * Starts a private Redis Cluster: `redis-server --cluster-enabled yes` nodes
 * on free loopback ports, each in its own temp folder, joined by
 * `redis-cli --cluster create`; resolves once every node says
 * `cluster_state:ok`. A node is marked failed after 1 s without an answer,
 * so a failover drill does not wait long.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<PrivateRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000', ...(options.args ?? [])];
  const nodes = await Promise.all(Array.from({ length: masters * (1 + replicas) }, () => startRedis({ args })));
  const stop = () => Promise.all(nodes.map((node) => node.stop('SIGKILL'))).then(() => undefined);
  try {
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
    await Promise.all(nodes.map((node) => clusterReady(node.port, 30_000)));
    return {
      nodes,
      nodesSetting: addresses.join(','),
      async masterOf(key) {
        for (const node of nodes) {
          if (node.process.exitCode !== null || node.process.signalCode !== null) continue;
          const client = new Redis(node.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
          try {
            const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
            const owner = ((await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]).find(([from, to]) => slot >= from && slot <= to);
            const found = owner && nodes.find((n) => n.port === owner[2][1]);
            if (found) return found;
          } catch {
            // This node does not answer (yet): ask the next.
          } finally {
            client.disconnect();
          }
        }
        throw new Error(`no node of the cluster serves ${key}`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until the node on `port` sees the whole cluster as serving every slot. */
async function clusterReady(port: number, timeoutMs: number): Promise<void> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const info = String(await client.call('CLUSTER', 'INFO'));
      if (info.includes('cluster_state:ok')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the Redis Cluster node on port ${port} did not reach cluster_state:ok within ${timeoutMs} ms`);
  } finally {
    client.disconnect();
  }
}
