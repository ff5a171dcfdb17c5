import { PermanentError, RetryableError } from '@rag/core';
import { JOB_EVENT_TYPES, type JobEventType } from '@rag/queue-contracts';

/**
 * The read side of a job's event stream: one event as a subscriber gets it,
 * the rules for stream ids and for when a job's events end, and the
 * subscription a reader consumes (`for await`). `JobEventsFanout` feeds
 * subscriptions from Redis.
 *
 * A retried attempt continues the same stream: the worker writes
 * `error {will_retry: true}` when an attempt fails, then
 * `status {status: 'active', attempt}` when the next one starts, and its
 * tokens follow. A client therefore sees the attempt marker and knows to
 * discard the text of the failed attempt; the reader passes every event
 * through as written.
 *
 * The stream expires with the job record (the writer sets its TTL to the
 * job retention on every write), so a finished job's whole history can be
 * read from id '0' for as long as the job is retained.
 */

/** One event of a job as read from its stream, with the id a client resumes after (SSE `id:`, `Last-Event-ID`). */
export interface StreamedJobEvent {
  id: string;
  type: JobEventType;
  /** The JSON payload as the writer wrote it. */
  data: string;
}

/** A client's `Last-Event-ID` that is not a stream id. */
export class InvalidEventIdError extends PermanentError {
  constructor(value: string) {
    super(`"${value.slice(0, 40)}" is not a job event id: send the id of the last event received (e.g. 1700000000000-0), or 0 for the whole history`, {
      code: 'invalid_event_id',
    });
  }
}

/** This process already serves as many subscribers as it may. */
export class SubscriberLimitError extends RetryableError {
  constructor(limit: number) {
    super(`this gateway already streams the events of ${limit} subscribers (its limit); retry shortly or poll GET /v1/jobs/:id`, {
      code: 'too_many_subscribers',
    });
  }
}

/** The subscriber did not take its events as fast as they came, so it was dropped to bound memory. */
export class SubscriberTooSlowError extends RetryableError {
  constructor(jobId: string, limitBytes: number) {
    super(`the events of job ${jobId} were not read fast enough (over ${limitBytes} bytes waiting); reconnect with Last-Event-ID to resume`, {
      code: 'subscriber_too_slow',
    });
  }
}

/** Redis could not be read (lost connection, shutting down): reconnect with Last-Event-ID to resume. */
export class JobEventsUnavailableError extends RetryableError {
  constructor(message: string, cause?: unknown) {
    super(`${message}; reconnect with Last-Event-ID to resume`, {
      cause,
      code: 'events_unavailable',
      publicMessage: 'job events are unavailable for a moment; reconnect with Last-Event-ID to resume',
    });
  }
}

const EVENT_ID = /^(\d{1,20})(?:-(\d{1,20}))?$/;
const MAX_ID_PART = 2n ** 64n - 1n;

/** A client's event id as a full stream id ('0' → '0-0', '17' → '17-0'), or InvalidEventIdError. */
export function parseEventId(value: string): string {
  const match = EVENT_ID.exec(value.trim());
  const parts = match ? [BigInt(match[1]), BigInt(match[2] ?? '0')] : [];
  if (parts.length !== 2 || parts.some((p) => p > MAX_ID_PART)) throw new InvalidEventIdError(value);
  return `${parts[0]}-${parts[1]}`;
}

/** Orders two full stream ids (`ms-seq`, no leading zeros) without parsing them. */
export function compareEventIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-');
  const [bMs, bSeq] = b.split('-');
  return compareDigits(aMs, bMs) || compareDigits(aSeq ?? '0', bSeq ?? '0');
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A stream entry as an event, or undefined when it is not one a reader knows (a newer writer's). */
export function parseEntry([id, fields]: [id: string, fields: string[]]): StreamedJobEvent | undefined {
  let type: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1];
    else if (fields[i] === 'data') data = fields[i + 1];
  }
  if (data === undefined || !(JOB_EVENT_TYPES as readonly string[]).includes(type ?? '')) return undefined;
  return { id, type: type as JobEventType, data };
}

/**
 * Whether the job's events end with `event`: `done`, `status: cancelled`,
 * or an `error` after which no attempt follows. An `error` with
 * `will_retry: true` is not the end: the next attempt continues the stream.
 */
