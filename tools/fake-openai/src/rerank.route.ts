import type { Request, Response } from 'express';
import { clientGone, faultableRoute, sendJson } from './fault-response';
import type { FakeState } from './fake-state';
import { FakeApiError, InvalidRequestError } from './openai-error';
import { sleep } from './sleep';
import { contentWords } from './text-terms';

/** The fields Cohere's v2 rerank takes (no return_documents); with rerankDialect `cohere` any other is refused, as Cohere does. */
const COHERE_FIELDS = new Set(['model', 'query', 'documents', 'top_n', 'max_tokens_per_doc']);

/**
 * Relevance of `document` to `query`: the share of the query's distinct
 * content words it contains (0 to 1). Deterministic, so tests know the order.
 */
export function rerankScore(query: string, document: string): number {
  const wanted = new Set(contentWords(query));
  if (wanted.size === 0) return 0;
  const present = new Set(contentWords(document));
  let shared = 0;
  for (const word of wanted) if (present.has(word)) shared++;
  return shared / wanted.size;
}

function refuse(res: Response, status: number, message: string, plain: boolean): void {
  // TEI (axum) answers a body it cannot read with plain text; Cohere with {message}.
  if (plain) res.status(status).type('text/plain').send(message);
  else res.status(status).json({ message });
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * POST /rerank and /v1/rerank: the common rerank protocol, scored by shared
 * content words with the query, ties in the order sent. `texts` is answered
 * as Text Embeddings Inference does (`[{index, score, text?}]`, every text,
 * no top_n), `documents` as Jina and Cohere do (`{results: [{index,
 * relevance_score, document?}]}`, cut to `top_n`); see RerankDialect for
 * strictness. Latency (rerankLatencyMs) and faults (endpoint `rerank`) apply.
 */
export function rerankRoute(state: FakeState) {
  return faultableRoute(state, 'rerank', async (req: Request, res: Response, fault): Promise<void> => {
    const dialect = state.options.rerankDialect ?? 'both';
    const body = req.body as Record<string, unknown> | null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequestError('the body must be a JSON object');
    if (dialect === 'cohere') {
      const unknown = Object.keys(body).find((key) => !COHERE_FIELDS.has(key));
      if (unknown) return refuse(res, 422, `unknown field: parameter '${unknown}' is not a valid field`, false);
    }
    const useTexts = dialect === 'tei' || (dialect === 'both' && body.texts !== undefined);
    const field = useTexts ? 'texts' : 'documents';
    const items = body[field];
    if (!stringList(items)) {
      if (items === undefined) return refuse(res, 422, `Failed to deserialize the JSON body into the target type: missing field \`${field}\``, useTexts);
      return refuse(res, 422, `${field} must be a list of strings`, useTexts);
    }
    if (typeof body.query !== 'string' || body.query.trim() === '') return refuse(res, 422, 'query must be a non-empty string', useTexts);
    if (items.length === 0) return refuse(res, 400, `${field} must not be empty`, useTexts);
    const topN = body.top_n;
    if (topN !== undefined && (!Number.isInteger(topN) || (topN as number) < 1)) throw new FakeApiError(422, 'top_n must be a positive integer');
    const query = body.query;
    const ranked = items.map((text, index) => ({ index, score: rerankScore(query, text), text })).sort((a, b) => b.score - a.score || a.index - b.index);
    const gone = clientGone(res);
    await sleep(state.options.rerankLatencyMs ?? 0, gone);
    if (gone.aborted) return;
    if (useTexts) {
      sendJson(
        res,
        ranked.map(({ index, score, text }) => ({ index, score, ...(body.return_text === true ? { text } : {}) })),
        fault,
      );
      return;
    }
    const kept = ranked.slice(0, (topN as number | undefined) ?? ranked.length);
    sendJson(
      res,
      {
        id: `rerank-${state.requests.length}`,
        results: kept.map(({ index, score, text }) => ({ index, relevance_score: score, ...(body.return_documents === true ? { document: { text } } : {}) })),
        ...(typeof body.model === 'string' ? { model: body.model } : {}),
      },
      fault,
    );
  });
}
