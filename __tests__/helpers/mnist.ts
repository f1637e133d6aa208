import { Dataset, Normalization, loadMnist } from '../../lib/datasets';
import { FULL_MNIST, MNIST_DIR } from './mnist-dir';

export { FULL_MNIST, MNIST_DIR };

const cache = new Map<string, Promise<Dataset>>();

/**
 * A small real subset, loaded once per normalisation and test file: from the full MNIST where it
 * is present, else from the npm sample (8,000 train / 2,000 test digits, so larger requests get
 * at most that many).
 */
export function smallMnist(normalization: Normalization = 'unit', train = 2000, test = 500): Promise<Dataset> {
  const key = `${normalization}:${train}:${test}`;
  if (!cache.has(key)) {
    const where = FULL_MNIST ? { dataDir: MNIST_DIR } : { cacheDir: '/nonexistent/tfjs-mnist-nets-tests' };
    cache.set(key, loadMnist({ ...where, normalization, limit: { train, test }, download: false, log: () => {} }));
  }
  return cache.get(key) as Promise<Dataset>;
}
