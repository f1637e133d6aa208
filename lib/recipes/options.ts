import { InvalidArgumentError } from '../errors';
import type { OptimizerConfig } from '../training/optimizers';
import type { TrainOptions } from '../training/train';
import type { Preset } from './presets';

/** Changes to a preset's recipe; every field left out keeps the recipe's value. */
export interface RecipeOverrides {
  epochs?: number;
  steps?: number;
  /** Training-time budget: stop after this many seconds, or at the recipe's end if sooner. */
  maxSeconds?: number;
  /** Evaluate each time training time passes a multiple of this. */
  evalIntervalSeconds?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Train on the first N training examples (and test on the first N test examples). */
  limit?: number;
  /** Evaluate every N steps (0: only at the end). @default the recipe's log interval */
  logInterval?: number;
  /** Hold out this fraction of the training examples (the last ones) and validate on them after every epoch. */
  validationSplit?: number;
}

/** train() options with the optimiser as data (what a recipe holds). */
export type RecipeTrainOptions = TrainOptions & { optimizer: OptimizerConfig };

/** Resolves a preset's recipe with the user's overrides into train() options. */
export function recipeOptions(preset: Preset, o: RecipeOverrides = {}): RecipeTrainOptions {
  const r = preset.recipe;
  if (o.epochs !== undefined && o.steps !== undefined) {
    throw new InvalidArgumentError('epochs/steps', 'give one of them, not both');
  }
  const useSteps = o.steps !== undefined || (o.epochs === undefined && r.steps !== undefined);
  const optimizer: OptimizerConfig =
    o.learningRate === undefined ? r.optimizer : { ...r.optimizer, learningRate: o.learningRate };
  return {
    loss: r.loss,
    optimizer,
    batchSize: o.batchSize ?? r.batchSize,
    sampling: r.sampling,
    ...(useSteps ? { steps: o.steps ?? r.steps } : { epochs: o.epochs ?? r.epochs }),
    seed: o.seed,
    targets: r.targets,
    logInterval: o.logInterval ?? r.logInterval,
    evalTrainLimit: r.evalTrainLimit,
    evalTestLimit: r.evalTestLimit,
    trainLimit: o.limit === undefined ? r.trainLimit : Math.min(o.limit, r.trainLimit ?? Infinity),
    maxSeconds: o.maxSeconds,
    evalIntervalSeconds: o.evalIntervalSeconds,
    ...(o.validationSplit === undefined ? {} : { validationSplit: o.validationSplit }),
  };
}
