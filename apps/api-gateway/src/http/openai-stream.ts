import { AppError } from '@rag/core';
import { SubscriberLimitError, type JobEventsFanout, type JobEventsSubscription, type QueryJobs } from '@rag/jobs';
import { errorMessage, type Logger } from '@rag/observability';
import type { Citation, QueryResult } from '@rag/queue-contracts';
import type { Response } from 'express';
import { HttpError } from './http-error';
import { completionChunk, completionUsage, finishReason } from './openai-completion';
import { openAIError } from './openai-errors';

/** An SSE comment this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** How long after its `done` event a job's stored result may take to appear. */
const RESULT_WAIT_SECONDS = 10;

export interface StreamedCompletion {
  jobId: string;
  tenant: string;
  model: string;
  created: number;
  maxTokens?: number;
}

interface RelayDeps {
  jobs: QueryJobs;
  eventsFanout: JobEventsFanout;
  logger: Logger;
}

function payload(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Relays a job's events as a chat completions stream: a first chunk with the
 * role, a content delta per token event, then a last chunk with
 * `finish_reason`, `usage` and the `citations` extension, and `data: [DONE]`.
 * An answerer that does not stream (the extractive one) sends its whole
 * answer as one delta at the end. A job that fails, is cancelled, or whose
 * retried attempt would repeat text already sent ends the stream with an
 * error in OpenAI's shape (naming the job to poll). A client that goes away
 * cancels the job. When this gateway streams as many subscribers as it may,
 * the job is cancelled and the answer is a plain 503 (nothing sent yet).
 */
export async function relayCompletionStream(deps: RelayDeps, res: Response, job: StreamedCompletion): Promise<void> {
  const { jobId, tenant } = job;
  let subscription: JobEventsSubscription;
  try {
    subscription = deps.eventsFanout.subscribe(jobId);
  } catch (error) {
    await deps.jobs.cancel(jobId, tenant).catch(() => undefined);
    if (error instanceof SubscriberLimitError) throw new HttpError(503, error.code, error.message, { retry_after_seconds: 5 }, { cause: error });
    throw error;
  }
  let ended = false;
  res.on('close', () => {
    if (ended) return;
    ended = true;
    subscription.close();
    deps.logger.info('chat completions stream closed by the client; cancelling its job', { job_id: jobId });
    deps.jobs
      .cancel(jobId, tenant)
      .catch((error: unknown) => deps.logger.warn('cancel after the client left failed', { job_id: jobId, error: errorMessage(error) }));
  });
  res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();

  const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
  const chunk = (delta: { role?: 'assistant'; content?: string }, end?: Parameters<typeof completionChunk>[4]) =>
    send(completionChunk(jobId, job.created, job.model, delta, end));
  const fail = (status: number, code: string, message: string) => send(openAIError(status, code, message, undefined, jobId));
  const pollHint = `GET /v1/jobs/${jobId}`;

  // A job cancelled while it waited ends with the cancel's terminal event; should that event be lost (Redis
  // unreachable as the cancel wrote it), the heartbeat notices the cancelled job in its view.
  let cancelledWhileWaiting = false;
  const heartbeat = setInterval(() => {
    res.write(': keep-alive\n\n');
    deps.jobs
      .view(jobId, tenant)
      .then((view) => {
        if (view?.status === 'cancelled' && !ended) {
          cancelledWhileWaiting = true;
          subscription.close();
        }
      })
      .catch(() => undefined);
  }, HEARTBEAT_MS);

  chunk({ role: 'assistant', content: '' });
  const citations: Citation[] = [];
  let sentText = false;
  let attempt: number | undefined;
  try {
    for await (const event of subscription) {
      const data = payload(event.data);
      if (event.type === 'token' && typeof data.text === 'string' && data.text) {
        chunk({ content: data.text });
        sentText = true;
      } else if (event.type === 'citation') {
        citations.push(data as unknown as Citation);
      } else if (event.type === 'status' && data.status === 'cancelled') {
        fail(409, 'job_cancelled', `job ${jobId} was cancelled`);
        return;
      } else if (event.type === 'status' && typeof data.attempt === 'number') {
        // Text already sent cannot be taken back: a retried attempt would repeat it.
        if (sentText && attempt !== undefined && data.attempt > attempt) {
          fail(503, 'answer_interrupted', `the answer was interrupted and job ${jobId} is being retried; read the whole answer from ${pollHint}`);
          return;
        }
        attempt = data.attempt;
      } else if (event.type === 'error' && data.will_retry !== true) {
        const code = typeof data.code === 'string' ? data.code : 'internal_error';
        fail(500, code, `${typeof data.message === 'string' ? data.message : 'the job failed'} (job ${jobId})`);
        return;
      } else if (event.type === 'done') {
        // The worker writes `done` just before it stores the result: wait (briefly) for the stored one.
        const result = (await deps.jobs.wait(jobId, tenant, RESULT_WAIT_SECONDS))?.result as QueryResult | undefined;
        if (!sentText && result?.answer) chunk({ content: result.answer });
        chunk(
          {},
          { finish_reason: finishReason(result?.usage, job.maxTokens), usage: completionUsage(result?.usage), citations: result?.citations ?? citations },
        );
        res.write('data: [DONE]\n\n');
        return;
      }
    }
    if (cancelledWhileWaiting) fail(409, 'job_cancelled', `job ${jobId} was cancelled`);
  } catch (error) {
    // The events could not be read (Redis lost, this gateway stopping): the job goes on.
    const code = error instanceof AppError ? error.code : 'events_unavailable';
    fail(503, code, `the answer's events could not be read; the job goes on: read it from ${pollHint}`);
  } finally {
    clearInterval(heartbeat);
    if (!ended) {
      ended = true;
      subscription.close();
      res.end();
    }
  }
}
