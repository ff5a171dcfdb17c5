import { JobRunner } from '@rag/jobs';
import { activeSpan } from '@rag/observability';
import { QueryJobPayload, QueueName, type QueryResult } from '@rag/queue-contracts';
import { answerQuestion, readOneVersion, type AnswerDeps } from '@rag/retrieval';
import type { WorkerRuntime } from './worker-runtime';

/**
 * The `rag-query` queue's runner: the answer use case, run by the job runner
 * (signature, validation, cancel and timeout, events, metrics, dead letters),
 * publishing its stages, tokens and citations as job events.
 */
export function queryRunner(deps: AnswerDeps, runtime: WorkerRuntime): JobRunner<QueryJobPayload, QueryResult> {
  return new JobRunner(
    {
      queue: QueueName.Query,
      payload: QueryJobPayload,
      log: { started: 'job started', completed: 'job completed', failed: 'job attempt failed' },
      traced: true,
      run: async (payload, job) =>
        // The collection's version is resolved once: the whole question reads that one, even across a reindex's switch,
        // and is asked again on the new one if its version is dropped before it has read it (see readPinned).
        readOneVersion(
          deps.store,
          payload.tenant,
          payload.collection,
          (store) =>
            // The runtime's logger: a failed condensation is logged with the job's ids.
            answerQuestion(
              { ...deps, logger: deps.logger ?? runtime.logger, store },
              {
                // The tenant of the key that asked (set by the gateway, never from the body): the store searches only its collections.
                tenant: payload.tenant,
                query: payload.query,
                history: payload.history,
                collection: payload.collection,
                topK: payload.top_k,
                filter: payload.filters,
                maxTokens: payload.max_tokens,
                temperature: payload.temperature,
                enqueuedAt: job.enqueuedAt,
                signal: job.signal,
                onStage: (stage) => job.events.emit('stage', { stage }),
                onToken: (text) => job.events.token(text),
              },
            ),
          (version) => runtime.logger.info('collection version dropped before the question read it; asked again on the version in use', { version }),
        ),
      completed: (result, payload, job) => {
        for (const citation of result.citations) job.events.emit('citation', citation);
        job.events.emit('done', { status: 'completed', model: result.model, usage: result.usage, timings: result.timings });
        runtime.metrics?.tokens.inc({ kind: 'prompt' }, result.usage.prompt_tokens);
        runtime.metrics?.tokens.inc({ kind: 'completion' }, result.usage.completion_tokens);
        // The reranker failed and the answer went ahead in fused order (the reason is in the warning logged).
        if (result.reranked === false) runtime.metrics?.rerankFallbacks.inc();
        // Ids, names and counts only: never the question, the answer or a passage.
        activeSpan().setAttributes({
          'rag.collection': payload.collection,
          'rag.top_k': payload.top_k,
          'rag.stream': payload.stream,
          'rag.history_turns': payload.history?.length ?? 0,
          'rag.citations': result.citations.length,
          'gen_ai.response.model': result.model,
          'gen_ai.usage.input_tokens': result.usage.prompt_tokens,
          'gen_ai.usage.output_tokens': result.usage.completion_tokens,
          ...(result.reranked !== undefined ? { 'rag.reranked': result.reranked } : {}),
        });
        const t = result.timings;
        return {
          log: { tenant: payload.tenant, citations: result.citations.length, ...(result.reranked !== undefined ? { reranked: result.reranked } : {}) },
          durations: { queued: t.queued_ms, retrieve: t.retrieve_ms, generate: t.generate_ms, total: t.total_ms },
        };
      },
    },
    runtime,
  );
}
