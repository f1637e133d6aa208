/**
 * What each dataset is made of: file names, checksums, shapes, mirrors, class names. Kept apart
 * from the code that uses it so locating, downloading and loading agree on one table.
 */
import { InvalidArgumentError } from '../errors';

export type DatasetName = 'mnist' | 'fashion-mnist';

export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist'];

/** The four files of an MNIST-style dataset. */
export type DatasetFileKey = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

export const DATASET_FILE_KEYS: readonly DatasetFileKey[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

export interface DatasetFile {
  /** Canonical (gzipped) file name, as published on the mirrors. */
  name: string;
  /** md5 of the published .gz file; downloads are checked against it. */
  md5: string;
  /**
   * md5 of the gunzipped IDX bytes. Repackagers re-gzip (Debian strips the file name from the gzip
   * header), which changes `md5` but not this, so it identifies the data wherever it came from.
   */
  rawMd5: string;
  /** IDX dimensions of the published file. */
  dims: readonly number[];
}

export type DatasetFileTable = Readonly<Record<DatasetFileKey, DatasetFile>>;

export const IMAGE_HEIGHT = 28;
export const IMAGE_WIDTH = 28;
export const IMAGE_SIZE = IMAGE_HEIGHT * IMAGE_WIDTH;
export const NUM_CLASSES = 10;

/** md5s as listed by torchvision and checked against the files in shared/datasets/mnist. */
export const MNIST_FILES: DatasetFileTable = Object.freeze({
  trainImages: Object.freeze({ name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873', rawMd5: '6bbc9ace898e44ae57da46a324031adb', dims: Object.freeze([60000, 28, 28]) }),
  trainLabels: Object.freeze({ name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432', rawMd5: 'a25bea736e30d166cdddb491f175f624', dims: Object.freeze([60000]) }),
  testImages: Object.freeze({ name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3', rawMd5: '2646ac647ad5339dbf082846283269ea', dims: Object.freeze([10000, 28, 28]) }),
  testLabels: Object.freeze({ name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c', rawMd5: '27ae3e4e09519cfbb04c329615203637', dims: Object.freeze([10000]) }),
});

/**
 * `md5`: the published .gz files (upstream README, torchvision). `rawMd5`: checked against the
 * gunzipped files of Debian's dataset-fashion-mnist, whose .gz files differ from the published ones
 * only in the gzip header (no embedded file name), so their own .gz md5s do not match `md5`.
 */
export const FASHION_MNIST_FILES: DatasetFileTable = Object.freeze({
  trainImages: Object.freeze({ name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', rawMd5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a', dims: Object.freeze([60000, 28, 28]) }),
  trainLabels: Object.freeze({ name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe', rawMd5: '9018921c3c673c538a1fc5bad174d6f9', dims: Object.freeze([60000]) }),
  testImages: Object.freeze({ name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79', rawMd5: '8181f5470baa50b63fa0f6fddb340f0a', dims: Object.freeze([10000, 28, 28]) }),
  testLabels: Object.freeze({ name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310', rawMd5: '15d484375f8d13e6eb1aabb0c3f46965', dims: Object.freeze([10000]) }),
});

/** Tried in order. The original yann.lecun.com site now refuses most clients, so it is not listed. */
export const MNIST_MIRRORS: readonly string[] = Object.freeze([
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
]);

export const FASHION_MNIST_MIRRORS: readonly string[] = Object.freeze([
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  'https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/',
]);

export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

export interface DatasetInfo {
  name: DatasetName;
  title: string;
  files: DatasetFileTable;
  mirrors: readonly string[];
  classNames: readonly string[];
  /** Environment variable naming a directory that holds the files. */
  envVar: string;
  /** Directories where an OS package installs the files, tried after the cache. */
  systemDirs: readonly string[];
}

export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = Object.freeze({
  mnist: Object.freeze({
    name: 'mnist',
    title: 'MNIST',
    files: MNIST_FILES,
    mirrors: MNIST_MIRRORS,
    classNames: MNIST_CLASS_NAMES,
    envVar: 'MNIST_DIR',
    systemDirs: Object.freeze([]),
  }),
  'fashion-mnist': Object.freeze({
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    files: FASHION_MNIST_FILES,
    mirrors: FASHION_MNIST_MIRRORS,
    classNames: FASHION_MNIST_CLASS_NAMES,
    envVar: 'FASHION_MNIST_DIR',
    // Debian's dataset-fashion-mnist package.
    systemDirs: Object.freeze(['/usr/share/datasets/fashion-mnist']),
  }),
});

/** Looks a dataset up by name, naming `argument` in the error for an unknown one. */
export function datasetInfo(name: DatasetName, argument = 'name'): DatasetInfo {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(DATASETS, name)) {
    throw new InvalidArgumentError(argument, `unknown dataset ${JSON.stringify(name)}; expected one of ${DATASET_NAMES.join(', ')}`);
  }
  return DATASETS[name];
}

/**
 * Names a file is accepted under, canonical first: `x-idx3-ubyte.gz`, `x-idx3-ubyte`, and the
 * dotted `x.idx3-ubyte` (+ `.gz`) that some archives and Kaggle copies use. Whether a file is
 * gzipped is decided from its bytes when it is read, so a misnamed file still loads.
 */
export function fileNameVariants(name: string): string[] {
  const base = name.endsWith('.gz') ? name.slice(0, -3) : name;
  const dotted = base.replace(/-(idx\d+-ubyte)$/, '.$1');
  const names = [`${base}.gz`, base];
  if (dotted !== base) names.push(dotted, `${dotted}.gz`);
  return names;
}
