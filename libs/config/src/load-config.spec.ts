import * as path from 'node:path';
import {
  ConfigError,
  EnvSchema,
  isSecretKey,
  loadConfig,
  loadConfigOrExit,
  maskUrlCredentials,
  maskedConfig,
  secretValues,
  parseApiKeysSetting,
  parseCorsOrigins,
  type Config,
} from './index';

const CWD = path.resolve('/srv/rag');

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env, CWD);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

/** The variable each problem line is about, e.g. `PORT` for `PORT="abc": ...`. */
const variables = (error: ConfigError) => error.problems.map((problem) => problem.split('=')[0]).sort();

describe('loadConfig', () => {
  describe('with an empty environment', () => {
    const config = loadConfig({}, CWD);

    it('uses every default of the schema', () => {
      expect(config).toMatchObject({ ...new EnvSchema() });
    });

    it('uses the documented local-development defaults', () => {
      expect(config).toMatchObject({
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        PORT: 3000,
        HOST: '127.0.0.1',
        REDIS_URL: 'redis://127.0.0.1:6379',
        DATA_DIR: './data',
      });
    });

    it('passes its own chunking rule', () => {
      expect(config.CHUNK_OVERLAP).toBeLessThan(config.CHUNK_SIZE);
    });

    it('is frozen', () => {
      expect(Object.isFrozen(config)).toBe(true);
      expect(() => {
        (config as { PORT: number }).PORT = 1;
      }).toThrow(TypeError);
    });
  });

  it('reads the environment it is given, not process.env', () => {
    const saved = process.env.PORT;
    process.env.PORT = '4321';
    try {
      expect(loadConfig({}, CWD).PORT).not.toBe(4321);
      expect(loadConfig({ PORT: '4000' }, CWD).PORT).toBe(4000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('ignores variables that are not settings', () => {
    const config = loadConfig({ PATH: '/usr/bin', HOME: '/root', SOMETHING_ELSE: 'x' }, CWD);
    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('SOMETHING_ELSE');
  });

  describe('integers', () => {
    it.each([
      ['3000', 3000],
      [' 42 ', 42],
      ['0', 0],
      ['65535', 65535],
      ['007', 7],
    ])('parses PORT=%j as %p', (raw, expected) => {
      const { PORT } = loadConfig({ PORT: raw }, CWD);
      expect(PORT).toBe(expected);
      expect(typeof PORT).toBe('number');
    });

    it('parses every integer setting, not only PORT', () => {
      const config = loadConfig({ WORKER_CONCURRENCY: '8', JOB_ATTEMPTS: ' 5', CHUNK_SIZE: '800', CHUNK_OVERLAP: '100' }, CWD);
      expect(config).toMatchObject({ WORKER_CONCURRENCY: 8, JOB_ATTEMPTS: 5, CHUNK_SIZE: 800, CHUNK_OVERLAP: 100 });
    });

    it.each(['abc', '3000.0', '1e3', '0x10', '42abc', '+42', '4 2', '-1', '65536'])('rejects PORT=%j', (raw) => {
      expect(variables(configError({ PORT: raw }))).toEqual(['PORT']);
    });
  });

  it('lists every bad value at once, each naming its variable and value', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', REDIS_URL: 'http://x', WORKER_CONCURRENCY: '0' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(variables(error)).toEqual(['LOG_LEVEL', 'PORT', 'REDIS_URL', 'WORKER_CONCURRENCY']);
    const byVariable = Object.fromEntries(error.problems.map((p) => [p.split('=')[0], p]));
    expect(byVariable.PORT).toContain('abc');
    expect(byVariable.LOG_LEVEL).toContain('loud');
    expect(byVariable.REDIS_URL).toContain('http://x');
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });

  it.each([
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'INFO'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'redis://'],
    ['QUEUE_PREFIX', 'rag:prod'],
    ['QUEUE_PREFIX', 'q'.repeat(33)],
    ['VECTOR_STORE', 'pinecone'],
    ['DEFAULT_COLLECTION', 'Default'],
    ['DEFAULT_TOP_K', '51'],
    ['WORKER_CONCURRENCY', '257'],
    ['JOB_TIMEOUT_MS', '999'],
    ['MAX_WAIT_SECONDS', '301'],
    ['SSE_HEARTBEAT_MS', '10'],
    ['SSE_HEARTBEAT_MS', '15s'],
    ['SSE_MAX_CLIENTS', '0'],
    ['EMBEDDING_DIM', '16'],
    ['EMBEDDING_DIM', '-1'],
    ['EMBEDDING_DIM', 'auto'],
    ['RERANKER', 'cohere'],
    ['RERANKER_URL', 'localhost:8080'],
    ['RERANKER_TIMEOUT_MS', '99'],
    ['RERANK_CANDIDATES', '0'],
  ])('rejects %s=%j', (name, value) => {
    expect(variables(configError({ [name]: value }))).toEqual([name]);
  });

  it('requires RERANKER_URL when RERANKER=http, naming the variable', () => {
    const error = configError({ RERANKER: 'http' });
    expect(variables(error)).toEqual(['RERANKER_URL']);
    expect(error.message).toContain('required when RERANKER=http');
    expect(loadConfig({ RERANKER: 'http', RERANKER_URL: 'http://127.0.0.1:8080' }, CWD)).toMatchObject({ RERANKER: 'http', RERANK_CANDIDATES: 30 });
    expect(loadConfig({}, CWD)).toMatchObject({ RERANKER: 'none', RERANKER_URL: '' });
  });

  it('accepts RERANKER=local with no URL, and names the three rerankers when RERANKER is none of them', () => {
    expect(loadConfig({ RERANKER: 'local' }, CWD)).toMatchObject({ RERANKER: 'local', RERANKER_URL: '' });
    for (const value of ['Local', 'bm25', 'local,http']) {
      const error = configError({ RERANKER: value });
      expect(variables(error)).toEqual(['RERANKER']);
      expect(error.message).toContain(value);
      expect(error.message).toMatch(/none, local, http/);
    }
  });

  it("leaves EMBEDDING_DIM at 0 (the embedder's own size) unless it is set", () => {
    expect(loadConfig({}, CWD).EMBEDDING_DIM).toBe(0);
    expect(loadConfig({ EMBEDDING_DIM: '0' }, CWD).EMBEDDING_DIM).toBe(0);
    expect(loadConfig({ EMBEDDING_DIM: '1536' }, CWD).EMBEDDING_DIM).toBe(1536);
  });

  it.each(['redis://127.0.0.1:6379', 'rediss://user:pw@cache.internal:6380/2'])('accepts REDIS_URL=%j', (url) => {
    expect(loadConfig({ REDIS_URL: url }, CWD).REDIS_URL).toBe(url);
  });

  it.each(['{rag}', 'app{rag}', '{rag}-2', 'q'.repeat(32), `{${'q'.repeat(32)}}`])('accepts QUEUE_PREFIX=%j', (prefix) => {
    expect(loadConfig({ QUEUE_PREFIX: prefix }, CWD).QUEUE_PREFIX).toBe(prefix);
  });

  it.each(['{}', '{rag', 'rag}', '{a}{b}', '{rag:x}', `{${'q'.repeat(33)}}`])('rejects QUEUE_PREFIX=%j', (prefix) => {
    expect(variables(configError({ QUEUE_PREFIX: prefix }))).toEqual(['QUEUE_PREFIX']);
  });

  describe('Redis Cluster and Sentinel', () => {
    it('refuses a cluster with a QUEUE_PREFIX without hash tag, saying what to set', () => {
      const error = configError({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000' });
      expect(variables(error)).toEqual(['QUEUE_PREFIX']);
      expect(error.message).toContain('set QUEUE_PREFIX={rag}');
      expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2:7000', QUEUE_PREFIX: '{rag}' }, CWD).REDIS_CLUSTER_NODES).toBe(
        '10.0.0.1:7000, redis-2:7000',
      );
    });

    it.each(['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'])('rejects a %s entry that is not host:port', (name) => {
      const error = configError({ [name]: 'redis-1:7000,redis://redis-2:7000', QUEUE_PREFIX: '{rag}', REDIS_SENTINEL_NAME: 'mymaster' });
      expect(variables(error)).toEqual([name]);
      expect(error.message).toContain('entry 2');
    });

    it('requires REDIS_SENTINEL_NAME with REDIS_SENTINELS, and refuses Sentinel and Cluster together', () => {
      expect(variables(configError({ REDIS_SENTINELS: '127.0.0.1:26379' }))).toEqual(['REDIS_SENTINEL_NAME']);
      expect(
        variables(configError({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: '{rag}' })),
      ).toEqual(['REDIS_SENTINELS']);
      expect(loadConfig({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'mymaster' }, CWD).REDIS_SENTINEL_NAME).toBe('mymaster');
    });
  });

  it('treats empty and blank values as unset', () => {
    const blank = loadConfig({ PORT: '', LOG_LEVEL: '   ', REDIS_URL: '', HOST: '\t', DATA_DIR: '' }, CWD);
    expect(blank).toEqual(loadConfig({}, CWD));
  });

  it('trims string values', () => {
    const config = loadConfig({ HOST: ' 0.0.0.0 ', LOG_LEVEL: 'debug\n' }, CWD);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.LOG_LEVEL).toBe('debug');
  });

  describe('chunking', () => {
    it.each([
      ['equal to', '1000', '1000'],
      ['larger than', '1000', '1500'],
    ])('rejects CHUNK_OVERLAP %s CHUNK_SIZE', (_label, size, overlap) => {
      expect(variables(configError({ CHUNK_SIZE: size, CHUNK_OVERLAP: overlap }))).toEqual(['CHUNK_OVERLAP']);
    });

    it('rejects a CHUNK_SIZE lowered below the default CHUNK_OVERLAP', () => {
      const defaults = new EnvSchema();
      const error = configError({ CHUNK_SIZE: String(defaults.CHUNK_OVERLAP) });
      expect(error.message).toContain('CHUNK_SIZE');
    });

    it('accepts CHUNK_OVERLAP one less than CHUNK_SIZE', () => {
      expect(loadConfig({ CHUNK_SIZE: '1000', CHUNK_OVERLAP: '999' }, CWD)).toMatchObject({ CHUNK_SIZE: 1000, CHUNK_OVERLAP: 999 });
    });

    it('reports the chunking rule together with the other problems, not on the next start', () => {
      const error = configError({ PORT: 'abc', CHUNK_SIZE: '1000', CHUNK_OVERLAP: '1000' });
      expect(variables(error)).toEqual(['CHUNK_OVERLAP', 'PORT']);
    });
  });

  describe('directories', () => {
    it('resolves the default DATA_DIR against the given cwd', () => {
      const config = loadConfig({}, CWD);
      expect(config.dataDir).toBe(path.join(CWD, 'data'));
      expect(config.lancedbDir).toBe(path.join(CWD, 'data', 'lancedb'));
    });

    it.each([
      ['state/rag', path.join(CWD, 'state', 'rag')],
      ['../shared', path.resolve(CWD, '..', 'shared')],
      ['/var/lib/rag', path.resolve('/var/lib/rag')],
    ])('resolves DATA_DIR=%j', (dataDir, expected) => {
      const config = loadConfig({ DATA_DIR: dataDir }, CWD);
      expect(config.dataDir).toBe(expected);
      expect(path.isAbsolute(config.dataDir)).toBe(true);
      expect(config.lancedbDir).toBe(path.join(expected, 'lancedb'));
      expect(config.DATA_DIR).toBe(dataDir);
    });

    it('depends on the cwd it is given', () => {
      expect(loadConfig({}, '/a').dataDir).not.toBe(loadConfig({}, '/b').dataDir);
    });
  });

  it('does not print URL credentials of a bad REDIS_URL', () => {
    const error = configError({ REDIS_URL: 'http://admin:hunter2-secret@cache:6379' });
    expect(variables(error)).toEqual(['REDIS_URL']);
    expect(error.message).not.toContain('hunter2-secret');
    expect(error.problems.join('\n')).not.toContain('hunter2-secret');
    expect(error.message).toContain('cache:6379');
  });
});

describe('maskedConfig', () => {
  const SECRET = 'pa55-W0rd-xyz';

  it('replaces URL credentials and keeps the rest of the URL', () => {
    const masked = maskedConfig(loadConfig({ REDIS_URL: `redis://user:${SECRET}@cache.internal:6379/0` }, CWD));
    expect(masked.REDIS_URL).toBe('redis://***@cache.internal:6379/0');
    expect(JSON.stringify(masked)).not.toContain(SECRET);
    expect(JSON.stringify(masked)).not.toContain('user:');
  });

  it('masks keys whose names say they are secret', () => {
    const config = {
      ...loadConfig({}, CWD),
      OPENAI_API_KEY: `sk-${SECRET}`,
      DB_PASSWORD: SECRET,
      GITHUB_TOKEN: `ghp_${SECRET}`,
      CLIENT_SECRET: `${SECRET}!`,
    } as Config;
    const masked = maskedConfig(config);
    expect(masked).toMatchObject({ OPENAI_API_KEY: '***', DB_PASSWORD: '***', GITHUB_TOKEN: '***', CLIENT_SECRET: '***' });
    expect(JSON.stringify(masked)).not.toContain(SECRET);
  });

  it('leaves ordinary settings as they are', () => {
    const config = loadConfig({ PORT: '8080', HOST: '0.0.0.0' }, CWD);
    const masked = maskedConfig(config);
    expect(masked).toEqual({ ...config });
    expect(masked.PORT).toBe(8080);
  });

  it('does not change the config it masks', () => {
    const config = loadConfig({ REDIS_URL: `redis://u:${SECRET}@h:1` }, CWD);
    maskedConfig(config);
    expect(config.REDIS_URL).toContain(SECRET);
  });
});

describe('maskUrlCredentials', () => {
  it.each([
    ['redis://user:pass@host', 'redis://***@host'],
    ['redis://:pass@host:6379', 'redis://***@host:6379'],
    ['rediss://user@host/0', 'rediss://***@host/0'],
    ['https://u:p@example.com/path?q=1', 'https://***@example.com/path?q=1'],
  ])('masks %j', (input, expected) => {
    expect(maskUrlCredentials(input)).toBe(expected);
  });

  it('masks the whole password when it contains "@"', () => {
    const masked = maskUrlCredentials('redis://user:p@ss-w0rd@cache:6379');
    expect(masked).toBe('redis://***@cache:6379');
  });

  it.each(['redis://127.0.0.1:6379', 'redis://host:6379/0?note=a@b', './data', 'someone@example.com', 'plain text', ''])('leaves %j unchanged', (input) => {
    expect(maskUrlCredentials(input)).toBe(input);
  });
});

describe('isSecretKey', () => {
  it.each(['OPENAI_API_KEY', 'API_KEY', 'DB_PASSWORD', 'GITHUB_TOKEN', 'CLIENT_SECRET', 'api_key'])('treats %p as secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it('treats exactly the API keys and the job and webhook signing secrets among the real settings as secret', () => {
    const secret = Object.keys(new EnvSchema()).filter(isSecretKey).sort();
    expect(secret).toEqual(['API_KEYS', 'JOB_SIGNING_KEY', 'OPENAI_API_KEY', 'QDRANT_API_KEY', 'RERANKER_API_KEY', 'WEBHOOK_SIGNING_SECRET']);
  });
});

describe('API_KEYS', () => {
  const key = 'k'.repeat(24);

  it('parses tenant:scope+scope:key entries', () => {
    expect(parseApiKeysSetting(` acme:query+ingest:${key} , beta:admin:${'b'.repeat(30)}`)).toEqual([
      { tenant: 'acme', scopes: ['query', 'ingest'], key },
      { tenant: 'beta', scopes: ['admin'], key: 'b'.repeat(30) },
    ]);
    expect(parseApiKeysSetting('')).toEqual([]);
  });

  it.each([
    ['no scopes part', `acme:${key}`, 'tenant:scope+scope:key'],
    ['an unknown scope', `acme:query+root:${key}`, 'scopes must be'],
    ['a bad tenant', `Acme Corp:query:${key}`, 'tenant must be'],
    ['a short key', 'acme:query:short', 'key must be'],
    ['a key listed twice', `a:query:${key},b:query:${key}`, 'listed twice'],
  ])('rejects %s, naming the setting but never the key', (_name, value, message) => {
    const error = configError({ API_KEYS: value });
    expect(error.message).toContain('API_KEYS=***');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(key);
    expect(error.message).not.toContain('short');
  });

  it('is masked in the printed configuration', () => {
    expect(maskedConfig(loadConfig({ API_KEYS: `acme:query:${key}` }, CWD)).API_KEYS).toBe('***');
  });

  it('accepts the global operator scope (granted here or from the CLI only)', () => {
    expect(parseApiKeysSetting(`ops:operator:${key}`)).toEqual([{ tenant: 'ops', scopes: ['operator'], key }]);
  });
});

describe('JOB_SIGNING_KEY', () => {
  it('is empty by default (a key generated in Redis), at least 32 characters when set, and masked', () => {
    expect(loadConfig({}, CWD).JOB_SIGNING_KEY).toBe('');
    const error = configError({ JOB_SIGNING_KEY: 'too-short-signing-key' });
    expect(error.message).toContain('JOB_SIGNING_KEY must be at least 32 characters');
    expect(error.message).not.toContain('too-short-signing-key');
    const set = loadConfig({ JOB_SIGNING_KEY: 's'.repeat(32) }, CWD);
    expect(set.JOB_SIGNING_KEY).toBe('s'.repeat(32));
    expect(maskedConfig(set).JOB_SIGNING_KEY).toBe('***');
  });
});

describe('CORS_ORIGINS', () => {
  it('accepts exact origins and rejects paths and wildcards', () => {
    expect(parseCorsOrigins('https://app.example.com, http://localhost:5173')).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(variables(configError({ CORS_ORIGINS: '*' }))).toEqual(['CORS_ORIGINS']);
    expect(configError({ CORS_ORIGINS: 'https://a.example.com/app' }).message).toContain('no path');
  });
});

describe('loadConfigOrExit', () => {
  class ExitCalled extends Error {
    constructor(readonly code: number | string | null | undefined) {
      super(`process.exit(${String(code)})`);
    }
  }

  let stderr: string[];

  beforeEach(() => {
    stderr = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    jest.spyOn(process, 'exit').mockImplementation((code?: number | string | null) => {
      throw new ExitCalled(code);
    });
  });

  afterEach(() => jest.restoreAllMocks());

  it('returns the config when the environment is valid', () => {
    expect(loadConfigOrExit('gateway', { PORT: '8080' }).PORT).toBe(8080);
    expect(process.exit).not.toHaveBeenCalled();
    expect(stderr).toEqual([]);
  });

  it('writes the problems to stderr, prefixed with the service, and exits with code 2', () => {
    let thrown: unknown;
    try {
      loadConfigOrExit('gateway', { PORT: 'abc', LOG_LEVEL: 'loud' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ExitCalled);
    expect((thrown as ExitCalled).code).toBe(2);
    const text = stderr.join('');
    expect(text.startsWith('gateway: ')).toBe(true);
    expect(text).toContain('PORT="abc"');
    expect(text).toContain('LOG_LEVEL="loud"');
  });
});

describe('secretValues', () => {
  it('lists every secret setting, each key of API_KEYS and the credentials in URLs, for the logger to mask', () => {
    const tenantKey = 'A'.repeat(24);
    const values = secretValues(
      loadConfig(
        {
          OPENAI_API_KEY: 'provider-key-123',
          QDRANT_API_KEY: 'qdrant-key-456',
          API_KEYS: `acme:query:${tenantKey}`,
          REDIS_URL: 'redis://user:p%40ss-word@cache:6379',
        },
        CWD,
      ),
    );
    expect(values).toEqual(expect.arrayContaining(['provider-key-123', 'qdrant-key-456', tenantKey, 'p@ss-word', 'p%40ss-word']));
    // Not the settings that merely look alike, nor empty ones.
    expect(values).not.toContain('');
    expect(values.some((v) => v.includes('cache:6379'))).toBe(false);
  });
});
