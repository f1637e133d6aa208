import * as path from 'path';
import { Dataset, Normalization, loadMnist } from '../../lib/datasets';

/** Real MNIST for tests: $MNIST_DIR (CI sets it), else the shared copy beside the checkout. */
export const MNIST_DIR = process.env.MNIST_DIR ?? path.resolve(__dirname, '../../../shared/datasets/mnist');

const cache = new Map<string, Promise<Dataset>>();

/** A small real subset, loaded once per normalisation and test file. */
export function smallMnist(normalization: Normalization = 'unit', train = 2000, test = 500): Promise<Dataset> {
  const key = `${normalization}:${train}:${test}`;
  if (!cache.has(key)) {
    cache.set(key, loadMnist({ dataDir: MNIST_DIR, normalization, limit: { train, test }, download: false, log: () => {} }));
  }
  return cache.get(key) as Promise<Dataset>;
}
