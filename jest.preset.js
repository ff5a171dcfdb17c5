// Shared Jest settings: SWC transpiles TypeScript (decorators included), and
// `@rag/<lib>` resolves to the lib's root entry exactly as tsconfig paths do.
const path = require('node:path');

const root = __dirname;

const preset = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      require.resolve('@swc/jest'),
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@rag/(testing|fake-openai|fake-qdrant)$': path.join(root, 'tools/$1/src/index.ts'),
    '^@rag/([a-z-]+)$': path.join(root, 'libs/$1/src/index.ts'),
  },
};

/**
 * One project's Jest config. `unit`: `*.spec.ts` except integration specs;
 * `int`: `*.int.spec.ts` (they start servers and processes); `e2e`: `*.e2e.spec.ts`.
 */
function project(dir, kind) {
  const name = require(path.join(dir, 'project.json')).name;
  const match = { unit: '<rootDir>/src/**/*.spec.ts', int: '<rootDir>/src/**/*.int.spec.ts', e2e: '<rootDir>/src/**/*.e2e.spec.ts' }[kind];
  return {
    ...preset,
    displayName: kind === 'unit' ? name : `${name}:${kind}`,
    rootDir: dir,
    testMatch: [match],
    ...(kind === 'unit' ? { testPathIgnorePatterns: ['\\.(int|e2e)\\.spec\\.ts$'] } : { testTimeout: kind === 'e2e' ? 120000 : 60000 }),
  };
}

module.exports = { ...preset, project };
