import * as tf from '@tensorflow/tfjs';
import type { ImageLayout, Normalization } from '../datasets';
import { InvalidArgumentError } from '../errors';
import { buildCnn } from '../models/cnn';
import { buildMlp } from '../models/mlp';
import { buildTwoLayerNet } from '../models/two-layer-net';
import type { OptimizerConfig } from '../training/optimizers';
import type { TrainOptions } from '../training/train';

export type PresetId = 'mlp' | 'deep-mlp' | 'tanh-mlp' | 'mse-mlp' | 'two-layer-net' | 'prelu-mlp' | 'cnn';
/** The three headline families; every preset is built by one of their builders. */
export type Family = 'mlp' | 'two-layer-net' | 'cnn';

/**
 * How a preset trains, exactly as its source document does: train()'s options (exactly one of
 * epochs / steps; `trainLimit` is prelu-mlp's 56,000-image split) plus the input normalisation.
 */
export interface Recipe
  extends Pick<
    TrainOptions,
    'loss' | 'batchSize' | 'sampling' | 'epochs' | 'steps' | 'targets' | 'evalTrainLimit' | 'evalTestLimit' | 'trainLimit'
  > {
  /** As data: what saved metadata records; `recipeOptimizer()` makes the tf.train optimiser of it. */
  optimizer: OptimizerConfig;
  normalization: Normalization;
  /** Steps between train/test accuracy logs. */
  logInterval: number;
}

export interface Preset {
  id: PresetId;
  family: Family;
  title: string;
  /** Source document(s) in shared/seeds. */
  source: string;
  architecture: string;
  /** Exact trainable parameter count of the architecture. */
  params: number;
  layout: ImageLayout;
  /** Builds a fresh, uncompiled model with the recipe's initialisation. */
  build(options?: { seed?: number }): tf.Sequential;
  recipe: Recipe;
  /** What the source itself reports. */
  reported: { text: string; testAccuracy?: number };
}

