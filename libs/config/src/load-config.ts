import { PermanentError } from '@rag/core';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import * as path from 'node:path';
import { ListSettingError, parseApiKeysSetting, parseCorsOrigins } from './api-keys-setting';
import { EnvSchema } from './env.schema';
import { parseRedisNodes, redisSettingsProblems } from './redis-connection';

export type Config = Readonly<EnvSchema> & {
  /** DATA_DIR made absolute. */
  readonly dataDir: string;
  /** Where LanceDB keeps its tables. */
  readonly lancedbDir: string;
};

export class ConfigError extends PermanentError {
  override readonly code = 'invalid_config';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix these environment variables (see .env.example) and start again.`);
    this.name = 'ConfigError';
  }
}

const KNOWN_KEYS = Object.keys(new EnvSchema());

/**
 * Reads and validates every setting at once, so a bad deployment fails at
 * start with the full list of problems instead of one at a time.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const plain: Record<string, string> = {};
  for (const key of KNOWN_KEYS) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') plain[key] = value.trim();
  }
  const schema = plainToInstance(EnvSchema, plain);
  const errors = validateSync(schema, { forbidUnknownValues: true });
  const problems = errors.map((e) => {
    // A rejected value may still carry credentials (e.g. an http:// URL with a password).
    const shown = isSecretKey(e.property) ? '***' : JSON.stringify(maskUrlCredentials(plain[e.property] ?? ''));
    return `${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
  });
  const invalid = new Set(errors.map((e) => e.property));
  if (!invalid.has('CHUNK_SIZE') && !invalid.has('CHUNK_OVERLAP') && schema.CHUNK_OVERLAP >= schema.CHUNK_SIZE) {
    problems.push(`CHUNK_OVERLAP=${schema.CHUNK_OVERLAP}: must be smaller than CHUNK_SIZE (${schema.CHUNK_SIZE})`);
  }
  const usesOpenAI = schema.EMBEDDINGS === 'openai' || schema.LLM === 'openai';
  if (!invalid.has('OPENAI_BASE_URL') && usesOpenAI && /^https:\/\/api\.openai\.com\//.test(schema.OPENAI_BASE_URL) && !schema.OPENAI_API_KEY) {
    problems.push(
      'OPENAI_API_KEY is required when EMBEDDINGS=openai or LLM=openai use api.openai.com; set it, or point OPENAI_BASE_URL at a server that needs none (Ollama, vLLM)',
    );
  }
  const listProblems = (name: string, parse: () => unknown, shown: string) => {
    try {
      parse();
    } catch (error) {
      if (!(error instanceof ListSettingError)) throw error;
      problems.push(...error.problems.map((p) => `${name}=${shown}: ${p}`));
    }
  };
  listProblems('API_KEYS', () => parseApiKeysSetting(schema.API_KEYS), '***');
  listProblems('CORS_ORIGINS', () => parseCorsOrigins(schema.CORS_ORIGINS), JSON.stringify(schema.CORS_ORIGINS));
  for (const name of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const) {
    if (schema[name]) listProblems(name, () => parseRedisNodes(schema[name]), JSON.stringify(schema[name]));
  }
  if (!invalid.has('QUEUE_PREFIX')) problems.push(...redisSettingsProblems(schema));
  if (problems.length > 0) throw new ConfigError(problems);
  const dataDir = path.resolve(cwd, schema.DATA_DIR);
  return Object.freeze({ ...schema, dataDir, lancedbDir: path.join(dataDir, 'lancedb') });
}

/** Names that hold credentials: *_API_KEY(S), *_SECRET, *_PASSWORD, *_TOKEN (not e.g. LLM_MAX_TOKENS). */
export function isSecretKey(key: string): boolean {
  return /(^|_)(API_KEYS|KEYS|API_KEY|KEY|SECRET|PASSWORD|PASS|PWD|TOKEN|CREDENTIALS)$/i.test(key);
}

/** Hides secrets: secret-named keys entirely, and credentials inside URLs. */
export function maskedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (isSecretKey(key)) out[key] = value ? '***' : value;
    else if (typeof value === 'string') out[key] = maskUrlCredentials(value);
    else out[key] = value;
  }
  return out;
}

/**
 * The secret values this configuration holds, for the logger to mask wherever
 * they turn up (a provider echoing its key in an error body): every
 * secret-named setting, each key of a list such as API_KEYS, and the
 * credentials inside URLs (REDIS_URL's password).
 */
export function secretValues(config: Config): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== 'string' || value === '') continue;
    if (isSecretKey(key)) values.push(value, ...value.split(/[,\s]+/), ...value.split(/[,\s]+/).map((entry) => entry.split(':').pop() ?? ''));
    const credentials = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\s]+)@/i.exec(value)?.[1];
    if (credentials) {
      const passwords = credentials.split(':').slice(1);
      values.push(credentials, ...passwords, ...passwords.map(safeDecode));
    }
  }
  return [...new Set(values.map((v) => v.trim()).filter((v) => v.length >= 8))];
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function maskUrlCredentials(value: string): string {
  // Greedy up to the last "@" before the path: a password may itself hold an "@".
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]+)@/i, '$1***@');
}

/** For an app's entry point: the config, or a readable list of problems on stderr and exit code 2. */
export function loadConfigOrExit(service: string, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(2);
  }
}
