import type { Request, Response } from 'express';
import { parseEmbeddingsRequest } from './embeddings-request';
import { clientGone, faultableRoute, sendJson } from './fault-response';
import { embeddingToBase64, fakeEmbedding } from './fake-embedding';
import type { FakeState } from './fake-state';
import { DEFAULT_DIMENSION } from './options';
import { sleep } from './sleep';
import { countTokens } from './text-terms';

/** POST /v1/embeddings */
export function embeddingsRoute(state: FakeState) {
  return faultableRoute(state, 'embeddings', async (req: Request, res: Response, fault): Promise<void> => {
    const request = parseEmbeddingsRequest(req.body);
    const gone = clientGone(res);
    const dimension = request.dimensions ?? state.options.dimension ?? DEFAULT_DIMENSION;
    const data = request.texts.map((text, index) => {
      const vector = fakeEmbedding(text, dimension);
      return { object: 'embedding', index, embedding: request.encodingFormat === 'base64' ? embeddingToBase64(vector) : vector };
    });
    const tokens = request.texts.reduce((sum, text) => sum + countTokens(text), 0);
    await sleep(state.options.embeddingLatencyMs ?? 0, gone);
    if (gone.aborted) return;
    sendJson(res, { object: 'list', data, model: request.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }, fault);
  });
}
