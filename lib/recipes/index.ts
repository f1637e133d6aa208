/**
 * Recipes: a preset is a model builder (lib/models) plus the source's training options
 * (lib/training) plus what the source reports. This layer sits above both, so that models know
 * nothing of training.
 */
export { PRESETS, PRESET_IDS, getPreset } from './presets';
export type { Preset, PresetId, Recipe, Family } from './presets';
export { recipeOptions } from './options';
export type { RecipeOverrides } from './options';
export { recipeOptimizer, recipeLoss } from './tfjs';
export type { RecipeOptimizerOptions } from './tfjs';
