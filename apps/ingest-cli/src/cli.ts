import { loadConfig, ConfigError, secretValues, type Config } from '@rag/config';
import { redactSecrets, registerSecrets } from '@rag/observability';
import { Limits, NAME_RULE, SEARCH_MODES, isValidName, type SearchMode } from '@rag/queue-contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { PathNotFoundError } from './discover-files';
import { ingestCommand, type Output } from './commands/ingest.command';
import { dlqCommand, type DlqAction } from './commands/dlq.command';
import { evalCommand, type EvalCommandOptions } from './commands/eval.command';
import { keysCommand } from './commands/keys.command';
import { queuedIngestCommand, statusCommand } from './commands/queued-ingest.command';
import { reindexCommand } from './commands/reindex.command';
import { deleteCommand, listCommand } from './commands/list.command';
import { searchCommand } from './commands/search.command';
import { workersCommand } from './commands/workers.command';
import * as path from 'node:path';

/** Parses a collection or tenant name option. */
function validName(value: string): string {
  if (!isValidName(value)) {
    throw new InvalidArgumentError(`use ${NAME_RULE}`);
  }
  return value;
}

/** Parses --top-k: a whole number within the API's bound. */
function topK(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > Limits.topKMax) throw new InvalidArgumentError(`use a whole number from 1 to ${Limits.topKMax}`);
  return n;
}

/** Parses a comma-separated list of search modes. */
function modeList(value: string): SearchMode[] {
  const modes = value.split(',').map((m) => m.trim());
  const bad = modes.filter((m) => !(SEARCH_MODES as readonly string[]).includes(m));
  if (bad.length > 0 || modes.length === 0) throw new InvalidArgumentError(`use a comma-separated list of ${SEARCH_MODES.join(', ')}`);
  return [...new Set(modes as SearchMode[])];
}

/** Parses --k: recall's cut-off in documents. */
function cutOff(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 50) throw new InvalidArgumentError('use a whole number from 1 to 50');
  return n;
}

/** Parses --chunk-sizes: comma-separated token counts within CHUNK_SIZE's bounds. */
function chunkSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => s.trim());
  if (sizes.some((s) => !/^\d+$/.test(s) || Number(s) < 32 || Number(s) > 8192)) {
    throw new InvalidArgumentError('use comma-separated whole numbers of tokens from 32 to 8192, e.g. 200,300,500');
  }
  return [...new Set(sizes.map(Number))];
}

/** Parses --dense-weights: comma-separated weights of the dense ranking in hybrid fusion (full-text search's is 1). */
function denseWeights(value: string): number[] {
  const weights = value.split(',').map((s) => s.trim());
  if (weights.some((w) => !/^\d+(\.\d+)?$/.test(w) || Number(w) <= 0 || Number(w) > 100)) {
    throw new InvalidArgumentError('use comma-separated numbers above 0 and up to 100, e.g. 0.5,1,2 (full-text search weighs 1)');
  }
  return [...new Set(weights.map(Number))];
}

/** Parses --grace-seconds: whole seconds within the API's bound. */
function graceSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > Limits.reindexGraceSecondsMax)
    throw new InvalidArgumentError(`use a whole number of seconds from 0 to ${Limits.reindexGraceSecondsMax}`);
  return n;
}

const TENANT_HELP = "the tenant that owns the collection (only that tenant's API keys can query it)";

