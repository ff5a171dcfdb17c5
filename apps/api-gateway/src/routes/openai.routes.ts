import { boundHistory } from '@rag/llm-client';
import {
  historyBeforeLastUser,
  isValidName,
  lastUserText,
  Limits,
  OpenAIChatRequestDto,
  describeIssues,
  validatePlain,
  type QueryResult,
} from '@rag/queue-contracts';
import express, { Router, type Request } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { authenticate, requireScope } from '../http/authenticate';
import { submitQuestion } from '../http/enqueue-question';
import { errorHandler } from '../http/error-handler';
import { HttpError } from '../http/http-error';
import { storeUnavailable } from '../http/store-unavailable';
import { utf8JsonOnly } from '../http/json-charset';
import { LongPollLimit } from '../http/long-poll-limit';
import { chatCompletion } from '../http/openai-completion';
import { modelNotFound, openAIError, openAIErrors } from '../http/openai-errors';
import { relayCompletionStream } from '../http/openai-stream';
import { rateLimit } from '../http/rate-limit';
import { readJob } from '../http/read-job';

const PATHS = ['/v1/chat/completions', '/v1/models'];

/** A vector-store read; a store that does not answer is a 503 to retry. */
async function storeRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw storeUnavailable(error);
  }
}

const invalid = (message: string, param: string) => new HttpError(400, 'invalid_request', message, [{ field: param, problems: [message] }]);

/**
 * The OpenAI-compatible door: `POST /v1/chat/completions` (model = one of
 * the caller's collections; the question is the last user message, the
 * messages before it its history) becomes a
 * `rag-query` job like `POST /v1/chat`, then either waits for it (bounded by
 * OPENAI_COMPAT_WAIT_SECONDS; 504 naming the job on timeout) or relays its
 * events as chunks; `GET /v1/models` lists the collections. Mounted before
 * the gateway's own authentication so that every error here, a 401 or a bad
 * body included, is in OpenAI's shape: the same middleware runs, scoped to
 * these paths.
 */
export function openAIRoutes(deps: GatewayDeps): Router {
  const router = Router();
  const { config } = deps;
  router.use(
    PATHS,
    authenticate(deps.auth),
    rateLimit(deps.queue.client, config.QUEUE_PREFIX, config.RATE_LIMIT_PER_MINUTE),
    utf8JsonOnly(),
    express.json({ limit: config.MAX_BODY_BYTES, strict: true }),
    requireScope('query'),
  );
  const longPolls = new LongPollLimit(deps.queue.client, config.QUEUE_PREFIX, config.MAX_LONG_POLLS_PER_CLIENT);

  /** The collection `model` names, when the caller's tenant has it; 404 model_not_found otherwise. */
  const collectionOf = async (req: Request, model: string): Promise<string> => {
    if (!isValidName(model)) throw modelNotFound(model);
    if (!(await storeRead(() => deps.store.collectionInfo(req.principal.tenant, model)))) throw modelNotFound(model);
    return model;
  };

  router.post('/v1/chat/completions', async (req, res) => {
    if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the request body as JSON with Content-Type: application/json');
    const checked = validatePlain(OpenAIChatRequestDto, req.body);
    if (!checked.ok) throw new HttpError(400, 'invalid_request', `invalid request: ${describeIssues(checked.issues)}`, checked.issues);
    const request = checked.value;
    const query = lastUserText(request.messages);
    if (query === undefined || !/\S/.test(query)) throw invalid('messages must end the conversation with a user message that has text', 'messages');
    if (query.length > Limits.queryMaxChars) throw invalid(`the last user message must be at most ${Limits.queryMaxChars} characters`, 'messages');
    if (request.max_tokens !== undefined && request.max_completion_tokens !== undefined && request.max_tokens !== request.max_completion_tokens)
      throw invalid('max_tokens and max_completion_tokens differ; send one', 'max_completion_tokens');
    const collection = await collectionOf(req, request.model);
    const maxTokens = request.max_tokens ?? request.max_completion_tokens;
    const tenant = req.principal.tenant;
    // The question and the conversation before it, within CHAT_HISTORY_MAX_TOKENS (oldest turns dropped first).
    const history = boundHistory(historyBeforeLastUser(request.messages), config.CHAT_HISTORY_MAX_TOKENS);
    const draft = {
      query: query.trim(),
      ...(history.length > 0 ? { history } : {}),
      collection,
      top_k: config.DEFAULT_TOP_K,
      stream: request.stream === true,
      request_id: req.requestId,
      tenant,
      ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
    const submit = async () => {
      const { jobId, replayed } = await submitQuestion(deps.jobs, draft, req.get('idempotency-key'), req.traceparent);
      if (!replayed) deps.metrics.jobs.enqueued.inc({ queue: deps.queue.name });
      deps.logger.info(replayed ? 'chat completion accepted again (idempotent)' : 'chat completion accepted', {
        job_id: jobId,
        queue: deps.queue.name,
        tenant,
        stream: draft.stream,
      });
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      return jobId;
    };

    if (request.stream) {
      const jobId = await submit();
      await relayCompletionStream(deps, res, { jobId, tenant, model: request.model, created: Math.floor(Date.now() / 1000), maxTokens });
      return;
    }
    // MAX_WAIT_SECONDS bounds every wait of the gateway, this one too.
    const wait = Math.min(config.OPENAI_COMPAT_WAIT_SECONDS, config.MAX_WAIT_SECONDS);
    await longPolls.run(req, wait, async () => {
      const jobId = await submit();
      // Nobody is left to read the answer of a client that went away: its job is cancelled.
      const onClose = () => {
        if (!res.writableEnded) deps.jobs.cancel(jobId, tenant).catch(() => undefined);
      };
      res.on('close', onClose);
      const view = await readJob(deps.jobs, req, jobId, wait);
      if (res.destroyed) return;
      res.off('close', onClose);
      res.location(`/v1/jobs/${jobId}`);
      switch (view.status) {
        case 'completed':
          res.json(chatCompletion(view as typeof view & { result: QueryResult }, request.model, maxTokens));
          return;
        case 'failed':
          res.status(500).json(openAIError(500, view.error?.code ?? 'internal_error', view.error?.message ?? 'the job failed', undefined, jobId));
          return;
        case 'cancelled':
          res.status(409).json(openAIError(409, 'job_cancelled', `job ${jobId} was cancelled`, undefined, jobId));
          return;
        default:
          res
            .status(504)
            .json(
              openAIError(
                504,
                'timeout',
                `no answer within ${wait} s (OPENAI_COMPAT_WAIT_SECONDS, at most MAX_WAIT_SECONDS); the job goes on: poll GET /v1/jobs/${jobId}`,
                undefined,
                jobId,
              ),
            );
      }
    });
  });

  const model = (id: string, owner: string) => ({ id, object: 'model' as const, created: 0, owned_by: owner });
  router.get('/v1/models', async (req, res) => {
    const tenant = req.principal.tenant;
    const names = await storeRead(() => deps.store.listCollections(tenant));
    res.json({ object: 'list', data: names.sort().map((name) => model(name, tenant)) });
  });
  router.get('/v1/models/:id', async (req, res) => {
    res.json(model(await collectionOf(req, req.params.id), req.principal.tenant));
  });
  router.all([...PATHS, ...PATHS.map((p) => `${p}/*rest`)], (req) => {
    throw new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}; see the API section of the README`);
  });
  router.use(PATHS, openAIErrors(errorHandler(deps.logger, config.MAX_BODY_BYTES, () => deps.queue.client.status === 'ready')));
  return router;
}
