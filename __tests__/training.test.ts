import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TrainingError, InvalidArgumentError, ModelIOError } from '../lib/errors';
import { SavedModel, loadModel, saveModel } from '../lib/io/model-io';
import { PRESETS, PRESET_IDS, PresetId, recipeOptions } from '../lib/recipes';
import { buildMlp } from '../lib/models/mlp';
import { evaluate } from '../lib/training/evaluate';
import { gradientCheck } from '../lib/training/gradcheck';
import { oneHotRows } from '../lib/datasets/onehot';
import { createUpdateRule, learningRateAt } from '../lib/training/optimizers';
import { BatchSampler } from '../lib/training/sampler';
import { TrainData, train } from '../lib/training/train';
import { runTrainJob } from '../lib/jobs/train-job';
import * as checkpointModule from '../lib/io/checkpoint';
import { smallMnist } from './helpers/mnist';
import { useBackend } from '../lib/backends';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('each recipe learns on a small real subset', () => {
  // Short runs of each recipe as written (its loss, optimiser, sampling, normalisation, targets).
  const steps: Record<PresetId, number> = {
    mlp: 60,
    'deep-mlp': 40,
    'tanh-mlp': 60,
    'mse-mlp': 400,
    // 0.01-scaled init and lr 0.1 start slowly (source 004 logs 9.87% after step 0).
    'two-layer-net': 600,
    'prelu-mlp': 60,
    // The CNN trains on wasm through lib/kernels' Conv2DBackpropFilter.
    cnn: 15,
  };
  it.each(PRESET_IDS.filter((id) => steps[id] > 0))('%s: loss falls, no tensor leaks', async (id) => {
    const preset = PRESETS[id];
    const data = await smallMnist(preset.recipe.normalization);
    const start = tf.memory().numTensors;
    const model = preset.build({ seed: 1 });
    const options = recipeOptions(preset, { steps: steps[id], seed: 1 });
    const result = await train(model, data, { ...options, logInterval: 0 });
    const { loss } = result.history;
    expect(loss).toHaveLength(steps[id]);
    const window = Math.max(5, Math.floor(steps[id] / 10));
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(loss.slice(-window))).toBeLessThan(mean(loss.slice(0, window)) * 0.8);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('train()', () => {
  it('is repeatable with a seed, and another seed differs', async () => {
    const data = await smallMnist();
    const run = async (seed: number) => {
      const model = PRESETS['two-layer-net'].build({ seed });
      const r = await train(model, data, { ...recipeOptions(PRESETS['two-layer-net'], { steps: 30 }), seed, logInterval: 0 });
      model.dispose();
      return r.history.loss;
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });

  /** A dropout layer between two dense ones, as in the cnn preset; `onBatchEnd` runs at each step's await point. */
  const dropoutRun = async (data: TrainData, seed: number, onBatchEnd?: () => void) => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ units: 32, activation: 'relu', inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    try {
      const r = await train(m, data, {
        loss: 'softmax-cross-entropy',
        optimizer: { kind: 'sgd', learningRate: 0.1 },
        batchSize: 32,
        sampling: 'shuffle',
        steps: 10,
        seed,
        lossSyncInterval: 1,
        onBatchEnd,
      });
      return r.history.loss;
    } finally {
      m.dispose();
    }
  };

  it('makes dropout repeatable under a seed (cnn-style dropout layer), and another seed differs', async () => {
    const data = await smallMnist();
    const a = await dropoutRun(data, 9);
    expect(await dropoutRun(data, 9)).toEqual(a);
    expect(await dropoutRun(data, 10)).not.toEqual(a);
  });

  it("leaves the process's Math.random alone at every await point of a seeded run", async () => {
    const data = await smallMnist();
    const original = Math.random;
    let checked = 0;
    await dropoutRun(data, 9, () => {
      expect(Math.random).toBe(original);
      checked++;
    });
    expect(checked).toBe(10);
    expect(Math.random).toBe(original);
  });

  it('gives two overlapping seeded runs the results they have one after the other', async () => {
    const data = await smallMnist();
    const a = await dropoutRun(data, 9);
    const b = await dropoutRun(data, 11);
    const original = Math.random;
    const [a2, b2] = await Promise.all([dropoutRun(data, 9), dropoutRun(data, 11)]);
    expect(a2).toEqual(a);
    expect(b2).toEqual(b);
    expect(Math.random).toBe(original);
  });

  it('stops with an error naming the step when the loss turns NaN', async () => {
    const data = await smallMnist();
    const start = tf.memory().numTensors;
    const model = PRESETS['prelu-mlp'].build({ seed: 2 });
    const options = recipeOptions(PRESETS['prelu-mlp'], { steps: 50, learningRate: 1e30 });
    const err = await train(model, data, { ...options, logInterval: 0, lossSyncInterval: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect(err.message).toMatch(/loss became (NaN|Infinity|-Infinity) at step \d+/);
    expect(typeof err.step).toBe('number');
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('logs train and test accuracy at the log interval, after step 0 as 003/004 do', async () => {
    const data = await smallMnist();
    const model = PRESETS['two-layer-net'].build({ seed: 3 });
    // What the model scores at the moment of each evaluation, measured independently.
    const measured: { step: number; train: number; test: number; testLoss?: number }[] = [];
    const r = await train(model, data, {
      ...recipeOptions(PRESETS['two-layer-net'], { steps: 45 }),
      logInterval: 20,
      onEval: async (e) => {
        const trainEval = await evaluate(model, data.train);
        const testEval = await evaluate(model, data.test, { loss: 'cross-entropy' });
        measured.push({ step: e.step, train: trainEval.accuracy, test: testEval.accuracy, testLoss: testEval.loss });
      },
    });
    expect(r.history.evals.map((e) => e.step)).toEqual([0, 20, 40, 44]);
    expect(r.history.evals.map((e) => ({ step: e.step, train: e.trainAccuracy, test: e.testAccuracy, testLoss: e.testLoss }))).toEqual(measured);
    // At step 0 the 0.01-scaled init is at chance; the figures are fractions of the 2,000 / 500 examples.
    expect(r.history.evals[0].testAccuracy).toBeLessThan(0.25);
    for (const e of r.history.evals) {
      expect(Math.abs(e.trainAccuracy * 2000 - Math.round(e.trainAccuracy * 2000))).toBeLessThan(1e-6);
      expect(Math.abs((e.testAccuracy as number) * 500 - Math.round((e.testAccuracy as number) * 500))).toBeLessThan(1e-6);
    }
    // samples/s is steps x batch over the time spent in steps.
    expect(r.samplesPerSec).toBeCloseTo((45 * 100) / r.trainSeconds, 6);
    model.dispose();
  });

  it('stops at a training-time budget and evaluates on a time interval, by its clock', async () => {
    const data = await smallMnist();
    const model = PRESETS['two-layer-net'].build({ seed: 3 });
    const { steps: _recipeSteps, ...options } = recipeOptions(PRESETS['two-layer-net'], {});
    // A clock that moves 1 ms each time it is read, whatever the machine's load: the budget and the
    // evaluations fall at the same steps on every run. A step reads it a few times, so it takes a
    // few (fake) ms, far less than the 20 ms allowed past each mark below.
    let clock = 0;
    const now = () => ++clock;
    const r = await train(model, data, { ...options, maxSeconds: 0.6, evalIntervalSeconds: 0.2, logInterval: 0, now });
    expect(r.stopped).toBe('time-limit');
    // The step that crossed the budget is the last one.
    expect(r.trainSeconds).toBeGreaterThanOrEqual(0.6);
    expect(r.trainSeconds).toBeLessThan(0.62);
    expect(r.history.loss).toHaveLength(r.steps);
    expect(r.steps).toBeGreaterThan(50);
    // One evaluation at each step that crossed 0.2, 0.4 and 0.6 s of training time (the last at the final step), no others.
    expect(r.history.evals.map((e) => Math.floor(e.trainSeconds / 0.2 + 1e-9))).toEqual([1, 2, 3]);
    for (const [k, e] of r.history.evals.entries()) expect(e.trainSeconds).toBeLessThan(0.2 * (k + 1) + 0.02);
    expect(r.history.evals.at(-1)?.step).toBe(r.steps - 1);
    // Wall time counts the evaluations too, on the same clock.
    expect(r.seconds).toBeGreaterThan(r.trainSeconds);
    expect(r.seconds).toBeCloseTo((clock - 1) / 1000, 2);
    const capped = await train(model, data, { ...options, steps: 5, maxSeconds: 60, logInterval: 0, now });
    expect(capped).toMatchObject({ stopped: 'completed', steps: 5 });
    await expect(train(model, data, { ...options, steps: 1, now: 5 as never })).rejects.toThrow(/^now: must be a function/);
    model.dispose();
  });

  it('stops after the step in flight when aborted', async () => {
    const data = await smallMnist();
    const model = PRESETS['two-layer-net'].build({ seed: 3 });
    const controller = new AbortController();
    const r = await train(model, data, {
      ...recipeOptions(PRESETS['two-layer-net'], { steps: 1000 }),
      logInterval: 0,
      signal: controller.signal,
      onBatchEnd: ({ step }) => {
        if (step === 9) controller.abort();
      },
    });
    expect(r.stopped).toBe('aborted');
    expect(r.steps).toBe(10);
    model.dispose();
  });

  it('rejects bad options naming the option', async () => {
    const data = await smallMnist();
    const model = PRESETS['two-layer-net'].build();
    const base = recipeOptions(PRESETS['two-layer-net'], {});
    await expect(train(model, data, { ...base, batchSize: 0 })).rejects.toThrow(/batchSize: must be a positive integer/);
    await expect(train(model, data, { ...base, epochs: 2 })).rejects.toThrow(InvalidArgumentError);
    model.dispose();
  });
});

describe('optimisers and sampling', () => {
  it("momentum SGD with the inv policy matches source 001's update by hand", () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const config = { kind: 'momentum', learningRate: 0.1, momentum: 0.9, weightDecay: 0.001, policy: { kind: 'inv', gamma: 0.0005, power: 0.75 } } as const;
    const rule = createUpdateRule(config, [{ variable: w, isKernel: true }]);
    let v = [0, 0];
    let ref = [1, -2];
    const g = [0.5, 0.25];
    for (let it = 0; it < 3; it++) {
      const lr = 0.1 * Math.pow(1 + 0.0005 * it, -0.75);
      expect(learningRateAt(config, it)).toBeCloseTo(lr, 12);
      v = v.map((vi, i) => 0.9 * vi + lr * (g[i] + 0.001 * ref[i]));
      ref = ref.map((wi, i) => wi - v[i]);
      tf.tidy(() => rule.apply([tf.tensor1d(g)], it));
    }
    const got = Array.from(w.dataSync());
    got.forEach((x, i) => expect(x).toBeCloseTo(ref[i], 5));
    rule.dispose();
    w.dispose();
  });

  it('samples with replacement, in file order, shuffled once with wrap-around, and shuffled afresh each epoch', () => {
    const identity = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const batches = (sampler: BatchSampler, n: number) => Array.from({ length: n }, () => Array.from(sampler.next()));
    // 'ordered': the file's own order, epoch after epoch.
    expect(batches(new BatchSampler(10, 4, 'ordered', 1), 3)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9, 0, 1],
    ]);
    // 'shuffle': each epoch a permutation, not the file's order, and a different one the next
    // epoch (the last batch of an epoch is short); the same seed gives the same epochs.
    const shuffled = batches(new BatchSampler(10, 4, 'shuffle', 1), 6);
    expect(shuffled.map((b) => b.length)).toEqual([4, 4, 2, 4, 4, 2]);
    const [first, second] = [shuffled.slice(0, 3).flat(), shuffled.slice(3).flat()];
    for (const epoch of [first, second]) expect([...epoch].sort((a, b) => a - b)).toEqual(identity);
    expect(first).not.toEqual(identity);
    expect(second).not.toEqual(first);
    expect(batches(new BatchSampler(10, 4, 'shuffle', 1), 6)).toEqual(shuffled);
    expect(batches(new BatchSampler(10, 4, 'shuffle', 2), 3).flat()).not.toEqual(first);
    // 'sequential' (001's data layer): one shuffle up front, then that order with wrap-around.
    const seq = batches(new BatchSampler(10, 4, 'sequential', 1), 5).flat();
    expect([...seq.slice(0, 10)].sort((a, b) => a - b)).toEqual(identity);
    expect(seq.slice(0, 10)).not.toEqual(identity);
    expect(seq.slice(10)).toEqual(seq.slice(0, 10));
    // 'replacement': every index drawn with replacement, about evenly.
    const drawn = new BatchSampler(5, 1000, 'replacement', 1).next();
    const counts = [0, 1, 2, 3, 4].map((i) => drawn.filter((x) => x === i).length);
    for (const c of counts) expect(Math.abs(c - 200)).toBeLessThan(60);
  });

  it('encodes targets 0.01/0.99 for mse-mlp, for the rows asked for', () => {
    const labels = new Uint8Array([3, 2, 0]);
    const t = oneHotRows(labels, 4, { off: 0.01, on: 0.99 }, [1, 2]);
    expect(Array.from(t, (x) => Number(x.toFixed(6)))).toEqual([0.01, 0.01, 0.99, 0.01, 0.99, 0.01, 0.01, 0.01]);
    expect(Array.from(oneHotRows(labels, 4))).toEqual([0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0]);
  });
});

describe('gradient check', () => {
  it.each(['quadratic', 'cross-entropy', 'softmax-cross-entropy'] as const)('backprop matches central differences (%s)', async (loss) => {
    const data = await smallMnist();
    const start = tf.memory().numTensors;
    const model = buildMlp({
      hiddenUnits: [8],
      activation: 'sigmoid',
      outputActivation: loss === 'softmax-cross-entropy' ? 'linear' : loss === 'quadratic' ? 'sigmoid' : 'softmax',
      kernelInitializer: { kind: 'normal', stddev: 0.5 },
      biasInitializer: { kind: 'normal', stddev: 0.5 },
      seed: 4,
    });
    const xs = tf.tensor2d(data.train.images.subarray(0, 5 * 784), [5, 784]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(data.train.labels.subarray(0, 5)), 'int32'), 10));
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const result = gradientCheck(model, xs, ys, loss, { samplesPerVariable: 12, seed: 1 });
    expect(result.variables).toHaveLength(4);
    expect(result.maxRelError).toBeLessThan(2e-2);
    // Weights are restored exactly.
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    tf.dispose([xs, ys]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  /** Identity forward, gradient times `factor` backward: a layer whose backprop is wrong on purpose. */
  class WrongGradient extends tf.layers.Layer {
    static className = 'WrongGradient';
    constructor(private readonly factor: number) {
      super({});
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const f = tf.customGrad((...args: unknown[]) => ({ value: (args[0] as tf.Tensor).clone(), gradFunc: (dy: tf.Tensor) => dy.mul(this.factor) }));
      return f(x);
    }
  }

  const netWith = (factor: number) =>
    tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, activation: 'sigmoid', inputShape: [784], kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 1 }), name: 'hidden' }),
        new WrongGradient(factor),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 2 }), name: 'out' }),
      ],
    });

  it('fails a deliberately wrong gradient (negative control), and passes the same net with it right', async () => {
    const data = await smallMnist();
    const start = tf.memory().numTensors;
    const xs = tf.tensor2d(data.train.images.subarray(0, 5 * 784), [5, 784]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(data.train.labels.subarray(0, 5)), 'int32'), 10));
    const right = netWith(1);
    const wrong = netWith(1.5);
    const good = gradientCheck(right, xs, ys, 'softmax-cross-entropy', { samplesPerVariable: 12, seed: 1 });
    const bad = gradientCheck(wrong, xs, ys, 'softmax-cross-entropy', { samplesPerVariable: 12, seed: 1 });
    expect(good.maxRelError).toBeLessThan(2e-2);
    // Backprop says 1.5x the true gradient for the layer below: |1.5g - g| / 1.5|g| = 1/3.
    expect(bad.maxRelError).toBeGreaterThan(0.25);
    const byName = Object.fromEntries(bad.variables.map((v) => [v.name.split('/')[0], v.maxRelError]));
    expect(byName.hidden).toBeGreaterThan(0.25);
    expect(byName.out).toBeLessThan(2e-2);
    tf.dispose([xs, ys]);
    right.dispose();
    wrong.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('restores the weights when the loss throws half-way through', async () => {
    const data = await smallMnist();
    const model = netWith(1);
    const xs = tf.tensor2d(data.train.images.subarray(0, 5 * 784), [5, 784]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(data.train.labels.subarray(0, 5)), 'int32'), 10));
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const apply = model.apply.bind(model);
    let calls = 0;
    // Call 1 is the backprop pass; call 3 the loss with the first checked weight moved by -h.
    jest.spyOn(model, 'apply').mockImplementation((...args: Parameters<typeof model.apply>) => {
      if (++calls === 3) throw new Error('simulated failure');
      return apply(...args);
    });
    expect(() => gradientCheck(model, xs, ys, 'softmax-cross-entropy', { samplesPerVariable: 4, seed: 1 })).toThrow('simulated failure');
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe('save and load', () => {
  it('round-trips predictions and metadata; a loaded model evaluates the same', async () => {
    const data = await smallMnist();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-save-'));
    const start = tf.memory().numTensors;
    const model = PRESETS['prelu-mlp'].build({ seed: 1 });
    await train(model, data, { ...recipeOptions(PRESETS['prelu-mlp'], { steps: 20 }), logInterval: 0, seed: 1 });
    await saveModel(model, dir, { preset: 'prelu-mlp', normalization: 'unit', layout: 'flat', loss: 'softmax-cross-entropy', hyperparameters: { lr: 0.1 } });
    const loaded = await loadModel(dir);
    expect(loaded.metadata.preset).toBe('prelu-mlp');
    expect(loaded.metadata.hyperparameters).toEqual({ lr: 0.1 });
    const [a, b] = tf.tidy(() => {
      const x = tf.tensor2d(data.test.images.subarray(0, 20 * 784), [20, 784]);
      return [(model.predict(x) as tf.Tensor).arraySync(), (loaded.model.predict(x) as tf.Tensor).arraySync()];
    });
    expect(b).toEqual(a);
    const ea = await evaluate(model, data.test);
    const eb = await evaluate(loaded.model, data.test);
    expect(eb.accuracy).toBe(ea.accuracy);
    model.dispose();
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(start);
    // Exactly one weights file, no temp files.
    const files = fs.readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('model.json');
    expect(files[1]).toMatch(/^weights\.[0-9a-f]{16}\.bin$/);
  });

  it('reports a missing or corrupt model clearly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-bad-'));
    await expect(loadModel(dir)).rejects.toThrow(/model\.json: model\.json not found \(is this a model folder: `mnist-nets train --save`, tf\.js model\.save, tensorflowjs_converter\?\)/);
    fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": ');
    await expect(loadModel(dir)).rejects.toThrow(ModelIOError);
    await expect(loadModel(dir)).rejects.toThrow(/not valid JSON/);
    const model = PRESETS['two-layer-net'].build();
    await saveModel(model, dir, { normalization: 'unit', layout: 'flat', loss: 'cross-entropy', hyperparameters: {} });
    model.dispose();
    const weights = fs.readdirSync(dir).find((f) => f.endsWith('.bin')) as string;
    fs.truncateSync(path.join(dir, weights), 100);
    await expect(loadModel(dir)).rejects.toThrow(/weights hold 100 bytes, model.json describes 159040/);
    fs.rmSync(path.join(dir, weights));
    await expect(loadModel(dir)).rejects.toThrow(/weights file not found/);
  });
});

