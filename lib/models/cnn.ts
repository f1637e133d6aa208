import * as tf from '@tensorflow/tfjs';
import { checkOneOf, checkPositiveInt, checkRate } from '../checks';
import { OUTPUT_ACTIVATIONS, OutputActivation } from './common';
import { InitializerSpec, resolveInitializer } from './initializers';
import { seedFor } from './mlp';
import { InvalidArgumentError } from '../errors';

/** @default [28, 28, 1] */
export const DEFAULT_CNN_INPUT_SHAPE: readonly [number, number, number] = [28, 28, 1];
/** Filters of the two conv layers. @default [32, 64] */
export const DEFAULT_CNN_FILTERS: readonly number[] = [32, 64];
/** @default 5 */
export const DEFAULT_CNN_KERNEL_SIZE = 5;
/** Max-pool window and stride after each conv. @default 2 */
export const DEFAULT_CNN_POOL_SIZE = 2;
/** @default 1024 */
export const DEFAULT_CNN_DENSE_UNITS = 1024;
/** Fraction dropped (TensorFlow 1's keep_prob 0.5). @default 0.5 */
export const DEFAULT_CNN_DROPOUT = 0.5;
/** @default 10 */
export const DEFAULT_CNN_NUM_CLASSES = 10;
/** The tutorial's `tf.truncated_normal(stddev=0.1)`. */
export const DEFAULT_CNN_KERNEL_INITIALIZER: InitializerSpec = { kind: 'truncated-normal', stddev: 0.1 };
/** The tutorial's `tf.constant(0.1)`. */
export const DEFAULT_CNN_BIAS_INITIALIZER: InitializerSpec = { kind: 'constant', value: 0.1 };

/** Options of {@link buildCnn}: conv -> pool, repeated, then dense -> dropout -> dense. */
export interface CnnOptions {
  /** @default {@link DEFAULT_CNN_INPUT_SHAPE} */
  inputShape?: readonly [number, number, number];
  /** One conv layer (SAME padding, ReLU, followed by max-pooling) per entry. @default {@link DEFAULT_CNN_FILTERS} */
  filters?: readonly number[];
  /** @default {@link DEFAULT_CNN_KERNEL_SIZE} */
  kernelSize?: number;
  /** @default {@link DEFAULT_CNN_POOL_SIZE} */
  poolSize?: number;
  /** @default {@link DEFAULT_CNN_DENSE_UNITS} */
  denseUnits?: number;
  /** Dropout rate after the dense layer; 0 removes the layer. @default {@link DEFAULT_CNN_DROPOUT} */
  dropout?: number;
  /** @default {@link DEFAULT_CNN_NUM_CLASSES} */
  numClasses?: number;
  /** @default 'linear' (logits) */
  outputActivation?: OutputActivation;
  /** @default {@link DEFAULT_CNN_KERNEL_INITIALIZER} */
  kernelInitializer?: InitializerSpec;
  /** @default {@link DEFAULT_CNN_BIAS_INITIALIZER} */
  biasInitializer?: InitializerSpec;
  seed?: number;
}

/** Builds the two-conv CNN of the TensorFlow "Deep MNIST" tutorial (source 003). */
export function buildCnn(options: CnnOptions = {}): tf.Sequential {
  const inputShape = options.inputShape ?? DEFAULT_CNN_INPUT_SHAPE;
  if (!Array.isArray(inputShape) || inputShape.length !== 3) {
    throw new InvalidArgumentError('inputShape', `must be [height, width, channels], got ${JSON.stringify(inputShape)}`);
  }
  inputShape.forEach((d, i) => checkPositiveInt(`inputShape[${i}]`, d));
  const filters = (options.filters ?? DEFAULT_CNN_FILTERS).map((f, i) => checkPositiveInt(`filters[${i}]`, f));
  if (filters.length === 0) throw new InvalidArgumentError('filters', 'needs at least one conv layer');
  const kernelSize = checkPositiveInt('kernelSize', options.kernelSize ?? DEFAULT_CNN_KERNEL_SIZE);
  const poolSize = checkPositiveInt('poolSize', options.poolSize ?? DEFAULT_CNN_POOL_SIZE);
  const denseUnits = checkPositiveInt('denseUnits', options.denseUnits ?? DEFAULT_CNN_DENSE_UNITS);
  const dropout = checkRate('dropout', options.dropout ?? DEFAULT_CNN_DROPOUT);
  const numClasses = checkPositiveInt('numClasses', options.numClasses ?? DEFAULT_CNN_NUM_CLASSES);
  const outputActivation = checkOneOf('outputActivation', options.outputActivation ?? 'linear', OUTPUT_ACTIVATIONS);
  const kernelInit = options.kernelInitializer ?? DEFAULT_CNN_KERNEL_INITIALIZER;
  const biasInit = options.biasInitializer ?? DEFAULT_CNN_BIAS_INITIALIZER;
  const seed = options.seed;

  const model = tf.sequential({ name: 'cnn' });
  let [height, width, channels] = inputShape;
  filters.forEach((f, i) => {
    const fanIn = kernelSize * kernelSize * channels;
    const fanOut = kernelSize * kernelSize * f;
    model.add(
      tf.layers.conv2d({
        filters: f,
        kernelSize,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: resolveInitializer(kernelInit, fanIn, fanOut, seedFor(seed, 2 * i)),
        biasInitializer: resolveInitializer(biasInit, fanIn, fanOut, seedFor(seed, 2 * i + 1)),
        ...(i === 0 ? { inputShape: [...inputShape] } : {}),
        name: `conv${i + 1}`,
      }),
    );
    // SAME pooling as in the tutorial: ceil division, so odd sizes keep their border.
    model.add(tf.layers.maxPooling2d({ poolSize, strides: poolSize, padding: 'same', name: `pool${i + 1}` }));
    height = Math.ceil(height / poolSize);
    width = Math.ceil(width / poolSize);
    channels = f;
  });
  // The flatten size follows from the layers above (7*7*64 = 3136 for the defaults).
  model.add(tf.layers.flatten({ name: 'flatten' }));
  const flat = height * width * channels;
  const denseSeeds = 2 * filters.length;
  model.add(
    tf.layers.dense({
      units: denseUnits,
      activation: 'relu',
      kernelInitializer: resolveInitializer(kernelInit, flat, denseUnits, seedFor(seed, denseSeeds)),
      biasInitializer: resolveInitializer(biasInit, flat, denseUnits, seedFor(seed, denseSeeds + 1)),
      name: 'fc1',
    }),
  );
  if (dropout > 0) model.add(tf.layers.dropout({ rate: dropout, name: 'dropout' }));
  model.add(
    tf.layers.dense({
      units: numClasses,
      activation: outputActivation,
      kernelInitializer: resolveInitializer(kernelInit, denseUnits, numClasses, seedFor(seed, denseSeeds + 2)),
      biasInitializer: resolveInitializer(biasInit, denseUnits, numClasses, seedFor(seed, denseSeeds + 3)),
      name: 'output',
    }),
  );
  return model;
}
