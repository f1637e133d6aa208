import { spawnSync } from 'child_process';
import * as path from 'path';
import { FULL_MNIST, MNIST_DIR } from './mnist';

/** The built CLI (npm test builds first). */
export const BUILT_CLI = path.resolve(__dirname, '../../dist/lib/cli/main.js');

export interface NodeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built script in a fresh Node with the tests' MNIST in $MNIST_DIR where the full set is
 * present (elsewhere the script finds none and falls back to the npm sample, as a user's would),
 * plus `env`, and returns its exit and output; one killed by `timeout` comes back with `signal` set.
 */
export function runNode(
  file: string,
  args: readonly string[],
  options: { env?: Record<string, string>; nodeArgs?: readonly string[]; timeout?: number } = {},
): NodeRun {
  const r = spawnSync(process.execPath, [...(options.nodeArgs ?? []), file, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, ...mnistEnv(), ...options.env },
    timeout: options.timeout ?? 300_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The environment a child process gets the tests' MNIST through: $MNIST_DIR where the full set is present. */
export function mnistEnv(): Record<string, string> {
  return FULL_MNIST ? { MNIST_DIR } : {};
}

/** `--data-dir <the tests' MNIST>` where the full set is present; elsewhere nothing, and the CLI finds the npm sample. */
export function dataDirArgs(): string[] {
  return FULL_MNIST ? ['--data-dir', MNIST_DIR] : [];
}
