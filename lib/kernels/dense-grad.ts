/**
 * Fused pieces of a dense network's backward pass, for lib/training/dense-step.ts on the CPU
 * backends ('wasm' and 'cpu'). Built from tf.js ops, the loss and its gradient take 8-13 kernel
 * calls and each layer's activation gradient plus its bias gradient 3-7; at ~10-30 us of engine
 * overhead per call that was about a third of a 784-50-10 step once its products were fast, and
 * most of a batch-1 step (mse-mlp). Each kernel here is one call:
 *
 * - {@link LOSS_GRAD}: from the last layer's pre-activation z and the targets t: the loss (the
 *   batch mean, as lib/training/losses.ts defines it), dL/dz and the bias gradient.
 * - {@link ACTIVATION_GRAD}: from dL/dout and the layer's output (or, for PReLU, its
 *   pre-activation and slope): dL/dz, the bias gradient and PReLU's slope gradient.
 *
 * The formulas are tf.js's gradient functions (Sigmoid_grad, Tanh_grad, Relu_grad, Prelu_grad,
 * Softmax_grad, softmaxCrossEntropy's custom gradient, the tape's derivatives of the other two
 * losses); sums run in double precision, so results agree with the op-by-op path to float32
 * rounding, not bit for bit. The activation gradient runs as WebAssembly SIMD on wasm
 * (simd-activation.ts); the loss (a batch of 10-class rows) and PReLU in JavaScript.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors';
import { hostMemory } from './host-memory';
import { SIMD_ACTIVATIONS, SimdActivation, simdActivationGrads } from './simd-activation';

/** Inputs `z`, `t`; attrs `loss`, `activation` (the last layer's), `bias`, `epsilon`. Outputs: loss (scalar), dz, then db if `bias`. */
export const LOSS_GRAD = 'MnistNetsDenseLossGrad';
/** Inputs `dOut`, `y` (or `z` and `alpha` for prelu); attrs `activation`, `bias`. Outputs: dz, then db if `bias`, then dAlpha for prelu. */
export const ACTIVATION_GRAD = 'MnistNetsDenseActivationGrad';
export const DENSE_GRAD_KERNELS = [LOSS_GRAD, ACTIVATION_GRAD] as const;

export type DenseLoss = 'softmax-cross-entropy' | 'cross-entropy' | 'quadratic';
export type DenseActivation = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'softmax' | 'prelu';
const DENSE_LOSSES: readonly string[] = ['softmax-cross-entropy', 'cross-entropy', 'quadratic'] satisfies DenseLoss[];
/** What LOSS_GRAD differentiates through: every activation but PReLU, which never ends a net. */
const OUTPUT_ACTIVATIONS: readonly string[] = ['linear', 'sigmoid', 'tanh', 'relu', 'softmax'] satisfies DenseActivation[];


function input2d(kernel: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t == null) throw new KernelError(kernel, `input '${name}' is missing`);
  if (t.dtype !== 'float32' || t.shape.length !== 2) throw new KernelError(kernel, `input '${name}' must be a float32 matrix, got ${t.dtype} [${t.shape}]`);
  return t;
}

function sameShape(kernel: string, a: tf.TensorInfo, b: tf.TensorInfo): void {
  if (a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) throw new KernelError(kernel, `inputs of shapes [${a.shape}] and [${b.shape}] must match`);
}

/** LOSS_GRAD's inputs and attributes, checked (shared with the webgpu kernel). */
export function lossGradArgs(args: Parameters<tf.KernelFunc>[0]) {
  const z = input2d(LOSS_GRAD, args.inputs, 'z');
  const t = input2d(LOSS_GRAD, args.inputs, 't');
  sameShape(LOSS_GRAD, z, t);
  const attrs = args.attrs as Record<string, unknown>;
  const loss = attrs['loss'] as DenseLoss;
  const activation = attrs['activation'] as DenseActivation;
  if (!DENSE_LOSSES.includes(loss)) throw new KernelError(LOSS_GRAD, `unknown loss '${loss}'`);
  if (loss === 'softmax-cross-entropy' && activation !== 'linear') {
    throw new KernelError(LOSS_GRAD, 'softmax cross-entropy takes logits (a linear last layer)');
  }
  if (!OUTPUT_ACTIVATIONS.includes(activation)) {
    throw new KernelError(LOSS_GRAD, `activation '${activation}' is not supported on an output layer`);
  }
  const [batch, n] = z.shape as [number, number];
  return { z, t, loss, activation, bias: Boolean(attrs['bias']), epsilon: Number(attrs['epsilon']), batch, n };
}

