import { EnvSchema, loadConfig } from '@rag/config';
import { QueueName } from '@rag/queue-contracts';
import { WORKSPACE_ROOT, askRedis, freePort, startApp, startRedis, tempDir, waitForPing, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { YAMLMap, parse, parseAllDocuments } from 'yaml';

/* eslint-disable @typescript-eslint/no-explicit-any -- YAML documents are untyped; every field read is checked */

const DOCKER = path.join(WORKSPACE_ROOT, 'docker');
const SETTINGS = new Set(Object.keys(new EnvSchema()));
const read = (file: string) => fs.readFileSync(path.join(DOCKER, file), 'utf8');
const k8sDocs = (): any[] =>
  fs
    .readdirSync(path.join(DOCKER, 'k8s'))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(read(`k8s/${f}`)).map((d) => ({ ...(d.toJS() as object), file: f })));
const ofKind = (docs: any[], kind: string, name?: string) => docs.filter((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
/** The Dockerfile's ENTRYPOINT as an array. */
const entrypoint = (app: string) => JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(read(`${app}.Dockerfile`))?.[1] ?? 'null') as string[];

// Compose files as `docker compose -f compose.yaml -f <override>` reads them: `<<:` merges, `!override` replaces
// the value of compose.yaml instead of merging with it, mappings (environment, depends_on) merge key by key, and
// anything else (command, profiles) is replaced. `${NAME:-default}`, `${NAME:?error}` and `$$` as Compose
// interpolates them from the shell's `env`.
const REPLACE = Symbol('!override');
class OverrideMap extends YAMLMap {
  override toJSON(...args: Parameters<YAMLMap['toJSON']>) {
    return Object.assign(super.toJSON(...args), { [REPLACE]: true });
  }
}
const readCompose = (file: string): any =>
  parse(read(file), { merge: true, customTags: [{ tag: '!override', collection: 'map', nodeClass: OverrideMap, resolve: (map: any) => map }] });
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const mergeCompose = (base: any, over: any): any =>
  isMap(base) && isMap(over) && !(REPLACE in over)
    ? Object.fromEntries([...new Set([...Object.keys(base), ...Object.keys(over)])].map((k) => [k, k in over ? mergeCompose(base[k], over[k]) : base[k]]))
    : over;
const interpolate = (value: string, env: Record<string, string>) =>
  value.replace(/\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name?: string, kind?: string, word = '') => {
    if (name === undefined) return '$';
    if (env[name]) return env[name];
    if (kind === '?') throw new Error(`compose would stop: ${name} is not set (${word})`);
    return kind === '-' ? word : '';
  });

const run = promisify(execFile);

/**
 * Runs services of a merged compose file on this machine as their containers would: the same command
 * (valkey-server and valkey-cli as the installed redis-server and redis-cli, Redis 7 like Valkey 8), in a folder
 * of its own as its /data, with its `configs` written there. Every service name in a command or config becomes
 * `localhost` (a name still to resolve, as in the compose network) and the service's port its own free loopback
 * port; the servers listen on 127.0.0.1 only.
 */
async function localServices(merged: any, names: string[]) {
  const folder = tempDir('rag-compose-');
  const ports: Record<string, number> = {};
  for (const name of names) ports[name] = await freePort();
  const services = [...names].sort((a, b) => b.length - a.length).join('|');
  const started: ChildProcess[] = [];
  const prepare = (name: string) => {
    const dir = path.join(folder.path, name);
    fs.mkdirSync(path.join(dir, 'configs'), { recursive: true });
    const paths: [string, string][] = [];
    const rewrite = (text: string) => {
      let out = text
        .replace(/valkey-(server|cli)/g, 'redis-$1')
        .replace(new RegExp(`(?<![\\w-])(${services})([: \\0])\\d+(?!\\d)`, 'g'), (_, host: string, sep: string) => `localhost${sep}${ports[host]}`)
        .replace(/^port \d+$/m, `port ${ports[name]}\nbind 127.0.0.1`)
        .replace(new RegExp(`(?<![\\w/.-])(${services})(?![\\w-])`, 'g'), 'localhost');
      for (const [from, to] of paths) out = out.replaceAll(from, to);
      return out;
    };
    const service = merged.services[name];
    for (const { source, target } of service.configs ?? []) {
      const file = path.join(dir, 'configs', path.basename(target));
      fs.writeFileSync(file, rewrite(merged.configs[source].content));
      paths.push([target, file]);
    }
    paths.push(['/data', dir]);
    const command = rewrite((service.command as string[]).map((a) => interpolate(a, {})).join('\0')).split('\0');
    if (command[0] === 'redis-server') command.push('--port', String(ports[name]), '--bind', '127.0.0.1');
    return { command, dir };
  };
  return {
    ports,
    /** Starts a server and resolves once it answers PING. */
    async start(name: string) {
      const { command, dir } = prepare(name);
      const child = spawn(command[0], command.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(child);
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      await waitForPing(ports[name], 10_000, () => output);
    },
    /** Runs a one-shot service to its end; rejects when it fails. */
    async run(name: string) {
      const { command, dir } = prepare(name);
      // The error says the command and its stderr; the output says how far it got.
      await run(command[0], command.slice(1), { cwd: dir, timeout: 20_000 }).catch((e: Error & { stdout: string }) => {
        throw new Error(`${e.message}\n${e.stdout}`);
      });
    },
    async stop() {
      await Promise.all(
        started.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r).kill('SIGKILL')) : undefined)),
      );
      folder.remove();
    },
  };
}

