/**
 * The conv step (lib/training/conv-step.ts) against the tape, on the cpu backend with its pieces
 * composed from tf.js ops (the webgpu kernels' own tests are webgpu-kernels.test.ts): same loss and
 * gradients to float32 rounding, with the dropout masks drawn from the same seed; which models it
 * takes; and that without its kernels (wasm, cpu) `auto` keeps the tape for the cnn.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '../lib/backends';
import { oneHotRows } from '../lib/datasets/onehot';
import { buildCnn } from '../lib/models/cnn';
import { SeededMathRandom } from '../lib/random';
import { convPlan, createConvStep } from '../lib/training/conv-step';
import { createTrainingStep } from '../lib/training/dense-step';
import { LossName } from '../lib/training/losses';
import { relativeError } from './helpers/compare';
import { smallMnist } from './helpers/mnist';

const TOLERANCE = 1e-5;

beforeAll(async () => {
  await useBackend('cpu');
});

async function batch(model: tf.LayersModel, size: number) {
  const data = await smallMnist('unit');
  const rows = Array.from({ length: size }, (_, i) => (i * 37) % data.train.count);
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const images = new Float32Array(size * 784);
  rows.forEach((r, i) => images.set(data.train.images.subarray(r * 784, (r + 1) * 784), i * 784));
  return { x: tf.tensor(images, [size, ...shape]), y: tf.tensor2d(oneHotRows(data.train.labels, 10, { off: 0, on: 1 }, rows), [size, 10]) };
}

/** Loss and gradients of the conv step and the tape for one batch, the same dropout seed for both. */
async function compare(model: tf.LayersModel, loss: LossName, size: number) {
  const { x, y } = await batch(model, size);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const start = tf.memory().numTensors;
  const run = (step: { run: (x: tf.Tensor, y: tf.Tensor) => { loss: tf.Scalar; grads: tf.Tensor[] } }) => {
    const out = new SeededMathRandom(7).run(() => tf.tidy(() => {
      const r = step.run(x, y);
      return [r.loss, ...r.grads];
    }));
    const values = out.map((t) => t.dataSync().slice());
    tf.dispose(out);
    return { loss: values[0]![0]!, grads: values.slice(1) };
  };
  const step = createConvStep(model, loss, vars, { anyBackend: true });
  if (!('run' in step)) throw new Error(step.reason);
  expect(step.method).toBe('conv');
  const conv = run(step);
  const tape = run(createTrainingStep(model, loss, vars, 'tape'));
  expect(tf.memory().numTensors).toBe(start);
  tf.dispose([x, y]);
  expect(Math.abs(conv.loss - tape.loss) / Math.abs(tape.loss)).toBeLessThan(TOLERANCE);
  expect(conv.grads).toHaveLength(vars.length);
  conv.grads.forEach((g, i) => {
    const e = relativeError(g, tape.grads[i]!);
    if (!(e < TOLERANCE)) throw new Error(`${vars[i]!.name}: relative error ${e}`);
  });
  // Not all zero: a comparison of zeros would prove nothing.
  expect(tape.grads.every((g) => g.some((v) => v !== 0))).toBe(true);
}

describe('the conv step gives the tape gradients (cpu, composed)', () => {
  it('the cnn preset (dropout 0.5, two conv+pool blocks)', async () => {
    const model = buildCnn({ seed: 2, filters: [8, 16], denseUnits: 64 });
    await compare(model, 'softmax-cross-entropy', 6);
    model.dispose();
  });

  it('valid padding, a stride-2 linear conv, a pool after a pool, overlapping windows, no dropout, sigmoid output', async () => {
    const init = (seed: number) => tf.initializers.randomNormal({ stddev: 0.2, seed });
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: init(1), biasInitializer: init(2) }),
        tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear', useBias: false, kernelInitializer: init(3) }),
        tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'valid' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 12, activation: 'tanh', kernelInitializer: init(4) }),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.dense({ units: 10, activation: 'sigmoid', kernelInitializer: init(5) }),
      ],
    });
    await compare(model, 'quadratic', 5);
    model.dispose();
  });
});

describe('which models the conv step takes', () => {
  it('the cnn, and says why not for others', () => {
    const cnn = buildCnn({ seed: 1 });
    const plan = convPlan(cnn);
    expect('front' in plan && plan.front.map((l) => l.kind)).toEqual(['conv', 'pool', 'conv', 'pool']);
    expect('dropout' in plan && plan.dropout).toEqual([0.5]);
    const mlp = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 10 })] });
    expect(convPlan(mlp)).toMatchObject({ reason: expect.stringMatching(/is a Dense before the Flatten/) });
    const noConv = tf.sequential({ layers: [tf.layers.maxPooling2d({ inputShape: [28, 28, 1], poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 10 })] });
    expect(convPlan(noConv)).toEqual({ reason: 'no Conv2D layer in front of a Flatten' });
    const avg = tf.sequential({ layers: [tf.layers.averagePooling2d({ inputShape: [28, 28, 1], poolSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 10 })] });
    expect(convPlan(avg)).toMatchObject({ reason: expect.stringMatching(/is a AveragePooling2D before the Flatten/) });
    const elu = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 2, kernelSize: 3, activation: 'elu' }), tf.layers.flatten(), tf.layers.dense({ units: 10 })] });
    expect(convPlan(elu)).toMatchObject({ reason: expect.stringMatching(/activation 'elu'/) });
    tf.dispose([cnn, mlp, noConv, avg, elu].flatMap((m) => m.weights.map((w) => w.read())));
  });

  it('under auto only where the backend has its kernels: the cnn keeps the tape on cpu and wasm', async () => {
    const cnn = buildCnn({ seed: 1 });
    const vars = cnn.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(createTrainingStep(cnn, 'softmax-cross-entropy', vars).method).toBe('tape');
    await useBackend('wasm');
    expect(createTrainingStep(cnn, 'softmax-cross-entropy', vars).method).toBe('tape');
    expect(createConvStep(cnn, 'softmax-cross-entropy', vars)).toEqual({ reason: 'the wasm backend has no conv-step kernels' });
    await useBackend('cpu');
    cnn.dispose();
  });
});
