import { errorMessage } from '@rag/observability';
import { Router } from 'express';
import type { GatewayDeps } from '../gateway-deps';

const CHECK_TIMEOUT_MS = 2000;

export function healthRoutes(deps: GatewayDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Queue depths, job and HTTP figures, Node's process metrics; no tenant data (restrict it at the ingress if you must).
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, { ok: true }] as const;
        } catch (error) {
          deps.logger.warn('readiness check failed', { check: name, error: errorMessage(error) });
          return [name, { ok: false, error: `${name} is not reachable` }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.ok);
    if (!ready)
      return void res
        .status(503)
        .setHeader('Retry-After', '5')
        .json({ status: 'not_ready', checks: Object.fromEntries(results) });
    // No worker is not a reason to stop routing here: questions are still accepted and wait in the queue.
    // So `degraded` is 200, and says why, for humans and alerts rather than load balancers.
    const alive = await withTimeout(deps.workers.aliveCount(), CHECK_TIMEOUT_MS).catch((error: unknown) => {
      deps.logger.warn('worker heartbeats not readable', { error: errorMessage(error) });
      return undefined;
    });
    const reasons =
      alive === 0
        ? [
            `no worker has been seen for ${deps.config.WORKER_STALE_SECONDS} s (WORKER_STALE_SECONDS): questions are accepted but wait in the queue until a worker runs`,
          ]
        : alive === undefined
          ? ["the workers' heartbeats could not be read"]
          : [];
    res.status(200).json({
      status: reasons.length > 0 ? 'degraded' : 'ready',
      checks: Object.fromEntries(results),
      workers: { alive: alive ?? null },
      ...(reasons.length > 0 ? { reasons } : {}),
    });
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
  ]);
}
