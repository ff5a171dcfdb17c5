import { jobEventsKey } from '@rag/queue-contracts';
import { duplicateRedis, redisNodeFor } from '@rag/config';
import type { Redis } from 'ioredis';
import { JobEventsSubscription, JobEventsUnavailableError, SubscriberLimitError, compareEventIds, parseEntry, parseEventId } from './job-events.reader';

export interface JobEventsFanoutOptions {
  prefix: string;
  /** Subscribers this process serves at once; the next one is refused (SubscriberLimitError). */
  maxSubscribers?: number;
  /** Bytes of events one subscriber may leave unread before it is dropped (SubscriberTooSlowError). */
  maxBufferedBytes?: number;
  /**
   * How long one XREAD blocks. A new stream interrupts the read at once
   * (CLIENT UNBLOCK), so this only bounds how long a read lives.
   */
  blockMs?: number;
  /** Streams named in one XREAD; with more, the streams are read in batches by polling every `pollMs`. */
  streamsPerRead?: number;
  pollMs?: number;
  /** Entries taken per stream per read, and per history page. */
  entriesPerRead?: number;
  /** How long Redis may stay unreachable before every subscriber gets JobEventsUnavailableError. */
  outageMs?: number;
  logger?: { warn(message: string, meta?: Record<string, unknown>): void };
}

/** One job's stream in the multiplexed read: every subscriber of the job shares it. */
interface Feed {
  key: string;
  /** The last id read from the stream for this feed. */
  lastId: string;
  subscribers: Set<JobEventsSubscription>;
}

/** Name of the blocking connection in CLIENT LIST. */
export const JOB_EVENTS_CONNECTION = 'rag:job-events';

/**
 * Serves the events of many jobs to many subscribers over ONE blocking Redis
 * connection per process: a single loop runs
 * `XREAD BLOCK COUNT STREAMS k1 k2 … id1 id2 …` over every subscribed job's
 * stream, from the last id read per stream, and hands each entry to that
 * job's subscribers.
 *
 * A subscriber first reads the job's history with XRANGE on the shared,
 * non-blocking connection (paged, paced by how fast it consumes), then joins
 * the multiplexed read at the last id it got. When a new stream joins, the
 * blocked XREAD is interrupted with CLIENT UNBLOCK from the shared connection
 * and re-issued with the new stream, so a subscriber never waits for the
 * block timeout. (A short block timeout instead would cost an XREAD of every
 * stream each period whether or not anything changed, and still add up to
 * that period of delay.)
 *
 * If Redis goes away the loop retries with backoff and subscribers keep
 * their positions, so a restart within `outageMs` is invisible to them (bar
 * the delay); past `outageMs` every subscriber ends with
 * JobEventsUnavailableError and resumes by reconnecting with its
 * Last-Event-ID. A job whose stream does not exist yet (not started, or
 * expired) is waited for: the caller checks that the job exists first.
 */
export class JobEventsFanout {
  private readonly blocking: Redis;
  private readonly feeds = new Map<string, Feed>();
  private readonly subscriptions = new Set<JobEventsSubscription>();
  private readonly maxSubscribers: number;
  private readonly maxBufferedBytes: number;
  private readonly blockMs: number;
  private readonly streamsPerRead: number;
  private readonly pollMs: number;
  private readonly entriesPerRead: number;
  private readonly outageMs: number;
  private loop: Promise<void> | undefined;
  /** Set while the blocking XREAD is in flight. */
  private reading = false;
  /** A stream joined after the XREAD in flight was issued: it must be interrupted. */
  private stale = false;
  private interrupting = false;
  private blockingId: number | undefined;
  private wakeLoop: (() => void) | undefined;
  private outageSince: number | undefined;
  private closed = false;

  constructor(
    /** A shared, non-blocking connection: history reads and CLIENT UNBLOCK. */
    private readonly redis: Redis,
    private readonly options: JobEventsFanoutOptions,
  ) {
    this.maxSubscribers = options.maxSubscribers ?? 2000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024;
    this.blockMs = options.blockMs ?? 5000;
    this.streamsPerRead = options.streamsPerRead ?? 1000;
    this.pollMs = options.pollMs ?? 25;
    this.entriesPerRead = options.entriesPerRead ?? 100;
    this.outageMs = options.outageMs ?? 10_000;
    // Commands fail at once while disconnected (the loop backs off and reads again from its ids), never replayed blindly.
    this.blocking = duplicateRedis(redis, {
      connectionName: JOB_EVENTS_CONNECTION,
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: null,
    });
    this.blocking.on('close', () => (this.blockingId = undefined));
    // Connection errors reach the loop through its commands; without a listener ioredis prints them.
    this.blocking.on('error', () => undefined);
  }

