import nx from '@nx/eslint-plugin';

// Module boundaries are the architecture: apps depend on libs only, libs never
// on apps, each lib only on the layers below it, queue-contracts on nothing but
// @rag/core and its validation packages, and every lib is imported through its
// root entry (`@rag/<lib>`), never a deep path.
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/coverage', 'reports', 'data', 'tmp', '.nx', '**/jest*.config.js', 'jest.preset.js'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
            // The libs in layers, each depending only on the layers below it:
            // core (the error taxonomy, text, resilience) < contracts (the queue's
            // wire format and its naming rules) < foundation (config, observability)
            // < clients (auth, llm-client) < domain (retrieval, jobs). No lib imports
            // another of its own layer, so retrieval and jobs stay independent of
            // each other.
            { sourceTag: 'layer:core', onlyDependOnLibsWithTags: ['type:testing'] },
            { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: ['layer:core', 'type:testing'] },
            { sourceTag: 'layer:foundation', onlyDependOnLibsWithTags: ['layer:core', 'layer:contracts', 'type:testing'] },
            { sourceTag: 'layer:clients', onlyDependOnLibsWithTags: ['layer:core', 'layer:contracts', 'layer:foundation', 'type:testing'] },
            { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:core', 'layer:contracts', 'layer:foundation', 'layer:clients', 'type:testing'] },
            // The queue's wire format: no runtime dependencies beyond validation.
            { sourceTag: 'scope:contracts', allowedExternalImports: ['class-validator', 'class-transformer', 'reflect-metadata'] },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@rag/*/*'], message: 'Import a lib only through its root entry, e.g. @rag/retrieval.' },
            { group: ['**/apps/*', '../../apps/**', '../../../apps/**'], message: 'Apps never import apps: move shared code into a lib.' },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Test helpers (private redis-server, fake servers) are for tests only.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.spec-helper.ts', 'apps/e2e/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@rag/*/*'], message: 'Import a lib only through its root entry, e.g. @rag/retrieval.' },
            { group: ['**/apps/*', '../../apps/**', '../../../apps/**'], message: 'Apps never import apps: move shared code into a lib.' },
            { group: ['@rag/testing', '@rag/fake-openai', '@rag/fake-qdrant'], message: 'Test helpers are for *.spec.ts files only.' },
          ],
        },
      ],
    },
  },
  {
    // Route files are thin adapters over the job lifecycle and the http/ helpers, never over each other.
    // (The typescript-eslint twin of the rule, so the patterns above still apply to these files.)
    files: ['apps/api-gateway/src/routes/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./*', '../routes/*', '**/routes/*'],
              message: 'A route file never imports another route file: move what they share to http/ or the job lifecycle (@rag/jobs).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.spec-helper.ts', 'tools/testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
