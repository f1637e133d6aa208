import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { KernelError } from '../lib/errors';
import { ADAM_TF1_UPDATE, SGD_UPDATE, registerUpdateKernels } from '../lib/kernels/update-kernels';
import { simdUpdateModuleBytes, simdUpdates } from '../lib/kernels/simd-update';
import { OptimizerConfig, adamStepSize, createUpdateRule } from '../lib/training/optimizers';

const BACKENDS = ['wasm', 'cpu'] as const;

afterAll(async () => {
  await tf.setBackend('wasm');
});

/** Deterministic values in [-1, 1), scaled. */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (2 * (s / 2147483648) - 1) * scale;
  }
  return out;
}

/** Runs `steps` updates of `config` on two variables and returns their values, leak-checked. */
async function runRule(config: OptimizerConfig, composed: boolean, steps: number): Promise<Float32Array[]> {
  const start = tf.memory().numTensors;
  const w = tf.tidy(() => tf.variable(tf.tensor2d(values(15, 1), [3, 5])));
  const b = tf.tidy(() => tf.variable(tf.tensor1d(values(7, 2))));
  const rule = createUpdateRule(config, [{ variable: w, isKernel: true }, { variable: b, isKernel: false }], { composed });
  for (let it = 0; it < steps; it++) {
    tf.tidy(() => rule.apply([tf.tensor2d(values(15, 10 + it), [3, 5]), tf.tensor1d(values(7, 50 + it, 1e-3))], it));
  }
  const out = [w.dataSync().slice(), b.dataSync().slice(), ...Object.values(rule.slots).flatMap((s) => s.map((v) => v.dataSync().slice()))];
  rule.dispose();
  tf.dispose([w, b]);
  expect(tf.memory().numTensors).toBe(start);
  return out as Float32Array[];
}

describe("TensorFlow 1's Adam", () => {
  it('gives the first steps of a hand computation of TF1 ApplyAdam (fused kernel and tf.js ops, wasm and cpu)', async () => {
    const lr = 1e-3;
    const config: OptimizerConfig = { kind: 'adam', learningRate: lr };
    const grads = [
      [0.5, -1e-3, 2e-9, 0],
      [0.25, -2e-3, -3e-9, 1],
      [-0.75, 5e-4, 1e-9, 0],
    ];
    const w0 = [1, -2, 0.5, 3];
    // The formulas of TF1's AdamOptimizer / ApplyAdam, in double precision.
    const ref = [...w0];
    const m = [0, 0, 0, 0];
    const v = [0, 0, 0, 0];
    const expected: number[][] = [];
    grads.forEach((g, step) => {
      const t = step + 1;
      const lrT = (lr * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
      expect(adamStepSize(config as Extract<OptimizerConfig, { kind: 'adam' }>, step)).toBeCloseTo(lrT, 15);
      for (let i = 0; i < 4; i++) {
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
        ref[i] = ref[i]! - (lrT * m[i]!) / (Math.sqrt(v[i]!) + 1e-8);
      }
      expected.push([...ref]);
    });
    for (const backend of BACKENDS) {
      await tf.setBackend(backend);
      for (const composed of [false, true]) {
        const w = tf.tidy(() => tf.variable(tf.tensor1d(w0)));
        const rule = createUpdateRule(config, [{ variable: w, isKernel: true }], { composed });
        for (let step = 0; step < grads.length; step++) {
          tf.tidy(() => rule.apply([tf.tensor1d(grads[step]!)], step));
          const got = w.dataSync();
          expected[step]!.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(1e-6 * Math.max(1, Math.abs(x))));
        }
        rule.dispose();
        w.dispose();
      }
    }
  });

  it("differs from tf.train.adam where the sources' TF1 and tf.js place epsilon differently", async () => {
    await tf.setBackend('cpu');
    // At step 1, TF1's update is lr sqrt(1 - beta2) g / (sqrt(1 - beta2) |g| + eps) (0.031 lr at
    // g = eps); tf.js's is lr g / (|g| + eps) (0.5 lr at g = eps).
    const g = 1e-8;
    const lr = 1;
    const ours = tf.tidy(() => tf.variable(tf.tensor1d([0])));
    const rule = createUpdateRule({ kind: 'adam', learningRate: lr }, [{ variable: ours, isKernel: true }]);
    tf.tidy(() => rule.apply([tf.tensor1d([g])], 0));
    const theirs = tf.tidy(() => tf.variable(tf.tensor1d([0])));
    const adam = tf.train.adam(lr, 0.9, 0.999, 1e-8);
    tf.tidy(() => adam.applyGradients([{ name: theirs.name, tensor: tf.tensor1d([g]) }]));
    const tf1 = -(lr * Math.sqrt(1 - 0.999) * g) / (Math.sqrt(1 - 0.999) * g + 1e-8);
    expect(ours.dataSync()[0]).toBeCloseTo(tf1, 6);
    expect(theirs.dataSync()[0]).toBeCloseTo(-0.5, 3);
    rule.dispose();
    adam.dispose();
    tf.dispose([ours, theirs]);
  });
});

