import * as tf from '@tensorflow/tfjs';
import { checkPositiveInt } from '../checks';
import { HiddenActivation, OutputActivation } from './common';
import { InitializerSpec } from './initializers';
import { buildMlp } from './mlp';

/** @default 784 */
export const DEFAULT_TWO_LAYER_INPUT_SIZE = 784;
/** @default 50 */
export const DEFAULT_TWO_LAYER_HIDDEN_SIZE = 50;
/** @default 10 */
export const DEFAULT_TWO_LAYER_OUTPUT_SIZE = 10;
/** Source 003/004's `weight_init_std`. @default 0.01 */
export const DEFAULT_TWO_LAYER_WEIGHT_INIT_STD = 0.01;

/** Options of {@link buildTwoLayerNet}: input-hidden-output, as the `TwoLayerNet` class of 003/004. */
export interface TwoLayerNetOptions {
  /** @default {@link DEFAULT_TWO_LAYER_INPUT_SIZE} */
  inputSize?: number;
  /** @default {@link DEFAULT_TWO_LAYER_HIDDEN_SIZE} */
  hiddenSize?: number;
  /** @default {@link DEFAULT_TWO_LAYER_OUTPUT_SIZE} */
  outputSize?: number;
  /** Weights ~ weightInitStd * N(0,1); biases 0. @default {@link DEFAULT_TWO_LAYER_WEIGHT_INIT_STD} */
  weightInitStd?: number;
  /** @default 'sigmoid' */
  hiddenActivation?: HiddenActivation;
  /** Softmax, so the model outputs probabilities and the loss is cross-entropy with epsilon. @default 'softmax' */
  outputActivation?: OutputActivation;
  seed?: number;
}

export function buildTwoLayerNet(options: TwoLayerNetOptions = {}): tf.Sequential {
  const std = options.weightInitStd ?? DEFAULT_TWO_LAYER_WEIGHT_INIT_STD;
  const kernel: InitializerSpec = { kind: 'normal', stddev: std };
  return buildMlp({
    inputSize: options.inputSize ?? DEFAULT_TWO_LAYER_INPUT_SIZE,
    hiddenUnits: [checkPositiveInt('hiddenSize', options.hiddenSize ?? DEFAULT_TWO_LAYER_HIDDEN_SIZE)],
    outputUnits: options.outputSize ?? DEFAULT_TWO_LAYER_OUTPUT_SIZE,
    activation: options.hiddenActivation ?? 'sigmoid',
    outputActivation: options.outputActivation ?? 'softmax',
    kernelInitializer: kernel,
    biasInitializer: { kind: 'zeros' },
    seed: options.seed,
    name: 'two_layer_net',
  });
}
