#!/usr/bin/env node
// `npm start`: the whole stack on embedded defaults, no Docker, no API key.
//  1. Redis: REDIS_CLUSTER_NODES or REDIS_SENTINELS if set, else REDIS_URL if set; else 127.0.0.1:6379 if something answers there;
//     else a private redis-server with its files under DATA_DIR/redis.
//  2. The sample collection (tools/dev-stack/sample-docs) is ingested; unchanged
//     files are skipped, so later starts cost a second. The default collection
//     (DEFAULT_COLLECTION) is seeded with the same documents while it does not exist.
//     Either one built with another embedder (an older version of the local one) is
//     rebuilt through the workers once they run (rag-ingest reindex).
//  3. A dev API key for tenant `default` with every scope is reused from
//     DATA_DIR/dev-api-key (mode 0600) while Redis still knows it, else created
//     (stored hashed in Redis); the gateway then requires it.
//  4. `nx run-many -t serve` starts the gateway and two workers.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = path.resolve(root, process.env.DATA_DIR || 'data');
const devRedisPort = Number(process.env.DEV_REDIS_PORT || 6379);
const port = process.env.PORT || '3000';
const say = (message) => process.stderr.write(`[dev-stack] ${message}\n`);
const children = [];

function ping(host, portNumber) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: portNumber });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