const PRESET_LIST: readonly Preset[] = [
  {
    id: 'mlp',
    family: 'mlp',
    title: 'Nielsen-style sigmoid MLP, quadratic cost',
    source: '000',
    architecture: '784-40-10, sigmoid, biases',
    params: 31_810,
    layout: 'flat',
    build: ({ seed } = {}) =>
      buildMlp({
        hiddenUnits: [40],
        activation: 'sigmoid',
        outputActivation: 'sigmoid',
        kernelInitializer: { kind: 'normal', stddev: 1 },
        biasInitializer: { kind: 'normal', stddev: 1 },
        seed,
        name: 'mlp',
      }),
    recipe: {
      loss: 'quadratic',
      optimizer: { kind: 'sgd', learningRate: 3.0 },
      batchSize: 100,
      sampling: 'shuffle',
      epochs: 13,
      normalization: 'unit',
      logInterval: 600,
    },
    reported: { text: 'none printed (the same code at 784-30-10, batch 10, 30 epochs is the well-known ~95%)' },
  },
  {
    id: 'deep-mlp',
    family: 'mlp',
    title: 'Deep ReLU MLP, Adam',
    source: '000',
    architecture: '784-500-1000-300-10, ReLU, softmax',
    params: 1_196_810,
    layout: 'flat',
    build: ({ seed } = {}) =>
      buildMlp({
        hiddenUnits: [500, 1000, 300],
        activation: 'relu',
        outputActivation: 'linear',
        // tf.random_normal's default: N(0, 1) for weights and biases alike.
        kernelInitializer: { kind: 'normal', stddev: 1 },
        biasInitializer: { kind: 'normal', stddev: 1 },
        seed,
        name: 'deep_mlp',
      }),
    recipe: {
      loss: 'softmax-cross-entropy',
      optimizer: { kind: 'adam', learningRate: 1e-3 },
      batchSize: 100,
      sampling: 'shuffle',
      epochs: 13,
      normalization: 'unit',
      logInterval: 600,
    },
    reported: { text: 'prints summed epoch loss and a final test accuracy, no figure given' },
  },
  {
    id: 'tanh-mlp',
    family: 'mlp',
    title: 'Layer-framework tanh MLP, momentum SGD with inv policy',
    source: '001',
    architecture: '784-50-50-10, tanh, tanh, softmax-with-loss',
    params: 42_310,
    layout: 'flat',
    build: ({ seed } = {}) =>
      buildMlp({
        hiddenUnits: [50, 50],
        activation: 'tanh',
        outputActivation: 'linear',
        kernelInitializer: { kind: 'xavier-plus-one' },
        biasInitializer: { kind: 'zeros' },
        seed,
        name: 'tanh_mlp',
      }),
    recipe: {
      loss: 'softmax-cross-entropy',
      optimizer: {
        kind: 'momentum',
        learningRate: 0.1,
        momentum: 0.9,
        weightDecay: 0.001,
        policy: { kind: 'inv', gamma: 0.0005, power: 0.75 },
      },
      batchSize: 100,
      sampling: 'sequential',
      steps: 800,
      normalization: 'unit',
      logInterval: 100,
    },
    reported: { text: 'a plotted loss curve and a test accuracy, figure not in the text' },
  },
  {
    id: 'mse-mlp',
    family: 'mlp',
    title: '"Make Your Own Neural Network" sigmoid net, one sample at a time',
    source: '002',
    architecture: '784-200-10, sigmoid, no biases',
    params: 158_800,
    layout: 'flat',
    build: ({ seed } = {}) =>
      buildMlp({
        hiddenUnits: [200],
        activation: 'sigmoid',
        outputActivation: 'sigmoid',
        useBias: false,
        kernelInitializer: { kind: 'normal-fan-out' },
        seed,
        name: 'mse_mlp',
      }),
    recipe: {
      loss: 'quadratic',
      optimizer: { kind: 'sgd', learningRate: 0.2 },
      batchSize: 1,
      sampling: 'ordered',
      epochs: 2,
      normalization: 'offset',
      targets: { off: 0.01, on: 0.99 },
      logInterval: 20_000,
    },
    reported: { text: '97% test accuracy', testAccuracy: 0.97 },
  },
  {
    id: 'two-layer-net',
    family: 'two-layer-net',
    title: 'TwoLayerNet (deep-learning-from-scratch), SGD with replacement',
    source: '003, 004',
    architecture: '784-50-10, sigmoid, softmax',
    params: 39_760,
    layout: 'flat',
    build: ({ seed } = {}) => buildTwoLayerNet({ seed }),
    recipe: {
      loss: 'cross-entropy',
      optimizer: { kind: 'sgd', learningRate: 0.1 },
      batchSize: 100,
      sampling: 'replacement',
      steps: 10_000,
      normalization: 'unit',
      logInterval: 600,
    },
    reported: { text: '004: train 94.79%, test 94.57% after 10,000 iterations (82.5 s in NumPy)', testAccuracy: 0.9457 },
  },
  {
    id: 'prelu-mlp',
    family: 'mlp',
    title: 'PyTorch MLP with one shared PReLU slope',
    source: '003',
    architecture: '784-256-PReLU-10',
    params: 203_531,
    layout: 'flat',
    build: ({ seed } = {}) =>
      buildMlp({
        hiddenUnits: [256],
        activation: 'prelu',
        outputActivation: 'linear',
        kernelInitializer: { kind: 'torch-linear' },
        biasInitializer: { kind: 'torch-linear' },
        seed,
        name: 'prelu_mlp',
      }),
    recipe: {
      loss: 'softmax-cross-entropy',
      optimizer: { kind: 'sgd', learningRate: 0.1 },
      batchSize: 64,
      sampling: 'shuffle',
      epochs: 9,
      normalization: 'unit',
      trainLimit: 56_000,
      logInterval: 875,
    },
    reported: { text: 'lr 0.1: test 92.62% after epoch 0, 97.39% after epoch 8', testAccuracy: 0.9739 },
  },
  {
    id: 'cnn',
    family: 'cnn',
    title: 'Two-conv CNN of the TensorFlow Deep MNIST tutorial',
    source: '003',
    architecture: 'conv5x5x32-pool-conv5x5x64-pool-fc1024-dropout0.5-fc10',
    params: 3_274_634,
    layout: 'image',
    build: ({ seed } = {}) => buildCnn({ seed }),
    recipe: {
      loss: 'softmax-cross-entropy',
      optimizer: { kind: 'adam', learningRate: 1e-4 },
      batchSize: 50,
      sampling: 'shuffle',
      steps: 1_000,
      normalization: 'unit',
      logInterval: 100,
      // The source logs accuracy on the current training batch; a fixed 1,000-image slice is as
      // cheap and less noisy. Full test accuracy comes at the end.
      evalTrainLimit: 1_000,
      evalTestLimit: 1_000,
    },
    reported: {
      text: 'training-batch accuracy 0.06 at step 0, 0.98 at step 700 ("98%"); ~99.2% test after 20,000 steps (TF tutorial)',
    },
  },
];

/** The registry, keyed by id. */
export const PRESETS: Readonly<Record<PresetId, Preset>> = Object.fromEntries(
  PRESET_LIST.map((p) => [p.id, p]),
) as Record<PresetId, Preset>;

export const PRESET_IDS: readonly PresetId[] = PRESET_LIST.map((p) => p.id);

export function getPreset(id: string): Preset {
  const preset = (PRESETS as Record<string, Preset | undefined>)[id];
  if (!preset) throw new InvalidArgumentError('model', `unknown preset '${id}'; choose one of ${PRESET_IDS.join(', ')}`);
  return preset;
}
