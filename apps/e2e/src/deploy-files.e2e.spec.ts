import { EnvSchema, loadConfig } from '@rag/config';
import { QueueName } from '@rag/queue-contracts';
import { WORKSPACE_ROOT, freePort, startApp, startRedis, tempDir, type AppProcess, type PrivateRedis, type TempDir } from '@rag/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

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
