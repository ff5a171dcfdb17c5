import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ListSettingError } from './api-keys-setting';
import type { EnvSchema } from './env.schema';

/** The settings that say which Redis a process talks to. */
export type RedisSettings = Pick<EnvSchema, 'REDIS_URL'> & Partial<Pick<EnvSchema, 'REDIS_CLUSTER_NODES' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME'>>;

export interface RedisNode {
  host: string;
  port: number;
}

const NODE_PATTERN = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** Parses a comma-separated `host:port` list (REDIS_CLUSTER_NODES, REDIS_SENTINELS). */
export function parseRedisNodes(value: string): RedisNode[] {
  const problems: string[] = [];
  const nodes = value
    .split(',')
    .map((entry) => entry.trim())
    .flatMap((entry, i) => {
      const match = NODE_PATTERN.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) {
        problems.push(`entry ${i + 1} (${JSON.stringify(entry)}) is not host:port, e.g. redis-1:6379`);
        return [];
      }
      return [{ host: match[1].replace(/^\[|\]$/g, ''), port }];
    });
  if (problems.length > 0) throw new ListSettingError(problems);
  return nodes;
}

/** Whether the prefix holds a Redis Cluster hash tag (`{...}`), so every key under it shares one hash slot. */
export function hasHashTag(prefix: string): boolean {
  return /\{[^{}]+\}/.test(prefix);
}

/** What is wrong with the Redis settings taken together (each alone is checked by the schema). */
export function redisSettingsProblems(settings: Pick<EnvSchema, 'REDIS_CLUSTER_NODES' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'QUEUE_PREFIX'>): string[] {
  const problems: string[] = [];
  if (settings.REDIS_CLUSTER_NODES && settings.REDIS_SENTINELS) {
    problems.push(
      `REDIS_SENTINELS=${JSON.stringify(settings.REDIS_SENTINELS)}: set with REDIS_CLUSTER_NODES; a deployment uses a Redis Cluster or Sentinel, not both: unset one`,
    );
  }
  if (settings.REDIS_CLUSTER_NODES && !hasHashTag(settings.QUEUE_PREFIX)) {
    problems.push(
      `QUEUE_PREFIX=${JSON.stringify(settings.QUEUE_PREFIX)}: on a Redis Cluster (REDIS_CLUSTER_NODES) it must hold a hash tag so that every key of a queue shares one hash slot; set QUEUE_PREFIX={${settings.QUEUE_PREFIX.replace(/[{}]/g, '')}}`,
    );
  }
  if (settings.REDIS_SENTINELS && !settings.REDIS_SENTINEL_NAME) {
    problems.push('REDIS_SENTINEL_NAME="": required with REDIS_SENTINELS; set it to the name of the master the sentinels monitor (e.g. mymaster)');
  }
  return problems;
}

/**
 * A connection to the deployment's Redis: one server from REDIS_URL, a
 * Cluster from REDIS_CLUSTER_NODES, or the master named REDIS_SENTINEL_NAME
 * found through REDIS_SENTINELS (followed across failovers). With a Cluster
 * or Sentinel, REDIS_URL still gives the user, password and TLS (rediss://).
 *
 * Typed as `Redis` whatever it is: a Cluster answers the same commands as
 * long as every key of one command, script or MULTI shares a hash slot, as
 * ours do under a hash-tagged QUEUE_PREFIX. Where the two differ, use
 * duplicateRedis and redisNodeFor.
 */
export function openRedis(settings: RedisSettings, options: RedisOptions = {}): Redis {
  if (settings.REDIS_CLUSTER_NODES) {
    const { lazyConnect, enableOfflineQueue, retryStrategy, enableAutoPipelining, ...nodeOptions } = options;
    const clusterOptions: ClusterOptions = {
      lazyConnect,
      enableOfflineQueue,
      // The Cluster client batches, per node, what its callers send; a node's own connection would not see the commands.
      ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
      ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: (times: number) => retryStrategy?.(times) }),
      redisOptions: { ...credentials(settings.REDIS_URL), ...nodeOptions },
    };
    return new Cluster(parseRedisNodes(settings.REDIS_CLUSTER_NODES), clusterOptions) as unknown as Redis;
  }
  if (settings.REDIS_SENTINELS) {
    return new Redis({
      ...credentials(settings.REDIS_URL),
      sentinels: parseRedisNodes(settings.REDIS_SENTINELS),
      name: settings.REDIS_SENTINEL_NAME,
      // Told of a failover by the sentinels (+switch-master), not only when the old master drops the connection:
      // a demoted master that still answers would otherwise take writes that are then lost.
      failoverDetector: true,
      // A master turned replica refuses writes: reconnect, through the sentinels, to the new one.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
      ...options,
    });
  }
  return new Redis(settings.REDIS_URL, options);
}

/** Whether `redis` is a Cluster client (openRedis with REDIS_CLUSTER_NODES). */
export function isRedisCluster(redis: Redis): boolean {
  return (redis as unknown) instanceof Cluster;
}

/**
 * Another connection to the same Redis with some options changed (`redis.duplicate(options)` does this only for one
 * server). Auto-pipelining is off on it unless `options` turns it on: a duplicate is a connection of its own for
 * blocking reads or subscriptions, where holding a command back to batch it gains nothing.
 */
export function duplicateRedis(redis: Redis, options: RedisOptions = {}): Redis {
  if (!isRedisCluster(redis)) return redis.duplicate({ enableAutoPipelining: false, ...options });
  const cluster = redis as unknown as Cluster;
  const { lazyConnect, enableOfflineQueue, retryStrategy, enableAutoPipelining = false, ...nodeOptions } = options;
  return cluster.duplicate([], {
    ...cluster.options,
    enableAutoPipelining,
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: (times: number) => retryStrategy?.(times) }),
    redisOptions: { ...cluster.options.redisOptions, ...nodeOptions },
  }) as unknown as Redis;
}

/**
 * The connection that serves `key`: on a Cluster, its connection to the master
 * owning the key's slot; else `redis` itself. For commands about a connection
 * rather than a key (CLIENT ID, CLIENT UNBLOCK), which a Cluster would send
 * to any node.
 */
export async function redisNodeFor(redis: Redis, key: string): Promise<Redis> {
  if (!isRedisCluster(redis)) return redis;
  const cluster = redis as unknown as Cluster;
  const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
  const owner = cluster.slots[slot]?.[0];
  const node = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) throw new Error(`no Redis Cluster master known for slot ${slot} (cluster ${cluster.status}); retry once it is ready`);
  return node;
}

/** The user, password and TLS of a Redis URL, for the nodes of a Cluster or a Sentinel-managed master. */
function credentials(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
