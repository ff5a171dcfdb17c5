import type { Config } from '@rag/config';
import {
  ALL_TENANTS,
  DeadLetterNotReplayableError,
  openDeadLetters,
  openQueryQueue,
  queryJobOptions,
  replayDeadLetter,
  withJobSigningKey,
  type TenantScope,
} from '@rag/jobs';
import type { Output } from './ingest.command';

export type DlqAction = 'list' | 'show' | 'replay' | 'purge';

/**
 * Inspects and replays jobs that failed for good. The CLI holds the Redis
 * URL, so it acts as an operator: every tenant's letters, or one tenant's
 * with --tenant.
 */
export async function dlqCommand(
  config: Config,
  action: DlqAction,
  ids: string[],
  opts: { json?: boolean; yes?: boolean; tenant?: string },
  io: Output,
): Promise<number> {
  const scope: TenantScope = opts.tenant ? { tenant: opts.tenant } : ALL_TENANTS;
  const queue = openQueryQueue(config);
  try {
    await Promise.race([
      queue.isReady(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`cannot reach Redis at REDIS_URL; start it or set REDIS_URL`)), 5000).unref()),
    ]);
    const deadLetters = openDeadLetters(queue.client, config);
    switch (action) {
      case 'list': {
        const { total, items } = await deadLetters.list(scope, 0, 100);
        if (opts.json) io.out(JSON.stringify({ total, items }));
        else if (items.length === 0) io.out('no dead letters');
        else for (const d of items) io.out(`${d.job_id}\t${d.failed_at}\t${d.attempts.length} attempt(s)\t${d.final_error}`);
        return 0;
      }
      case 'show': {
        let missing = 0;
        for (const id of ids) {
          const letter = await deadLetters.get(scope, id);
          if (letter) io.out(JSON.stringify(letter, null, opts.json ? undefined : 2));
          else {
            io.err(`no dead letter ${id}; run "rag-ingest dlq list" to see them`);
            missing++;
          }
        }
        return missing > 0 ? 1 : 0;
      }
      case 'replay': {
        let missing = 0;
        const signing = await withJobSigningKey(queue.client, config);
        for (const id of ids) {
          try {
            const letter = await replayDeadLetter(queue, deadLetters, scope, id, queryJobOptions(config, id), signing);
            if (letter) io.out(`replayed ${id} (follow it at /v1/jobs/${id})`);
            else {
              io.err(`no dead letter ${id}; run "rag-ingest dlq list" to see them`);
              missing++;
            }
          } catch (error) {
            if (!(error instanceof DeadLetterNotReplayableError)) throw error;
            io.err(`error: ${error.message}`);
            missing++;
          }
        }
        return missing > 0 ? 1 : 0;
      }
      case 'purge': {
        if (!opts.yes) {
          io.err(
            `purge deletes ${opts.tenant ? `every dead letter of tenant ${opts.tenant}` : "every tenant's dead letters"} for good; run again with --yes to confirm`,
          );
          return 2;
        }
        io.out(`purged ${await deadLetters.purge(scope)} dead letter(s)`);
        return 0;
      }
    }
  } finally {
    await queue.close();
  }
}
