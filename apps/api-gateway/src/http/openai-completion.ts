import type { Citation, JobView, QueryResult, Usage } from '@rag/queue-contracts';

/**
 * The shapes of OpenAI's chat completions as this gateway answers them. The
 * id is `chatcmpl-<job id>`; `citations` (an extension: the job result's
 * citations, numbered as the `[n]` markers in the text) rides on the
 * completion, or on the last chunk of a stream.
 */
export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = 'stop' | 'length';

export const completionId = (jobId: string) => `chatcmpl-${jobId}`;

/** Seconds since the epoch when the job was accepted, OpenAI's `created`. */
export function createdAt(view: Pick<JobView, 'created_at'> | undefined): number {
  const ms = view ? Date.parse(view.created_at) : NaN;
  return Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000);
}

export function completionUsage(usage: Usage | undefined): ChatCompletionUsage {
  const prompt = usage?.prompt_tokens ?? 0;
  const completion = usage?.completion_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** `length` when the answer used every token the caller allowed, else `stop`. */
export function finishReason(usage: Usage | undefined, maxTokens: number | undefined): FinishReason {
  return maxTokens !== undefined && (usage?.completion_tokens ?? 0) >= maxTokens ? 'length' : 'stop';
}

/** A completed job as a `chat.completion`. */
export function chatCompletion(view: JobView<QueryResult>, model: string, maxTokens: number | undefined) {
  const result = view.result;
  return {
    id: completionId(view.job_id),
    object: 'chat.completion' as const,
    created: createdAt(view),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: result?.answer ?? '', refusal: null },
        logprobs: null,
        finish_reason: finishReason(result?.usage, maxTokens),
      },
    ],
    usage: completionUsage(result?.usage),
    citations: result?.citations ?? ([] as Citation[]),
  };
}

/** One `chat.completion.chunk` of a stream. */
export function completionChunk(
  jobId: string,
  created: number,
  model: string,
  delta: { role?: 'assistant'; content?: string },
  end?: { finish_reason: FinishReason; usage: ChatCompletionUsage; citations: Citation[] },
) {
  return {
    id: completionId(jobId),
    object: 'chat.completion.chunk' as const,
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: end?.finish_reason ?? null }],
    ...(end ? { usage: end.usage, citations: end.citations } : {}),
  };
}
