import { JobEventsUnavailableError, SubscriberLimitError, isTerminalEvent, parseEventId, type JobEventsSubscription, type StreamedJobEvent } from '@rag/jobs';
import { errorMessage, tenantMessage } from '@rag/observability';
import { FINAL_STATUSES, jobEventsKey, type JobView } from '@rag/queue-contracts';
import { Router, type Request, type Response } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { requireScope } from '../http/authenticate';
import { HttpError } from '../http/http-error';
import { LongPollLimit, type HeldSlot } from '../http/long-poll-limit';
import { jobIdParam, jobNotFound } from '../http/params';
import { queueCall } from '../http/queue-unavailable';

/**
 * `GET /v1/jobs/:id/events`: the job's events as Server-Sent Events, each
 * with its stream id, from the start or after `Last-Event-ID`, ending after
 * the job's terminal event. Everything that can refuse the request (404,
 * 400, 429, 503) is decided before the first byte of the stream.
 */
export function eventRoutes(deps: GatewayDeps): Router {
  const router = Router();
  const heartbeatMs = deps.config.SSE_HEARTBEAT_MS;
  // A stream holds a connection as a long-poll does: both count against MAX_LONG_POLLS_PER_CLIENT.
  const slots = new LongPollLimit(deps.queue.client, deps.config.QUEUE_PREFIX, deps.config.MAX_LONG_POLLS_PER_CLIENT);
  router.get('/v1/jobs/:id/events', requireScope('query'), async (req, res) => {
    const jobId = jobIdParam(req.params.id);
    const after = resumeAfter(req);
    const tenant = req.principal.tenant;
    if (!(await queueCall(() => deps.jobs.view(jobId, tenant)))) throw jobNotFound();
    // Held for two heartbeats and renewed on each, so a gateway that dies holding it frees it soon after.
    const slot = await slots.hold(req, 2 * heartbeatMs, 'close one of them first, or poll GET /v1/jobs/:id without ?wait');
    let subscription: JobEventsSubscription;
    try {
      subscription = deps.eventsFanout.subscribe(jobId, after);
    } catch (error) {
      await slot.release();
      throw refused(error);
    }
    await new EventStream(deps, req, res, { jobId, tenant, after, subscription, slot }).run();
  });
  return router;
}

/** Where the client resumes: `Last-Event-ID` (EventSource sends it on reconnect, so it wins), else `?last_event_id=`, else the start. */
function resumeAfter(req: Request): string {
  const raw = req.get('last-event-id') || req.query.last_event_id || '0';
  if (typeof raw !== 'string') throw new HttpError(400, 'invalid_event_id', 'send one last_event_id');
  try {
    return parseEventId(raw);
  } catch (error) {
    throw new HttpError(400, 'invalid_event_id', errorMessage(error), undefined, { cause: error });
  }
}

function refused(error: unknown): unknown {
  if (error instanceof SubscriberLimitError)
    return new HttpError(503, 'too_many_event_streams', `${error.message} (SSE_MAX_CLIENTS)`, { retry_after_seconds: 5 }, { cause: error });
  if (error instanceof JobEventsUnavailableError)
    return new HttpError(503, 'events_unavailable', tenantMessage(error), { retry_after_seconds: 1 }, { cause: error });
  return error;
}

