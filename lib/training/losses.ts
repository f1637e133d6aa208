import * as tf from '@tensorflow/tfjs';
import { checkOneOf } from '../checks';
export { DEFAULT_TARGETS } from '../datasets/onehot';
export type { TargetValues } from '../datasets/onehot';

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
