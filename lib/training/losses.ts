import * as tf from '@tensorflow/tfjs';
import { checkOneOf } from '../models/common';

/**
 * The recipes' losses. All take one-hot (or target-valued) `yTrue` [batch, classes] and the
 * model's output, and return the mean over the batch.
 * - `softmax-cross-entropy`: on logits (fused, stable): deep-mlp, tanh-mlp, prelu-mlp, cnn.
 * - `cross-entropy`: on softmax probabilities, `-sum(t log(y + 1e-7))`, as source 003/004 writes it.
 * - `quadratic`: `0.5 * sum((y - t)^2)`, whose gradient is the "output error x sigmoid'" of 000/002.
 */
export type LossName = 'softmax-cross-entropy' | 'cross-entropy' | 'quadratic';
export const LOSS_NAMES: readonly LossName[] = ['softmax-cross-entropy', 'cross-entropy', 'quadratic'];

/** Source 003/004's `np.log(y + 1e-7)` guard. @default 1e-7 */
export const CROSS_ENTROPY_EPSILON = 1e-7;

export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

export function lossFunction(name: LossName): LossFn {
  checkOneOf('loss', name, LOSS_NAMES);
  switch (name) {
    case 'softmax-cross-entropy':
      return (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred) as tf.Scalar;
    case 'cross-entropy':
      return (yTrue, yPred) =>
        tf.tidy(() => {
          const batch = yPred.shape[0] as number;
          return tf.neg(tf.sum(tf.mul(yTrue, tf.log(tf.add(yPred, CROSS_ENTROPY_EPSILON))))).div(batch) as tf.Scalar;
        });
    case 'quadratic':
      return (yTrue, yPred) =>
        tf.tidy(() => {
          const batch = yPred.shape[0] as number;
          return tf.sum(tf.squaredDifference(yPred, yTrue)).mul(0.5 / batch) as tf.Scalar;
        });
  }
}

/** Target values for one-hot encoding: source 002 trains towards 0.01 / 0.99 instead of 0 / 1. */
export interface TargetValues {
  /** @default 0 */
  off: number;
  /** @default 1 */
  on: number;
}
export const DEFAULT_TARGETS: TargetValues = { off: 0, on: 1 };

/** Class indices [batch] -> one-hot targets [batch, numClasses], with the recipe's target values. */
export function encodeTargets(labels: tf.Tensor, numClasses: number, targets: TargetValues = DEFAULT_TARGETS): tf.Tensor2D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels as tf.Tensor1D, numClasses).toFloat() as tf.Tensor2D;
    if (targets.off === 0 && targets.on === 1) return oneHot;
    return oneHot.mul(targets.on - targets.off).add(targets.off) as tf.Tensor2D;
  });
}