/** ACTIVATION_GRAD's inputs and attributes, checked (shared with the webgpu kernel). */
export function activationGradArgs(args: Parameters<tf.KernelFunc>[0]) {
  const attrs = args.attrs as Record<string, unknown>;
  const activation = attrs['activation'] as DenseActivation;
  const prelu = activation === 'prelu';
  const dOut = input2d(ACTIVATION_GRAD, args.inputs, 'dOut');
  const y = input2d(ACTIVATION_GRAD, args.inputs, prelu ? 'z' : 'y');
  sameShape(ACTIVATION_GRAD, dOut, y);
  const [rows, cols] = dOut.shape as [number, number];
  const alpha = prelu ? args.inputs['alpha'] : undefined;
  const slopes = alpha ? tf.util.sizeFromShape(alpha.shape) : 0;
  if (prelu && (alpha == null || (slopes !== 1 && slopes !== cols))) {
    throw new KernelError(ACTIVATION_GRAD, `PReLU needs an 'alpha' of one slope or one per unit (${cols})`);
  }
  if (!prelu && !(SIMD_ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new KernelError(ACTIVATION_GRAD, `activation '${activation}' has no fused gradient here`);
  }
  return { activation, prelu, bias: Boolean(attrs['bias']), dOut, y, rows, cols, alpha, sharedSlope: slopes === 1 };
}

/** dz = g f'(y) for y = f(z), in place over one row segment (softmax needs the whole row). */
function activationBackward(activation: DenseActivation, g: Float64Array, y: Float64Array, dz: Float64Array, n: number): void {
  switch (activation) {
    case 'linear':
      for (let j = 0; j < n; j++) dz[j] = g[j]!;
      return;
    case 'sigmoid':
      for (let j = 0; j < n; j++) dz[j] = g[j]! * (y[j]! * (1 - y[j]!));
      return;
    case 'tanh':
      for (let j = 0; j < n; j++) dz[j] = (1 - y[j]! * y[j]!) * g[j]!;
      return;
    case 'relu':
      for (let j = 0; j < n; j++) dz[j] = y[j]! > 0 ? g[j]! : 0;
      return;
    case 'softmax': {
      let s = 0;
      for (let j = 0; j < n; j++) s += g[j]! * y[j]!;
      for (let j = 0; j < n; j++) dz[j] = g[j]! * y[j]! - s * y[j]!;
      return;
    }
    case 'prelu':
      throw new KernelError(LOSS_GRAD, 'a PReLU output layer is not supported');
  }
}

function lossGradKernel(backendName: string): tf.KernelFunc {
  return (args) => {
    const { z, t, loss, activation, bias, epsilon: eps, batch, n } = lossGradArgs(args);
    const mem = hostMemory(LOSS_GRAD, backendName, args.backend);
    const lossOut = mem.allocate([]);
    const dzOut = mem.allocate([batch, n]);
    const dbOut = bias ? mem.allocate([n]) : undefined;
    const zv = mem.view(z);
    const tv = mem.view(t);
    const dzv = mem.view(dzOut);
    const dbv = dbOut ? mem.view(dbOut) : undefined;
    dbv?.fill(0);
    const y = new Float64Array(n);
    const g = new Float64Array(n);
    const d = new Float64Array(n);
    let total = 0;
    for (let r = 0; r < batch; r++) {
      const row = r * n;
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, zv[row + j]!);
      if (loss === 'softmax-cross-entropy') {
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(zv[row + j]! - max);
        const lse = max + Math.log(sum);
        for (let j = 0; j < n; j++) {
          const logResult = zv[row + j]! - lse;
          total -= tv[row + j]! * logResult;
          d[j] = (Math.exp(logResult) - tv[row + j]!) / batch;
        }
      } else {
        if (activation === 'softmax') {
          let sum = 0;
          for (let j = 0; j < n; j++) sum += (y[j] = Math.exp(zv[row + j]! - max));
          for (let j = 0; j < n; j++) y[j]! /= sum;
        } else {
          for (let j = 0; j < n; j++) {
            const v = zv[row + j]!;
            y[j] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : activation === 'tanh' ? Math.tanh(v) : activation === 'relu' ? Math.max(0, v) : v;
          }
        }
        // Each as float32, as the forward pass would have stored it.
        for (let j = 0; j < n; j++) y[j] = Math.fround(y[j]!);
        for (let j = 0; j < n; j++) {
          const tj = tv[row + j]!;
          if (loss === 'cross-entropy') {
            total -= tj * Math.log(y[j]! + eps);
            g[j] = -tj / batch / (y[j]! + eps);
          } else {
            total += 0.5 * (y[j]! - tj) ** 2;
            g[j] = (y[j]! - tj) / batch;
          }
        }
        activationBackward(activation, g, y, d, n);
      }
      for (let j = 0; j < n; j++) {
        dzv[row + j] = d[j]!;
        if (dbv) dbv[j]! += Math.fround(d[j]!);
      }
    }
    mem.view(lossOut)[0] = total / batch;
    return dbOut ? [lossOut, dzOut, dbOut] : [lossOut, dzOut];
  };
}