  /** Subscribers being served. */
  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  /** Streams in the multiplexed read (subscribers of one job share one). */
  get streamCount(): number {
    return this.feeds.size;
  }

  /**
   * Job `jobId`'s events after stream id `after` ('0' for the whole history,
   * or the client's Last-Event-ID). Throws InvalidEventIdError for an id that
   * is not one, SubscriberLimitError past `maxSubscribers`.
   */
  subscribe(jobId: string, after = '0'): JobEventsSubscription {
    if (this.closed) throw new JobEventsUnavailableError('the job events reader is closed');
    const from = parseEventId(after);
    if (this.subscriptions.size >= this.maxSubscribers) throw new SubscriberLimitError(this.maxSubscribers);
    const subscription = new JobEventsSubscription(jobId, from, this.maxBufferedBytes, (s) => this.release(s));
    this.subscriptions.add(subscription);
    this.catchUp(subscription).catch((error: unknown) => subscription.fail(new JobEventsUnavailableError(`could not read the events of job ${jobId}`, error)));
    return subscription;
  }

  /** Ends every subscription and closes the blocking connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new JobEventsUnavailableError('this gateway is shutting down'));
    this.wakeLoop?.();
    this.blocking.disconnect();
    await this.loop;
  }

  /** History with XRANGE, page by page as the subscriber takes it, then into the multiplexed read. */
  private async catchUp(subscription: JobEventsSubscription): Promise<void> {
    const key = jobEventsKey(this.options.prefix, subscription.jobId);
    let cursor = subscription.lastId;
    for (;;) {
      const page = await this.redis.xrange(key, cursor === '0-0' ? '-' : `(${cursor}`, '+', 'COUNT', this.entriesPerRead);
      for (const entry of page) {
        cursor = entry[0];
        const event = parseEntry(entry);
        if (event && !subscription.deliver(event)) return;
      }
      // History goes no faster than the subscriber takes it, and it joins the live read with room to spare.
      await subscription.room();
      if (!subscription.open) return;
      if (page.length === this.entriesPerRead) continue;
      const feed = this.feeds.get(key);
      // The shared read is already past us: read the gap first, or we would get its later events before it.
      if (feed && compareEventIds(feed.lastId, cursor) > 0) continue;
      if (feed) feed.subscribers.add(subscription);
      else {
        this.feeds.set(key, { key, lastId: cursor, subscribers: new Set([subscription]) });
        this.streamsChanged();
      }
      return;
    }
  }

  private release(subscription: JobEventsSubscription): void {
    this.subscriptions.delete(subscription);
    const key = jobEventsKey(this.options.prefix, subscription.jobId);
    const feed = this.feeds.get(key);
    if (!feed?.subscribers.delete(subscription)) return;
    // A stream left in the read in flight costs nothing: its entries find no feed.
    if (feed.subscribers.size === 0) this.feeds.delete(key);
  }

  private failAll(error: Error): void {
    for (const subscription of [...this.subscriptions]) subscription.fail(error);
  }

  /** A stream joined: start the loop, or make the blocked read start over with it. */
  private streamsChanged(): void {
    if (this.closed) return;
    this.stale = true;
    this.loop ??= this.run();
    this.wakeLoop?.();
    if (this.reading) void this.interrupt();
  }

  /**
   * CLIENT UNBLOCK makes the blocked XREAD return as if it timed out. The
   * XREAD may not have reached Redis yet (UNBLOCK answers 0): try again until
   * a read that includes every stream is in flight.
   */
  private async interrupt(): Promise<void> {
    if (this.interrupting) return;
    this.interrupting = true;
    try {
      while (this.stale && this.reading && !this.closed && this.blockingId !== undefined) {
        // On a Cluster, the node that serves the streams (all in one slot) holds the blocked read.
        const unblocked = await (await redisNodeFor(this.redis, this.anyStreamKey())).client('UNBLOCK', this.blockingId);
        await new Promise((resolve) => setTimeout(resolve, unblocked === 1 ? 0 : 2));
      }
    } catch {
      // The shared connection is down: the blocking read fails too, and the loop starts over.
    } finally {
      this.interrupting = false;
    }
  }

