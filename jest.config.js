/** Tests sit next to the code (x.test.ts); whole-stack tests live in test/. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleNameMapper: { '^lagstorm$': '<rootDir>/core/index.ts' },
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/runs/', '/.tools/'],
  modulePathIgnorePatterns: ['<rootDir>/runs/', '<rootDir>/.tools/'],
  testTimeout: 120000,
  // Whole-stack suites measure latency SLOs on this machine: on CI they run one at a time, so one
  // suite's load never shows up as another's p99 (two at once broke a 50 ms baseline by 1 ms).
  maxWorkers: process.env.CI ? 1 : 2,
};