function activationGradKernel(backendName: string): tf.KernelFunc {
  return (args) => {
    const { activation, prelu, bias, dOut, y, rows, cols, alpha, sharedSlope } = activationGradArgs(args);
    const mem = hostMemory(ACTIVATION_GRAD, backendName, args.backend);
    const dz = mem.allocate([rows, cols]);
    const db = bias ? mem.allocate([cols]) : undefined;
    const dAlpha = alpha ? mem.allocate(alpha.shape) : undefined;
    const outputs = [dz, ...(db ? [db] : []), ...(dAlpha ? [dAlpha] : [])];
    const fns = !prelu && mem.memory && mem.offset ? simdActivationGrads(mem.memory) : null;
    if (fns && mem.offset) {
      const at = mem.offset;
      fns[activation as SimdActivation](at(dOut), at(y), at(dz), db ? at(db) : 0, rows, cols);
      return outputs;
    }
    const dv = mem.view(dOut);
    const yv = mem.view(y);
    const dzv = mem.view(dz);
    const dbv = db ? mem.view(db) : undefined;
    dbv?.fill(0);
    const f32 = Math.fround;
    if (prelu) {
      const av = mem.view(alpha!);
      const da = mem.view(dAlpha!);
      const sums = new Float64Array(av.length);
      for (let i = 0; i < rows * cols; i++) {
        const c = i % cols;
        const a = sharedSlope ? 0 : c;
        const v = yv[i]!;
        // tf.js's Prelu_grad: where(z > 0, dy, dy * alpha); alpha: sum of where(z > 0, 0, dy * z).
        dzv[i] = v > 0 ? dv[i]! : f32(dv[i]! * av[a]!);
        if (!(v > 0)) sums[a]! += f32(dv[i]! * v);
        if (dbv) dbv[c]! += dzv[i]!;
      }
      da.set(sums);
      return outputs;
    }
    for (let i = 0; i < rows * cols; i++) {
      const d = dv[i]!;
      const v = yv[i]!;
      const g =
        activation === 'sigmoid' ? f32(d * f32(v * f32(1 - v))) : activation === 'tanh' ? f32(f32(1 - f32(v * v)) * d) : activation === 'relu' ? (v > 0 ? d : d * 0) : d;
      dzv[i] = g;
      if (dbv) dbv[i % cols]! += g;
    }
    return outputs;
  };
}

/** Registers both kernels for 'wasm' and 'cpu' (idempotent). */
export function registerDenseGradKernels(): void {
  for (const backendName of ['wasm', 'cpu']) {
    if (tf.getKernel(LOSS_GRAD, backendName) == null) tf.registerKernel({ kernelName: LOSS_GRAD, backendName, kernelFunc: lossGradKernel(backendName) });
    if (tf.getKernel(ACTIVATION_GRAD, backendName) == null) {
      tf.registerKernel({ kernelName: ACTIVATION_GRAD, backendName, kernelFunc: activationGradKernel(backendName) });
    }
  }
}

/** Whether the current backend runs these kernels (else dense-step.ts composes tf.js ops). */
export function hasDenseGradKernels(): boolean {
  return DENSE_GRAD_KERNELS.every((name) => tf.getKernel(name, tf.getBackend()) != null);
}
