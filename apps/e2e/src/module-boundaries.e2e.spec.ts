import { WORKSPACE_ROOT } from '@rag/testing';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

interface EslintResult {
  messages: { ruleId: string | null; message: string }[];
}

// The lint rules must really forbid the wrong edges: each case runs the real
// eslint CLI on a source text as if it stood in the named file.
describe('module boundaries', () => {
  const violations = async (file: string, code: string) => {
    const run = spawnSync(
      process.execPath,
      [path.join(WORKSPACE_ROOT, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', '--stdin', '--stdin-filename', path.join(WORKSPACE_ROOT, file)],
      { cwd: WORKSPACE_ROOT, input: code, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } },
    );
    if (!run.stdout.trim().startsWith('[')) throw new Error(`eslint did not run: ${run.stderr}`);
    const [result] = JSON.parse(run.stdout) as EslintResult[];
    return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  /** Source text that imports each `[name, module]` and uses the names. */
  const importing = (...imports: [name: string, from: string][]) => {
    const names = imports.map(([name]) => name);
    const used = names.length === 1 ? names[0] : `[${names.join(', ')}]`;
    return `${imports.map(([name, from]) => `import { ${name} } from '${from}';\n`).join('')}export const x = ${used};\n`;
  };
  const LAYERS = ['core', 'contracts', 'foundation', 'clients', 'domain'];
  /** What the boundary rule says of a lib of `layer` that imports one of its own layer or above. */
  const onlyBelow = (layer: string) =>
    `tagged with "layer:${layer}" can only depend on libs tagged with ${LAYERS.slice(0, LAYERS.indexOf(layer))
      .map((l) => `"layer:${l}"`)
      .join(', ')}`;

  it('forbids an app importing another app', async () => {
    const found = await violations('apps/api-gateway/src/probe.ts', importing(['queryProcessor', '../../rag-worker/src/query.processor']));
    expect(found.join('\n')).toContain('@nx/enforce-module-boundaries: Projects cannot be imported by a relative or absolute path');
  });

  it('forbids deep imports into a lib', async () => {
    const found = await violations('apps/rag-worker/src/probe.ts', importing(['EnvSchema', '@rag/config/src/env.schema']));
    expect(found.join('\n')).toContain('Import a lib only through its root entry');
  });

  it('forbids queue-contracts from depending on other libs or packages', async () => {
    const found = await violations(
      'libs/queue-contracts/src/probe.ts',
      "import Bull from 'bull';\nimport { createLogger } from '@rag/observability';\nexport const x = [Bull, createLogger];\n",
    );
    expect(found).toEqual(
      expect.arrayContaining([expect.stringContaining('is not allowed to import "bull"'), expect.stringContaining(onlyBelow('contracts'))]),
    );
  });

  it('lets a lib depend only on the layers below it', async () => {
    // Probes pick imports that close no cycle (Nx reports a cycle in place of the layer).
    const foundationOnClient = await violations('libs/observability/src/probe.ts', importing(['Authenticator', '@rag/auth']));
    expect(foundationOnClient.join('\n')).toContain(onlyBelow('foundation'));
    const foundationOnFoundation = await violations('libs/observability/src/probe.ts', importing(['loadConfig', '@rag/config']));
    expect(foundationOnFoundation.join('\n')).toContain(onlyBelow('foundation'));
    const clientOnClient = await violations('libs/auth/src/probe.ts', importing(['buildGroundedPrompt', '@rag/llm-client']));
    expect(clientOnClient.join('\n')).toContain(onlyBelow('clients'));
    const domainOnBelow = await violations(
      'libs/retrieval/src/probe.ts',
      importing(['isPermanent', '@rag/core'], ['loadConfig', '@rag/config'], ['buildGroundedPrompt', '@rag/llm-client']),
    );
    expect(domainOnBelow).toEqual([]);
  });

  it('refuses a foundation lib importing a domain lib', async () => {
    // The domain libs use every foundation lib, so such an import also closes a
    // cycle, which Nx reports in place of the layer when the edge back exists.
    const found = await violations('libs/observability/src/probe.ts', importing(['answerQuestion', '@rag/retrieval']));
    expect(found).toEqual([
      expect.stringMatching(
        /^@nx\/enforce-module-boundaries: (A project tagged with "layer:foundation" can only depend on libs tagged with "layer:core", "layer:contracts"|Circular dependency between "observability" and "retrieval")/,
      ),
    ]);
  });

  it('keeps the domain libs independent of each other', async () => {
    const jobsOnRetrieval = await violations('libs/jobs/src/probe.ts', importing(['answerQuestion', '@rag/retrieval']));
    expect(jobsOnRetrieval.join('\n')).toContain(onlyBelow('domain'));
    const retrievalOnJobs = await violations('libs/retrieval/src/probe.ts', importing(['openDeadLetters', '@rag/jobs']));
    expect(retrievalOnJobs.join('\n')).toContain(onlyBelow('domain'));
  });

  it('allows an app to import libs through their root entries', async () => {
    const allowed = await violations('apps/api-gateway/src/probe.ts', importing(['loadConfig', '@rag/config'], ['QueueName', '@rag/queue-contracts']));
    expect(allowed).toEqual([]);
  });

  it('keeps test helpers out of app and lib sources', async () => {
    const found = await violations('libs/retrieval/src/probe.ts', importing(['startRedis', '@rag/testing']));
    expect(found.join('\n')).toContain('Test helpers are for *.spec.ts files only');
    const inSpec = await violations('libs/retrieval/src/probe.int.spec.ts', importing(['startRedis', '@rag/testing']));
    expect(inSpec).toEqual([]);
  });
});
