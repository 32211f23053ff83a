/** Two projects: pure unit tests run alone; integration tests share one real Temporal dev server
 * and one real PostgreSQL, started once per run by the global setup. */
const transform = { '^.+\\.(ts|js)$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
// ESM-only packages that Jest's CommonJS runtime must have transformed (Node itself loads them natively).
const transformIgnorePatterns = ['/node_modules/(?!(is-any-array)/)'];
module.exports = {
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
