module.exports = {
  ...require('../../jest.preset.js'),
  displayName: `${require('./project.json').name}:int`,
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.int.spec.ts'],
  testTimeout: 60000,
};