describe('model folders', () => {
  const META = { preset: 'two-layer-net', normalization: 'unit', layout: 'flat', loss: 'cross-entropy', hyperparameters: {} } as const;
  const tmpDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const editModelJson = (dir: string, edit: (json: { weightsManifest: { paths: string[]; weights: Record<string, unknown>[] }[] }) => void) => {
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    edit(json);
    fs.writeFileSync(file, JSON.stringify(json));
  };

  it('loadModel reads model.json once, so metadata and weights come from the same save', async () => {
    const dir = tmpDir('mnist-nets-once-');
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    await saveModel(model, dir, META);
    model.dispose();
    const readFile = jest.spyOn(fs.promises, 'readFile');
    try {
      const loaded = await loadModel(dir);
      loaded.model.dispose();
      const reads = readFile.mock.calls.filter(([file]) => String(file).endsWith('model.json'));
      expect(reads).toHaveLength(1);
    } finally {
      readFile.mockRestore();
    }
  });

  it('concurrent saves into one folder each leave a consistent model.json + weights pair; concurrent loads see one of them', async () => {
    const data = await smallMnist();
    const dir = tmpDir('mnist-nets-concurrent-');
    const models = [1, 2, 3].map((seed) => PRESETS['two-layer-net'].build({ seed }));
    const x = tf.tensor2d(data.test.images.subarray(0, 4 * 784), [4, 784]);
    const expected = models.map((m) => tf.tidy(() => (m.predict(x) as tf.Tensor).arraySync()));
    const check = (loaded: SavedModel) => {
      const tag = loaded.metadata.tag as number;
      expect(tf.tidy(() => (loaded.model.predict(x) as tf.Tensor).arraySync())).toEqual(expected[tag]);
      loaded.model.dispose();
    };
    await saveModel(models[0], dir, { ...META, tag: 0 });
    for (let round = 0; round < 8; round++) {
      const saves = models.map((m, tag) => saveModel(m, dir, { ...META, tag }));
      const loads = [loadModel(dir), loadModel(dir)];
      await Promise.all(saves);
      for (const loaded of await Promise.all(loads)) check(loaded);
      check(await loadModel(dir));
    }
    // One save alone afterwards leaves exactly its own pair: unreferenced weights are cleaned up.
    await saveModel(models[1], dir, { ...META, tag: 1 });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const weights = json.weightsManifest[0].paths[0].replace(/^\.\//, '');
    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', weights]);
    check(await loadModel(dir));
    x.dispose();
    models.forEach((m) => m.dispose());
  });

  it('refuses weight paths that leave the folder, naming model.json and the path', async () => {
    const root = tmpDir('mnist-nets-escape-');
    const dir = path.join(root, 'model');
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    await saveModel(model, dir, META);
    model.dispose();
    const weights = fs.readdirSync(dir).find((f) => f.endsWith('.bin')) as string;
    // A file outside the folder that would load, were it read: the right size.
    fs.mkdirSync(path.join(root, 'secret'));
    fs.copyFileSync(path.join(dir, weights), path.join(root, 'secret', 'w.bin'));
    const modelJson = path.join(dir, 'model.json');
    for (const bad of ['../secret/w.bin', 'sub/../../secret/w.bin', path.join(root, 'secret', 'w.bin'), 'file:///etc/passwd', 'https://example.org/w.bin', '..\\secret\\w.bin', '%2e%2e/secret/w.bin', 'C:/w.bin']) {
      editModelJson(dir, (json) => (json.weightsManifest[0].paths = [bad]));
      const err = await loadModel(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelIOError);
      expect((err as ModelIOError).message).toMatch(new RegExp(`^${modelJson}: weight path ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (leaves the model's folder|is a URL|is absolute)`));
      expect((err as ModelIOError).exitCode).toBe(2);
    }
    // Nor through a symbolic link inside the folder.
    fs.symlinkSync(path.join(root, 'secret', 'w.bin'), path.join(dir, 'link.bin'));
    editModelJson(dir, (json) => (json.weightsManifest[0].paths = ['./link.bin']));
    await expect(loadModel(dir)).rejects.toThrow(`${modelJson}: weight path "./link.bin" leaves the model's folder (a link to ${path.join(root, 'secret', 'w.bin')})`);
    // Sub-folders inside it are fine.
    fs.mkdirSync(path.join(dir, 'shards'));
    fs.renameSync(path.join(dir, weights), path.join(dir, 'shards', weights));
    editModelJson(dir, (json) => (json.weightsManifest[0].paths = [`shards/${weights}`]));
    (await loadModel(dir)).model.dispose();
  });

  it('a quantized weights manifest loads as tf.js dequantises it; a quantisation it does not know is named', async () => {
    const dir = tmpDir('mnist-nets-quantized-');
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    await saveModel(model, dir, META);
    model.dispose();
    const weights = fs.readdirSync(dir).find((f) => f.endsWith('.bin')) as string;
    // What tfjs-converter's --quantize_uint8 writes: one byte per value and a dequantisation rule.
    let first = '';
    editModelJson(dir, (json) => {
      first = json.weightsManifest[0].weights[0].name as string;
      for (const w of json.weightsManifest[0].weights) w.quantization = { dtype: 'uint8', scale: 0.01, min: -1 };
    });
    fs.writeFileSync(path.join(dir, weights), Uint8Array.from({ length: 39_760 }, (_, i) => i % 256));
    const loaded = await loadModel(dir);
    expect(Array.from(loaded.model.getWeights()[0]!.dataSync().slice(0, 3))).toEqual([-1, -0.99, -0.98].map(Math.fround));
    loaded.model.dispose();
    editModelJson(dir, (json) => {
      for (const w of json.weightsManifest[0].weights) w.quantization = { dtype: 'int4', scale: 0.01, min: -1 };
    });
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelIOError);
    expect((err as ModelIOError).message).toBe(
      `${path.join(dir, 'model.json')}: weight ${first} is quantized as "int4" from "float32"; supported: uint8, uint16, float16 from float32 or int32`,
    );
  });
});

