import type { Request, Response } from 'express';
import { faultableRoute, sendJson } from './fault-response';
import type { FakeState } from './fake-state';
import { FakeApiError } from './openai-error';
import { DEFAULT_MODELS } from './options';

// A fixed date keeps responses identical across runs.
const CREATED = 1_700_000_000;

function model(id: string) {
  return { id, object: 'model', created: CREATED, owned_by: 'fake-openai' };
}

/** GET /v1/models */
export function listModelsRoute(state: FakeState) {
  return faultableRoute(state, 'models', (_req: Request, res: Response, fault): void => {
    sendJson(res, { object: 'list', data: (state.options.models ?? DEFAULT_MODELS).map(model) }, fault);
  });
}

/** GET /v1/models/:id */
export function getModelRoute(state: FakeState) {
  return faultableRoute(state, 'models', (req: Request<{ id: string }>, res: Response, fault): void => {
    const id = req.params.id;
    if (!(state.options.models ?? DEFAULT_MODELS).includes(id)) {
      throw new FakeApiError(404, `The model '${id}' does not exist`, 'invalid_request_error', 'model_not_found', 'model');
    }
    sendJson(res, model(id), fault);
  });
}
