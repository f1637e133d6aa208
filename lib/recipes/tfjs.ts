/**
 * A preset's recipe as tf.js pieces, for users who train with `model.compile` and `model.fit`:
 * its optimiser as a tf.train optimiser and its loss as a loss function.
 *
 * ```ts
 * const preset = PRESETS['tanh-mlp'];
 * const model = preset.build({ seed: 1 });
 * model.compile({ optimizer: recipeOptimizer(preset), loss: recipeLoss(preset) });
 * await model.fit(xs, ys, { batchSize: preset.recipe.batchSize, epochs: 1 });
 * ```
 */
import { InvalidArgumentError } from '../errors';
import { ExampleLossFn, exampleLoss } from '../training/losses';
import { RecipeOptimizer, optimizerFromConfig } from '../training/recipe-optimizers';
import { Preset, PresetId, getPreset } from './presets';

/** Changes to the recipe's optimiser. */
export interface RecipeOptimizerOptions {
  /** @default the recipe's base learning rate */
  learningRate?: number;
}

function presetOf(preset: Preset | PresetId, argument: string): Preset {
  if (typeof preset === 'string') return getPreset(preset);
  if (preset === null || typeof preset !== 'object' || preset.recipe === undefined) {
    throw new InvalidArgumentError(argument, `must be a preset or a preset id, got ${String(preset)}`);
  }
  return preset;
}

/**
 * The recipe's optimiser as a tf.train optimiser: `Tf1AdamOptimizer` (cnn, deep-mlp),
 * `CaffeMomentumOptimizer` with the inv policy and weight decay (tanh-mlp), or
 * `RecipeSgdOptimizer`. Its steps are train()'s steps, so `model.fit` with it and
 * {@link recipeLoss} follows train()'s losses for the same batches.
 */
export function recipeOptimizer(preset: Preset | PresetId, options: RecipeOptimizerOptions = {}): RecipeOptimizer {
  const p = presetOf(preset, 'preset');
  const config = options.learningRate === undefined ? p.recipe.optimizer : { ...p.recipe.optimizer, learningRate: options.learningRate };
  return optimizerFromConfig(config);
}

/**
 * The recipe's loss for `model.compile`, one value per example (tf.js averages them, weighting
 * them by sample or class weights when given). Targets are whatever `ys` holds: one-hot rows,
 * or, for mse-mlp, the recipe's 0.01/0.99 (`preset.recipe.targets`).
 */
export function recipeLoss(preset: Preset | PresetId): ExampleLossFn {
  const name = presetOf(preset, 'preset').recipe.loss;
  const loss = exampleLoss(name);
  // tf.js names a function loss after the function in its logs and errors.
  Object.defineProperty(loss, 'name', { value: name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) });
  return loss;
}
