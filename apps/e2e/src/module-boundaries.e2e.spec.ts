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

  it('forbids an app importing another app', async () => {
    const found = await violations(
      'apps/api-gateway/src/probe.ts',
      "import { queryProcessor } from '../../rag-worker/src/query.processor';\nexport const x = queryProcessor;\n",
    );
    expect(found.join('\n')).toContain('@nx/enforce-module-boundaries: Projects cannot be imported by a relative or absolute path');
  });

  it('forbids deep imports into a lib', async () => {
    const found = await violations('apps/rag-worker/src/probe.ts', "import { EnvSchema } from '@rag/config/src/env.schema';\nexport const x = EnvSchema;\n");
    expect(found.join('\n')).toContain('Import a lib only through its root entry');
  });

  it('forbids queue-contracts from depending on other libs or packages', async () => {
    const found = await violations(
      'libs/queue-contracts/src/probe.ts',
      "import Bull from 'bull';\nimport { createLogger } from '@rag/observability';\nexport const x = [Bull, createLogger];\n",
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('is not allowed to import "bull"'),
        expect.stringContaining('tagged with "layer:contracts" can only depend on libs tagged with "layer:core"'),
      ]),
    );
  });

  it('lets a lib depend only on the layers below it', async () => {
    // Probes pick imports that close no cycle (Nx reports a cycle in place of the layer).
    const foundationOnClient = await violations(
      'libs/observability/src/probe.ts',
      "import { Authenticator } from '@rag/auth';\nexport const x = Authenticator;\n",
    );
    expect(foundationOnClient.join('\n')).toContain('tagged with "layer:foundation" can only depend on libs tagged with "layer:core", "layer:contracts"');
    const foundationOnFoundation = await violations(
      'libs/observability/src/probe.ts',
      "import { loadConfig } from '@rag/config';\nexport const x = loadConfig;\n",
    );
    expect(foundationOnFoundation.join('\n')).toContain('tagged with "layer:foundation" can only depend on libs tagged with "layer:core", "layer:contracts"');
    const clientOnClient = await violations(
      'libs/auth/src/probe.ts',
      "import { buildGroundedPrompt } from '@rag/llm-client';\nexport const x = buildGroundedPrompt;\n",
    );
    expect(clientOnClient.join('\n')).toContain(
      'tagged with "layer:clients" can only depend on libs tagged with "layer:core", "layer:contracts", "layer:foundation"',
    );
    const domainOnBelow = await violations(
      'libs/retrieval/src/probe.ts',
      "import { isPermanent } from '@rag/core';\nimport { loadConfig } from '@rag/config';\nimport { buildGroundedPrompt } from '@rag/llm-client';\nexport const x = [isPermanent, loadConfig, buildGroundedPrompt];\n",
    );
    expect(domainOnBelow).toEqual([]);
  });

  it('refuses a foundation lib importing a domain lib', async () => {
    // The domain libs use every foundation lib, so such an import also closes a
    // cycle, which Nx reports in place of the layer when the edge back exists.
    const found = await violations('libs/observability/src/probe.ts', "import { answerQuestion } from '@rag/retrieval';\nexport const x = answerQuestion;\n");
    expect(found).toEqual([
      expect.stringMatching(
        /^@nx\/enforce-module-boundaries: (A project tagged with "layer:foundation" can only depend on libs tagged with "layer:core", "layer:contracts"|Circular dependency between "observability" and "retrieval")/,
      ),
    ]);
  });

  it('keeps the domain libs independent of each other', async () => {
    const jobsOnRetrieval = await violations('libs/jobs/src/probe.ts', "import { answerQuestion } from '@rag/retrieval';\nexport const x = answerQuestion;\n");
    expect(jobsOnRetrieval.join('\n')).toContain(
      'tagged with "layer:domain" can only depend on libs tagged with "layer:core", "layer:contracts", "layer:foundation", "layer:clients"',
    );
    const retrievalOnJobs = await violations(
      'libs/retrieval/src/probe.ts',
      "import { openDeadLetters } from '@rag/jobs';\nexport const x = openDeadLetters;\n",
    );
    expect(retrievalOnJobs.join('\n')).toContain(
      'tagged with "layer:domain" can only depend on libs tagged with "layer:core", "layer:contracts", "layer:foundation", "layer:clients"',
    );
  });

  it('allows an app to import libs through their root entries', async () => {
    const allowed = await violations(
      'apps/api-gateway/src/probe.ts',
      "import { loadConfig } from '@rag/config';\nimport { QueueName } from '@rag/queue-contracts';\nexport const x = [loadConfig, QueueName];\n",
    );
    expect(allowed).toEqual([]);
  });

  it('keeps test helpers out of app and lib sources', async () => {
    const found = await violations('libs/retrieval/src/probe.ts', "import { startRedis } from '@rag/testing';\nexport const x = startRedis;\n");
    expect(found.join('\n')).toContain('Test helpers are for *.spec.ts files only');
    const inSpec = await violations('libs/retrieval/src/probe.int.spec.ts', "import { startRedis } from '@rag/testing';\nexport const x = startRedis;\n");
    expect(inSpec).toEqual([]);
  });
});
