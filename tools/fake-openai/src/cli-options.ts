import { parseArgs } from 'node:util';
import type { FakeOpenAIOptions } from './options';

export class CliUsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliUsageError';
  }
}

export const USAGE = `Usage: tsx tools/fake-openai/src/main.ts [options]
  --port <n>                  FAKE_OPENAI_PORT, PORT (default 0: a free port)
  --host <host>               FAKE_OPENAI_HOST (default 127.0.0.1)
  --first-token-ms <ms>       FAKE_OPENAI_FIRST_TOKEN_MS
  --per-token-ms <ms>         FAKE_OPENAI_PER_TOKEN_MS
  --embedding-latency-ms <ms> FAKE_OPENAI_EMBEDDING_LATENCY_MS
  --dimension <n>             FAKE_OPENAI_DIMENSION (default 256)
  --api-key <key>             FAKE_OPENAI_API_KEY (default: no key required)
  --model <name>              FAKE_OPENAI_MODELS (comma-separated); repeat the flag for several
Flags win over environment variables.`;

/** Options for main.ts from flags, then FAKE_OPENAI_* variables. */
export function parseCliOptions(argv: string[], env: NodeJS.ProcessEnv): FakeOpenAIOptions & { help?: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'first-token-ms': { type: 'string' },
        'per-token-ms': { type: 'string' },
        'embedding-latency-ms': { type: 'string' },
        dimension: { type: 'string' },
        'api-key': { type: 'string' },
        model: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (values.help) return { help: true };
  const value = (flag: keyof typeof values, ...vars: string[]) => {
    const fromFlag = values[flag];
    if (typeof fromFlag === 'string') return { text: fromFlag, from: `--${flag}` };
    for (const name of vars) if (env[name] !== undefined && env[name] !== '') return { text: env[name] as string, from: name };
    return undefined;
  };
  const number = (flag: keyof typeof values, envName: string, integer: boolean, ...more: string[]) => {
    const v = value(flag, envName, ...more);
    if (!v) return undefined;
    const n = Number(v.text);
    if (v.text.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
      throw new CliUsageError(`${v.from} must be a non-negative ${integer ? 'integer' : 'number'}, got "${v.text}"`);
    }
    return n;
  };
  const models =
    values.model ??
    env.FAKE_OPENAI_MODELS?.split(',')
      .map((m) => m.trim())
      .filter(Boolean);
  const options: FakeOpenAIOptions = {
    port: number('port', 'FAKE_OPENAI_PORT', true, 'PORT'),
    host: value('host', 'FAKE_OPENAI_HOST')?.text,
    firstTokenMs: number('first-token-ms', 'FAKE_OPENAI_FIRST_TOKEN_MS', false),
    perTokenMs: number('per-token-ms', 'FAKE_OPENAI_PER_TOKEN_MS', false),
    embeddingLatencyMs: number('embedding-latency-ms', 'FAKE_OPENAI_EMBEDDING_LATENCY_MS', false),
    dimension: number('dimension', 'FAKE_OPENAI_DIMENSION', true),
    apiKey: value('api-key', 'FAKE_OPENAI_API_KEY')?.text,
    models: models && models.length > 0 ? models : undefined,
  };
  // Leave unset options out so the server's defaults apply.
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as FakeOpenAIOptions;
}
