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
/** A loss per example, [batch]: what tf.js's `model.compile` takes (it averages, with sample weights if given). */
export type ExampleLossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor1D;

/**
 * The recipes' losses example by example: the one place their arithmetic is written.
 * {@link lossFunction} averages it for train(), evaluate() and the gradient check; recipeLoss()
 * hands it to `model.compile`.
 */
export function exampleLoss(name: LossName): ExampleLossFn & { readonly lossName: LossName } {
  checkOneOf('loss', name, LOSS_NAMES);
  // The name travels with the function: saveModel records it, so a loaded model compiles with it again.
  return Object.defineProperty(exampleLossBody(name), 'lossName', { value: name, enumerable: true }) as ExampleLossFn & { readonly lossName: LossName };
}

function exampleLossBody(name: LossName): ExampleLossFn {
  switch (name) {
    case 'softmax-cross-entropy':
      return (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred, undefined, undefined, tf.Reduction.NONE) as tf.Tensor1D;
    case 'cross-entropy':
      return (yTrue, yPred) => tf.tidy(() => tf.neg(tf.sum(tf.mul(yTrue, tf.log(tf.add(yPred, CROSS_ENTROPY_EPSILON))), -1)) as tf.Tensor1D);
    case 'quadratic':
      return (yTrue, yPred) => tf.tidy(() => tf.sum(tf.squaredDifference(yPred, yTrue), -1).mul(0.5) as tf.Tensor1D);
  }
}

/**
 * The batch mean of {@link exampleLoss}, as a sum divided by the batch size: tf.losses' own
 * reduction for softmax cross-entropy, so the tape's arithmetic is what it always was.
 */
export function lossFunction(name: LossName): LossFn {
  const perExample = exampleLoss(name);
  return (yTrue, yPred) => tf.tidy(() => tf.div(tf.sum(perExample(yTrue, yPred)), tf.scalar(yPred.shape[0] as number)));
}
