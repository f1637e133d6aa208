import * as childProcess from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { enableWasmThreads } from '../lib/kernels/threads';
import {
  WASM_TRAINING_KERNELS,
  installedWasmTrainingKernels,
  planProduct,
  reducesAllButLast,
  registerWasmTrainingKernels,
  useSimdProduct,
  unregisterWasmTrainingKernels,
} from '../lib/kernels';
import { BackendUnavailableError, InvalidArgumentError, KernelError } from '../lib/errors';
import { gatherRows } from '../lib/kernels/gather-rows';
import { simdGemm } from '../lib/kernels/simd-gemm';
import { originalKernels } from '../lib/kernels/compose';
import { relativeError } from './helpers/compare';

/** Largest |a - b| relative to the largest |b|: the kernels' sums are reordered, not changed. */
const TOLERANCE = 1e-4;

type Shape4 = [number, number, number, number];
type Attrs = Record<string, unknown>;

interface Input {
  shape: number[];
  values: Float32Array;
}

/** Deterministic values; `integers` makes ties (and zeros) common, for the pooling tie-breaks. */
function randomInput(shape: number[], seed: number, integers = false): Input {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  let s = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const u = s / 2147483648;
    values[i] = integers ? Math.floor(u * 5) - 2 : 2 * u - 1;
  }
  return { shape, values };
}

function wasmBackend(): tf.KernelBackend {
  return tf.findBackend('wasm') as tf.KernelBackend;
}

/** Tensors, engine bytes and backend-side data ids (what a composed kernel could leak). */
function counts(): { tensors: number; bytes: number; dataIds: number } {
  const m = tf.memory();
  return { tensors: m.numTensors, bytes: m.numBytes, dataIds: wasmBackend().numDataIds() };
}

/** Runs one kernel on `backend` and returns its output values and shape. */
async function runKernel(
  backend: string,
  kernel: string,
  inputs: Record<string, Input | null>,
  attrs: Attrs,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, input] of Object.entries(inputs)) {
    if (input != null) tensors[name] = tf.tensor(input.values, input.shape);
  }
  const out = tf.engine().runKernel(kernel, tensors as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: out.dataSync() as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}


/** Runs the kernel on wasm (checking that nothing leaks) and on cpu, and compares. */
async function expectMatchesCpu(kernel: string, inputs: Record<string, Input | null>, attrs: Attrs): Promise<void> {
  await tf.setBackend('wasm');
  const before = counts();
  const wasm = await runKernel('wasm', kernel, inputs, attrs);
  expect(counts()).toEqual(before);
  const cpu = await runKernel('cpu', kernel, inputs, attrs);
  expect(wasm.shape).toEqual(cpu.shape);
  expect(wasm.values.length).toBe(cpu.values.length);
  expect(relativeError(wasm.values, cpu.values)).toBeLessThan(TOLERANCE);
}

