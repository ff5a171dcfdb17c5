import { Router, type Request, type Response } from 'express';
import type { FakeState } from './fake-state';
import { InvalidRequestError } from './openai-error';
import { InvalidOptionsError, validateFault, type FakeOpenAIRuntimeOptions } from './options';

/**
 * Control of a fake running as its own process, under /__admin. Not behind
 * the API key; recorded requests come back without their authorization header.
 */
export function adminRoutes(state: FakeState): Router {
  const router = Router();
  const faultView = () => {
    const active = state.faults.current();
    return { fault: active?.spec ?? null, remaining: active?.remaining ?? null };
  };

  router.get('/faults', (_req, res) => {
    res.json(faultView());
  });
  router.post('/faults', (req: Request, res: Response) => {
    state.faults.set(checked(() => validateFault(req.body)));
    res.json(faultView());
  });
  router.delete('/faults', (_req, res) => {
    state.faults.set(null);
    res.json(faultView());
  });
  router.post('/options', (req: Request, res: Response) => {
    checked(() => state.setOptions(req.body as FakeOpenAIRuntimeOptions));
    res.json({ ok: true });
  });
  router.post('/reset', (_req, res) => {
    state.reset();
    res.json({ ok: true });
  });
  router.get('/requests', (_req, res) => {
    res.json({
      data: state.requests.map((r) => {
        const { authorization: _authorization, ...headers } = r.headers;
        return { ...r, headers };
      }),
    });
  });
  return router;
}

function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof InvalidOptionsError) throw new InvalidRequestError(error.message);
    throw error;
  }
}
