// The dev stack's worker supervisor (the rag-worker `serve` target):
//   node --import tsx tools/dev-stack/src/supervise.ts --count 2 -- node --import tsx apps/rag-worker/src/main.ts
// starts `--count` workers and keeps them running: a worker that crashes is
// restarted on its own after a backoff, and never takes the others down (nx
// stops every task of `run-many` when one of them exits). Instance n gets
// WORKER_METRICS_PORT + n - 1 (or 0 = any free port).
import { loadConfigOrExit, secretValues } from '@rag/config';
import { createLogger } from '@rag/observability';
import { Supervisor } from './supervisor';

function parseArgs(argv: string[]): { count: number; command: string[] } {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const command = split < 0 ? [] : argv.slice(split + 1);
  const countAt = own.indexOf('--count');
  const count = countAt < 0 ? 2 : Number(own[countAt + 1]);
  if (!Number.isInteger(count) || count < 1 || count > 64 || command.length === 0) {
    process.stderr.write('usage: supervise.ts [--count 1-64] -- <command> [args...]   (e.g. -- node --import tsx apps/rag-worker/src/main.ts)\n');
    process.exit(2);
  }
  return { count, command };
}

const { count, command } = parseArgs(process.argv.slice(2));
const config = loadConfigOrExit('supervisor');
// Lines about a child carry its pid as `pid`.
const logger = createLogger({ service: 'supervisor', level: config.LOG_LEVEL, secrets: secretValues(config) });
const base = config.WORKER_METRICS_PORT;
const supervisor = new Supervisor({
  name: 'rag-worker',
  count,
  // `node` is this very node binary, so workers run on the version the stack was started with.
  command: command[0] === 'node' ? process.execPath : command[0],
  args: command.slice(1),
  env: (n) => ({ ...process.env, WORKER_METRICS_PORT: String(base === 0 ? 0 : base + n - 1) }),
  logger,
});
supervisor.start();
logger.info('supervising', { count, command: command.join(' ') });

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  void supervisor.stop(signal).then(() => {
    logger.info('stopped');
    process.exit(0);
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