/** One convolution: input, filter and the options of both gradients. */
interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CONV_CASES: ConvCase[] = [
  { name: 'cnn conv1 (28x28x1 -> 32, 5x5 same)', x: [3, 28, 28, 1], filter: [5, 5, 1, 32], strides: 1, pad: 'same' },
  // The cnn's conv2 has 32 -> 64 channels; the cpu reference needs ~10 s per image for its
  // filter gradient at that size, so the channels are scaled down.
  { name: 'cnn conv2-like (14x14x16 -> 32, 5x5 same)', x: [1, 14, 14, 16], filter: [5, 5, 16, 32], strides: 1, pad: 'same' },
  { name: '3x3 valid, batch 1', x: [1, 9, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
  { name: '3x3 same, stride 2, even input', x: [2, 10, 10, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { name: '3x3 same, stride 2, odd input', x: [2, 9, 11, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'same' },
  { name: '5x5 valid, stride 2 (unread last row)', x: [2, 12, 12, 3], filter: [5, 5, 3, 4], strides: 2, pad: 'valid' },
  { name: 'rectangular 2x4, strides [2, 1]', x: [2, 10, 7, 3], filter: [2, 4, 3, 6], strides: [2, 1], pad: 'same' },
  { name: '1x1, stride 2, valid', x: [2, 7, 7, 4], filter: [1, 1, 4, 3], strides: 2, pad: 'valid' },
  { name: 'numeric pad 1', x: [2, 8, 8, 2], filter: [3, 3, 2, 4], strides: 1, pad: 1 },
  { name: 'numeric pad 2, stride 2, rounding', x: [2, 9, 9, 2], filter: [3, 3, 2, 2], strides: 2, pad: 2, dimRoundingMode: 'floor' },
  { name: 'explicit asymmetric pads', x: [2, 8, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: [[0, 0], [0, 2], [1, 0], [0, 0]] },
  { name: 'explicit pads wider than the filter', x: [2, 6, 6, 2], filter: [3, 3, 2, 3], strides: 1, pad: [[0, 0], [3, 3], [4, 2], [0, 0]] },
  { name: '3x3 same, stride 3', x: [2, 12, 12, 3], filter: [3, 3, 3, 4], strides: 3, pad: 'same' },
  { name: '5x5 same, stride 4 (native input gradient)', x: [2, 16, 16, 2], filter: [5, 5, 2, 3], strides: 4, pad: 'same' },
];

function convOutShape(c: ConvCase): Shape4 {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad, c.dimRoundingMode).outShape as Shape4;
}

beforeAll(async () => {
  registerWasmTrainingKernels();
  expect(await tf.setBackend('wasm')).toBe(true);
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('registerWasmTrainingKernels', () => {
  it('installs every kernel, idempotently, and unregister restores the originals', () => {
    const originalConvInput = (() => {
      unregisterWasmTrainingKernels();
      return tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc;
    })();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeUndefined();
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    expect(installedWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNELS]);
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc).not.toBe(originalConvInput);
    unregisterWasmTrainingKernels();
    expect(installedWasmTrainingKernels()).toEqual([]);
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc).toBe(originalConvInput);
    registerWasmTrainingKernels({ kernels: [tf.Conv2DBackpropFilter] });
    expect(installedWasmTrainingKernels()).toEqual([tf.Conv2DBackpropFilter]);
    registerWasmTrainingKernels();
    expect(installedWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNELS]);
  });

  it('names an unknown kernel', () => {
    expect(() => registerWasmTrainingKernels({ kernels: ['Conv3D' as never] })).toThrow(InvalidArgumentError);
  });
});

describe('Conv2DBackpropFilter on wasm', () => {
  it.each(CONV_CASES)('matches cpu: $name', async (c) => {
    const x = randomInput(c.x, 1);
    const dy = randomInput(convOutShape(c), 2);
    await expectMatchesCpu(tf.Conv2DBackpropFilter, { x, dy }, {
      strides: c.strides,
      pad: c.pad,
      dataFormat: 'NHWC',
      dimRoundingMode: c.dimRoundingMode,
      filterShape: c.filter,
    });
  });

  it('rejects NCHW with a clear error: a KernelError, not a usage error', async () => {
    await tf.setBackend('wasm');
    const before = counts();
    const x = tf.zeros([1, 2, 6, 6]);
    const dy = tf.zeros([1, 3, 6, 6]);
    const call = () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
        strides: 1,
        pad: 'same',
        dataFormat: 'NCHW',
        filterShape: [3, 3, 2, 3],
      } as unknown as tf.NamedAttrMap);
    expect(call).toThrow(/supports 'NHWC' only/);
    expect(call).toThrow(KernelError);
    expect(call).not.toThrow(InvalidArgumentError);
    tf.dispose([x, dy]);
    expect(counts()).toEqual(before);
  });
});

describe('Conv2DBackpropInput on wasm', () => {
  it.each(CONV_CASES)('matches cpu: $name', async (c) => {
    const filter = randomInput(c.filter, 3);
    const dy = randomInput(convOutShape(c), 4);
    await expectMatchesCpu(tf.Conv2DBackpropInput, { dy, filter }, {
      strides: c.strides,
      pad: c.pad,
      dataFormat: 'NHWC',
      dimRoundingMode: c.dimRoundingMode,
      inputShape: c.x,
    });
  });
});

describe('BatchMatMul and _FusedMatMul on wasm', () => {
  const cases: Array<{ m: number; k: number; n: number; batch?: number }> = [
    { m: 5, k: 7, n: 3 },
    { m: 50, k: 300, n: 200 }, // a small M against a large fresh weight: the swapped plan
    { m: 300, k: 20, n: 64 },
    { m: 4, k: 30, n: 9, batch: 3 }, // batched: the backend's own kernel
  ];
  const combos: Array<[boolean, boolean]> = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];
  for (const { m, k, n, batch } of cases) {
    for (const [transposeA, transposeB] of combos) {
      const lead = batch == null ? [] : [batch];
      const aShape = [...lead, ...(transposeA ? [k, m] : [m, k])];
      const bShape = [...lead, ...(transposeB ? [n, k] : [k, n])];
      it(`BatchMatMul ${aShape} x ${bShape} (transposeA ${transposeA}, transposeB ${transposeB})`, async () => {
        await expectMatchesCpu(tf.BatchMatMul, { a: randomInput(aShape, 5), b: randomInput(bShape, 6) }, { transposeA, transposeB });
      });
    }
  }

  for (const [transposeA, transposeB] of combos) {
    it(`_FusedMatMul relu, with and without bias (transposeA ${transposeA}, transposeB ${transposeB})`, async () => {
      const a = randomInput([1, ...(transposeA ? [300, 40] : [40, 300])], 7);
      const b = randomInput([1, ...(transposeB ? [120, 300] : [300, 120])], 8);
      const attrs = { transposeA, transposeB, activation: 'relu', leakyreluAlpha: 0.2 };
      await expectMatchesCpu(tf._FusedMatMul, { a, b }, attrs);
      await expectMatchesCpu(tf._FusedMatMul, { a, b, bias: randomInput([120], 9) }, attrs);
    });
  }

  it("gives XNNPACK a weight matrix it has seen before as it is, so XNNPACK's cached packing serves the reuse", async () => {
    await tf.setBackend('wasm');
    const before = counts();
    // Every call of the backend's own product (XNNPACK), with the data ids of its operands.
    const xnnpack = originalKernels.get(tf.BatchMatMul)!;
    const ownProduct = xnnpack.kernelFunc;
    const calls: Array<{ b: object; transposeB: boolean }> = [];
    xnnpack.kernelFunc = (args) => {
      calls.push({ b: args.inputs.b!.dataId, transposeB: Boolean((args.attrs as { transposeB?: boolean }).transposeB) });
      return ownProduct(args);
    };
    try {
      const a = tf.tensor(randomInput([50, 300], 10).values, [50, 300]);
      const b = tf.tensor(randomInput([300, 200], 11).values, [300, 200]);
      // First sight of b: a fresh weight, done by the SIMD product, which packs nothing.
      const first = tf.matMul(a, b);
      expect(calls).toEqual([]);
      // Seen before: XNNPACK gets b itself, untransposed (its packing is cached per tensor), each time.
      const second = tf.matMul(a, b);
      const third = tf.matMul(a, b);
      expect(calls).toEqual([
        { b: b.dataId, transposeB: false },
        { b: b.dataId, transposeB: false },
      ]);
      // The same values in a new tensor are a fresh weight again (as after an optimiser step).
      const fresh = tf.tensor(randomInput([300, 200], 11).values, [300, 200]);
      const fourth = tf.matMul(a, fresh);
      expect(calls).toHaveLength(2);
      for (const out of [second, third, fourth]) expect(relativeError(out.dataSync() as Float32Array, first.dataSync() as Float32Array)).toBeLessThan(TOLERANCE);
      tf.dispose([a, b, fresh, first, second, third, fourth]);
    } finally {
      xnnpack.kernelFunc = ownProduct;
    }
    expect(counts()).toEqual(before);
  });

  it('runs products with a fresh, cache-sized right operand as WebAssembly SIMD: every tile edge, bias, ReLU, sigmoid', async () => {
    expect(useSimdProduct([100, 784], [784, 50], false, false)).toBe(true);
    expect(useSimdProduct([100, 784], [100, 50], true, false)).toBe(true);
    expect(useSimdProduct([1, 784], [1, 200], true, false)).toBe(false); // k = 1: XNNPACK
    expect(useSimdProduct([50, 3136], [3136, 1024], false, false)).toBe(false); // too large to stream
    expect(useSimdProduct([50, 1024], [3136, 1024], false, true)).toBe(false);
    for (const [m, k, n] of [[1, 20, 1], [3, 17, 5], [6, 16, 11], [9, 33, 13], [4, 40, 8], [13, 19, 21]] as const) {
      for (const transposeA of [false, true]) {
        const a = randomInput([1, ...(transposeA ? [k, m] : [m, k])], m + k);
        const b = randomInput([1, k, n], n);
        await expectMatchesCpu(tf.BatchMatMul, { a, b }, { transposeA, transposeB: false });
        for (const activation of ['linear', 'relu', 'sigmoid']) {
          const attrs = { transposeA, transposeB: false, activation, leakyreluAlpha: 0.2 };
          await expectMatchesCpu(tf._FusedMatMul, { a, b, bias: randomInput([n], 3) }, attrs);
        }
      }
    }
  });

  it('the SIMD product module computes C = op(A) B + bias exactly as a loop would, for all small shapes', () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const gemm = simdGemm(memory)!;
    const heap = new Float32Array(memory.buffer);
    let worst = 0;
    for (let m = 1; m <= 9; m++) {
      for (let n = 1; n <= 13; n++) {
        for (const k of [0, 1, 5]) {
          for (const transposeA of [false, true]) {
            const A = randomInput([m * k], m * 31 + n * 7 + k).values;
            const B = randomInput([k * n], n * 13 + k).values;
            const bias = randomInput([n], m + n).values;
            const [aAt, bAt, biasAt, cAt] = [256, 1024, 2048, 4096];
            for (let i = 0; i < m; i++) for (let kk = 0; kk < k; kk++) heap[aAt / 4 + (transposeA ? kk * m + i : i * k + kk)] = A[i * k + kk]!;
            heap.set(B, bAt / 4);
            heap.set(bias, biasAt / 4);
            heap.fill(7, cAt / 4, cAt / 4 + m * n + 4);
            gemm.gemmRelu(aAt, bAt, cAt, biasAt, m, n, k, transposeA ? 4 : 4 * k, transposeA ? 4 * m : 4);
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                let sum = bias[j]!;
                for (let kk = 0; kk < k; kk++) sum += A[i * k + kk]! * B[kk * n + j]!;
                worst = Math.max(worst, Math.abs(heap[cAt / 4 + i * n + j]! - Math.max(0, sum)));
              }
            }
            // Nothing written past C.
            expect(heap[cAt / 4 + m * n]).toBe(7);
          }
        }
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('plans the cnn dense layer products as measured', () => {
    // Forward with a weight matrix updated every step: transposing beats XNNPACK's packing.
    expect(planProduct([50, 3136], [3136, 1024], false, false)).toBe('swapped');
    // The same weights reused (inference): pack once, XNNPACK caches it.
    expect(planProduct([50, 3136], [3136, 1024], false, false, { aPacked: false, bPacked: false, bReused: true })).toBe('direct');
    expect(planProduct([50, 3136], [3136, 1024], false, false, { aPacked: false, bPacked: true, bReused: false })).toBe('direct');
    // dW = x^T dy and dx = dy W^T.
    expect(planProduct([50, 3136], [50, 1024], true, false)).toBe('direct');
    expect(planProduct([50, 1024], [3136, 1024], false, true)).toBe('swapped');
    // 784-50-10 forward: small enough that extra calls cost more than the packing.
    expect(planProduct([100, 784], [784, 50], false, false)).toBe('direct');
  });
});

describe('MaxPoolGrad on wasm', () => {
  const cases: Array<{ name: string; x: Shape4; filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number }> = [
    { name: 'cnn pool1 (2x2/2 same)', x: [2, 28, 28, 32], filterSize: 2, strides: 2, pad: 'same' },
    { name: '2x2/2 same, odd size', x: [2, 7, 9, 3], filterSize: 2, strides: 2, pad: 'same' },
    { name: '3x3/2 valid, overlapping', x: [2, 9, 9, 4], filterSize: 3, strides: 2, pad: 'valid' },
    { name: '3x3/1 same, overlapping', x: [1, 6, 6, 2], filterSize: 3, strides: 1, pad: 'same' },
    { name: '2x3 strides [1, 2], numeric pad', x: [2, 6, 8, 3], filterSize: [2, 3], strides: [1, 2], pad: 1 },
    // Non-overlapping windows, channels a multiple of 4: the SIMD loop.
    { name: 'cnn pool2 (2x2/2 same)', x: [3, 14, 14, 64], filterSize: 2, strides: 2, pad: 'same' },
    { name: '2x2/2 valid with a row and a column no window covers', x: [2, 9, 11, 8], filterSize: 2, strides: 2, pad: 'valid' },
    { name: '3x2 windows, strides [3, 2], 12 channels', x: [1, 9, 8, 12], filterSize: [3, 2], strides: [3, 2], pad: 'valid' },
  ];
  for (const integers of [false, true]) {
    it.each(cases)(`matches cpu${integers ? ' with ties and windows <= 0' : ''}: $name`, async (c) => {
      const x = randomInput(c.x, 12, integers);
      const info = tf.backend_util.computePool2DInfo(c.x, c.filterSize, c.strides, 1, c.pad);
      const dy = randomInput(info.outShape, 13);
      // The cpu kernel reads the forward output only for its shape; compute it on cpu.
      await tf.setBackend('cpu');
      const pooled = tf.tidy(() => tf.maxPool(tf.tensor4d(x.values, c.x), c.filterSize, c.strides, c.pad));
      const output = { shape: pooled.shape, values: pooled.dataSync() as Float32Array };
      pooled.dispose();
      await expectMatchesCpu(tf.MaxPoolGrad, { dy, input: x, output }, { filterSize: c.filterSize, strides: c.strides, pad: c.pad });
    });
  }
});

/**
 * A small conv net of the cnn recipe's structure; returns the gradients of its loss with
 * respect to every weight, computed on `backend` through the registered kernels.
 */
async function smallNetGradients(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(randomInput([4, 12, 12, 1], 20).values, [4, 12, 12, 1]);
    const labels = tf.oneHot(tf.tensor1d([1, 3, 0, 2], 'int32'), 4);
    const weights = [
      tf.tensor4d(randomInput([3, 3, 1, 6], 21).values, [3, 3, 1, 6]),
      tf.tensor1d(randomInput([6], 22).values),
      tf.tensor4d(randomInput([3, 3, 6, 8], 23).values, [3, 3, 6, 8]),
      tf.tensor1d(randomInput([8], 24).values),
      tf.tensor2d(randomInput([72, 16], 25).values, [72, 16]),
      tf.tensor2d(randomInput([16, 4], 26).values, [16, 4]),
    ];
    const loss = (...w: tf.Tensor[]): tf.Scalar => {
      const [k1, b1, k2, b2, d1, d2] = w as [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D];
      let h = tf.relu(tf.add(tf.conv2d(x, k1, 1, 'same'), b1)) as tf.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'same');
      h = tf.relu(tf.add(tf.conv2d(h, k2, 1, 'same'), b2)) as tf.Tensor4D;
      h = tf.maxPool(h, 2, 2, 'same');
      const flat = tf.reshape(h, [4, 72]) as tf.Tensor2D;
      const logits = tf.matMul(tf.relu(tf.matMul(flat, d1)), d2);
      return tf.losses.softmaxCrossEntropy(labels, logits);
    };
    return tf.grads(loss)(weights).map((g) => g.dataSync() as Float32Array);
  });
}

