// Run as a child process by buffered-lines.transport.int.spec.ts: logs numbered lines to stdout, then ends
// the way argv[2] says, before the event loop turns again, so the lines are still buffered.
import { createLogger, runWithContext } from './index';

const logger = createLogger({ service: 'probe' });
const LINES = 50;
const burst = (stage: string) =>
  runWithContext({ request_id: `req-${stage}`, job_id: `job-${stage}` }, () => {
    for (let seq = 0; seq < LINES; seq++) logger.info(`line ${seq}`, { seq, stage });
  });

const endings: Record<string, () => void> = {
  exit: () => process.exit(3),
  throw: () => {
    throw new Error('probe crashed');
  },
  reject: () => void Promise.reject(new Error('probe rejected')),
  // The gateway's and the worker's way: a SIGTERM handler that logs, then exits.
  sigterm: () => {
    process.on('SIGTERM', () => {
      burst('stopping');
      process.exit(0);
    });
    setInterval(() => undefined, 1000);
    logger.info('ready');
  },
};

setTimeout(() => {
  burst('before');
  endings[process.argv[2]]();
}, 0);
