/** The variables that steer where datasets are looked for. */
export const DATASET_ENV_VARS = ['MNIST_DIR', 'FASHION_MNIST_DIR', 'MNIST_NETS_CACHE'] as const;

/**
 * Each test of the calling file starts with these variables unset and gets the originals back
 * afterwards, so only what a test sets itself can be found.
 */
export function isolateEnv(vars: readonly string[] = DATASET_ENV_VARS): void {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const v of vars) {
      saved[v] = process.env[v];
      delete process.env[v];
    }
  });
  afterEach(() => {
    for (const v of vars) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  });
}
