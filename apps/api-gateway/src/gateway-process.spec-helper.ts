import { startApp, type AppProcess } from '@rag/testing';

export interface GatewayProcess {
  app: AppProcess;
  base: string;
}

/**
 * Gateways run from main.ts as processes of their own, in test mode on
 * 127.0.0.1, each on a free port. `start` resolves once the gateway listens;
 * `stopAll` kills every gateway started (also those that never listened).
 */
export function gatewayProcesses() {
  const started: AppProcess[] = [];
  return {
    async start(env: Record<string, string>): Promise<GatewayProcess> {
      const app = startApp('apps/api-gateway/src/main.ts', { PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env });
      started.push(app);
      const listening = await app.waitForLog((l) => l.message === 'listening', 60_000);
      return { app, base: `http://127.0.0.1:${String(listening.port)}` };
    },
    stopAll: () => Promise.all(started.map((app) => app.stop('SIGKILL'))),
  };
}