describe('fused update kernels', () => {
  const configs: OptimizerConfig[] = [
    { kind: 'sgd', learningRate: 0.1 },
    { kind: 'momentum', learningRate: 0.1, momentum: 0.9, weightDecay: 0.001, policy: { kind: 'inv', gamma: 0.0005, power: 0.75 } },
    { kind: 'adam', learningRate: 1e-3 },
  ];
  it.each(configs.flatMap((c) => BACKENDS.map((b) => [c.kind, b, c] as const)))(
    '%s on %s: the one-pass kernel gives bit for bit what the tf.js ops give',
    async (_kind, backend, config) => {
      await tf.setBackend(backend);
      const fused = await runRule(config, false, 4);
      const composed = await runRule(config, true, 4);
      expect(fused.map((a) => Array.from(a))).toEqual(composed.map((a) => Array.from(a)));
      // And they moved: the test would pass trivially on an update that does nothing.
      expect(Array.from(fused[0]!)).not.toEqual(Array.from(values(15, 1)));
    },
  );

  it('runs as WebAssembly SIMD on the wasm backend, shared memory (threaded build) too', async () => {
    await tf.setBackend('wasm');
    const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
    expect(simdUpdates(memory)).not.toBeNull();
    expect(WebAssembly.validate(simdUpdateModuleBytes(true))).toBe(true);
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    const fns = simdUpdates(shared)!;
    const heap = new Float32Array(shared.buffer);
    heap.set([1, 2, 3, 4], 0);
    heap.set([10, 20, 30, 40], 4);
    fns.sgd(0, 16, 32, 16, 0.5);
    expect(Array.from(heap.subarray(8, 12))).toEqual([-4, -8, -12, -16]);
  });

  it('runs as one kernel call per step for all variables', async () => {
    await tf.setBackend('wasm');
    const w = tf.tidy(() => tf.variable(tf.ones([5, 3])));
    const b = tf.tidy(() => tf.variable(tf.zeros([3])));
    const rule = createUpdateRule({ kind: 'adam', learningRate: 0.1 }, [
      { variable: w, isKernel: true },
      { variable: b, isKernel: false },
    ]);
    const grads = [tf.ones([5, 3]), tf.ones([3])];
    const info = await tf.profile(() => rule.apply(grads, 0));
    expect(info.kernels.map((k) => k.name)).toEqual([ADAM_TF1_UPDATE]);
    rule.dispose();
    tf.dispose([w, b, ...grads]);
  });

  it('refuses inputs it cannot handle with a KernelError naming the input', async () => {
    await tf.setBackend('cpu');
    registerUpdateKernels();
    const x = tf.ones([2, 2]);
    const g = tf.ones([3]);
    const i = tf.ones([2, 2], 'int32');
    expect(() => tf.engine().runKernel(SGD_UPDATE, { x0: x, g0: g }, { count: 1, learningRate: 1 })).toThrow(
      /input 'g0' has shape \[3\], the variable \[2,2\]/,
    );
    expect(() => tf.engine().runKernel(SGD_UPDATE, { x0: x }, { count: 1, learningRate: 1 })).toThrow(KernelError);
    expect(() => tf.engine().runKernel(SGD_UPDATE, { x0: x, g0: i }, { count: 1, learningRate: 1 })).toThrow(/must be float32/);
    tf.dispose([x, g, i]);
  });
});
