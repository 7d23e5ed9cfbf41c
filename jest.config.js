/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/lib', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  moduleNameMapper: {
    '^nestjs-persistent-cache$': '<rootDir>/lib/index.ts',
    '^nestjs-persistent-cache/config$': '<rootDir>/lib/config.ts',
  },
  // Builds dist/ once per run: end-to-end tests spawn the compiled sample app, as `npm start` does.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  collectCoverage: true,
  collectCoverageFrom: ['lib/**/*.ts', '!lib/**/*.spec.ts'],
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: { global: { lines: 90 } },
  testTimeout: 60000,
};