  private async run(): Promise<void> {
    let backoffMs = 0;
    while (!this.closed) {
      if (this.feeds.size === 0) {
        await this.pause(Infinity);
        continue;
      }
      try {
        await this.readOnce();
        if (this.outageSince !== undefined) this.options.logger?.warn('job events readable again', { outage_ms: Date.now() - this.outageSince });
        this.outageSince = undefined;
        backoffMs = 0;
      } catch (error) {
        if (this.closed) return;
        this.blockingId = undefined;
        if (this.outageSince === undefined) {
          this.outageSince = Date.now();
          this.options.logger?.warn('job events not readable; retrying', {
            error: error instanceof Error ? error.message : String(error),
            subscribers: this.subscriptions.size,
          });
        } else if (Date.now() - this.outageSince >= this.outageMs) {
          this.options.logger?.warn('job events not readable; ending every subscription', {
            outage_ms: Date.now() - this.outageSince,
            subscribers: this.subscriptions.size,
          });
          this.failAll(new JobEventsUnavailableError(`Redis was unreachable for ${Date.now() - this.outageSince} ms`, error));
          this.outageSince = undefined;
        }
        backoffMs = Math.min(1000, backoffMs ? backoffMs * 2 : 50);
        await this.pause(backoffMs);
      }
    }
  }

  /** One XREAD over every stream (or one pass over the batches), delivered. */
  private async readOnce(): Promise<void> {
    await this.connected();
    // From here to issuing the XREAD nothing awaits, so a stream added later marks it stale.
    this.stale = false;
    const feeds = [...this.feeds.values()];
    const args = (batch: Feed[]) => [...batch.map((f) => f.key), ...batch.map((f) => f.lastId)];
    if (feeds.length <= this.streamsPerRead) {
      this.reading = true;
      const reply = await this.whileConnected(this.blocking.xread('COUNT', this.entriesPerRead, 'BLOCK', this.blockMs, 'STREAMS', ...args(feeds))).finally(
        () => (this.reading = false),
      );
      this.dispatch(reply ?? []);
      return;
    }
    // Too many streams for one XREAD: one non-blocking read per batch in one round trip, then a pause if all were empty.
    const pipeline = this.blocking.pipeline();
    for (let i = 0; i < feeds.length; i += this.streamsPerRead)
      pipeline.xread('COUNT', this.entriesPerRead, 'STREAMS', ...args(feeds.slice(i, i + this.streamsPerRead)));
    let got = 0;
    for (const [error, reply] of (await this.whileConnected(pipeline.exec())) ?? []) {
      if (error) throw error;
      const streams = (reply ?? []) as [string, [string, string[]][]][];
      got += streams.length;
      this.dispatch(streams);
    }
    if (got === 0) await this.pause(this.pollMs);
  }

  private dispatch(streams: [key: string, entries: [id: string, fields: string[]][]][]): void {
    for (const [key, entries] of streams) {
      const feed = this.feeds.get(key);
      if (!feed) continue;
      for (const subscription of feed.subscribers) subscription.keepingUp();
      for (const entry of entries) {
        if (compareEventIds(entry[0], feed.lastId) <= 0) continue;
        feed.lastId = entry[0];
        const event = parseEntry(entry);
        if (event) for (const subscription of feed.subscribers) subscription.deliver(event);
      }
    }
  }

  /** Waits for the blocking connection (bounded, so an outage is noticed) and learns its id for CLIENT UNBLOCK. */
  private async connected(): Promise<void> {
    const connection = this.blocking;
    if (connection.status === 'wait') connection.connect().catch(() => undefined);
    if (connection.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          clearTimeout(timer);
          connection.off('ready', ready).off('end', ended);
          if (error) reject(error);
          else resolve();
        };
        const ready = () => settle();
        const ended = () => settle(new Error('the blocking Redis connection was closed'));
        const timer = setTimeout(() => settle(new Error(`the blocking Redis connection is ${connection.status}`)), 1000);
        connection.once('ready', ready).once('end', ended);
      });
    }
    this.blockingId ??= await (await redisNodeFor(connection, this.anyStreamKey())).client('ID');
  }

  /** A stream's key: every one shares its hash slot (QUEUE_PREFIX), so its node on a Cluster is theirs. */
  private anyStreamKey(): string {
    return jobEventsKey(this.options.prefix, 'any');
  }

  /**
   * `command`'s reply, or an error if the connection drops first: ioredis
   * neither rejects nor resends a command in flight when it reconnects with
   * `autoResendUnfulfilledCommands: false` (a resent XREAD would block on a
   * connection whose id we no longer know, out of CLIENT UNBLOCK's reach).
   */
  private whileConnected<T>(command: Promise<T>): Promise<T> {
    let lost: (() => void) | undefined;
    return Promise.race([
      command,
      new Promise<never>((_, reject) => {
        lost = () => reject(new Error('the blocking Redis connection closed'));
        this.blocking.once('close', lost);
      }),
    ]).finally(() => lost && this.blocking.off('close', lost));
  }

  /** Sleeps `ms`, or until a stream joins or the fan-out closes. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : undefined;
      const done = () => {
        clearTimeout(timer);
        this.wakeLoop = undefined;
        resolve();
      };
      this.wakeLoop = done;
    });
  }
}
