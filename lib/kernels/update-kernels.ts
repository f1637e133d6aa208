/**
 * Optimiser updates as single kernels on the CPU backends ('wasm' and 'cpu'): one call updates
 * every variable of a model, in one pass over the backend's memory per variable (WebAssembly SIMD
 * on 'wasm', simd-update.ts; a JavaScript loop on 'cpu').
 *
 * Why: built from tf.js ops, an update costs several kernels per variable (SGD 2, Caffe momentum
 * 5-6, Adam about 12), each a full pass over the variable's memory plus ~10-30 us of engine
 * overhead. For the cnn's 3.2M-weight dense layer that was ~30 ms of a ~290 ms step on wasm
 * (docs/PERF.md); for a 784-50-10 net the dozens of tiny calls cost more than its arithmetic.
 * A fused pass reads each operand once and writes each result once.
 *
 * Every result is a new tensor, never an update in place: XNNPACK caches the packing of a
 * matrix product's right-hand operand per tensor, so a weight changed in place would be
 * multiplied with its stale packing.
 *
 * Inputs are named `x0..x{n-1}` (variables), `g*` (gradients) and, per rule, `v*` (velocities) or
 * `m*`/`v*` (Adam's moments); the outputs come in the same groups, in order: new variables, then
 * new state. lib/training/optimizers.ts decides when to call these and has the same arithmetic
 * as tf.js ops for the other backends.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors';
import { hostMemory } from './host-memory';
import { SimdUpdates, simdUpdates } from './simd-update';

/** w' = w - lr g. Attrs: `count`, `learningRate`. Outputs: w'. */
export const SGD_UPDATE = 'MnistNetsSgdUpdate';
/**
 * Caffe's momentum (source 001): v' = momentum v + lr (g + decay_i w); w' = w - v'.
 * Attrs: `count`, `learningRate`, `momentum`, `decay` (one factor per variable). Outputs: w', v'.
 */
export const MOMENTUM_UPDATE = 'MnistNetsMomentumUpdate';
/**
 * TensorFlow 1's ApplyAdam (training_ops.cc), with the step size already bias-corrected on the
 * host, lrT = lr sqrt(1 - beta2^t) / (1 - beta1^t):
 *   m' = m + (g - m)(1 - beta1);  v' = v + (g^2 - v)(1 - beta2);  w' = w - lrT m' / (sqrt(v') + epsilon)
 * Attrs: `count`, `lrT`, `beta1`, `beta2`, `epsilon`. Outputs: w', m', v'.
 */
export const ADAM_TF1_UPDATE = 'MnistNetsAdamTf1Update';

export const UPDATE_KERNELS = [SGD_UPDATE, MOMENTUM_UPDATE, ADAM_TF1_UPDATE] as const;
export type UpdateKernelName = (typeof UPDATE_KERNELS)[number];

/** Backends these kernels are registered for: both keep tensors in memory JavaScript can address. */
export const UPDATE_KERNEL_BACKENDS = ['wasm', 'cpu'] as const;

type KernelArgs = Parameters<tf.KernelFunc>[0];

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The `count` variables' inputs of the groups `names`, checked to be float32 and of one shape per variable. */
export function groups(kernel: string, inputs: tf.NamedTensorInfoMap, count: number, names: readonly string[]): tf.TensorInfo[][] {
  if (!Number.isInteger(count) || count < 1) throw new KernelError(kernel, `attr 'count' must be a positive integer, got ${count}`);
  return names.map((name) =>
    Array.from({ length: count }, (_, i) => {
      const t = inputs[`${name}${i}`];
      if (t == null) throw new KernelError(kernel, `input '${name}${i}' is missing`);
      if (t.dtype !== 'float32') throw new KernelError(kernel, `input '${name}${i}' must be float32, got ${t.dtype}`);
      const ref = inputs[`x${i}`];
      if (ref != null && sizeOf(t.shape) !== sizeOf(ref.shape)) {
        throw new KernelError(kernel, `input '${name}${i}' has shape [${t.shape}], the variable [${ref.shape}]`);
      }
      return t;
    }),
  );
}

/** One update rule: a JavaScript loop from element `from` on, and the same as a SIMD call over `bytes`. */
interface UpdateBody {
  js(variable: number, inputs: Float32Array[], outputs: Float32Array[], from: number): void;
  simd(fns: SimdUpdates, variable: number, inputs: number[], outputs: number[], bytes: number): void;
}

/**
 * Runs `body` once per variable on its inputs and freshly allocated outputs (`outputGroups` of
 * them, shaped like the variable) and returns the outputs group by group. On wasm the SIMD loop
 * does whole groups of 4 floats and the JavaScript loop the rest.
 */
