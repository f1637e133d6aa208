/**
 * train() with what tf.js users hold: {xs, ys} tensors and tf.data Datasets, tf.train optimisers,
 * tf.js callbacks and model.stopTraining, validationSplit / validationData, early stopping; and
 * the CLI's --validation-split and --early-stopping with the keep-best folder under --save.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useBackend } from '../lib/backends';
import type { DataSplit } from '../lib/datasets';
import { oneHotRows } from '../lib/datasets/onehot';
import { InvalidArgumentError } from '../lib/errors';
import { loadModel } from '../lib/io/model-io';
import { PRESETS, recipeOptimizer, recipeOptions } from '../lib/recipes';
import { evaluate } from '../lib/training/evaluate';
import { TrainOptions, TrainState, train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';
import { itWithMnist } from './helpers/needs-mnist';
import { BUILT_CLI, runNode } from './helpers/run-node';

const preset = PRESETS['two-layer-net'];
/** 20 steps of 100 on 1,000 examples: 10 steps an epoch, in order (so tensors and Datasets can be compared exactly). */
const OPTIONS: TrainOptions = { ...recipeOptions(preset, { steps: 20, seed: 1 }), sampling: 'ordered', trainLimit: 1000, logInterval: 0 };

beforeAll(async () => {
  await useBackend('wasm');
});

async function data(): Promise<{ train: DataSplit; test: DataSplit }> {
  const d = await smallMnist('unit', 2000, 500);
  return { train: d.train, test: d.test };
}

/** The first `n` training examples as tensors: images [n, 28, 28, 1], labels one-hot. */
function tensorsOf(split: DataSplit, n: number, labels: 'index' | 'onehot' = 'onehot'): { xs: tf.Tensor; ys: tf.Tensor } {
  return {
    xs: tf.tensor4d(split.images.subarray(0, n * 784), [n, 28, 28, 1]),
    ys: labels === 'onehot' ? tf.tensor2d(oneHotRows(split.labels.subarray(0, n), 10), [n, 10]) : tf.tensor1d(Array.from(split.labels.subarray(0, n)), 'int32'),
  };
}

async function losses(input: Parameters<typeof train>[1], options: Partial<TrainOptions> = {}): Promise<number[]> {
  const model = preset.build({ seed: 1 });
  const result = await train(model, input, { ...OPTIONS, ...options });
  model.dispose();
  return result.history.loss;
}

describe('data as tf.js users hold it', () => {
  it('{xs, ys} tensors (one-hot or index labels, any 784-value layout) train exactly as the library split does', async () => {
    const d = await data();
    const want = await losses(d);
    const start = tf.memory().numTensors;
    for (const labels of ['onehot', 'index'] as const) {
      const t = tensorsOf(d.train, 1000, labels);
      expect(await losses(t)).toEqual(want);
      expect(await losses({ train: [t.xs, t.ys] })).toEqual(want);
      tf.dispose([t.xs, t.ys]);
    }
    expect(tf.memory().numTensors).toBe(start);
  });

  it('a tf.data Dataset of {xs, ys} batches trains exactly the same, its batches disposed as fitDataset does', async () => {
    const d = await data();
    const want = await losses(d);
    const start = tf.memory().numTensors;
    const { xs, ys } = tensorsOf(d.train, 1000);
    const dataset = tf.data.zip({ xs: tf.data.array(tf.unstack(xs)), ys: tf.data.array(tf.unstack(ys)) }).batch(64);
    tf.dispose([xs, ys]);
    expect(await losses(dataset as never)).toEqual(want);
    expect(await losses({ train: dataset as never, test: d.test }, { logInterval: 10 })).toEqual(want);
    // The dataset's own (unstacked) tensors stay; nothing else does.
    const kept = tf.memory().numTensors - start;
    expect(kept).toBe(2000);
    // An unbatched Dataset is refused, naming the argument.
    const unbatched = tf.data.zip({ xs: tf.data.array([tf.zeros([784])]), ys: tf.data.array([tf.scalar(3)]) });
    await expect(losses(unbatched as never)).rejects.toThrow(/data \(batch 0\): xs has shape \[784\]; expected 784 values per example/);
  });

  it('refuses data it cannot read, naming the argument', async () => {
    const d = await data();
    await expect(losses({ xs: tf.zeros([4, 10]), ys: tf.zeros([4]) })).rejects.toThrow(/^data: xs has shape \[4, 10\]/);
    await expect(losses({ xs: tf.zeros([4, 784]), ys: tf.tensor1d([1, 2, 3, 12]) })).rejects.toThrow(/data: label 12 of example 3 is not a class index 0\.\.9/);
    await expect(losses({ train: d.train, test: 'x' } as never)).rejects.toThrow(InvalidArgumentError);
  });
});