describe('training a small conv net on wasm', () => {
  it('gives the gradients the cpu backend gives, without leaking', async () => {
    await tf.setBackend('wasm');
    const before = counts();
    const wasm = await smallNetGradients('wasm');
    await tf.setBackend('wasm');
    expect(counts()).toEqual(before);
    const cpu = await smallNetGradients('cpu');
    expect(wasm.length).toBe(cpu.length);
    wasm.forEach((g, i) => expect(relativeError(g, cpu[i]!)).toBeLessThan(TOLERANCE));
  });
});

describe('Sum on wasm', () => {
  it('sums over every axis but the last in one pass (bias gradients), and leaves other reductions to the backend', async () => {
    expect(reducesAllButLast([0, 1, 2], 4)).toBe(true);
    expect(reducesAllButLast([-4, 1, -2], 4)).toBe(true);
    expect(reducesAllButLast(0, 2)).toBe(true);
    expect(reducesAllButLast(1, 2)).toBe(false);
    expect(reducesAllButLast([0, 1], 4)).toBe(false);
    const cases: Array<[number[], number | number[], boolean]> = [
      [[3, 5, 7, 6], [0, 1, 2], false],
      [[2, 4, 4, 9], [0, 1, 2], true],
      [[10, 13], 0, false],
      [[1, 4], [0], true],
      [[10, 13], 1, false],
      [[6, 7, 3], [0, 1, 2], false],
      [[6, 7, 3], [1, 2], true],
    ];
    for (const [shape, axis, keepDims] of cases) {
      await expectMatchesCpu(tf.Sum, { x: randomInput(shape, shape.length) }, { axis, keepDims });
    }
  });
});