export function isTerminalEvent(event: Pick<StreamedJobEvent, 'type' | 'data'>): boolean {
  if (event.type === 'done') return true;
  if (event.type !== 'error' && event.type !== 'status') return false;
  const payload = parsePayload(event.data);
  return event.type === 'error' ? payload.will_retry !== true : payload.status === 'cancelled';
}

function parsePayload(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

type Waiter = { resolve(result: IteratorResult<StreamedJobEvent>): void; reject(error: unknown): void };

/**
 * One subscriber's events of one job, in stream order, each once, ending
 * after the job's terminal event. Consume with `for await`; leaving the loop
 * (or `close()`) unsubscribes. Events wait in a bounded buffer: a subscriber
 * that lets more than `maxBufferedBytes` pile up is dropped with
 * SubscriberTooSlowError, and any failure (Redis lost) is thrown from the
 * iteration; either way the client resumes with the id of the last event it
 * received.
 */
export class JobEventsSubscription implements AsyncIterable<StreamedJobEvent> {
  private readonly buffer: StreamedJobEvent[] = [];
  private bufferedBytes = 0;
  private waiter: Waiter | undefined;
  private roomWaiters: (() => void)[] = [];
  /** open → ending (terminal event buffered) | failed | closed. */
  private state: 'open' | 'ending' | 'failed' | 'closed' = 'open';
  private failure: Error | undefined;
  private released = false;

  constructor(
    readonly jobId: string,
    /** The id of the last event accepted (or the one to start after). */
    private position: string,
    private readonly maxBufferedBytes: number,
    private readonly release: (subscription: JobEventsSubscription) => void,
  ) {}

  /** Whether events are still wanted. */
  get open(): boolean {
    return this.state === 'open';
  }

  /** The id of the last event accepted: the next event wanted comes after it. */
  get lastId(): string {
    return this.position;
  }

  /**
   * Before a live read is handed over: a subscriber still holding more than
   * the bound from earlier reads is not keeping up and is dropped. (Checked
   * per read, not per event, so a consumer that takes events as they come is
   * never dropped for the size of one read; the buffer therefore holds at
   * most the bound plus one read.) Returns whether it is still subscribed.
   */
  keepingUp(): boolean {
    if (this.state === 'open' && this.bufferedBytes > this.maxBufferedBytes) this.fail(new SubscriberTooSlowError(this.jobId, this.maxBufferedBytes));
    return this.state === 'open';
  }

  /** Hands one event over (skipped when not after the last one). Returns whether more events are wanted. */
  deliver(event: StreamedJobEvent): boolean {
    if (this.state !== 'open') return false;
    if (compareEventIds(event.id, this.position) <= 0) return true;
    const size = event.data.length + event.id.length;
    this.position = event.id;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ value: event, done: false });
    } else {
      this.buffer.push(event);
      this.bufferedBytes += size;
    }
    if (!isTerminalEvent(event)) return true;
    this.state = 'ending';
    this.finish();
    return false;
  }

  /** Ends the subscription with `error`, dropping what is buffered (the client resumes from what it received). */
  fail(error: Error): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = error;
    this.drop();
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      this.failure = undefined;
      waiter.reject(error);
    }
    this.finish();
  }

  /** Unsubscribes: no more events, and the fan-out slot is freed. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.failure = undefined;
    this.drop();
    this.waiter?.resolve({ value: undefined, done: true });
    this.waiter = undefined;
    this.finish();
  }

  /** Resolves once the buffer is at most half full (or the subscription ended): paces history reads, which are never dropped. */
  room(): Promise<void> {
    if (this.bufferedBytes <= this.maxBufferedBytes / 2 || this.state !== 'open') return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  next(): Promise<IteratorResult<StreamedJobEvent>> {
    const event = this.buffer.shift();
    if (event) {
      this.bufferedBytes -= event.data.length + event.id.length;
      if (this.bufferedBytes <= this.maxBufferedBytes / 2) this.wakeRoomWaiters();
      return Promise.resolve({ value: event, done: false });
    }
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.state !== 'open') return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('JobEventsSubscription: one next() at a time'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamedJobEvent> {
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private drop(): void {
    this.buffer.length = 0;
    this.bufferedBytes = 0;
  }

  private finish(): void {
    this.wakeRoomWaiters();
    if (this.released) return;
    this.released = true;
    this.release(this);
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }
}