/** Runs the `rag-ingest` command line; resolves to the process exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, output: Output): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      output.err(error.message);
      return 2;
    }
    throw error;
  }
  // What the CLI prints on stderr (failures, a provider's reasons) masks the configured keys, as the apps' logs do.
  registerSecrets(secretValues(config));
  const io: Output = { ...output, err: (line) => output.err(redactSecrets(line)) };

  let code = 0;
  const program = new Command('rag-ingest')
    .description('Load documents into a collection and manage collections')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run rag-ingest --help for usage)');

  program
    .command('ingest', { isDefault: true })
    .description('ingest .md, .txt, .html, .pdf and .docx files or folders (re-running skips unchanged files)')
    .argument('<paths...>', 'files or folders to load')
    .option('-c, --collection <name>', 'collection to load into', validName, config.DEFAULT_COLLECTION)
    .option('-t, --tenant <name>', TENANT_HELP, validName, 'default')
    .option('--prune', "remove the collection's documents that are no longer among the files given (ids are paths relative to the folders given)")
    .option('--dry-run', 'say what would be added, updated and removed, and change nothing')
    .option('--via-queue', 'send one job per changed document to the rag-ingest queue; the workers load them (needs Redis and running workers)')
    .option('--no-wait', 'with --via-queue: queue the documents, print the run id and exit (see "rag-ingest status <run>")')
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'do not show the progress bar')
    .action(
      async (
        paths: string[],
        opts: { collection: string; tenant: string; json?: boolean; progress: boolean; prune?: boolean; dryRun?: boolean; viaQueue?: boolean; wait: boolean },
      ) => {
        // A dry run reads hashes only, the same whichever way the load would go.
        code = opts.viaQueue && !opts.dryRun ? await queuedIngestCommand(config, paths, opts, io) : await ingestCommand(config, paths, opts, io);
      },
    );

  program
    .command('status')
    .description('show what a queued load (--via-queue) has done: documents done, failed, chunks')
    .argument('<run-id>', 'the run id printed by --via-queue')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }) => {
      if (!Limits.runIdPattern.test(runId)) {
        io.err(`error: "${runId.slice(0, 80)}" is not a run id; use the id printed by rag-ingest --via-queue`);
        code = 2;
        return;
      }
      code = await statusCommand(config, runId, opts.json ?? false, io);
    });

  program
    .command('reindex')
    .description(
      'rebuild a collection with the current settings (CHUNK_SIZE, CHUNK_OVERLAP, embedder) through the workers, while questions read the version in use; then switch, and drop the old version after the grace period',
    )
    .requiredOption('-c, --collection <name>', 'collection to rebuild', validName)
    .option('-t, --tenant <name>', TENANT_HELP, validName, 'default')
    .option(
      '--grace-seconds <n>',
      `keep the old version this long after the switch (0-${Limits.reindexGraceSecondsMax})`,
      graceSeconds,
      Limits.reindexGraceSecondsDefault,
    )
    .option('--no-wait', 'start the rebuild, print the run id and exit (see "rag-ingest status <run>")')
    .option('--json', 'print the outcome as JSON')
    .option('--no-progress', 'do not show the progress bar')
    .action(async (opts: { collection: string; tenant: string; graceSeconds: number; wait: boolean; json?: boolean; progress: boolean }) => {
      code = await reindexCommand(config, opts, io);
    });

  program
    .command('list')
    .description('list collections, or the documents of one collection')
    .option('-c, --collection <name>', 'list the documents of this collection', validName)
    .option('-t, --tenant <name>', TENANT_HELP, validName, 'default')
    .option('--json', 'print JSON')
    .action(async (opts: { collection?: string; tenant: string; json?: boolean }) => {
      code = await listCommand(config, opts.tenant, opts.collection, opts.json ?? false, io);
    });

  program
    .command('delete')
    .description('remove documents from a collection by id')
    .argument('<doc-ids...>', 'document ids as shown by "list --collection"')
    .requiredOption('-c, --collection <name>', 'collection to delete from', validName)
    .option('-t, --tenant <name>', TENANT_HELP, validName, 'default')
    .action(async (docIds: string[], opts: { collection: string; tenant: string }) => {
      code = await deleteCommand(config, opts.tenant, opts.collection, docIds, io);
    });

  program
    .command('search')
    .description("search a collection as POST /v1/collections/:name/search does: rank, score, document, heading, each retriever's rank, the start of the chunk")
    .argument('<query>', 'what to search for (quote it)')
    .requiredOption('-c, --collection <name>', 'collection to search', validName)
    .option('-k, --top-k <n>', `results to show (1-${Limits.topKMax})`, topK, Limits.searchTopKDefault)
    .addOption(new Option('-m, --mode <mode>', 'hybrid (dense and full-text fused), vector or text').choices(SEARCH_MODES).default('hybrid'))
    .option('-t, --tenant <name>', TENANT_HELP, validName, 'default')
    .option('--json', "print the API's JSON answer")
    .action(async (query: string, opts: { collection: string; topK: number; mode: SearchMode; tenant: string; json?: boolean }) => {
      code = await searchCommand(config, query, opts, io);
    });

  program
    .command('eval')
    .description(
      "measure retrieval on an evaluation set: hit@1/3/5/10, recall@k, MRR and nDCG@10 of each search mode's documents (and of the answer's citations with --answers), in total and per question",
    )
    .requiredOption('-d, --dataset <file.jsonl>', 'the evaluation set: one {"id", "question", "gold": [document ids]} a line (tools/eval/datasets)')
    .option('-c, --collection <name>', 'the collection to evaluate', validName)
    .option('-t, --tenant <name>', TENANT_HELP, validName, 'default')
    .option('-m, --modes <modes>', `search modes to compare (comma-separated: ${SEARCH_MODES.join(', ')})`, modeList, [
      'text',
      'vector',
      'hybrid',
    ] as SearchMode[])
    .option('-k, --k <n>', 'recall@k: the share of gold documents in the top k documents', cutOff, 10)
    .option('--answers', 'also answer each question (the configured embedder and answerer) and score the documents its citations name')
    .option(
      '--corpus <folder>',
      'instead of --collection: load this folder into a temporary collection (one per chunk size) in the tenant, evaluate it and drop it',
    )
    .option('--chunk-sizes <sizes>', 'with --corpus: chunk sizes in tokens to compare, e.g. 200,300,500 (default CHUNK_SIZE)', chunkSizes)
    .option(
      '--dense-weights <weights>',
      "fusion weights to compare: the dense ranking's weight in hybrid search and answers, full-text search's being 1, e.g. 0.5,1,2 (default 1)",
      denseWeights,
    )
    .option('--json', 'print every figure as JSON (totals and per question)')
    .option('--no-progress', 'do not show the progress bar')
    .action(async (opts: EvalCommandOptions) => {
      code = await evalCommand(config, opts, io);
    });

  const dlq = program.command('dlq').description('inspect and replay questions that failed for good (the dead-letter queue)');
  type DlqOptions = { json?: boolean; yes?: boolean; tenant?: string };
  const dlqAction = (action: DlqAction) => async (ids: string[] | DlqOptions, maybeOpts?: DlqOptions) => {
    const list = Array.isArray(ids) ? ids : [];
    const opts = (Array.isArray(ids) ? maybeOpts : ids) ?? {};
    code = await dlqCommand(config, action, list, opts, io);
  };
  const only = ['--tenant <tenant>', "only this tenant's dead letters (default: every tenant's)", validName] as const;
  const json = ['--json', 'print JSON'] as const;
  const dlqCommands: { action: DlqAction; description: string; takesIds?: true; flag?: readonly [string, string] }[] = [
    { action: 'list', description: 'list dead letters, newest first', flag: json },
    { action: 'show', description: 'show dead letters with their payload and every attempt', takesIds: true, flag: json },
    { action: 'replay', description: 'put dead letters back on the queue under their original job id', takesIds: true },
    { action: 'purge', description: "delete every dead letter (every tenant's unless --tenant)", flag: ['--yes', 'confirm'] },
  ];
  for (const { action, description, takesIds, flag } of dlqCommands) {
    const command = dlq.command(action).description(description);
    if (takesIds) command.argument('<job-ids...>');
    if (flag) command.option(...flag);
    command.option(...only).action(dlqAction(action));
  }

  program
    .command('workers')
    .description('list the workers (from their heartbeats): queues, jobs in flight, last seen; exits 1 when none is alive')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      code = await workersCommand(config, opts, io);
    });

  const keys = program.command('keys').description("manage the gateway's API keys (stored in Redis as hashes only)");
  keys
    .command('create')
    .description('create a key for a tenant and print it (only this once)')
    .requiredOption('--tenant <tenant>', 'the tenant the key belongs to')
    .requiredOption('--scopes <scopes>', 'comma-separated: query, ingest, admin (within the tenant), operator (every tenant; CLI only)')
    .option('--name <name>', 'a note on what the key is for')
    .option('--json', 'print JSON (the key included)')
    .action(async (opts: { tenant: string; scopes: string; name?: string; json?: boolean }) => {
      const scopes = opts.scopes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      code = await keysCommand(config, { action: 'create', tenant: opts.tenant, scopes, name: opts.name, json: opts.json }, io);
    });
  keys
    .command('list')
    .description('list keys: id, tenant, scopes, created, revoked (never the keys)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      code = await keysCommand(config, { action: 'list', json: opts.json }, io);
    });
  keys
    .command('revoke')
    .description('revoke keys by id; takes effect on the next request')
    .argument('<key-ids...>')
    .action(async (ids: string[]) => {
      code = await keysCommand(config, { action: 'revoke', ids }, io);
    });
  keys
    .command('dev-key', { hidden: true })
    .description('npm start: reuse or create the dev key of tenant default kept in DATA_DIR/dev-api-key')
    .action(async () => {
      code = await keysCommand(config, { action: 'dev-key', file: path.join(config.dataDir, 'dev-api-key') }, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof PathNotFoundError) {
      io.err(`error: ${error.message}; check the path and run again`);
      return 1;
    }
    throw error;
  }
}
