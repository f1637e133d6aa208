/**
 * Every input checked before any work, with one error naming the argument (or flag) and what is
 * wrong; and the small promises of the CLI and the library that a new user meets first.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { useBackend } from '../lib/backends';
import { loadDataset } from '../lib/datasets';
import { InvalidArgumentError } from '../lib/errors';
import { encodeIdx } from '../lib/idx';
import { digitToPng, readDigitImages } from '../lib/io/images';
import { runBench } from '../lib/jobs/bench-job';
import { runTrainJob } from '../lib/jobs/train-job';
import { PRESETS, recipeOptions } from '../lib/recipes';
import { evaluate } from '../lib/training/evaluate';
import { TrainOptions, train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';
import { BUILT_CLI, runNode } from './helpers/run-node';
import { skipUnless } from './helpers/skips';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-inputs-'));

beforeAll(async () => {
  await useBackend('wasm');
});

describe('evaluate() checks its options before any work', () => {
  it.each([
    ['batchSize', -1],
    ['batchSize', 2.5],
    ['limit', 0],
    ['numClasses', 1],
    // Last: on the old code a batch size of 0 looped for ever.
    ['batchSize', 0],
  ])('%s %p: an error naming it', async (key, value) => {
    const data = await smallMnist();
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    const before = tf.memory().numTensors;
    await expect(evaluate(model, data.test, { [key]: value })).rejects.toThrow(new RegExp(`^${key}: must be`));
    await expect(evaluate(model, data.test, { [key]: value })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('train() checks its options before any work', () => {
  const preset = PRESETS['tanh-mlp'];
  const base = (): TrainOptions => ({ ...recipeOptions(preset, { steps: 3, seed: 1 }), logInterval: 0 });
  const momentum = { kind: 'momentum' as const, learningRate: 0.1, momentum: 0.9 };
  it.each<[string, Partial<TrainOptions>, RegExp]>([
    ['numClasses 0', { numClasses: 0 }, /^numClasses: must be an integer >= 2, got 0/],
    ['numClasses unlike the model', { numClasses: 5 }, /^numClasses: is 5, but the model has 10 outputs/],
    ['lossSyncInterval -1', { lossSyncInterval: -1 }, /^lossSyncInterval: must be a positive integer, got -1/],
    ['lossSyncInterval NaN', { lossSyncInterval: NaN }, /^lossSyncInterval: must be a positive integer, got NaN/],
    ['trainLimit 2.5', { trainLimit: 2.5 }, /^trainLimit: must be a positive integer, got 2.5/],
    ['trainLimit 0 (named, not "data")', { trainLimit: 0 }, /^trainLimit: must be a positive integer, got 0/],
    ['evalTestLimit -3', { evalTestLimit: -3 }, /^evalTestLimit: must be a positive integer/],
    ['a negative weightDecay', { optimizer: { ...momentum, weightDecay: -0.001 } }, /^weightDecay: must be a finite number >= 0, got -0.001/],
    ["the inv policy's gamma", { optimizer: { ...momentum, policy: { kind: 'inv', gamma: -1, power: 0.75 } } }, /^policy\.gamma: must be a finite number >= 0, got -1/],
    ["the inv policy's power", { optimizer: { ...momentum, policy: { kind: 'inv', gamma: 1e-4, power: NaN } } }, /^policy\.power: must be a finite number >= 0, got NaN/],
    ['an unknown policy', { optimizer: { ...momentum, policy: { kind: 'step' } as never } }, /^policy\.kind: must be one of fixed, inv, got "step"/],
    // The old code ended here in "Cannot read properties of undefined (reading 'dispose')" from its finally block.
    ['an unknown optimizer kind', { optimizer: { kind: 'rmsprop', learningRate: 0.1 } as never }, /^optimizer\.kind: must be one of sgd, momentum, adam, got "rmsprop"/],
    ['yieldIntervalMs -1', { yieldIntervalMs: -1 }, /^yieldIntervalMs: must be a number >= 0/],
  ])('%s: one error naming it, nothing run', async (_name, change, message) => {
    const data = await smallMnist();
    const model = preset.build({ seed: 1 });
    const before = tf.memory().numTensors;
    let steps = 0;
    const err = await train(model, data, { ...base(), ...change, onBatchEnd: () => void steps++ }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(message);
    expect(steps).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('library jobs name their options, not CLI flags', () => {
  it('runTrainJob and runBench', async () => {
    const data = await smallMnist();
    const messages = await Promise.all([
      runTrainJob({ preset: 'two-layer-net', data, steps: 3, epochs: 1 }).catch((e: Error) => e.message),
      runBench({ models: [], backend: 'wasm' }).catch((e: Error) => e.message),
      runBench({ models: ['two-layer-net'], steps: 3, epochs: 1, backend: 'wasm' }).catch((e: Error) => e.message),
    ]);
    expect(messages).toEqual(['epochs/steps: give one of them, not both', 'models: name at least one preset', 'steps/epochs/seconds/recipe: give one of them']);
    for (const m of messages) expect(m).not.toMatch(/--/);
  });
});

describe('samplesPerSec', () => {
  it('counts a short last batch as the examples it holds', async () => {
    // 250 examples, batch 100, one shuffled epoch: 100 + 100 + 50 examples, not 300.
    const data = await smallMnist();
    const model = PRESETS['mlp'].build({ seed: 1 });
    const r = await train(model, data, { ...recipeOptions(PRESETS['mlp'], { epochs: 1, limit: 250, seed: 1 }), logInterval: 0 });
    model.dispose();
    expect(r.steps).toBe(3);
    expect(r.samplesPerSec * r.trainSeconds).toBeCloseTo(250, 6);
  });
});

describe('digitToPng', () => {
  it('writes what it says: an 8-bit greyscale PNG (colour type 0) that reads back to the same bytes', async () => {
    const pixels = Uint8Array.from({ length: 784 }, (_, i) => (i * 37) % 256);
    const png = digitToPng(pixels);
    // IHDR: bit depth at byte 24, colour type at byte 25.
    expect([png[24], png[25]]).toEqual([8, 0]);
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height]).toEqual([28, 28]);
    const file = path.join(tmp(), 'digit.png');
    fs.writeFileSync(file, png);
    // A dark border: read as it is, not inverted.
    const dark = Uint8Array.from(pixels, (v, i) => (i % 28 === 0 || i % 28 === 27 || i < 28 || i >= 756 ? 0 : v));
    fs.writeFileSync(file, digitToPng(dark));
    expect(Array.from((await readDigitImages(file))[0]!)).toEqual(Array.from(dark));
  });
});

describe('the offline-sample warning', () => {
  it("speaks in the caller's terms: --data-dir for the CLI, and network access rather than download: true (already on)", async () => {
    const lines: string[] = [];
    const saved = process.env.MNIST_DIR;
    delete process.env.MNIST_DIR;
    try {
      // No cache, and a mirror that refuses at once: what a machine without network sees.
      await loadDataset('mnist', { cacheDir: tmp(), mirrors: ['http://127.0.0.1:9/'], dataDirName: '--data-dir', limit: 10, log: (l) => lines.push(l) });
    } finally {
      if (saved !== undefined) process.env.MNIST_DIR = saved;
    }
    const warning = lines.find((l) => l.startsWith('warning: full MNIST not found'))!;
    expect(warning).toMatch(/give --data-dir DIR or set MNIST_DIR \(a directory with the four IDX files\), or run again with network access/);
    expect(warning).not.toMatch(/download: true/);
  });
});

describe('the CLI', () => {
  const dir = tmp();
  const modelDir = path.join(dir, 'model');
  beforeAll(() => {
    const r = runNode(BUILT_CLI, ['train', '--model', 'two-layer-net', '--steps', '30', '--limit', '500', '--seed', '1', '--save', modelDir, '--json']);
    if (r.code !== 0) throw new Error(`train failed: ${r.stderr}`);
  });

  it.each([
    ['a file', () => path.join(modelDir, 'model.json'), /--data-dir: .*model\.json: is a file, not a directory/],
    ['nothing', () => path.join(dir, 'nope'), /--data-dir: .*nope: directory does not exist/],
  ])('--data-dir naming %s: exit 2, one line naming the flag', (_what, where, message) => {
    const r = runNode(BUILT_CLI, ['train', '--model', 'mlp', '--steps', '1', '--data-dir', where()]);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('mnist-nets:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
    expect(errors[0]).not.toMatch(/dataDir/);
  });

  it('bench --models with an unknown id lists the valid ones', () => {
    const r = runNode(BUILT_CLI, ['bench', '--models', 'lenet5', '--steps', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--models: unknown preset 'lenet5'; choose from mlp, deep-mlp, tanh-mlp, mse-mlp, two-layer-net, prelu-mlp, cnn");
  });

  it('predict on an IDX file of several images numbers each, the first [0] too', async () => {
    const data = await smallMnist('none');
    const idx = path.join(dir, 'three.idx');
    fs.writeFileSync(idx, encodeIdx({ type: 'u8', dims: [3, 28, 28], data: Uint8Array.from(data.test.images.subarray(0, 3 * 784)) }));
    const r = runNode(BUILT_CLI, ['predict', '--model-dir', modelDir, idx]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.replace(/: .*/, ''))).toEqual([`${idx}[0]`, `${idx}[1]`, `${idx}[2]`]);
  });

  const fashion = skipUnless(
    fs.existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'),
    'no Fashion-MNIST in /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)',
  );
  fashion.it(
    'eval --dataset fashion-mnist on an MNIST model evaluates Fashion-MNIST, saying so',
    () => {
      const r = runNode(BUILT_CLI, ['eval', '--model-dir', modelDir, '--dataset', 'fashion-mnist', '--limit', '200', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ dataset: 'fashion-mnist', trainedOn: 'mnist', testSamples: 200 });
      expect(r.stderr).toContain('note: the model was trained on mnist; evaluating it on fashion-mnist, as --dataset asks');
      // Left out, the model's own dataset.
      const own = runNode(BUILT_CLI, ['eval', '--model-dir', modelDir, '--limit', '200', '--json']);
      expect(JSON.parse(own.stdout)).toMatchObject({ dataset: 'mnist', trainedOn: 'mnist' });
      expect(own.stderr).not.toContain('note:');
    },
  );
});
