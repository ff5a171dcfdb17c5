import type { Redis } from 'ioredis';

/** State kept in Redis under one key prefix (QUEUE_PREFIX), e.g. dead letters or worker heartbeats. */
export abstract class RedisKeyspace<Options extends { prefix: string }> {
  constructor(
    protected readonly redis: Redis,
    protected readonly options: Options,
  ) {}

  /** `key('dlq', id)` is `<prefix>:dlq:<id>`. */
  protected key(...parts: string[]): string {
    return [this.options.prefix, ...parts].join(':');
  }
}
