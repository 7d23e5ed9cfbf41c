/**
 * Two projects: `unit` (the specs beside the code in lib/) and `e2e` (the suites in test/, which need dist/).
 *
 *   npm test               both, with coverage of lib/ (the threshold applies to this run only)
 *   npm run test:unit      the unit specs alone, no build, no coverage: seconds
 *   npm run test:e2e       the end-to-end suites alone, no coverage
 *
 * Coverage options and testTimeout are global: jest reads them from this top level only (a project may state a
 * testTimeout, but jest-circus applies the global one). moduleNameMapper and globalSetup are per project; a project's
 * globalSetup runs only when a test of that project is about to run, so the unit project never waits for the build.
 */

/** The package's own name resolves to the sources, as the tsconfig paths say. */
const moduleNameMapper = {
  '^nestjs-persistent-cache$': '<rootDir>/lib/index.ts',
  '^nestjs-persistent-cache/config$': '<rootDir>/lib/config.ts',
};

/** Options both projects share. */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/lib'],
      testMatch: ['**/*.spec.ts'],
      // Transpiled file by file, without type-checking each spec's program: the lint step and the build type-check.
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
    },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      // Builds dist/ once per run: end-to-end tests spawn the compiled sample app, as `npm start` does.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
  collectCoverage: true,
  collectCoverageFrom: ['lib/**/*.ts', '!lib/**/*.spec.ts'],
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: { global: { lines: 90 } },
  testTimeout: 60000,
};
