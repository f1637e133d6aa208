/**
 * The platform-neutral core both entries export: errors, model builders, presets and their
 * recipes, the training loop and evaluation. Nothing here, or below it, touches a Node module, so the Node
 * entry (index.ts) and the browser entry (browser.ts) export it alike.
 */

// Errors
export {
  MnistNetsError,
  IdxFormatError,
  FileError,
  DatasetError,
  BackendUnavailableError,
  InvalidArgumentError,
  KernelError,
  ModelIOError,
  TrainingError,
  errorMessage,
} from './errors';

// Models
export { buildMlp } from './models/mlp';
export type { MlpOptions } from './models/mlp';
export { buildTwoLayerNet } from './models/two-layer-net';
export type { TwoLayerNetOptions } from './models/two-layer-net';
export { buildCnn } from './models/cnn';
export type { CnnOptions } from './models/cnn';
export type { InitializerSpec } from './models/initializers';
export type { HiddenActivation, OutputActivation } from './models/common';
export { forwardFlops, trainingFlops, layerSummary } from './models/summary';

// Recipes: preset = builder + training options + what the source reports
export { PRESETS, PRESET_IDS, getPreset, recipeOptions, recipeOptimizer, recipeLoss } from './recipes';
export type { Preset, PresetId, Recipe, Family, RecipeOverrides, RecipeOptimizerOptions } from './recipes';

// Training and evaluation
export { train } from './training/train';
export type { TrainOptions, TrainResult, TrainHistory, TrainData, EvalEntry, EpochEntry, BatchInfo } from './training/train';
export { evaluate } from './training/evaluate';
export type { Evaluation, EvaluateOptions } from './training/evaluate';
export { gradientCheck } from './training/gradcheck';
export type { GradientCheckOptions, GradientCheckResult } from './training/gradcheck';
export { lossFunction, exampleLoss, LOSS_NAMES } from './training/losses';
export type { LossName, TargetValues, LossFn, ExampleLossFn } from './training/losses';
export { learningRateAt, describeOptimizer } from './training/optimizers';
// The recipes' optimisers as tf.train optimisers (registered with tf.serialization on import)
export { RecipeOptimizer, Tf1AdamOptimizer, CaffeMomentumOptimizer, RecipeSgdOptimizer, optimizerFromConfig } from './training/recipe-optimizers';
export type { OptimizerConfig, LrPolicy } from './training/optimizers';
export type { Sampling } from './training/sampler';
export { silentProgress, formatProgress } from './training/progress';
export type { ProgressSink, ProgressState } from './training/progress';

// Profiles: kernel calls and GPU programs per training step (tf.profile)
export { profileSteps, summarizeKernels, programsOf } from './profiling/kernel-profile';
export type { StepsProfile, KernelProfileSummary, KernelSummary, ProfiledKernel } from './profiling/kernel-profile';
