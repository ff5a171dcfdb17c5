import { Router } from 'express';
import type { GatewayDeps } from '../gateway-deps';

/**
 * `GET /v1/me`: who the key is (tenant, scopes, key id) and whether the
 * gateway requires keys at all; any valid key may ask. The chat page reads it
 * to sign in and to decide what to show.
 */
export function meRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.get('/v1/me', async (req, res) => {
    const { tenant, scopes, key_id } = req.principal;
    res.json({ tenant, scopes, key_id, auth: (await deps.auth.required()) ? 'on' : 'off' });
  });
  return router;
}
