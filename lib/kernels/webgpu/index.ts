/**
 * Kernels that make a training step on the 'webgpu' backend a few GPU programs: the fused kernels
 * lib/training already calls on wasm and cpu (optimiser updates, the dense step's loss and
 * activation gradients) as WebGPU programs, the pieces of the conv step (lib/training/
 * conv-step.ts: dropout, max-pool with ReLU gradient), a one-program bias-gradient Sum and a
 * tiled Conv2DBackpropFilter.
 * Registered for 'webgpu' only: lib/backends/webgpu.ts does it when it selects the backend.
 * docs/GPU.md, "Programs per training step", has the counts before and after.
 *
 * Nothing here imports tfjs-backend-webgpu: the kernels reach the backend they are given (see
 * program.ts), so registering them loads nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelSet } from '../kernel-set';
import { ACTIVATION_GRAD, LOSS_GRAD } from '../dense-grad';
import { ADAM_TF1_UPDATE, MOMENTUM_UPDATE, SGD_UPDATE } from '../update-kernels';
import { conv2DBackpropFilterKernel } from './conv2d-backprop-filter';
import { WEBGPU_DENSE_GRAD_KERNELS } from './dense-grad';
import { WEBGPU_LAYER_KERNELS, sumKernel } from './layer-grad';
import { DROPOUT, POOL_RELU_GRAD } from './names';
import { WEBGPU_UPDATE_KERNELS } from './update';

export const WEBGPU_BACKEND = 'webgpu';

/** Names of the kernels {@link registerWebGPUTrainingKernels} installs on the webgpu backend. */
export const WEBGPU_TRAINING_KERNELS = [
  SGD_UPDATE,
  MOMENTUM_UPDATE,
  ADAM_TF1_UPDATE,
  LOSS_GRAD,
  ACTIVATION_GRAD,
  DROPOUT,
  POOL_RELU_GRAD,
  tf.Sum,
  tf.Conv2DBackpropFilter,
] as const;

export type WebGPUTrainingKernel = (typeof WEBGPU_TRAINING_KERNELS)[number];

/** Upstream's configs of the kernels replaced here, to fall back on and to restore. */
const originals = new Map<string, tf.KernelConfig>();

const KERNEL_FUNCS: Record<WebGPUTrainingKernel, tf.KernelFunc> = {
  ...WEBGPU_UPDATE_KERNELS,
  ...WEBGPU_DENSE_GRAD_KERNELS,
  ...WEBGPU_LAYER_KERNELS,
  [tf.Sum]: sumKernel(() => originals.get(tf.Sum)?.kernelFunc as ReturnType<Parameters<typeof sumKernel>[0]>),
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterKernel(() => originals.get(tf.Conv2DBackpropFilter)?.kernelFunc),
};

const WEBGPU_KERNELS: KernelSet<WebGPUTrainingKernel> = new KernelSet(WEBGPU_BACKEND, WEBGPU_TRAINING_KERNELS, KERNEL_FUNCS, originals);

/** Options of {@link registerWebGPUTrainingKernels}. */
export interface RegisterWebGPUTrainingKernelsOptions {
  /**
   * Which kernels to install; the others are left out (or removed, if this module installed them
   * before). For measuring the step without them (scripts/gpu/count-programs.ts's `before`).
   * @default {@link WEBGPU_TRAINING_KERNELS} (all)
   */
  kernels?: readonly WebGPUTrainingKernel[];
}

/**
 * Registers the kernels for backend 'webgpu'. Idempotent; call it after
 * `@tensorflow/tfjs-backend-webgpu` was imported (it registers upstream's kernels, some of which
 * these replace), before or after the backend is created.
 */
export function registerWebGPUTrainingKernels(options: RegisterWebGPUTrainingKernelsOptions = {}): void {
  const wanted = options.kernels ?? WEBGPU_TRAINING_KERNELS;
  WEBGPU_KERNELS.check(wanted);
  WEBGPU_KERNELS.select(wanted);
}

/** Removes them again (and puts upstream's back where one was replaced). */
export function unregisterWebGPUTrainingKernels(): void {
  WEBGPU_KERNELS.select([]);
}

/** The kernels of {@link WEBGPU_TRAINING_KERNELS} currently installed. */
export function installedWebGPUTrainingKernels(): WebGPUTrainingKernel[] {
  return WEBGPU_KERNELS.installed();
}
