import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../random';
import { checkOneOf, checkPositiveInt, perLayer } from '../checks';
import { HIDDEN_ACTIVATIONS, HiddenActivation, OUTPUT_ACTIVATIONS, OutputActivation } from './common';
import { InitializerSpec, resolveInitializer } from './initializers';
import { InvalidArgumentError } from '../errors';

/** @default 784 */
export const DEFAULT_MLP_INPUT_SIZE = 784;
/** @default 10 */
export const DEFAULT_MLP_OUTPUT_UNITS = 10;
/** @default 'sigmoid' */
export const DEFAULT_MLP_ACTIVATION: HiddenActivation = 'sigmoid';
/** @default 'linear' (logits, for softmax cross-entropy) */
export const DEFAULT_MLP_OUTPUT_ACTIVATION: OutputActivation = 'linear';
/** @default N(0, 1), as in source 000 */
export const DEFAULT_MLP_KERNEL_INITIALIZER: InitializerSpec = { kind: 'normal', stddev: 1 };
/** @default zeros */
export const DEFAULT_MLP_BIAS_INITIALIZER: InitializerSpec = { kind: 'zeros' };
/** Slope every shared PReLU starts from (PyTorch's `nn.PReLU()` default). @default 0.25 */
export const DEFAULT_PRELU_ALPHA = 0.25;

/** Options of {@link buildMlp}: a fully connected network on flat 784-pixel input. */
export interface MlpOptions {
  /** Units in each hidden layer, e.g. `[40]` for 784-40-10. May be empty (a linear classifier). */
  hiddenUnits: readonly number[];
  /** @default {@link DEFAULT_MLP_INPUT_SIZE} */
  inputSize?: number;
  /** @default {@link DEFAULT_MLP_OUTPUT_UNITS} */
  outputUnits?: number;
  /** One for all hidden layers, or one per hidden layer. @default {@link DEFAULT_MLP_ACTIVATION} */
  activation?: HiddenActivation | readonly HiddenActivation[];
  /** @default {@link DEFAULT_MLP_OUTPUT_ACTIVATION} */
  outputActivation?: OutputActivation;
  /** Biases on every dense layer. Recipe mse-mlp has none. @default true */
  useBias?: boolean;
  /** One for all dense layers, or one per dense layer (hidden layers then output). */
  kernelInitializer?: InitializerSpec | readonly InitializerSpec[];
  /** One for all dense layers, or one per dense layer. */
  biasInitializer?: InitializerSpec | readonly InitializerSpec[];
  /** Seeds every initializer (each layer its own derived seed). Unseeded when omitted. */
  seed?: number;
  /** Model name. @default 'mlp' */
  name?: string;
}

/** Builds a fully connected network. Returns an uncompiled `tf.Sequential`. */
export function buildMlp(options: MlpOptions): tf.Sequential {
  if (!Array.isArray(options?.hiddenUnits)) {
    throw new InvalidArgumentError('hiddenUnits', 'must be an array of positive integers, e.g. [40]');
  }
  const hidden = options.hiddenUnits.map((u, i) => checkPositiveInt(`hiddenUnits[${i}]`, u));
  const inputSize = checkPositiveInt('inputSize', options.inputSize ?? DEFAULT_MLP_INPUT_SIZE);
  const outputUnits = checkPositiveInt('outputUnits', options.outputUnits ?? DEFAULT_MLP_OUTPUT_UNITS);
  const activations = perLayer('activation', options.activation ?? DEFAULT_MLP_ACTIVATION, hidden.length).map(
    (a, i) => checkOneOf(`activation[${i}]`, a, HIDDEN_ACTIVATIONS),
  );
  const outputActivation = checkOneOf(
    'outputActivation',
    options.outputActivation ?? DEFAULT_MLP_OUTPUT_ACTIVATION,
    OUTPUT_ACTIVATIONS,
  );
  const denseCount = hidden.length + 1;
  const kernelInits = perLayer('kernelInitializer', options.kernelInitializer ?? DEFAULT_MLP_KERNEL_INITIALIZER, denseCount);
  const biasInits = perLayer('biasInitializer', options.biasInitializer ?? DEFAULT_MLP_BIAS_INITIALIZER, denseCount);
  const useBias = options.useBias ?? true;
  const seed = options.seed;

  const model = tf.sequential({ name: options.name ?? 'mlp' });
  const sizes = [inputSize, ...hidden, outputUnits];
  for (let i = 0; i < denseCount; i++) {
    const isOutput = i === denseCount - 1;
    const act = isOutput ? outputActivation : activations[i];
    const [fanIn, fanOut] = [sizes[i], sizes[i + 1]];
    model.add(
      tf.layers.dense({
        units: fanOut,
        // PReLU is its own layer so its slope is a weight; the dense part stays linear.
        activation: act === 'prelu' ? 'linear' : act,
        useBias,
        kernelInitializer: resolveInitializer(kernelInits[i], fanIn, fanOut, seedFor(seed, 2 * i)),
        biasInitializer: useBias ? resolveInitializer(biasInits[i], fanIn, fanOut, seedFor(seed, 2 * i + 1)) : undefined,
        ...(i === 0 ? { inputShape: [inputSize] } : {}),
        name: isOutput ? 'output' : `hidden${i + 1}`,
      }),
    );
    if (act === 'prelu') {
      // sharedAxes [1] collapses the slope to a single scalar for the whole layer, as nn.PReLU().
      model.add(
        tf.layers.prelu({
          sharedAxes: [1],
          alphaInitializer: tf.initializers.constant({ value: DEFAULT_PRELU_ALPHA }),
          name: `prelu${i + 1}`,
        }),
      );
    }
  }
  return model;
}

export function seedFor(seed: number | undefined, index: number): number | undefined {
  return seed === undefined ? undefined : deriveSeed(seed, index);
}
