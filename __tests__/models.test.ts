import * as tf from '@tensorflow/tfjs';
import { buildCnn } from '../lib/models/cnn';
import { buildMlp } from '../lib/models/mlp';
import { buildTwoLayerNet } from '../lib/models/two-layer-net';
import { forwardFlops } from '../lib/models/summary';
import { PRESETS, PRESET_IDS, getPreset } from '../lib/recipes';
import { InvalidArgumentError } from '../lib/errors';
import { RECIPE_PARAMS } from './helpers/expected';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('presets', () => {
  const expected = RECIPE_PARAMS;

  it('lists the seven recipes of RECIPES.md', () => {
    expect([...PRESET_IDS].sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s has exactly %d parameters and a [batch, 10] output', (id, params) => {
    const start = tf.memory().numTensors;
    const preset = getPreset(id);
    const model = preset.build({ seed: 1 });
    expect(model.countParams()).toBe(params);
    expect(preset.params).toBe(params);
    const inputShape = preset.layout === 'image' ? [3, 28, 28, 1] : [3, 784];
    tf.tidy(() => {
      const out = model.predict(tf.zeros(inputShape)) as tf.Tensor;
      expect(out.shape).toEqual([3, 10]);
    });
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('prelu-mlp has one shared PReLU slope starting at 0.25', () => {
    const model = PRESETS['prelu-mlp'].build({ seed: 1 });
    const prelu = model.layers.find((l) => l.getClassName() === 'PReLU');
    expect(prelu).toBeDefined();
    const [alpha] = prelu!.getWeights();
    expect(alpha.size).toBe(1);
    expect(alpha.dataSync()[0]).toBeCloseTo(0.25);
    model.dispose();
  });

  it('mse-mlp has no biases and N(0, fanOut^-0.5) weights', () => {
    const model = PRESETS['mse-mlp'].build({ seed: 3 });
    const weights = model.getWeights();
    expect(weights.map((w) => w.shape)).toEqual([
      [784, 200],
      [200, 10],
    ]);
    const std = (t: tf.Tensor) => tf.tidy(() => Math.sqrt(tf.moments(t).variance.dataSync()[0]));
    expect(std(weights[0])).toBeCloseTo(200 ** -0.5, 2);
    expect(std(weights[1])).toBeCloseTo(10 ** -0.5, 1);
    model.dispose();
  });

  it('tanh-mlp draws Xavier-uniform weights within sqrt(6)/sqrt(in+out+1), biases 0', () => {
    const model = PRESETS['tanh-mlp'].build({ seed: 4 });
    const [k1, b1] = model.getWeights();
    const limit = Math.sqrt(6) / Math.sqrt(784 + 50 + 1);
    const values = k1.dataSync();
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(limit * 0.95);
    expect([...b1.dataSync()].every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  it('cnn uses truncated normal 0.1 weights (N(0, 0.1) redrawn beyond 2 std) and 0.1 biases', () => {
    const model = PRESETS.cnn.build({ seed: 5 });
    const weights = model.getWeights();
    // N(0, 0.1) cut at +-0.2 has mean 0 and standard deviation 0.1 * sqrt(1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2))) = 0.0880.
    const truncatedStd = 0.1 * Math.sqrt(1 - (4 * Math.exp(-2)) / Math.sqrt(2 * Math.PI) / 0.9545);
    expect(truncatedStd).toBeCloseTo(0.088, 3);
    const kernels = weights.filter((w) => w.shape.length > 1);
    expect(kernels.map((k) => k.shape)).toEqual([[5, 5, 1, 32], [5, 5, 32, 64], [3136, 1024], [1024, 10]]);
    for (const k of kernels) {
      const v = k.dataSync() as Float32Array;
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      // Within 4 standard errors of the mean, and 5% of the standard deviation.
      expect(Math.abs(mean)).toBeLessThan((4 * truncatedStd) / Math.sqrt(v.length));
      expect(Math.abs(std / truncatedStd - 1)).toBeLessThan(0.05);
      // Nothing beyond 2 std, and the tails reach it.
      const largest = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(largest).toBeLessThanOrEqual(0.2 + 1e-6);
      expect(largest).toBeGreaterThan(0.19);
    }
    for (const b of weights.filter((w) => w.shape.length === 1)) expect([...b.dataSync()].every((v) => Math.abs(v - 0.1) < 1e-7)).toBe(true);
    model.dispose();
  });

  it('a seed makes initialisation repeatable; another seed changes it', () => {
    const a = PRESETS['two-layer-net'].build({ seed: 7 });
    const b = PRESETS['two-layer-net'].build({ seed: 7 });
    const c = PRESETS['two-layer-net'].build({ seed: 8 });
    const w = (m: tf.LayersModel) => Array.from(m.getWeights()[0].dataSync().slice(0, 20));
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('computes forward FLOPs from the layers (cnn ~ 27.6 MFLOP/sample)', () => {
    const model = PRESETS.cnn.build();
    // conv1 2*25*1*32*784 + conv2 2*25*32*64*196 + fc 2*3136*1024 + 2*1024*10
    expect(forwardFlops(model)).toBe(2 * 25 * 32 * 784 + 2 * 25 * 32 * 64 * 196 + 2 * 3136 * 1024 + 2 * 1024 * 10);
    model.dispose();
  });
});

describe('builders', () => {
  it('derives the CNN flatten size from its options', () => {
    const model = buildCnn({ filters: [4, 8, 16], kernelSize: 3, denseUnits: 32, dropout: 0 });
    const flatten = model.getLayer('flatten');
    // 28 -> 14 -> 7 -> 4 with SAME pooling.
    expect(flatten.outputShape).toEqual([null, 4 * 4 * 16]);
    model.dispose();
  });

  it('builds an MLP with per-layer activations and no biases', () => {
    const model = buildMlp({ hiddenUnits: [16, 8], activation: ['relu', 'tanh'], useBias: false, outputActivation: 'softmax' });
    expect(model.countParams()).toBe(784 * 16 + 16 * 8 + 8 * 10);
    model.dispose();
  });

  it('TwoLayerNet defaults to 784-50-10 sigmoid/softmax', () => {
    const model = buildTwoLayerNet({ hiddenSize: 20 });
    expect(model.countParams()).toBe(784 * 20 + 20 + 20 * 10 + 10);
    const config = model.layers.map((l) => (l.getConfig() as { activation?: string }).activation);
    expect(config).toEqual(['sigmoid', 'softmax']);
    model.dispose();
  });

  it('rejects bad options naming the argument', () => {
    expect(() => buildMlp({ hiddenUnits: [0] })).toThrow(/hiddenUnits\[0\]: must be a positive integer/);
    expect(() => buildMlp({ hiddenUnits: [4], activation: 'swish' as never })).toThrow(InvalidArgumentError);
    expect(() => buildMlp({ hiddenUnits: [4, 4], activation: ['relu'] })).toThrow(/activation: has 1 entries, expected 2/);
    expect(() => buildCnn({ dropout: 1 })).toThrow(/dropout: must be a number in \[0, 1\)/);
    expect(() => getPreset('lenet')).toThrow(/unknown preset 'lenet'/);
  });
});

describe('package', () => {
  it('VERSION matches package.json', () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    expect(require('../lib/version').VERSION).toBe(require('../package.json').version);
  });
});
