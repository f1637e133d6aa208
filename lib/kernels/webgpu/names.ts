/**
 * Names, inputs and attributes of the conv step's kernels (lib/training/conv-step.ts), which only
 * the webgpu backend registers (layer-grad.ts); elsewhere the step composes the same arithmetic
 * from tf.js ops. A module of its own so that lib/training can name them without loading kernels.
 */

/**
 * tf.js's dropout with a given mask draw `u` (uniform in [0, 1), as tf.dropout draws it):
 * x * (floor(u + keep) / keep), keep = 1 - rate. The gradient is the same product with dy.
 * Inputs `x`, `u`; attr `rate`. Output: one tensor shaped like x.
 */
export const DROPOUT = 'MnistNetsDropout';

/**
 * The gradient through a max-pooling layer and, with attr `relu`, the ReLU before it: each dy
 * goes to the first maximum of its window (tf.js's MaxPoolGrad), times step(input) under `relu`.
 * Inputs `dy` (the pool's output gradient), `input` (the pool's input), `output` (the pool's
 * output; the composed form needs it, the webgpu kernel does not); attrs those of MaxPoolGrad
 * (`filterSize`, `strides`, `pad`, `dimRoundingMode`) and `relu`. Output: dL/dinput (dL/dz of the
 * conv layer under `relu`).
 */
export const POOL_RELU_GRAD = 'MnistNetsMaxPoolReluGrad';

export const LAYER_STEP_KERNELS = [DROPOUT, POOL_RELU_GRAD] as const;