describe('tf.train optimisers', () => {
  it("tf.train.sgd gives the recipe's SGD losses; tf.train.adam trains; both keep their own state", async () => {
    const d = await data();
    const want = await losses(d);
    const sgd = tf.train.sgd(0.1);
    const got = await losses(d, { optimizer: sgd });
    got.forEach((l, i) => expect(Math.abs(l - want[i]!)).toBeLessThan(1e-6));
    expect(sgd.iterations).toBe(20);
    const adam = tf.train.adam(0.01);
    const adamLosses = await losses(d, { optimizer: adam, steps: 60 });
    expect(adamLosses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(adamLosses.slice(0, 5).reduce((a, b) => a + b) / 5 * 0.7);
    sgd.dispose();
    adam.dispose();
  });

  it('with a tf.train optimiser, a checkpointed run resumes exactly (its state through getWeights/setWeights)', async () => {
    const d = await data();
    const model = preset.build({ seed: 1 });
    const whole = await train(model, d, { ...OPTIONS, optimizer: tf.train.adam(0.01) });
    model.dispose();
    let state: TrainState | undefined;
    const first = preset.build({ seed: 1 });
    await train(first, d, { ...OPTIONS, steps: 10, optimizer: tf.train.adam(0.01), onCheckpoint: (s) => void (state = s) });
    expect(Object.keys(state!.optimizer)).toEqual(['tf.train:Adam']);
    const rest = await train(first, d, { ...OPTIONS, optimizer: tf.train.adam(0.01), resume: state });
    expect(rest.history.loss).toEqual(whole.history.loss);
    first.dispose();
  });
});

describe('tf.js callbacks', () => {
  it('a CustomCallback and a plain object get fit\'s calls and logs, batch losses included', async () => {
    const d = await data();
    const calls: string[] = [];
    const batchLosses: number[] = [];
    const plain = {
      onTrainBegin: async () => void calls.push('trainBegin'),
      onEpochBegin: async (epoch: number) => void calls.push(`epochBegin ${epoch}`),
      onBatchEnd: async (_batch: number, logs?: tf.Logs) => void batchLosses.push(logs!.loss!),
      onEpochEnd: async (epoch: number, logs?: tf.Logs) => void calls.push(`epochEnd ${epoch} ${Object.keys(logs!).sort().join(',')}`),
      onTrainEnd: async () => void calls.push('trainEnd'),
    };
    const batches: number[] = [];
    const custom = new tf.CustomCallback({ onBatchBegin: async (batch) => void batches.push(batch) });
    const model = preset.build({ seed: 1 });
    const result = await train(model, d, { ...OPTIONS, callbacks: [custom, plain], validationSplit: 0.2 });
    expect(calls).toEqual(['trainBegin', 'epochBegin 0', 'epochEnd 0 loss,val_acc,val_loss', 'epochBegin 1', 'epochEnd 1 loss,val_acc,val_loss', 'trainEnd']);
    // The last 400 of 2,000 held out, the first 1,000 of the rest trained on (trainLimit): 10 steps an epoch; every batch's loss read back per step.
    expect(batches).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batchLosses).toEqual(result.history.loss);
    model.dispose();
  });

  it('model.stopTraining from a callback stops train() after that step; tf.callbacks.earlyStopping works too', async () => {
    const d = await data();
    const model = preset.build({ seed: 1 });
    model.build();
    model.stopTraining = true; // left over from elsewhere: reset at the start, as fit does
    const result = await train(model, d, { ...OPTIONS, callbacks: { onBatchEnd: async (batch: number) => void (batch === 6 && (model.stopTraining = true)) } });
    expect(result.steps).toBe(7);
    expect(result.stopped).toBe('stop-training');
    const tfjs = await train(model, d, { ...OPTIONS, steps: 200, validationSplit: 0.5, callbacks: [tf.callbacks.earlyStopping({ monitor: 'val_loss', minDelta: 10 })] });
    // The first epoch sets the baseline; the second cannot improve by 10: stopped after it.
    expect(tfjs.stopped).toBe('stop-training');
    expect(tfjs.history.epochs).toHaveLength(2);
    model.dispose();
  });

  it('a hook that is not one is refused, naming it', async () => {
    const d = await data();
    const model = preset.build({ seed: 1 });
    await expect(train(model, d, { ...OPTIONS, callbacks: { onEpochEnds: () => undefined } as never })).rejects.toThrow(/callbacks: has 'onEpochEnds', which is not a callback hook/);
    model.dispose();
  });
});