async function ensureRedis() {
  // A Redis Cluster or Sentinel is used as configured; REDIS_URL then gives only its password and TLS.
  if (process.env.REDIS_CLUSTER_NODES || process.env.REDIS_SENTINELS) {
    say(process.env.REDIS_CLUSTER_NODES ? `using the Redis Cluster at ${process.env.REDIS_CLUSTER_NODES}` : `using Sentinel at ${process.env.REDIS_SENTINELS}`);
    return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  }
  if (process.env.REDIS_URL) {
    say(`using REDIS_URL (${process.env.REDIS_URL.replace(/\/\/[^@/]*@/, '//***@')})`);
    return process.env.REDIS_URL;
  }
  const url = `redis://127.0.0.1:${devRedisPort}`;
  if (await ping('127.0.0.1', devRedisPort)) {
    say(`using the Redis already answering on 127.0.0.1:${devRedisPort}`);
    return url;
  }
  if (spawnSync('redis-server', ['--version']).error) {
    say('redis-server is not installed and no Redis answers on 127.0.0.1:' + devRedisPort + '. Install one of:');
    say('  Debian/Ubuntu: sudo apt-get install redis-server');
    say('  macOS:         brew install redis');
    say('  Docker:        docker run -d -p 6379:6379 valkey/valkey');
    say('or point REDIS_URL at a Redis you have, then run npm start again.');
    process.exit(1);
  }
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // Its own process group: Ctrl-C reaches the apps first, and Redis is stopped after they drain.
  const redis = spawn('redis-server', ['--port', String(devRedisPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], {
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  redisChild = redis;
  redis.on('exit', (code) => {
    if (!stopping) {
      say(`redis-server exited (${code}); stopping the stack`);
      void stop(1);
    }
  });
  for (let i = 0; i < 100; i++) {
    if (await ping('127.0.0.1', devRedisPort)) {
      say(`started a private redis-server on 127.0.0.1:${devRedisPort} (files in ${dir})`);
      return url;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`redis-server did not answer on port ${devRedisPort}; is the port taken? set DEV_REDIS_PORT or REDIS_URL`);
  await stop(1);
}

let stopping = false;
let redisChild;
const exited = (child) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));

/** Stops the apps first (workers finish their active jobs), then the private Redis, then exits. */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.race([Promise.all(children.map(exited)), new Promise((r) => setTimeout(r, 60_000).unref())]);
  if (redisChild && redisChild.exitCode === null) {
    redisChild.kill('SIGTERM');
    await exited(redisChild);
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

const redisUrl = await ensureRedis();
const env = { ...process.env, REDIS_URL: redisUrl, DATA_DIR: dataDir, PORT: port, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const tsx = path.join(root, 'node_modules/.bin/tsx');

const cli = (args, options = {}) =>
  spawnSync(tsx, ['--tsconfig', 'tsconfig.base.json', 'apps/ingest-cli/src/main.ts', ...args], { cwd: root, env, ...options });

/** A collection of DATA_DIR built with another embedder (an older version of the local one) refuses writes and vector search. */
const builtWithAnother = (run) => run.status !== 0 && /was built with the embedder/.test(run.stderr ?? '');
/** Collections to rebuild with the current embedder once the workers run (rag-ingest reindex). */
const stale = [];

say('loading the sample collection');
let ingest = cli(['tools/dev-stack/sample-docs', '--collection', 'sample', '--no-progress'], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
if (builtWithAnother(ingest)) {
  stale.push('sample');
  ingest = { status: 0 };
} else process.stderr.write(ingest.stderr ?? '');
// The original service had one collection and its clients never name one: questions without a
// collection go to DEFAULT_COLLECTION, so on a fresh stack it starts with the sample documents.
// Only while it does not exist: documents a user removed from it are not brought back.
const defaultCollection = process.env.DEFAULT_COLLECTION || 'default';
if (ingest.status === 0) {
  const listed = cli(['list', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const collections = listed.status === 0 ? JSON.parse(listed.stdout) : undefined;
  if (!collections) ingest = listed;
  else if (!collections.includes(defaultCollection)) {
    say(`seeding the default collection "${defaultCollection}" (questions that name no collection) with the sample documents`);
    ingest = cli(['tools/dev-stack/sample-docs', '--collection', defaultCollection, '--no-progress'], { stdio: 'inherit' });
  } else if (stale.length > 0) {
    // Made by the same older version as the sample, most likely: a vector search says.
    const probe = cli(['search', 'probe', '--collection', defaultCollection, '--mode', 'vector', '--json'], { encoding: 'utf8' });
    if (builtWithAnother(probe)) stale.push(defaultCollection);
  }
}
let devKey = '';
if (ingest.status === 0) {
  const keyRun = cli(['keys', 'dev-key'], { encoding: 'utf8' });
  devKey = keyRun.status === 0 ? keyRun.stdout.trim() : '';
  if (!devKey) {
    process.stderr.write(keyRun.stderr ?? '');
    say('creating the dev API key failed; see the message above');
    await stop(1);
  }
}
if (ingest.status !== 0) {
  say('loading the sample collection failed; see the message above');
  await stop(1);
} else if (devKey) {
  const nx = spawn(path.join(root, 'node_modules/.bin/nx'), ['run-many', '-t', 'serve', '-p', 'api-gateway', 'rag-worker', '--outputStyle=stream'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  children.push(nx);
  nx.on('exit', (code) => {
    if (!stopping) void stop(code ?? 1);
  });
  for (const name of stale) {
    say(
      `collection "${name}" was built with an older embedder; rebuilding it with the current one through the workers (rag-ingest reindex --collection ${name})`,
    );
    const reindex = spawn(tsx, ['--tsconfig', 'tsconfig.base.json', 'apps/ingest-cli/src/main.ts', 'reindex', '--collection', name, '--no-progress'], {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    children.push(reindex);
    reindex.on('exit', (code) => {
      if (stopping) return;
      if (code === 0) say(`collection "${name}" rebuilt with the current embedder`);
      else say(`rebuilding collection "${name}" failed (see above); run: npm run ingest -- reindex --collection ${name}`);
    });
  }
  say(`gateway on http://127.0.0.1:${port} with two workers`);
  say(`dev API key (tenant default, scopes query,ingest,admin,operator; kept in ${path.join(dataDir, 'dev-api-key')}): ${devKey}`);
  say(`chat page: open http://127.0.0.1:${port} in a browser and sign in with the dev key above`);
  say('or from a terminal:');
  say(`  export RAG_KEY=${devKey}`);
  say(
    `  curl -s -X POST localhost:${port}/v1/chat -H "authorization: Bearer $RAG_KEY" -H 'content-type: application/json' -d '{"query":"How many vacation days do new employees get?","collection":"sample"}'`,
  );
  say(`  curl -s -H "authorization: Bearer $RAG_KEY" "localhost:${port}/v1/jobs/<job_id>?wait=10"`);
  say(`questions that name no collection go to "${defaultCollection}", e.g. the original service's path:`);
  say(`  curl -s -X POST "localhost:${port}/chat?query=How%20many%20vacation%20days%20do%20new%20employees%20get%3F" -H "authorization: Bearer $RAG_KEY"`);
}
