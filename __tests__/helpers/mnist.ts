import { Dataset, Normalization, loadMnist } from '../../lib/datasets';
import { MNIST_DIR } from './mnist-dir';

export { MNIST_DIR };

const cache = new Map<string, Promise<Dataset>>();

/** A small real subset, loaded once per normalisation and test file. */
export function smallMnist(normalization: Normalization = 'unit', train = 2000, test = 500): Promise<Dataset> {
  const key = `${normalization}:${train}:${test}`;
  if (!cache.has(key)) {
    cache.set(key, loadMnist({ dataDir: MNIST_DIR, normalization, limit: { train, test }, download: false, log: () => {} }));
  }
  return cache.get(key) as Promise<Dataset>;
}