describe('validation', () => {
  it('validationSplit holds out the last examples and measures them each epoch, never the test split', async () => {
    const d = await data();
    const model = preset.build({ seed: 1 });
    const snapshots: number[] = [];
    const result = await train(model, d, {
      ...OPTIONS,
      trainLimit: undefined,
      steps: 32,
      validationSplit: 0.2,
      onEpochEnd: async (e) => void snapshots.push(e.validation!.loss),
    });
    // 2,000 examples: 1,600 trained on (16 steps an epoch), the last 400 validated.
    expect(result.history.epochs.map((e) => e.step)).toEqual([16, 32]);
    const held: DataSplit = { images: d.train.images.subarray(1600 * 784), labels: d.train.labels.subarray(1600), count: 400 };
    const now = await evaluate(model, held, { loss: 'cross-entropy' });
    expect(result.history.epochs[1]!.validation).toEqual({ loss: now.loss, accuracy: now.accuracy, count: 400 });
    expect(snapshots).toEqual(result.history.epochs.map((e) => e.validation!.loss));
    model.dispose();
  });

  it('validationData is measured as given; it and validationSplit together, or a bad split, are refused', async () => {
    const d = await data();
    const model = preset.build({ seed: 1 });
    const v = tensorsOf(d.test, 300);
    const result = await train(model, d, { ...OPTIONS, validationData: v });
    const now = await evaluate(model, { images: d.test.images.subarray(0, 300 * 784), labels: d.test.labels.subarray(0, 300), count: 300 }, { loss: 'cross-entropy' });
    expect(result.history.epochs[1]!.validation!.loss).toBeCloseTo(now.loss!, 10);
    await expect(train(model, d, { ...OPTIONS, validationData: v, validationSplit: 0.1 })).rejects.toThrow(/validationSplit: give validationSplit or validationData, not both/);
    await expect(train(model, d, { ...OPTIONS, validationSplit: 1.5 })).rejects.toThrow(/validationSplit: must be a number between 0 and 1/);
    tf.dispose([v.xs, v.ys]);
    model.dispose();
  });
});

describe('early stopping', () => {
  it('stops after patience epochs without an improvement of minDelta, and puts back the best epoch\'s weights', async () => {
    const d = await data();
    const model = preset.build({ seed: 1 });
    const start = tf.memory().numTensors;
    let afterFirst: Float32Array[] = [];
    const result = await train(model, d, {
      ...OPTIONS,
      steps: 100,
      validationSplit: 0.2,
      // Nothing improves by 10: the first epoch stays the best.
      earlyStopping: { patience: 2, minDelta: 10 },
      onEpochEnd: async (e) => void (e.epoch === 1 && (afterFirst = model.getWeights().map((w) => w.dataSync().slice() as Float32Array))),
    });
    expect(result.stopped).toBe('early-stopping');
    expect(result.history.epochs).toHaveLength(4);
    expect(result.earlyStopping).toEqual({ monitor: 'val_loss', bestEpoch: 1, best: result.history.epochs[0]!.validation!.loss, stoppedEpoch: 4, restored: true });
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(afterFirst[i]!)));
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });

  itWithMnist('the validation losses it relies on are those of the official training images', 'with a real improvement it keeps training; it needs validation to watch', async () => {
    const d = await data();
    const tanh = PRESETS['tanh-mlp'];
    const model = tanh.build({ seed: 1 });
    const result = await train(model, d, { ...recipeOptions(tanh, { steps: 50, seed: 1 }), sampling: 'ordered', trainLimit: 1000, logInterval: 0, validationSplit: 0.2, earlyStopping: { patience: 0 } });
    // Early in tanh-mlp's run the validation loss falls every epoch (0.89, 0.52, 0.39, 0.377, 0.373).
    expect(result.stopped).toBe('completed');
    expect(result.earlyStopping).toMatchObject({ bestEpoch: 5, restored: false });
    await expect(train(model, d, { ...OPTIONS, earlyStopping: { patience: 1 } })).rejects.toThrow(/earlyStopping: monitors val_loss: give validationSplit or validationData/);
    model.dispose();
  });
});

