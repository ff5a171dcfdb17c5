import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { parseChatRequest, promptTokens, type ChatRequestBody } from './chat-request';
import { DEFAULT_DROP_AFTER_CHUNKS, clientGone, faultableRoute, sendJson } from './fault-response';
import type { FakeState } from './fake-state';
import { groundedReply } from './grounded-reply';
import type { FaultSpec } from './options';
import { sleep } from './sleep';
import { countTokens, splitPieces } from './text-terms';

const SYSTEM_FINGERPRINT = 'fp_fake_openai';

interface Completion {
  id: string;
  created: number;
  model: string;
  pieces: string[];
  finishReason: 'stop' | 'length';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** POST /v1/chat/completions */
export function chatCompletionsRoute(state: FakeState) {
  return faultableRoute(state, 'chat', async (req: Request, res: Response, fault): Promise<void> => {
    const body = parseChatRequest(req.body);
    const gone = clientGone(res);
    const completion = await complete(body, state);
    const firstTokenMs = state.options.firstTokenMs ?? 0;
    const perTokenMs = state.options.perTokenMs ?? 0;
    if (body.stream) {
      await sleep(firstTokenMs, gone);
      if (!gone.aborted) await stream(res, completion, body.stream_options?.include_usage === true, perTokenMs, fault, gone);
      return;
    }
    // As long as the streamed reply would take, so both modes cost the same.
    await sleep(firstTokenMs + perTokenMs * Math.max(0, completion.pieces.length - 1), gone);
    if (gone.aborted) return;
    res.set('x-request-id', completion.id);
    sendJson(
      res,
      {
        id: completion.id,
        object: 'chat.completion',
        created: completion.created,
        model: completion.model,
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: completion.pieces.join(''), refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: completion.finishReason,
          },
        ],
        usage: completion.usage,
      },
      fault,
    );
  });
}

async function complete(body: ChatRequestBody, state: FakeState): Promise<Completion> {
  const reply = state.options.reply ?? groundedReply;
  let pieces = splitPieces(await reply(body));
  const limit = body.max_completion_tokens ?? body.max_tokens;
  const truncated = typeof limit === 'number' && pieces.length > limit;
  if (truncated) pieces = pieces.slice(0, limit);
  const prompt = promptTokens(body, countTokens);
  return {
    id: `chatcmpl-${randomUUID().replace(/-/g, '')}`,
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    pieces,
    finishReason: truncated ? 'length' : 'stop',
    usage: { prompt_tokens: prompt, completion_tokens: pieces.length, total_tokens: prompt + pieces.length },
  };
}

/**
 * Server-sent events as OpenAI sends them: a role chunk, one chunk per piece
 * (`perTokenMs` apart), a finish chunk, the usage chunk when asked for, then
 * `[DONE]`.
 */
async function stream(res: Response, c: Completion, includeUsage: boolean, perTokenMs: number, fault: FaultSpec | undefined, gone: AbortSignal): Promise<void> {
  const chunk = (choices: unknown[], usage?: Completion['usage']) => ({
    id: c.id,
    object: 'chat.completion.chunk',
    created: c.created,
    model: c.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    ...(includeUsage ? { usage: usage ?? null } : {}),
  });
  const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason: finishReason });
  const events: { data: unknown; delayMs: number }[] = [
    { data: chunk([choice({ role: 'assistant', content: '', refusal: null })]), delayMs: 0 },
    ...c.pieces.map((content, i) => ({ data: chunk([choice({ content })]), delayMs: i === 0 ? 0 : perTokenMs })),
    { data: chunk([choice({}, c.finishReason)]), delayMs: 0 },
    ...(includeUsage ? [{ data: chunk([], c.usage), delayMs: 0 }] : []),
  ];
  // A drop fault cuts the stream after `dropAfterChunks` events, and never lets it finish with [DONE].
  const drop = fault?.kind === 'drop';
  const sendCount = drop ? Math.min(fault.dropAfterChunks ?? DEFAULT_DROP_AFTER_CHUNKS, events.length) : events.length;

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': c.id,
  });
  res.flushHeaders();
  for (const event of events.slice(0, sendCount)) {
    await sleep(event.delayMs, gone);
    if (gone.aborted) return;
    res.write(`data: ${JSON.stringify(event.data)}\n\n`);
  }
  if (drop) {
    // Let the chunks already written reach the client, then cut the connection.
    res.write(': dropping\n\n', () => res.destroy());
    return;
  }
  res.end('data: [DONE]\n\n');
}
