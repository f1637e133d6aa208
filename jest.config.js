/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testPathIgnorePatterns: ['/node_modules/', '/__tests__/helpers/'],
  globalSetup: '<rootDir>/__tests__/helpers/global-setup.ts',
  setupFiles: ['<rootDir>/__tests__/helpers/quiet-tfjs.ts'],
  testTimeout: 120000,
  // Tests load tf.js backends and real MNIST; parallel workers on a 2-core machine only thrash.
  maxWorkers: 2,
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