/** Asks until `done` holds of the answer or 10 s have passed; returns the last answer. */
async function settle<T>(ask: () => Promise<T>, done: (answer: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  let answer = await ask();
  while (!done(answer) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    answer = await ask();
  }
  return answer;
}

// docker/compose.yaml and docker/k8s/*.yaml parsed and checked against what
// the apps really read and serve: every environment name is a setting in
// libs/config, every image's command is its Dockerfile's entrypoint, and
// every probe path and port answers on the real apps.
describe('deployment files', () => {
  // merge: compose's `<<: *app-env` as docker compose reads it.
  const compose = parse(read('compose.yaml'), { merge: true }) as any;
  const docs = k8sDocs();

  it('compose: Valkey with AOF, Qdrant with a volume, the three apps built from their Dockerfiles, scalable workers', () => {
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(['api-gateway', 'ingest-cli', 'qdrant', 'rag-worker', 'valkey']);
    expect(services.valkey.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(services.valkey.volumes[0]).toMatch(/^valkey-data:\/data$/);
    expect(services.qdrant.volumes[0]).toMatch(/^qdrant-data:\/qdrant\/storage$/);
    for (const app of ['api-gateway', 'rag-worker', 'ingest-cli']) {
      expect(fs.existsSync(path.join(DOCKER, '..', services[app].build.dockerfile))).toBe(true);
      expect(services[app].image).toBe(`rag/${app}:latest`);
    }
    // Scaling with --scale needs a worker without a published port.
    expect(services['rag-worker'].ports).toBeUndefined();
    expect(services['ingest-cli'].profiles).toEqual(['tools']);
    expect(services['api-gateway'].ports).toEqual(['3000:3000']);
    expect(services['api-gateway'].environment.PORT).toBe('3000');
    // Production backends, reachable by service name.
    const env = services['rag-worker'].environment;
    expect(env).toMatchObject({
      VECTOR_STORE: 'qdrant',
      QDRANT_URL: 'http://qdrant:6333',
      REDIS_URL: 'redis://valkey:6379',
      EMBEDDINGS: 'openai',
      LLM: 'openai',
    });
  });

  it('compose and k8s set only environment names that libs/config reads', () => {
    const names = new Set<string>();
    for (const app of ['api-gateway', 'rag-worker', 'ingest-cli']) Object.keys(compose.services[app].environment).forEach((n) => names.add(n));
    for (const cm of ofKind(docs, 'ConfigMap')) Object.keys(cm.data).forEach((n) => names.add(n));
    for (const secret of ofKind(docs, 'Secret')) Object.keys(secret.stringData).forEach((n) => names.add(n));
    for (const deployment of ofKind(docs, 'Deployment'))
      for (const c of deployment.spec.template.spec.containers) for (const e of c.env ?? []) names.add(e.name);
    expect(names.size).toBeGreaterThan(15);
    expect([...names].filter((n) => !SETTINGS.has(n))).toEqual([]);
  });

  it('k8s: deployments run their Dockerfile entrypoint, non-root, with requests, probes, PDBs, an HPA for the gateway and KEDA for workers', () => {
    for (const app of ['api-gateway', 'rag-worker']) {
      const [deployment] = ofKind(docs, 'Deployment', app);
      const pod = deployment.spec.template;
      expect(pod.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
      const [container] = pod.spec.containers;
      expect(container.image).toBe(`rag/${app}:latest`);
      expect(container.command).toEqual(entrypoint(app));
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      const [pdb] = ofKind(docs, 'PodDisruptionBudget', app);
      expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    }
    const [hpa] = ofKind(docs, 'HorizontalPodAutoscaler', 'api-gateway');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'api-gateway' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const [scaled] = ofKind(docs, 'ScaledObject', 'rag-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe('rag-worker');
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
    // The lists KEDA watches are the ones Bull keeps waiting jobs in: <QUEUE_PREFIX>:<queue>:wait.
    const prefix = ofKind(docs, 'ConfigMap', 'rag-config')[0].data.QUEUE_PREFIX;
    expect(scaled.spec.triggers.map((t: any) => [t.type, t.metadata.listName])).toEqual([
      ['redis', `${prefix}:${QueueName.Query}:wait`],
      ['redis', `${prefix}:${QueueName.Ingest}:wait`],
    ]);
    // Workers get longer than JOB_TIMEOUT_MS to finish their jobs on SIGTERM.
    const timeoutMs = Number(ofKind(docs, 'ConfigMap', 'rag-config')[0].data.JOB_TIMEOUT_MS);
    expect(ofKind(docs, 'Deployment', 'rag-worker')[0].spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(timeoutMs);
    const kustomized = (parse(read('k8s/kustomization.yaml')) as any).resources as string[];
    expect(kustomized.sort()).toEqual([...new Set(docs.map((d) => d.file))].sort());
  });

  // The overlays patch the ConfigMap and KEDA's triggers; what they give the apps must load (a Cluster's prefix
  // needs a hash tag), and KEDA must watch the same Redis and the lists under the same prefix.
  it.each([
    ['redis-cluster', 'redis-cluster', 'REDIS_CLUSTER_NODES'],
    ['redis-sentinel', 'redis-sentinel', 'REDIS_SENTINELS'],
  ])('k8s/%s: the settings load, and KEDA (%s) reads the waiting lists under the same prefix from the same nodes', (overlay, trigger, nodes) => {
    const kustomization = parse(read(`k8s/${overlay}/kustomization.yaml`)) as any;
    expect(kustomization.resources).toEqual(['..']);
    const patches = (kustomization.patches as { path: string }[]).map((p) => parse(read(`k8s/${overlay}/${p.path}`)) as any);
    const [base] = ofKind(docs, 'ConfigMap', 'rag-config');
    const data = { ...base.data, ...ofKind(patches, 'ConfigMap', 'rag-config')[0].data };
    expect(Object.keys(data).filter((n) => !SETTINGS.has(n))).toEqual([]);
    const config = loadConfig({ ...data, OPENAI_API_KEY: 'sk-test' });
    expect(config[nodes as 'REDIS_CLUSTER_NODES' | 'REDIS_SENTINELS']).not.toBe('');
    const [scaled] = ofKind(patches, 'ScaledObject', 'rag-worker');
    const [baseScaled] = ofKind(docs, 'ScaledObject', 'rag-worker');
    expect(scaled.spec.triggers.map((t: any) => [t.type, t.metadata.listName, t.metadata.listLength])).toEqual(
      baseScaled.spec.triggers.map((t: any) => [trigger, t.metadata.listName.replace(/^[^:]+/, config.QUEUE_PREFIX), t.metadata.listLength]),
    );
    for (const t of scaled.spec.triggers) {
      expect(t.metadata.addresses).toBe(data[nodes]);
      if (trigger === 'redis-sentinel') expect(t.metadata.sentinelMaster).toBe(config.REDIS_SENTINEL_NAME);
    }
  });

  // docker compose -f docker/compose.yaml -f docker/compose.<variant>.yaml: what the apps get must load (a Cluster's
  // prefix needs a hash tag) and name the Redis services that run; the apps start after those.
  const variant = (name: string) => mergeCompose(compose, readCompose(`compose.${name}.yaml`));
  const shell = { OPENAI_API_KEY: 'sk-test', API_KEYS: `acme:query+ingest:${'k'.repeat(40)}` };

  it.each([
    ['redis-cluster', 'REDIS_CLUSTER_NODES'],
    ['redis-sentinel', 'REDIS_SENTINELS'],
  ] as const)('compose.%s.yaml: the apps load their merged settings (%s), which name services that run, and start after them', (name, nodes) => {
    const merged = variant(name);
    // What `up` starts, and the CLI (profile `tools`, for `run`); not the `valkey` server a variant puts aside.
    const running = Object.keys(merged.services).filter((s) => (merged.services[s].profiles ?? ['tools']).includes('tools'));
    expect(running).toEqual(expect.arrayContaining(['api-gateway', 'rag-worker', 'ingest-cli', 'qdrant']));
    for (const app of ['api-gateway', 'rag-worker', 'ingest-cli']) {
      const env = Object.fromEntries(Object.entries(merged.services[app].environment).map(([k, v]) => [k, interpolate(String(v), shell)]));
      expect(Object.keys(env).filter((n) => !SETTINGS.has(n))).toEqual([]);
      const config = loadConfig(env);
      const hosts = config[nodes].split(',').map((address) => address.split(':')[0]);
      expect(hosts.length).toBeGreaterThanOrEqual(3);
      expect(hosts.filter((h) => !running.includes(h))).toEqual([]);
      const dependsOn = merged.services[app].depends_on;
      expect(Object.keys(dependsOn).filter((s) => !running.includes(s))).toEqual([]);
      expect(Object.keys(dependsOn)).toEqual(expect.arrayContaining(name === 'redis-cluster' ? ['valkey-cluster-init'] : hosts));
      if (name === 'redis-cluster') {
        expect(dependsOn['valkey-cluster-init'].condition).toBe('service_completed_successfully');
        // Without the hash tag the apps would refuse to start.
        expect(() => loadConfig({ ...env, QUEUE_PREFIX: 'rag' })).toThrow(/QUEUE_PREFIX/);
      } else {
        expect(merged.configs['valkey-sentinel'].content).toContain(`sentinel monitor ${config.REDIS_SENTINEL_NAME} valkey 6379 `);
      }
    }
    // Every service runs the image of compose.yaml's Redis, or is one of the apps or Qdrant.
    const images = new Set(running.map((s) => merged.services[s].image));
    expect([...images].sort()).toEqual(
      [compose.services.valkey.image, 'qdrant/qdrant:v1.19.0', ...['api-gateway', 'ingest-cli', 'rag-worker'].map((a) => `rag/${a}:latest`)].sort(),
    );
  });

  // The servers' commands and configs, and the init script, run here: their option names and values are right.
  it('compose.redis-cluster.yaml: six nodes started with their commands become a cluster of 3 masters and 3 replicas through the init service', async () => {
    const merged = variant('redis-cluster');
    const nodes = Object.keys(merged.services).filter((s) => /^valkey-\d$/.test(s));
    expect(nodes).toHaveLength(6);
    const local = await localServices(merged, [...nodes, 'valkey-cluster-init']);
    try {
      await Promise.all(nodes.map((n) => local.start(n)));
      await local.run('valkey-cluster-init');
      // A later `up`: the nodes are a cluster already, the script only waits for it.
      await local.run('valkey-cluster-init');
      // Every node learns of the others by gossip, soon after the first one is ready.
      const state = (info: string) => ['cluster_state', 'cluster_size', 'cluster_known_nodes'].map((f) => new RegExp(`${f}:(\\w+)`).exec(info)?.[1]);
      const states = await settle(
        () => Promise.all(nodes.map(async (n) => state(String(await askRedis(local.ports[n], 'CLUSTER', 'INFO'))))),
        (all) => all.every((s) => s.join() === 'ok,3,6'),
      );
      expect(states).toEqual(nodes.map(() => ['ok', '3', '6']));
      for (const n of nodes) expect(await askRedis(local.ports[n], 'CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      // Clients are sent to nodes by the name each announces (its service name in the compose network).
      const slots = (await askRedis(local.ports[nodes[0]], 'CLUSTER', 'SLOTS')) as [number, number, ...[string, number][]][];
      expect(new Set(slots.flatMap(([, , ...owners]) => owners.map(([host]) => host)))).toEqual(new Set(['localhost']));
    } finally {
      await local.stop();
    }
  });

  it('compose.redis-sentinel.yaml: master, replica and three sentinels started with their commands agree on the master and can fail over', async () => {
    const merged = variant('redis-sentinel');
    const sentinels = ['sentinel-1', 'sentinel-2', 'sentinel-3'];
    const name = merged.services['rag-worker'].environment.REDIS_SENTINEL_NAME as string;
    const local = await localServices(merged, ['valkey', 'valkey-replica', ...sentinels]);
    try {
      await local.start('valkey');
      await local.start('valkey-replica');
      await Promise.all(sentinels.map((s) => local.start(s)));
      const replication = String(await askRedis(local.ports['valkey-replica'], 'INFO', 'replication'));
      expect(replication).toContain('role:slave');
      expect(replication).toContain(`master_port:${local.ports.valkey}`);
      // The sentinels find each other through the master; then each can authorize a failover (a quorum of 3).
      const answers = await settle(
        () => Promise.all(sentinels.map((s) => askRedis(local.ports[s], 'SENTINEL', 'CKQUORUM', name).catch((e: Error) => e.message))),
        (all) => all.every((a) => String(a).startsWith('OK 3 usable')),
      );
      expect(answers.map(String)).toEqual(sentinels.map(() => expect.stringMatching(/^OK 3 usable Sentinels/)));
      for (const s of sentinels)
        expect(await askRedis(local.ports[s], 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)).toEqual(['localhost', String(local.ports.valkey)]);
      // Both servers refuse writes without a replica (the replica once promoted): with its replica the master takes
      // them; without it, NOREPLICAS (a 503 for the gateway), not a write that a failover would throw away.
      for (const server of ['valkey', 'valkey-replica'])
        expect(await askRedis(local.ports[server], 'CONFIG', 'GET', 'min-replicas-to-write')).toEqual(['min-replicas-to-write', '1']);
      // The replica counts once it has acknowledged the master's stream (it does every second).
      const taken = await settle(
        () => askRedis(local.ports.valkey, 'SET', 'probe', '1').catch((e: Error) => e.message),
        (answer) => answer === 'OK',
      );
      expect(taken).toBe('OK');
      // The replica leaves (as when cut off from its master).
      await askRedis(local.ports['valkey-replica'], 'REPLICAOF', 'NO', 'ONE');
      const refused = await settle(
        () => askRedis(local.ports.valkey, 'SET', 'probe', '2').then(String, (e: Error) => e.message),
        (answer) => answer.startsWith('NOREPLICAS'),
      );
      expect(refused).toMatch(/^NOREPLICAS/);
    } finally {
      await local.stop();
    }
  });

  describe('probe paths and ports answer on the real apps', () => {
    let redis: PrivateRedis;
    let data: TempDir;
    const started: AppProcess[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      data = tempDir('rag-deploy-');
    });

    afterAll(async () => {
      await Promise.all(started.map((p) => p.stop('SIGKILL')));
      await redis?.stop();
      data?.remove();
    });

    it.each(['api-gateway', 'rag-worker'])('%s: every probe and scrape path in its Deployment answers 200 on the port its env sets', async (app) => {
      const [deployment] = ofKind(docs, 'Deployment', app);
      const [container] = deployment.spec.template.spec.containers;
      const ports = Object.fromEntries(container.ports.map((p: any) => [p.name, p.containerPort]));
      const env = Object.fromEntries((container.env ?? []).filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
      // The container's port comes from the setting the app reads.
      const portSetting = app === 'api-gateway' ? 'PORT' : 'WORKER_METRICS_PORT';
      expect(Number(env[portSetting])).toBe(Object.values(ports)[0]);
      expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(Object.values(ports)[0]));
      // Run it here on a free port (the same setting), loopback only.
      const local = await freePort();
      const process = startApp(`apps/${app}/src/main.ts`, {
        REDIS_URL: redis.url,
        DATA_DIR: path.join(data.path, app),
        NODE_ENV: 'test',
        [portSetting]: String(local),
        ...(app === 'rag-worker' ? { WORKER_METRICS_HOST: '127.0.0.1' } : {}),
      });
      started.push(process);
      await process.waitForLog((l) => l.message === (app === 'api-gateway' ? 'listening' : 'metrics listening'));
      const paths = [
        container.readinessProbe.httpGet.path,
        container.livenessProbe.httpGet.path,
        deployment.spec.template.metadata.annotations['prometheus.io/path'],
      ];
      expect(paths).toEqual(['/readyz', '/healthz', '/metrics']);
      for (const p of paths) expect([p, (await fetch(`http://127.0.0.1:${local}${p}`)).status]).toEqual([p, 200]);
    });
  });
});
