import * as fs from 'fs';
import * as path from 'path';
// tf-free imports only: global-setup runs in jest's parent, and tf.js loaded there would register
// its kernels a second time in every test file.
import { datasetCacheDir } from '../../lib/datasets/locate';

const SHARED = path.resolve(__dirname, '../../../shared/datasets/mnist');

/**
 * Where the tests read real MNIST: $MNIST_DIR (CI sets it), else the shared copy beside the
 * checkout, else the library's own cache, which global-setup fills by downloading.
 */
export const MNIST_DIR = process.env.MNIST_DIR ?? (fs.existsSync(SHARED) ? SHARED : datasetCacheDir('mnist'));