/** One SSE frame: `data` split over `data:` lines should it ever hold a newline. */
function frame(type: string, data: string, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${type}\ndata: ${data.split('\n').join('\ndata: ')}\n\n`;
}

/**
 * The terminal event a finished job's stream should have ended with, made
 * from its view (no `id:`: it is not in the stream).
 */
function finalFrame(view: JobView): string {
  switch (view.status) {
    case 'completed': {
      const result = (view.result ?? {}) as { model?: unknown; usage?: unknown; timings?: unknown };
      return frame('done', JSON.stringify({ status: 'completed', model: result.model, usage: result.usage, timings: result.timings }));
    }
    case 'failed':
      return frame('error', JSON.stringify({ ...view.error, will_retry: false }));
    default:
      return frame('status', JSON.stringify({ status: view.status }));
  }
}

/** How long the end of a stream waits for its job to read as finished (Bull records it a moment after the event). */
const TERMINAL_WAIT_SECONDS = 5;

interface StreamParts {
  jobId: string;
  tenant: string;
  /** The id the client resumes after ('0-0': the whole history). */
  after: string;
  subscription: JobEventsSubscription;
  slot: HeldSlot;
}

/**
 * One client's stream: each event as it comes (paced by the client's socket,
 * so a client that does not read is dropped by the fan-out instead of
 * filling this process), a heartbeat that also renews the client's slot and
 * re-checks the job, and the end.
 */
class EventStream {
  /** The id of the last event written. */
  private lastSent: string;
  private terminalSent = false;
  /** Written instead of a terminal event that never came (see `check`). */
  private closing: string | undefined;
  private checking = false;

  constructor(
    private readonly deps: GatewayDeps,
    private readonly req: Request,
    private readonly res: Response,
    private readonly parts: StreamParts,
  ) {
    this.lastSent = parts.after;
  }

  private get writable(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  async run(): Promise<void> {
    const { res, req, parts } = this;
    const { subscription } = parts;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      // no-transform: proxies must not compress (and so buffer) the stream; X-Accel-Buffering: nginx must not buffer it.
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    // Tokens go out as they come, not when Nagle's algorithm has gathered enough.
    req.socket.setNoDelay(true);
    // The client went away: unsubscribing frees the fan-out slot.
    res.on('close', () => subscription.close());
    const heartbeat = setInterval(() => void this.beat(), this.deps.config.SSE_HEARTBEAT_MS);
    try {
      for await (const event of subscription) await this.send(event);
      if (this.closing && !this.terminalSent && this.writable) res.write(this.closing);
    } catch (error) {
      // Dropped as too slow, Redis unreachable for too long, or this gateway shutting down: the client resumes with Last-Event-ID.
      this.deps.logger.warn('event stream ended early', { job_id: parts.jobId, error: errorMessage(error) });
      if (this.writable) res.write(`: ${tenantMessage(error).replace(/\n/g, ' ')}\n\n`);
    } finally {
      clearInterval(heartbeat);
      subscription.close();
      await parts.slot.release();
      res.end();
    }
  }

  private async send(event: StreamedJobEvent): Promise<void> {
    if (!this.writable) return;
    // The worker writes the terminal event just before Bull records the job finished: the end goes out once the
    // job reads as finished too, so a client that reads GET /v1/jobs/:id on `done` finds it completed, not active.
    if (isTerminalEvent(event)) await this.untilFinished();
    const flushed = this.res.write(frame(event.type, event.data, event.id));
    this.lastSent = event.id;
    if (isTerminalEvent(event)) this.terminalSent = true;
    if (!flushed) await this.drained();
  }

  /** Waits (at most TERMINAL_WAIT_SECONDS, woken by the job's completion or failure) until the job's view is final. */
  private async untilFinished(): Promise<void> {
    const { jobId, tenant } = this.parts;
    await this.deps.jobs.wait(jobId, tenant, TERMINAL_WAIT_SECONDS).catch((error: unknown) => {
      this.deps.logger.warn('job view not read before the end of its event stream', { job_id: jobId, error: errorMessage(error) });
    });
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done).off('close', done);
        resolve();
      };
      this.res.on('drain', done).on('close', done);
    });
  }

  private async beat(): Promise<void> {
    if (this.checking || !this.writable) return;
    this.checking = true;
    try {
      this.res.write(': keep-alive\n\n');
      await this.parts.slot.renew(2 * this.deps.config.SSE_HEARTBEAT_MS);
      await this.check();
    } catch (error) {
      this.deps.logger.warn('event stream heartbeat failed', { job_id: this.parts.jobId, error: errorMessage(error) });
    } finally {
      this.checking = false;
    }
  }

  /**
   * The safety net: a job that is final, whose stream the client has read to
   * its end without a terminal event (its end was never written, or expired
   * before the job record), ends the stream with its final state as the view
   * tells it; a job whose record is gone ends it too.
   */
  private async check(): Promise<void> {
    const { jobId, tenant, subscription } = this.parts;
    const view = await this.deps.jobs.view(jobId, tenant);
    if (view && !FINAL_STATUSES.has(view.status)) return;
    const key = jobEventsKey(this.deps.config.QUEUE_PREFIX, jobId);
    const unread = await this.deps.queue.client.xrange(key, this.lastSent === '0-0' ? '-' : `(${this.lastSent}`, '+', 'COUNT', 1);
    if (unread.length > 0 || this.terminalSent) return;
    this.deps.logger.warn('event stream ended from the job view: its stream has no terminal event', { job_id: jobId, status: view?.status ?? 'expired' });
    this.closing = view ? finalFrame(view) : `: job ${jobId} no longer exists (its record expired)\n\n`;
    subscription.close();
  }
}
