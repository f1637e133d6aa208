import * as tf from '@tensorflow/tfjs';
import { DROPOUT } from '../kernels/webgpu/names';

/** x times tf.dropout's multiplier for the uniform draw `u` (see {@link dropoutOnBackend}). */
export type ApplyDropout = (x: tf.Tensor, u: tf.Tensor, rate: number) => tf.Tensor;

/**
 * x times tf.dropout's multiplier for the uniform draw `u`: floor(u + keep) / keep, keep = 1 - rate.
 * With `u` drawn as tf.layers' Dropout draws it (tf.randomUniform of x's shape, seeded from
 * Math.random), the forward pass is that layer's; applied to dL/dy it is the layer's gradient.
 * One kernel where the current backend has it (webgpu), else tf.dropout's own operations: a step
 * asks once, when it is made (as for its other kernels), rather than looking the kernel up per call.
 */
export function dropoutOnBackend(): ApplyDropout {
  if (tf.getKernel(DROPOUT, tf.getBackend()) != null) {
    return (x, u, rate) => tf.engine().runKernel(DROPOUT, { x, u }, { rate } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return (x, u, rate) => {
    const keep = 1 - rate;
    return tf.mul(x, tf.div(tf.floor(tf.add(u, keep)), keep));
  };
}