function runUpdate(
  kernel: string,
  backendName: string,
  args: KernelArgs,
  inputNames: readonly string[],
  outputGroups: number,
  body: UpdateBody,
): tf.TensorInfo[] {
  const count = Number((args.attrs as Record<string, unknown>)['count']);
  const ins = groups(kernel, args.inputs, count, inputNames);
  const memory = hostMemory(kernel, backendName, args.backend);
  const fns = memory.memory ? simdUpdates(memory.memory) : null;
  const outs = Array.from({ length: outputGroups }, () => ins[0]!.map((x) => memory.allocate(x.shape)));
  for (let i = 0; i < count; i++) {
    let from = 0;
    if (fns && memory.offset) {
      const offset = memory.offset;
      from = sizeOf(ins[0]![i]!.shape) & ~3;
      body.simd(fns, i, ins.map((group) => offset(group[i]!)), outs.map((group) => offset(group[i]!)), from * 4);
    }
    body.js(i, ins.map((group) => memory.view(group[i]!)), outs.map((group) => memory.view(group[i]!)), from);
  }
  return outs.flat();
}

const f32 = Math.fround;

// Each operation is rounded to float32 as a tf.js op would round it (a float32 operation is a
// double operation rounded once, for + - * / and sqrt), so these kernels give bit for bit what
// lib/training/optimizers.ts computes from tf.js ops, only in one pass.

function sgdKernel(backendName: string): tf.KernelFunc {
  return (args) => {
    const lr = f32(Number(args.attrs?.['learningRate']));
    return runUpdate(SGD_UPDATE, backendName, args, ['x', 'g'], 1, {
      js: (_, [x, g], [out], from) => {
        for (let j = from; j < out!.length; j++) out![j] = x![j]! - f32(g![j]! * lr);
      },
      simd: (fns, _, [x, g], [out], bytes) => fns.sgd(x!, g!, out!, bytes, lr),
    });
  };
}

function momentumKernel(backendName: string): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs as Record<string, unknown>;
    const lr = f32(Number(attrs['learningRate']));
    const momentum = f32(Number(attrs['momentum']));
    const decay = (attrs['decay'] as number[]).map((d) => f32(d));
    return runUpdate(MOMENTUM_UPDATE, backendName, args, ['x', 'g', 'v'], 2, {
      js: (i, [x, g, v], [xOut, vOut], from) => {
        const wd = decay[i] ?? 0;
        for (let j = from; j < xOut!.length; j++) {
          const w = x![j]!;
          const grad = wd > 0 ? f32(g![j]! + f32(w * wd)) : g![j]!;
          const next = f32(f32(v![j]! * momentum) + f32(grad * lr));
          vOut![j] = next;
          xOut![j] = w - next;
        }
      },
      simd: (fns, i, [x, g, v], [xOut, vOut], bytes) => {
        const wd = decay[i] ?? 0;
        if (wd > 0) fns.momentumDecay(x!, g!, v!, xOut!, vOut!, bytes, lr, momentum, wd);
        else fns.momentum(x!, g!, v!, xOut!, vOut!, bytes, lr, momentum);
      },
    });
  };
}

function adamKernel(backendName: string): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs as Record<string, unknown>;
    const lrT = f32(Number(attrs['lrT']));
    const c1 = f32(1 - Number(attrs['beta1']));
    const c2 = f32(1 - Number(attrs['beta2']));
    const eps = f32(Number(attrs['epsilon']));
    return runUpdate(ADAM_TF1_UPDATE, backendName, args, ['x', 'g', 'm', 'v'], 3, {
      js: (_, [x, g, m, v], [xOut, mOut, vOut], from) => {
        for (let j = from; j < xOut!.length; j++) {
          const gj = g![j]!;
          const mj = f32(m![j]! + f32(f32(gj - m![j]!) * c1));
          const vj = f32(v![j]! + f32(f32(f32(gj * gj) - v![j]!) * c2));
          mOut![j] = mj;
          vOut![j] = vj;
          xOut![j] = x![j]! - f32(f32(mj * lrT) / f32(f32(Math.sqrt(vj)) + eps));
        }
      },
      simd: (fns, _, [x, g, m, v], [xOut, mOut, vOut], bytes) =>
        fns.adam(x!, g!, m!, v!, xOut!, mOut!, vOut!, bytes, lrT, c1, c2, eps),
    });
  };
}

const FACTORIES: Record<UpdateKernelName, (backendName: string) => tf.KernelFunc> = {
  [SGD_UPDATE]: sgdKernel,
  [MOMENTUM_UPDATE]: momentumKernel,
  [ADAM_TF1_UPDATE]: adamKernel,
};

/**
 * Registers the update kernels for 'wasm' and 'cpu' (idempotent). Registering for a backend that
 * is never created costs nothing and loads nothing.
 */
export function registerUpdateKernels(): void {
  for (const backendName of UPDATE_KERNEL_BACKENDS) {
    for (const name of UPDATE_KERNELS) {
      if (tf.getKernel(name, backendName) != null) continue;
      tf.registerKernel({ kernelName: name, backendName, kernelFunc: FACTORIES[name](backendName) });
    }
  }
}

/** Whether `name` runs as one kernel on the current backend (else the caller composes tf.js ops). */
export function hasUpdateKernel(name: UpdateKernelName): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}
