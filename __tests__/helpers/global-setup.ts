import * as fs from 'fs';
import * as path from 'path';
import { MNIST_FILES } from '../../lib/datasets/catalog';
import { downloadDataset } from '../../lib/datasets/download';
import { MNIST_DIR } from './mnist-dir';

/** On a machine with neither $MNIST_DIR nor the shared copy, fetch MNIST into the cache once. */
export default async function globalSetup(): Promise<void> {
  const present = Object.values(MNIST_FILES).every((f) => fs.existsSync(path.join(MNIST_DIR, f.name)));
  if (present || process.env.MNIST_DIR) return;
  process.stderr.write(`tests: MNIST not found, downloading into ${MNIST_DIR}\n`);
  await downloadDataset('mnist', { cacheDir: path.dirname(MNIST_DIR) });
}
