/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testPathIgnorePatterns: ['/node_modules/', '/__tests__/helpers/'],
  globalSetup: '<rootDir>/__tests__/helpers/global-setup.ts',
  setupFiles: ['<rootDir>/__tests__/helpers/quiet-tfjs.ts'],
  // Skips list their reasons after the run, and fail it under CI=true (helpers/skips.ts).
  reporters: ['default', '<rootDir>/__tests__/helpers/skip-reporter.js'],
  testTimeout: 120000,
  // Tests load tf.js backends and real MNIST; parallel workers on a 2-core machine only thrash.
  maxWorkers: 2,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