describe('gatherRows (training batches into the wasm heap)', () => {
  it('gives the rows asked for, on wasm and cpu, without leaking', async () => {
    const source = Float32Array.from({ length: 6 * 4 }, (_, i) => i);
    const rows = Int32Array.from([5, 0, 5, 2]);
    const expected = Array.from(rows).flatMap((r) => Array.from(source.subarray(r * 4, r * 4 + 4)));
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const start = tf.memory().numTensors;
      const t = gatherRows(source, 4, rows, [4, 2, 2]);
      expect(t.shape).toEqual([4, 2, 2]);
      expect(Array.from(t.dataSync())).toEqual(expected);
      t.dispose();
      expect(tf.memory().numTensors).toBe(start);
    }
    await tf.setBackend('wasm');
    expect(() => gatherRows(source, 4, rows, [4, 3])).toThrow(KernelError);
  });
});

describe('enableWasmThreads', () => {
  it('checks its argument and refuses to replace an initialised backend', async () => {
    await expect(enableWasmThreads(0)).rejects.toThrow(InvalidArgumentError);
    await expect(enableWasmThreads(2)).rejects.toThrow(BackendUnavailableError);
  });

  it('runs a conv + max-pool gradient on two threads in a fresh process, which then exits', () => {
    // The threaded build replaces the process's 'wasm' backend, so it gets a process of its own.
    // esbuild (a dev dependency) bundles lib/kernels for it; tf.js stays external.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kernels-threads-test-'));
    try {
      const entry = path.join(dir, 'entry.ts');
      const kernels = path.resolve(__dirname, '../lib/kernels').replace(/\\/g, '/');
      fs.writeFileSync(
        entry,
        `import * as tf from '@tensorflow/tfjs';
         import { registerWasmTrainingKernels } from '${kernels}';
         import { enableWasmThreads } from '${kernels}/threads';
         (async () => {
           const threads = await enableWasmThreads(2);
           registerWasmTrainingKernels();
           const x = tf.randomNormal([4, 14, 14, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
           const w = tf.randomNormal([5, 5, 8, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
           const f = (k: tf.Tensor) =>
             tf.sum(tf.square(tf.maxPool(tf.relu(tf.conv2d(x, k as tf.Tensor4D, 1, 'same')), 2, 2, 'same')));
           const onWasm = tf.grad(f)(w).dataSync();
           await tf.setBackend('cpu');
           const onCpu = tf.grad(f)(w).dataSync();
           let diff = 0, ref = 0;
           onCpu.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - onWasm[i])); ref = Math.max(ref, Math.abs(v)); });
           process.stdout.write(JSON.stringify({ threads, relativeError: diff / ref }));
         })();`,
      );
      const bundle = path.join(dir, 'bundle.js');
      esbuild.buildSync({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        outfile: bundle,
        external: ['@tensorflow/*'],
        nodePaths: [path.resolve(__dirname, '../node_modules')],
        logLevel: 'silent',
      });
      const run = childProcess.spawnSync(process.execPath, [bundle], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NODE_PATH: path.resolve(__dirname, '../node_modules') },
      });
      expect(run.error).toBeUndefined();
      expect(run.status).toBe(0);
      const result = JSON.parse(run.stdout) as { threads: number; relativeError: number };
      expect(result.threads).toBe(2);
      expect(result.relativeError).toBeLessThan(TOLERANCE);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
