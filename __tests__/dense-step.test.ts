import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '../lib/backends';
import { InvalidArgumentError } from '../lib/errors';
import { oneHotRows } from '../lib/datasets/onehot';
import { buildCnn } from '../lib/models/cnn';
import { buildMlp } from '../lib/models/mlp';
import { PRESETS, PresetId, recipeOptions } from '../lib/recipes';
import { GradientMethod, createTrainingStep } from '../lib/training/dense-step';
import { LossName } from '../lib/training/losses';
import { train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';
import { relativeError } from './helpers/compare';

/** Largest |a - b| over the largest |b|, per variable: float32 sums reordered, nothing else. */
const TOLERANCE = 1e-5;

beforeAll(async () => {
  await useBackend('wasm');
});

afterAll(async () => {
  await tf.setBackend('wasm');
});


/** A batch of real digits with the recipe's targets. */
async function batch(model: tf.LayersModel, size: number, targets = { off: 0, on: 1 }, normalization: 'unit' | 'offset' = 'unit') {
  const data = await smallMnist(normalization);
  const rows = Array.from({ length: size }, (_, i) => (i * 37) % data.train.count);
  const pixels = 784;
  const images = new Float32Array(size * pixels);
  rows.forEach((r, i) => images.set(data.train.images.subarray(r * pixels, (r + 1) * pixels), i * pixels));
  expect(model.inputs[0]!.shape[1]).toBe(pixels);
  return {
    x: tf.tensor2d(images, [size, pixels]),
    y: tf.tensor2d(oneHotRows(data.train.labels, 10, targets, rows), [size, 10]),
  };
}

/** Loss and gradients of both methods for one batch, compared variable by variable; no leaks. */
async function compareMethods(model: tf.LayersModel, loss: LossName, size: number, targets?: { off: number; on: number }, normalization?: 'unit' | 'offset') {
  const { x, y } = await batch(model, size, targets, normalization);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const start = tf.memory().numTensors;
  const run = (method: GradientMethod, fusedKernels = true) => {
    const step = createTrainingStep(model, loss, vars, method, { fusedKernels });
    const out = tf.tidy(() => {
      const { loss: value, grads } = step.run(x, y);
      return [value, ...grads];
    });
    const values = out.map((t) => t.dataSync().slice());
    tf.dispose(out);
    return { method: step.method, loss: values[0]![0]!, grads: values.slice(1) };
  };
  const dense = run('dense');
  const composed = run('dense', false);
  const tape = run('tape');
  expect(tf.memory().numTensors).toBe(start);
  tf.dispose([x, y]);
  expect(dense.method).toBe('dense');
  for (const [name, candidate] of [['fused kernels', dense], ['tf.js ops', composed]] as const) {
    expect(Math.abs(candidate.loss - tape.loss) / Math.abs(tape.loss)).toBeLessThan(TOLERANCE);
    expect(candidate.grads).toHaveLength(vars.length);
    candidate.grads.forEach((g, i) => {
      const e = relativeError(g, tape.grads[i]!);
      if (!(e < TOLERANCE)) throw new Error(`${name}, ${vars[i]!.name}: relative error ${e}`);
    });
  }
  // The gradients are not all zero (a comparison of zeros would prove nothing).
  expect(tape.grads.every((g) => g.some((v) => v !== 0))).toBe(true);
  return { dense, tape };
}

describe('the hand-written dense step gives the tape gradients', () => {
  const densePresets: PresetId[] = ['mlp', 'deep-mlp', 'tanh-mlp', 'mse-mlp', 'two-layer-net', 'prelu-mlp'];
  it.each(densePresets)('%s (its recipe: loss, targets, batch size)', async (id) => {
    const preset = PRESETS[id];
    const model = preset.build({ seed: 3 });
    const r = preset.recipe;
    // Batch 1 is mse-mlp's own; the others use a smaller batch than the recipe's to stay fast.
    await compareMethods(model, r.loss, Math.min(r.batchSize, 32), r.targets, r.normalization === 'offset' ? 'offset' : 'unit');
    model.dispose();
  });

  const extra: Array<[string, Parameters<typeof buildMlp>[0], LossName]> = [
    ['relu hidden, linear output, quadratic', { hiddenUnits: [20], activation: 'relu', outputActivation: 'linear' }, 'quadratic'],
    ['tanh then sigmoid hidden, softmax output, quadratic', { hiddenUnits: [16, 12], activation: ['tanh', 'sigmoid'], outputActivation: 'softmax' }, 'quadratic'],
    ['linear hidden, sigmoid output, cross-entropy', { hiddenUnits: [12], activation: 'linear', outputActivation: 'sigmoid' }, 'cross-entropy'],
    ['prelu, no biases, softmax cross-entropy', { hiddenUnits: [24], activation: 'prelu', outputActivation: 'linear', useBias: false }, 'softmax-cross-entropy'],
    ['no hidden layer (softmax regression)', { hiddenUnits: [], outputActivation: 'linear' }, 'softmax-cross-entropy'],
    ['tanh hidden, sigmoid output, cross-entropy', { hiddenUnits: [9], activation: 'tanh', outputActivation: 'sigmoid' }, 'cross-entropy'],
    ['width not a multiple of 4 and odd batch, sigmoid output, quadratic', { hiddenUnits: [7, 5], activation: ['relu', 'tanh'], outputActivation: 'sigmoid' }, 'quadratic'],
  ];
  it.each(extra)('%s', async (_name, options, loss) => {
    const model = buildMlp({ kernelInitializer: { kind: 'normal', stddev: 0.1 }, biasInitializer: { kind: 'normal', stddev: 0.1 }, seed: 5, ...options });
    await compareMethods(model, loss, 16);
    model.dispose();
  });

  it('a PReLU with one slope per unit', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 8, kernelInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: 1 }) }),
        tf.layers.prelu({ alphaInitializer: tf.initializers.randomUniform({ minval: 0.1, maxval: 0.3, seed: 2 }) }),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: 3 }) }),
      ],
    });
    const { dense } = await compareMethods(model, 'softmax-cross-entropy', 16);
    expect(dense.grads[2]).toHaveLength(8);
    model.dispose();
  });

  it('on the cpu backend too', async () => {
    await tf.setBackend('cpu');
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    await compareMethods(model, 'cross-entropy', 20);
    model.dispose();
    await tf.setBackend('wasm');
  });

  it("does without the product for the images and most of the tape's kernels (784-50-10)", async () => {
    // Counted with the tf.js-op backward pass; the fused kernels take fewer still (below).
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    const { x, y } = await batch(model, 100);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const kernels = async (method: GradientMethod, fusedKernels = false) => {
      const step = createTrainingStep(model, 'cross-entropy', vars, method, { fusedKernels });
      const info = await tf.profile(() => tf.dispose(tf.tidy(() => Object.values(step.run(x, y)).flat())));
      return info.kernels.map((k) => k.name);
    };
    const dense = await kernels('dense');
    const tape = await kernels('tape');
    const products = (names: string[]) => names.filter((n) => n === 'BatchMatMul' || n === '_FusedMatMul').length;
    // Forward: two fused products; backward: dW2, dx of layer 2, dW1; no dx of layer 1.
    expect(products(dense)).toBe(5);
    expect(products(tape)).toBe(6);
    // 28 against 76 when this was written; the tape's count belongs to tf.js and may change.
    expect(dense.length).toBeLessThanOrEqual(28);
    expect(tape.length).toBeGreaterThan(2 * dense.length);
    const fused = await kernels('dense', true);
    expect(fused.filter((n) => !/Reshape/.test(n)).length).toBeLessThanOrEqual(8);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('choosing the step', () => {
  it('falls back to the tape for what the dense step does not cover, and says why', async () => {
    const cnn = buildCnn({ filters: [4], denseUnits: 8, seed: 1 });
    const vars = cnn.trainableWeights.map((w) => w.read() as tf.Variable);
    const step = createTrainingStep(cnn, 'softmax-cross-entropy', vars);
    expect(step.method).toBe('tape');
    expect(step.fallbackReason).toMatch(/layer conv1 is a Conv2D/);
    expect(() => createTrainingStep(cnn, 'softmax-cross-entropy', vars, 'dense')).toThrow(InvalidArgumentError);
    expect(() => createTrainingStep(cnn, 'softmax-cross-entropy', vars, 'dense')).toThrow(/gradients: the dense step does not apply: layer conv1 is a Conv2D/);
    cnn.dispose();

    const withDropout = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 4 }), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 10 })] });
    const dvars = withDropout.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(createTrainingStep(withDropout, 'softmax-cross-entropy', dvars).fallbackReason).toMatch(/is a Dropout/);
    withDropout.dispose();

    const softmaxOut = buildMlp({ hiddenUnits: [4], outputActivation: 'softmax' });
    const svars = softmaxOut.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(createTrainingStep(softmaxOut, 'softmax-cross-entropy', svars).fallbackReason).toMatch(/linear \(logits\) last layer/);
    // Only some of the variables: the tape handles the subset.
    expect(createTrainingStep(softmaxOut, 'cross-entropy', svars.slice(0, 2)).method).toBe('tape');
    expect(createTrainingStep(softmaxOut, 'cross-entropy', svars).method).toBe('dense');
    expect(() => createTrainingStep(softmaxOut, 'cross-entropy', svars, 'sideways' as GradientMethod)).toThrow(/gradients: must be one of/);
    softmaxOut.dispose();
  });

  it('the fallback trains the cnn through train(), and train() reports the step it used', async () => {
    const data = await smallMnist();
    const cnn = buildCnn({ filters: [4], denseUnits: 8, seed: 1 });
    const r1 = await train(cnn, data, { loss: 'softmax-cross-entropy', optimizer: { kind: 'adam', learningRate: 1e-3 }, batchSize: 8, sampling: 'shuffle', steps: 3, seed: 1 });
    expect(r1.gradients).toBe('tape');
    cnn.dispose();
    const mlp = PRESETS['two-layer-net'].build({ seed: 1 });
    const r2 = await train(mlp, data, { ...recipeOptions(PRESETS['two-layer-net'], { steps: 3, seed: 1 }), logInterval: 0 });
    expect(r2.gradients).toBe('dense');
    mlp.dispose();
  });

  it('trains two-layer-net the same way with either step (100 steps, same seed)', async () => {
    const data = await smallMnist();
    const run = async (gradients: GradientMethod) => {
      const model = PRESETS['two-layer-net'].build({ seed: 2 });
      const r = await train(model, data, { ...recipeOptions(PRESETS['two-layer-net'], { steps: 100, seed: 2 }), logInterval: 0, gradients });
      model.dispose();
      return r.history.loss;
    };
    const dense = await run('dense');
    const tape = await run('tape');
    expect(relativeError(dense, tape)).toBeLessThan(1e-4);
    expect(dense[99]!).toBeLessThan(dense[0]!);
  });
});
