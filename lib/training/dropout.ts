import * as tf from '@tensorflow/tfjs';
import { DROPOUT } from '../kernels/webgpu/names';

/**
 * x times tf.dropout's multiplier for the uniform draw `u`: floor(u + keep) / keep, keep = 1 - rate.
 * With `u` drawn as tf.layers' Dropout draws it (tf.randomUniform of x's shape, seeded from
 * Math.random), the forward pass is that layer's; applied to dL/dy it is the layer's gradient.
 * One kernel where the backend has it (webgpu), else tf.dropout's own operations.
 */
export function applyDropout(x: tf.Tensor, u: tf.Tensor, rate: number): tf.Tensor {
  if (tf.getKernel(DROPOUT, tf.getBackend()) != null) {
    return tf.engine().runKernel(DROPOUT, { x, u }, { rate } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  const keep = 1 - rate;
  return tf.mul(x, tf.div(tf.floor(tf.add(u, keep)), keep));
}
