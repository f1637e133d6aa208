/**
 * Kernels that make training on the wasm backend possible and fast: the filter gradient of a
 * convolution (missing from tfjs-backend-wasm 4.22), and replacements for kernels whose wasm
 * versions fall back to generic loops at ~1/10 of XNNPACK's speed on the shapes a training step
 * produces. See docs/PERF.md for the measurements behind each one.
 */
import * as tf from '@tensorflow/tfjs';
import { batchMatMulWasm, fusedMatMulWasm } from './batch-mat-mul';
import { WASM_BACKEND, originalKernels, wasmBackendPackage } from './compose';
import { conv2DBackpropFilterWasm, conv2DBackpropInputWasm } from './conv2d-backprop';
import { KernelSet } from './kernel-set';
import { maxPoolGradWasm } from './max-pool-grad';
import { sumWasm } from './reduce-sum';

export { MAX_UPSAMPLED_STRIDE_AREA, conv2DBackpropFilterWasm, conv2DBackpropInputWasm } from './conv2d-backprop';
export { SIMD_MAX_RIGHT_OPERAND, batchMatMulWasm, fusedMatMulWasm, planProduct, setSimdProducts, useSimdProduct } from './batch-mat-mul';
export type { PackingState } from './batch-mat-mul';
export { maxPoolGradWasm } from './max-pool-grad';
export { reducesAllButLast, sumWasm } from './reduce-sum';

/** Names of the kernels {@link registerWasmTrainingKernels} installs on the wasm backend. */
export const WASM_TRAINING_KERNELS = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.BatchMatMul,
  tf._FusedMatMul,
  tf.MaxPoolGrad,
  tf.Sum,
] as const;

export type WasmTrainingKernel = (typeof WASM_TRAINING_KERNELS)[number];

const KERNEL_FUNCS: Record<WasmTrainingKernel, tf.KernelFunc> = {
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterWasm,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputWasm,
  [tf.BatchMatMul]: batchMatMulWasm,
  [tf._FusedMatMul]: fusedMatMulWasm,
  [tf.MaxPoolGrad]: maxPoolGradWasm,
  [tf.Sum]: sumWasm,
};

/** Options of {@link registerWasmTrainingKernels}. */
export interface RegisterWasmTrainingKernelsOptions {
  /**
   * Which kernels to install; the others are left as they are (or restored, if this module
   * installed them before). Meant for measuring one replacement at a time.
   * @default {@link WASM_TRAINING_KERNELS} (all)
   */
  kernels?: readonly WasmTrainingKernel[];
}

function ensureWasmKernelsLoaded(): void {
  if (tf.getKernel(tf.Conv2D, WASM_BACKEND) == null) wasmBackendPackage();
}

const WASM_KERNELS: KernelSet<WasmTrainingKernel> = new KernelSet(WASM_BACKEND, WASM_TRAINING_KERNELS, KERNEL_FUNCS, originalKernels);

/**
 * Registers, for backend 'wasm', the kernels CNN training needs: `Conv2DBackpropFilter` (absent
 * from tfjs-backend-wasm), and faster `Conv2DBackpropInput`, `BatchMatMul`, `_FusedMatMul` and
 * `MaxPoolGrad` (the last also fixes the backend's gradient for windows of values <= 0) that
 * fall back to the backend's own kernels for the cases they do not handle. Idempotent;
 * works before or after `tf.setBackend('wasm')`. Loads `@tensorflow/tfjs-backend-wasm` if it is
 * not loaded yet.
 */
export function registerWasmTrainingKernels(options: RegisterWasmTrainingKernelsOptions = {}): void {
  const wanted = options.kernels ?? WASM_TRAINING_KERNELS;
  WASM_KERNELS.check(wanted);
  ensureWasmKernelsLoaded();
  WASM_KERNELS.select(wanted);
}

/** Puts the wasm backend's own kernels back (and removes Conv2DBackpropFilter again). */
export function unregisterWasmTrainingKernels(): void {
  WASM_KERNELS.select([]);
}

/** The kernels of {@link WASM_TRAINING_KERNELS} that are currently installed. */
export function installedWasmTrainingKernels(): WasmTrainingKernel[] {
  return WASM_KERNELS.installed();
}
