/** Tests sit next to the code (x.test.ts); whole-stack tests live in test/. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleNameMapper: { '^lagstorm$': '<rootDir>/core/index.ts' },
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/runs/', '/.tools/'],
  modulePathIgnorePatterns: ['<rootDir>/runs/', '<rootDir>/.tools/'],
  testTimeout: 120000,
  maxWorkers: 2,
};