describe('runTrainJob', () => {
  it('trains a preset end to end, saves every epoch and at the end', async () => {
    const data = await smallMnist();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-job-'));
    const start = tf.memory().numTensors;
    // What is on disk after each save: the step and the epoch of the checkpoint each one left.
    const saved: Array<{ step: number; epoch: unknown; stopped: unknown }> = [];
    const saveThrough = checkpointModule.saveCheckpoint;
    const save = jest.spyOn(checkpointModule, 'saveCheckpoint').mockImplementation(async (...args) => {
      await saveThrough(...args);
      const c = await checkpointModule.loadCheckpoint(dir);
      c.model.dispose();
      saved.push({ step: c.state.step, epoch: (c.metadata.checkpoint as { epoch?: number } | undefined)?.epoch, stopped: c.metadata.stopped });
    });
    try {
      // prelu-mlp's batch of 64 on 2,000 images: 32 steps an epoch, so 60 steps end one epoch at step 32.
      const { result, model } = await runTrainJob({ preset: 'prelu-mlp', data, steps: 60, seed: 1, saveDir: dir, logInterval: 20 });
      model.dispose();
      expect(result).toMatchObject({ model: 'prelu-mlp', params: 203_531, steps: 60, seed: 1, stopped: 'completed' });
      expect(result.history.epochs.map((e) => e.step)).toEqual([32, 60]);
      expect(saved).toEqual([
        { step: 32, epoch: 1, stopped: undefined },
        { step: 60, epoch: 2, stopped: 'completed' },
      ]);
      expect(result.testAccuracy).toBeGreaterThan(0.3);
      expect(result.history.loss).toHaveLength(60);
      const loaded = await loadModel(dir);
      expect(loaded.metadata.testAccuracy).toBe(result.testAccuracy);
      expect((loaded.metadata.history as { loss: number[] }).loss).toHaveLength(60);
      loaded.model.dispose();
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      save.mockRestore();
    }
  });
});
