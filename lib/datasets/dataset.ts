/**
 * What a loaded dataset is, independent of where its bytes came from: the typed arrays of each
 * split, how pixels were normalised, and the checks every loader applies to the IDX arrays it
 * read. No file system, no network, no tf.js: the Node loaders (mnist.ts) and the browser's URL
 * loader both build their `Dataset` here.
 */
import { DatasetError, IdxFormatError } from '../errors';
import { checkInt, checkOneOf } from '../checks';
import type { IdxArray } from '../idx';
import { DatasetName, IMAGE_HEIGHT, IMAGE_SIZE, IMAGE_WIDTH, NUM_CLASSES, datasetInfo } from './catalog';

/**
 * How pixel bytes become floats: 'unit' x/255 in [0, 1]; 'offset' x/255*0.99+0.01 in
 * [0.01, 1.0] (the mse-mlp recipe, which keeps inputs away from 0 so sigmoid weights still learn);
 * 'none' the raw 0..255 as floats.
 */
export type Normalization = 'unit' | 'offset' | 'none';

export const NORMALIZATIONS: readonly Normalization[] = ['unit', 'offset', 'none'];

/** @default 'unit' */
export const DEFAULT_NORMALIZATION: Normalization = 'unit';
export interface DatasetSource {
  /** Where the files came from: an explicit directory, an environment variable, the cache, an OS package directory, a fresh download, a URL (a browser page's), or the npm sample. */
  kind: 'dir' | 'env' | 'cache' | 'system' | 'download' | 'url' | 'sample';
  /** Directory or URL the files were read from (for 'sample', the npm package's directory, or the URL its digits were fetched from). */
  path?: string;
  /** One line for logs and reports. */
  description: string;
}

export interface RawSplit {
  /** count * 784 pixel bytes, 0..255, row-major 28x28 */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface DataSplit {
  /** count * 784 floats, row-major 28x28, normalised as the dataset's `normalization` says. */
  images: Float32Array;
  /** Class indices 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: DatasetName;
  source: DatasetSource;
  normalization: Normalization;
  train: DataSplit;
  test: DataSplit;
  height: 28;
  width: 28;
  numClasses: 10;
  classNames: string[];
}

/** How many examples of each split a loader keeps: one number for both, or one per split. */
export type SplitLimit = number | { train?: number; test?: number };

function checkLimit(value: unknown, argument: string): number {
  return value === undefined ? Infinity : checkInt(argument, value, { min: 0 });
}

/** Checks a loader's `limit` option (`limit`, `limit.train`, `limit.test` in errors); Infinity where none is given. */
export function resolveSplitLimits(limit: unknown): { limitTrain: number; limitTest: number } {
  if (limit !== null && typeof limit === 'object') {
    const perSplit = limit as { train?: unknown; test?: unknown };
    return { limitTrain: checkLimit(perSplit.train, 'limit.train'), limitTest: checkLimit(perSplit.test, 'limit.test') };
  }
  const both = checkLimit(limit, 'limit');
  return { limitTrain: both, limitTest: both };
}

/** Maps pixel bytes to floats through a 256-entry table: one load per pixel, exactly rounded. */
export function normalizePixels(pixels: Uint8Array, normalization: Normalization = DEFAULT_NORMALIZATION): Float32Array {
  checkOneOf('normalization', normalization, NORMALIZATIONS);
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    table[v] = normalization === 'unit' ? v / 255 : normalization === 'offset' ? (v / 255) * 0.99 + 0.01 : v;
  }
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = table[pixels[i]];
  return out;
}

/** Checks an images file: u8, dims [n, 28, 28]; returns n. */
export function checkImagesArray(arr: IdxArray, file: string): number {
  if (arr.type !== 'u8') throw new IdxFormatError(file, 2, `images must be u8 (type code 0x08), found ${arr.type}`);
  if (arr.dims.length !== 3 || arr.dims[1] !== IMAGE_HEIGHT || arr.dims[2] !== IMAGE_WIDTH) {
    throw new IdxFormatError(file, 3, `images must have dims [n, ${IMAGE_HEIGHT}, ${IMAGE_WIDTH}], found [${arr.dims.join(', ')}]`);
  }
  return arr.dims[0];
}

/** Checks a labels file: u8, dims [n], every label a class index; returns n. */
export function checkLabelsArray(arr: IdxArray, file: string): number {
  if (arr.type !== 'u8') throw new IdxFormatError(file, 2, `labels must be u8 (type code 0x08), found ${arr.type}`);
  if (arr.dims.length !== 1) throw new IdxFormatError(file, 3, `labels must have dims [n], found [${arr.dims.join(', ')}]`);
  const labels = arr.data as Uint8Array;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= NUM_CLASSES) {
      throw new IdxFormatError(file, 8 + i, `label ${labels[i]} at index ${i} is not a class index 0..${NUM_CLASSES - 1} (offset in the IDX bytes)`);
    }
  }
  return arr.dims[0];
}

/** Checks a pair of images and labels arrays and makes a raw split of them. */
export function rawSplit(images: IdxArray, imagesFile: string, labels: IdxArray, labelsFile: string): RawSplit {
  const n = checkImagesArray(images, imagesFile);
  const m = checkLabelsArray(labels, labelsFile);
  if (n !== m) throw new DatasetError(`${imagesFile} holds ${n} images but ${labelsFile} holds ${m} labels`);
  return { images: images.data as Uint8Array, labels: labels.data as Uint8Array, count: n };
}

function finishSplit(raw: RawSplit, limit: number, normalization: Normalization): DataSplit {
  const count = Math.min(raw.count, limit);
  return {
    images: normalizePixels(raw.images.subarray(0, count * IMAGE_SIZE), normalization),
    labels: raw.labels.slice(0, count),
    count,
  };
}

/** Assembles a `Dataset` from raw splits: keeps the first `limit` examples of each, normalises pixels. */
export function makeDataset(
  name: DatasetName,
  source: DatasetSource,
  raw: { train: RawSplit; test: RawSplit },
  options: { normalization: Normalization; limitTrain?: number; limitTest?: number },
): Dataset {
  const info = datasetInfo(name);
  return {
    name,
    source,
    normalization: options.normalization,
    train: finishSplit(raw.train, options.limitTrain ?? Infinity, options.normalization),
    test: finishSplit(raw.test, options.limitTest ?? Infinity, options.normalization),
    height: IMAGE_HEIGHT,
    width: IMAGE_WIDTH,
    numClasses: NUM_CLASSES,
    classNames: [...info.classNames],
  };
}
