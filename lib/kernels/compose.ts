/**
 * Building blocks for wasm kernels written as compositions of the wasm backend's own fast
 * kernels. A kernel function called directly (not through `runKernel`) is invisible to the
 * engine: no tape, no tensor tracking, no profiling entry. Its outputs are plain `TensorInfo`s
 * owned by the backend, so everything that is not returned must be released with
 * `backend.disposeData`, which is what {@link Scratch} is for.
 */
import * as tf from '@tensorflow/tfjs';
import type * as WasmBackendPackage from '@tensorflow/tfjs-backend-wasm';
import { KernelError } from '../errors';

export const WASM_BACKEND = 'wasm';

/**
 * tfjs-backend-wasm, loaded on first use. The one place it is required: importing it registers
 * the 'wasm' backend (priority 2, above 'cpu'), which would change the default backend of every
 * program that merely imports this library. Backend choice belongs to lib/backends.
 */
export function wasmBackendPackage(): typeof WasmBackendPackage {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@tensorflow/tfjs-backend-wasm') as typeof WasmBackendPackage;
}

/**
 * Kernel configs replaced by this module, as they were before. Compositions call these, not
 * the registry, so that a replaced kernel (BatchMatMul) used inside another composition
 * reaches the native implementation instead of recursing into the wrapper.
 */
export const originalKernels = new Map<string, tf.KernelConfig>();

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Runs the wasm kernel `name` (its original, when this module replaced it) on `backend`. */
export function callWasmKernel(
  name: string,
  backend: KernelArgs['backend'],
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = originalKernels.get(name) ?? tf.getKernel(name, WASM_BACKEND);
  if (config == null) {
    throw new KernelError(name, "not registered on the wasm backend; import '@tensorflow/tfjs-backend-wasm' first");
  }
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) {
    throw new KernelError(name, `returned ${out.length} outputs where one was expected`);
  }
  return out;
}

/**
 * Intermediate tensors of one kernel call. `run` keeps the result for disposal; `release` frees
 * all of them, so a `try { ... } finally { scratch.release() }` cannot leak on error.
 */
export class Scratch {
  private readonly temps: tf.TensorInfo[] = [];

  constructor(readonly backend: KernelArgs['backend']) {}

  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const out = callWasmKernel(name, this.backend, inputs, attrs);
    this.temps.push(out);
    return out;
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Runs a kernel whose output the caller returns: it is not scheduled for disposal. */
  final(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    return callWasmKernel(name, this.backend, inputs, attrs);
  }

  release(): void {
    const backend = this.backend as tf.KernelBackend;
    for (const t of this.temps.splice(0)) backend.disposeData(t.dataId);
  }
}

/** The input `name` of a kernel call; the registry's typing allows it to be absent. */
export function requireInput(kernel: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (t == null) throw new KernelError(kernel, `input '${name}' is missing`);
  return t;
}

/** Swaps the last two axes: the permutation that transposes a (batched) matrix. */
export function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}