describe('the CLI', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-tfjs-train-'));

  it('--validation-split and --early-stopping: validation each epoch, the best model kept in DIR/best', () => {
    const dir = tmp();
    const r = runNode(BUILT_CLI, ['train', '--model', 'two-layer-net', '--epochs', '6', '--limit', '2000', '--seed', '1', '--validation-split', '0.25', '--early-stopping', '1', '--save', dir, '--json', '--backend', 'wasm']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.history.epochs[0].validation).toMatchObject({ count: 500 });
    expect(r.stderr).toMatch(/epoch 1 validation: loss \d+\.\d+, accuracy/);
    expect(result.bestSavedTo).toBe(path.join(dir, 'best'));
    const losses = result.history.epochs.map((e: { validation: { loss: number } }) => e.validation.loss);
    const bestEpoch = losses.indexOf(Math.min(...losses)) + 1;
    expect(result.earlyStopping).toMatchObject({ bestEpoch });
    const best = JSON.parse(fs.readFileSync(path.join(dir, 'best', 'model.json'), 'utf8')).userDefinedMetadata.mnistNets;
    expect(best).toMatchObject({ preset: 'two-layer-net', bestEpoch, validation: { loss: Math.min(...losses) } });
  });

  it('bad values exit 2 naming the flag', () => {
    const split = runNode(BUILT_CLI, ['train', '--model', 'two-layer-net', '--validation-split', '1.2']);
    expect(split.code).toBe(2);
    expect(split.stderr).toMatch(/--validation-split: must be a fraction between 0 and 1/);
    const early = runNode(BUILT_CLI, ['train', '--model', 'two-layer-net', '--early-stopping', '2']);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/--early-stopping: needs --validation-split/);
  });

  it('the best model evaluates with eval --model-dir', async () => {
    const dir = tmp();
    const r = runNode(BUILT_CLI, ['train', '--model', 'two-layer-net', '--epochs', '2', '--limit', '1000', '--seed', '1', '--validation-split', '0.2', '--save', dir, '--json', '--backend', 'wasm']);
    expect(r.code).toBe(0);
    const loaded = await loadModel(path.join(dir, 'best'));
    expect(loaded.notes).toEqual([]);
    loaded.model.dispose();
    const e = runNode(BUILT_CLI, ['eval', '--model-dir', path.join(dir, 'best'), '--limit', '500', '--json', '--backend', 'wasm']);
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout).testSamples).toBe(500);
  });
});

describe('recipeOptimizer in train()', () => {
  it('gives the same run as the recipe config (the fused kernels, the same math)', async () => {
    const d = await data();
    const tanh = PRESETS['tanh-mlp'];
    const options = { ...recipeOptions(tanh, { steps: 20, seed: 1 }), trainLimit: 1000, logInterval: 0 };
    const a = tanh.build({ seed: 1 });
    const b = tanh.build({ seed: 1 });
    const byConfig = await train(a, d, options);
    const optimizer = recipeOptimizer(tanh);
    const byOptimizer = await train(b, d, { ...options, optimizer });
    expect(byOptimizer.history.loss).toEqual(byConfig.history.loss);
    optimizer.dispose();
    a.dispose();
    b.dispose();
  });
});
