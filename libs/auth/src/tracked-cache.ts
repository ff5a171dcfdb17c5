import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** The channel Redis publishes client-side caching invalidations on (RESP2). */
const INVALIDATE = '__redis__:invalidate';

export interface TrackedCacheOptions {
  /** Every key whose change must empty the cache starts with this. */
  prefix: string;
  /** The longest an entry is kept, even without an invalidation (a bound on anything unforeseen); > 0. */
  ttlMs: number;
  /** Entries kept at most (least recently used dropped first). */
  max?: number;
  /** Told when the cache stops or starts being used (a connection dropped, tracking armed again). */
  onStateChange?: (live: boolean, reason: string) => void;
}

/**
 * Values read from Redis, held in memory and kept exact by Redis's
 * server-assisted client-side caching: `CLIENT TRACKING … BCAST PREFIX
 * <prefix>` sends an invalidation for every write to a key under the prefix,
 * from any client, to a connection of ours subscribed to
 * `__redis__:invalidate`; any invalidation empties the cache (what it holds
 * changes rarely: API keys).
 *
 * It is used only while both of its connections are up and tracking is
 * armed: when either drops, the cache is emptied and every read goes to Redis
 * until tracking is armed again. A read that raced an invalidation (started
 * before it, answered after) is returned but not kept. So a write is seen by
 * the next read that starts after its invalidation arrives, which follows the
 * write by one network hop.
 */
export class TrackedCache {
  private readonly entries: LRUCache<string, object>;
  /** Bumped by every invalidation and every change of state: a read that saw it change is not kept. */
  private generation = 0;
  private live = false;
  private arming?: Promise<void>;
  private closed = false;

  /**
   * `control` and `listener` are connections of this cache's own (closed by
   * `close`): `control` carries the tracking setting, `listener` the
   * invalidations. `listener` must not resubscribe by itself
   * (`autoResubscribe: false`): its id is read before each subscription.
   */
  constructor(
    private readonly control: Redis,
    private readonly listener: Redis,
    private readonly options: TrackedCacheOptions,
  ) {
    if (!(options.ttlMs > 0)) throw new RangeError(`the cache's ttlMs must be > 0, got ${options.ttlMs}`);
    this.entries = new LRUCache<string, object>({ max: options.max ?? 10_000, ttl: options.ttlMs });
    listener.on('message', (channel: string) => {
      if (channel === INVALIDATE) this.invalidate();
    });
    for (const connection of [control, listener]) {
      connection.on('close', () => this.stop('a connection to Redis closed'));
      connection.on('ready', () => void this.arm());
      // Connection errors are seen through 'close'; without a listener ioredis prints them.
      connection.on('error', () => undefined);
    }
  }

  /** Whether reads are served from memory now. */
  get isLive(): boolean {
    return this.live;
  }

  /** Connects and arms tracking; until it is armed every read goes to Redis. */
  async start(): Promise<void> {
    await Promise.all([this.control, this.listener].map((c) => (c.status === 'wait' ? c.connect() : undefined)));
    await this.arm();
  }

  /**
   * The value for `key`: from memory while the cache is live, else `load()`'s,
   * kept unless it is null or an invalidation came meanwhile. One cache holds
   * one kind of value per key: the caller's keys say which.
   */
  async get<V extends object>(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (this.live) {
      const held = this.entries.get(key);
      if (held) return held as V;
    }
    const generation = this.generation;
    const value = await load();
    if (value && this.live && generation === this.generation) this.entries.set(key, value);
    return value;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop('closed');
    for (const connection of [this.control, this.listener]) connection.disconnect();
  }

  private invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  private stop(reason: string): void {
    this.invalidate();
    if (!this.live) return;
    this.live = false;
    this.options.onStateChange?.(false, reason);
  }

  /** Arms tracking once both connections are ready (again); concurrent calls share one attempt. */
  private arm(): Promise<void> {
    if (this.closed || this.control.status !== 'ready' || this.listener.status !== 'ready') return Promise.resolve();
    this.arming ??= this.armNow()
      .catch(() => this.stop('tracking could not be armed'))
      .finally(() => (this.arming = undefined));
    return this.arming;
  }

  private async armNow(): Promise<void> {
    this.stop('arming tracking');
    // A fresh subscription on every connect: the listener's id changes with each one.
    if (this.listener.mode === 'subscriber') await this.listener.unsubscribe(INVALIDATE);
    const listenerId = Number(await this.listener.call('CLIENT', 'ID'));
    await this.listener.subscribe(INVALIDATE);
    await this.control.call('CLIENT', 'TRACKING', 'OFF');
    await this.control.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(listenerId), 'BCAST', 'PREFIX', this.options.prefix);
    if (this.closed || this.control.status !== 'ready' || this.listener.status !== 'ready') return;
    this.invalidate();
    this.live = true;
    this.options.onStateChange?.(true, 'tracking armed');
  }
}
