import * as tf from '@tensorflow/tfjs';
import type { Dataset, DatasetName, LoadOptions } from '../datasets';
import { loadDataset } from '../datasets';
import { InvalidArgumentError } from '../errors';
import { ModelMetadata, saveModel } from '../io/model-io';
import { forwardFlops } from '../models/summary';
import { Preset, RecipeOverrides, getPreset, recipeOptions } from '../recipes';
import { randomSeed } from '../random';
import { MachineFacts, machineFacts } from './machine';
import { Evaluation, evaluate } from '../training/evaluate';
import { describeOptimizer } from '../training/optimizers';
import { ProgressSink, silentProgress } from '../training/progress';
import { EpochEntry, EvalEntry, TrainHistory, TrainResult, train } from '../training/train';

/** Training accuracy at the end is measured on at most this many examples when the recipe limits its logged evaluations (the CNN on a CPU). @default 10000 */
export const FINAL_TRAIN_EVAL_LIMIT = 10_000;

/** A preset, overrides of its recipe (each defaults to the recipe's value), and where to run it. */
export interface TrainJobOptions extends RecipeOverrides {
  preset: string;
  /** A dataset already loaded with the recipe's normalisation; loaded here when omitted. */
  data?: Dataset;
  dataset?: DatasetName;
  load?: LoadOptions;
  /** Save the model here after every epoch and at the end. */
  saveDir?: string;
  /** Backend name, recorded in the result and the saved metadata. */
  backend?: string;
  progress?: ProgressSink;
  signal?: AbortSignal;
  onEval?: (entry: EvalEntry) => void | Promise<void>;
}

export interface TrainJobResult {
  model: string;
  family: string;
  backend: string;
  dataset: string;
  dataSource: string;
  params: number;
  flopsPerSample: number;
  seed: number;
  hyperparameters: Record<string, unknown>;
  steps: number;
  epochs: number;
  seconds: number;
  trainSeconds: number;
  samplesPerSec: number;
  stopped: TrainResult['stopped'];
  trainAccuracy: number;
  trainAccuracySamples: number;
  testAccuracy: number;
  testLoss: number;
  testSamples: number;
  /** Time of the final evaluation over the test set (forward passes and loss): inference speed. */
  testSeconds: number;
  perClassAccuracy: number[];
  confusion: number[][];
  reported: string;
  machine: MachineFacts;
  date: string;
  history: TrainHistory;
  savedTo?: string;
}

export interface TrainJob {
  result: TrainJobResult;
  /** The trained model; the caller owns it and must dispose it. */
  model: tf.LayersModel;
  evaluation: Evaluation;
}

/** Loads the data a preset needs (its normalisation), unless given. */
export async function loadPresetData(preset: Preset, o: Pick<TrainJobOptions, 'data' | 'dataset' | 'load' | 'limit'>): Promise<Dataset> {
  if (o.data) {
    if (o.data.normalization !== preset.recipe.normalization) {
      throw new InvalidArgumentError(
        'data',
        `preset ${preset.id} needs '${preset.recipe.normalization}' normalisation, the dataset has '${o.data.normalization}'`,
      );
    }
    return o.data;
  }
  return loadDataset(o.dataset ?? 'mnist', {
    ...o.load,
    normalization: preset.recipe.normalization,
    limit: o.limit === undefined ? o.load?.limit : { train: o.limit, test: Math.min(o.limit, 10_000) },
  });
}

/**
 * Trains one preset end to end: data, model, recipe, training, final evaluation (full test set),
 * optional saving. The one place the CLI's `train`, `bench` and the examples share.
 */
export async function runTrainJob(options: TrainJobOptions): Promise<TrainJob> {
  const preset = getPreset(options.preset);
  const trainOptions = recipeOptions(preset, options);
  const seed = options.seed ?? randomSeed();
  trainOptions.seed = seed;
  const data = await loadPresetData(preset, options);
  const progress = options.progress ?? silentProgress;
  const model = preset.build({ seed });
  const backend = options.backend ?? tf.getBackend();
  const hyperparameters = {
    optimizer: trainOptions.optimizer,
    optimizerText: describeOptimizer(trainOptions.optimizer),
    loss: trainOptions.loss,
    batchSize: trainOptions.batchSize,
    sampling: trainOptions.sampling,
    epochs: trainOptions.epochs,
    steps: trainOptions.steps,
    trainLimit: trainOptions.trainLimit,
    normalization: preset.recipe.normalization,
    targets: trainOptions.targets,
    seed,
  };
  const metadata = (history?: TrainHistory, extra: Record<string, unknown> = {}): ModelMetadata => ({
    preset: preset.id,
    family: preset.family,
    dataset: data.name,
    normalization: data.normalization,
    layout: preset.layout,
    loss: preset.recipe.loss,
    targets: preset.recipe.targets,
    hyperparameters: { ...hyperparameters, backend },
    history,
    ...extra,
  });

  try {
    let lastEpoch: EpochEntry | undefined;
    const result = await train(model, data, {
      ...trainOptions,
      progress,
      signal: options.signal,
      onEval: options.onEval,
      onEpochEnd: async (entry) => {
        lastEpoch = entry;
        if (options.saveDir) await saveModel(model, options.saveDir, metadata(undefined, { checkpoint: entry }));
      },
    });
    const trainLimit = preset.recipe.evalTrainLimit ? FINAL_TRAIN_EVAL_LIMIT : trainOptions.trainLimit;
    const trainEval = await evaluate(model, data.train, { limit: trainLimit });
    const testStart = performance.now();
    const testEval = await evaluate(model, data.test, { loss: preset.recipe.loss, targets: preset.recipe.targets });
    const testSeconds = (performance.now() - testStart) / 1000;
    const out: TrainJobResult = {
      model: preset.id,
      family: preset.family,
      backend,
      dataset: data.name,
      dataSource: data.source.description,
      params: model.countParams(),
      flopsPerSample: forwardFlops(model),
      seed,
      hyperparameters,
      steps: result.steps,
      epochs: result.epochs,
      seconds: result.seconds,
      trainSeconds: result.trainSeconds,
      samplesPerSec: result.samplesPerSec,
      stopped: result.stopped,
      trainAccuracy: trainEval.accuracy,
      trainAccuracySamples: trainEval.count,
      testAccuracy: testEval.accuracy,
      testLoss: testEval.loss as number,
      testSamples: testEval.count,
      testSeconds,
      perClassAccuracy: testEval.perClassAccuracy,
      confusion: testEval.confusion,
      reported: preset.reported.text,
      machine: machineFacts(),
      date: new Date().toISOString(),
      history: result.history,
    };
    if (options.saveDir) {
      await saveModel(
        model,
        options.saveDir,
        metadata(result.history, {
          checkpoint: lastEpoch,
          stopped: result.stopped,
          steps: result.steps,
          testAccuracy: testEval.accuracy,
          testLoss: testEval.loss,
        }),
      );
      out.savedTo = options.saveDir;
    }
    return { result: out, model, evaluation: testEval };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
