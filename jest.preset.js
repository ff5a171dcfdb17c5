// Shared Jest settings: SWC transpiles TypeScript (decorators included), and
// `@rag/<lib>` resolves to the lib's root entry exactly as tsconfig paths do.
const path = require('node:path');

const root = __dirname;

module.exports = {
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
