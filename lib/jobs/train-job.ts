import * as tf from '@tensorflow/tfjs';
import type { Dataset, DatasetName, LoadOptions } from '../datasets';
import { loadDataset } from '../datasets';
import { InvalidArgumentError } from '../errors';
import { Checkpoint, loadCheckpoint, saveCheckpoint } from '../io/checkpoint';
import type { ModelMetadata } from '../io/model-io';
import { forwardFlops } from '../models/summary';
import { Preset, RecipeOverrides, getPreset, recipeOptions } from '../recipes';
import { randomSeed } from '../random';
import { MachineFacts, machineFacts } from './machine';
import { Evaluation, evaluate } from '../training/evaluate';
import { describeOptimizer } from '../training/optimizers';
import { ProgressSink, silentProgress } from '../training/progress';
import { BatchInfo, EpochEntry, EvalEntry, TrainHistory, TrainResult, TrainState, train } from '../training/train';
import type { EarlyStoppingOptions } from '../training/early-stopping';
import * as path from 'path';
import { saveModel } from '../io/model-io';

/** The folder under `saveDir` holding the model of the best validation loss so far. @default 'best' */
export const BEST_DIR = 'best';

/** Training accuracy at the end is measured on at most this many examples when the recipe limits its logged evaluations (the CNN on a CPU). @default 10000 */
export const FINAL_TRAIN_EVAL_LIMIT = 10_000;
/**
 * After an interruption the test set is evaluated only when that is expected to take at most this
 * many seconds (someone who pressed Ctrl-C is waiting); the train set is not evaluated. @default 3
 */
export const QUICK_EVAL_SECONDS = 3;
/** Test examples evaluated first, and timed, to tell whether the whole test set is quick. @default 1000 */
export const QUICK_EVAL_PROBE = 1000;

/** A preset, overrides of its recipe (each defaults to the recipe's value), and where to run it. */
export interface TrainJobOptions extends RecipeOverrides {
  preset: string;
  /** A dataset already loaded with the recipe's normalisation; loaded here when omitted. */
  data?: Dataset;
  dataset?: DatasetName;
  load?: LoadOptions;
  /** Save a checkpoint here (the model and the training state, lib/io/checkpoint.ts) after every epoch, on abort, and at the end. */
  saveDir?: string;
  /**
   * Continue the run checkpointed in `saveDir` from where it stopped: its preset, dataset, recipe
   * overrides and seed, with the same result as if it had never stopped (on the same backend).
   * `steps`/`epochs` may be given to train further than the original run; other overrides that
   * differ from the checkpoint's are an error.
   */
  resume?: boolean;
  /** Backend name, recorded in the result and the saved metadata. */
  backend?: string;
  progress?: ProgressSink;
  /**
   * Aborting stops training after the step in flight; the checkpoint (with `saveDir`) is saved at
   * once, then only a quick evaluation runs ({@link QUICK_EVAL_SECONDS}), and the result says
   * `stopped: 'aborted'`.
   */
  signal?: AbortSignal;
  onEval?: (entry: EvalEntry) => void | Promise<void>;
  /** Called after every training step (train()'s `onBatchEnd`). */
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  /**
   * Stop once the validation loss has not improved for this many epochs (a number: the patience),
   * and put back the best epoch's weights; needs `validationSplit`.
   */
  earlyStopping?: number | EarlyStoppingOptions;
}

/**
 * What the final evaluation covered: `complete` (train and test sets), `test` (an aborted run,
 * test set only), `skipped` (an aborted run whose test evaluation would have been slow).
 */
export type JobEvaluation = 'complete' | 'test' | 'skipped';

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
  /** The step this run resumed from (0 for a fresh run). */
  resumedFrom: number;
  /** Which training step computed the gradients (lib/training/dense-step.ts). */
  gradients: TrainResult['gradients'];
  epochs: number;
  seconds: number;
  trainSeconds: number;
  samplesPerSec: number;
  stopped: TrainResult['stopped'];
  /** What the final evaluation covered; the accuracies it did not measure are NaN (null in JSON). */
  evaluation: JobEvaluation;
  /** Why the evaluation was cut short, when it was. */
  evaluationNote?: string;
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
  /** What early stopping did (train()'s `earlyStopping`). */
  earlyStopping?: TrainResult['earlyStopping'];
  /** Where the model of the best validation loss so far was kept (`<saveDir>/best`), with validation and `saveDir`. */
  bestSavedTo?: string;
}

export interface TrainJob {
  result: TrainJobResult;
  /** The trained model; the caller owns it and must dispose it. */
  model: tf.LayersModel;
  /** The test set's evaluation; absent when it was skipped after an abort. */
  evaluation?: Evaluation;
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
  const checkpoint = options.resume ? await openCheckpoint(preset, options) : undefined;
  const overrides: RecipeOverrides = checkpoint ? resumedOverrides(checkpoint, options) : options;
  const trainOptions = recipeOptions(preset, overrides);
  const seed = checkpoint?.state.seed ?? options.seed ?? randomSeed();
  trainOptions.seed = seed;
  let data: Dataset;
  try {
    data = await loadPresetData(preset, { ...options, limit: overrides.limit, dataset: (checkpoint?.metadata.dataset as DatasetName | undefined) ?? options.dataset });
  } catch (err) {
    checkpoint?.model.dispose();
    throw err;
  }
  const progress = options.progress ?? silentProgress;
  const model = checkpoint?.model ?? preset.build({ seed });
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
    // Says whether the official split or the offline sample (8,000/2,000 npm digits) trained it.
    dataSource: { kind: data.source.kind, description: data.source.description, path: data.source.path, trainExamples: data.train.count, testExamples: data.test.count },
    normalization: data.normalization,
    layout: preset.layout,
    loss: preset.recipe.loss,
    targets: preset.recipe.targets,
    hyperparameters: { ...hyperparameters, backend },
    overrides: savedOverrides(overrides),
    history,
    ...extra,
  });

  try {
    let lastEpoch: EpochEntry | undefined;
    let finalState: TrainState | undefined;
    let bestLoss = Infinity;
    const bestDir = options.saveDir === undefined ? undefined : path.join(options.saveDir, BEST_DIR);
    const result = await train(model, data, {
      ...trainOptions,
      progress,
      signal: options.signal,
      onEval: options.onEval,
      onBatchEnd: options.onBatchEnd,
      resume: checkpoint?.state,
      earlyStopping: typeof options.earlyStopping === 'number' ? { patience: options.earlyStopping } : options.earlyStopping,
      onEpochEnd: async (entry) => {
        lastEpoch = entry;
        // Keep-best: the model of the lowest validation loss so far, beside the checkpoint.
        if (bestDir && entry.validation && entry.validation.loss < bestLoss) {
          bestLoss = entry.validation.loss;
          await saveModel(model, bestDir, metadata(undefined, { bestEpoch: entry.epoch, steps: entry.step, validation: entry.validation }));
        }
      },
      onCheckpoint: async (state, { final }) => {
        if (!options.saveDir) return;
        if (final) finalState = state;
        // An interrupted run is saved at once, before any evaluation: that checkpoint is its last save.
        if (!final) await saveCheckpoint(options.saveDir, model, metadata(undefined, { checkpoint: lastEpoch }), state);
        else if (options.signal?.aborted) {
          await saveCheckpoint(options.saveDir, model, metadata(undefined, { checkpoint: lastEpoch, stopped: 'aborted', steps: state.step }), state);
        }
      },
    });
    const aborted = result.stopped === 'aborted';
    let evaluation: JobEvaluation = 'complete';
    let evaluationNote: string | undefined;
    let trainEval: Evaluation | undefined;
    let testEval: Evaluation | undefined;
    let testSeconds = NaN;
    if (aborted) {
      const probeStart = performance.now();
      await evaluate(model, data.test, { limit: Math.min(QUICK_EVAL_PROBE, data.test.count) });
      const estimate = ((performance.now() - probeStart) / 1000) * (data.test.count / Math.min(QUICK_EVAL_PROBE, data.test.count));
      evaluation = estimate <= QUICK_EVAL_SECONDS ? 'test' : 'skipped';
      evaluationNote =
        evaluation === 'test'
          ? 'aborted: test set evaluated, train accuracy not measured'
          : `aborted: evaluation skipped (the test set would take about ${Math.ceil(estimate)} s)`;
    } else {
      const trainLimit = preset.recipe.evalTrainLimit ? FINAL_TRAIN_EVAL_LIMIT : trainOptions.trainLimit;
      trainEval = await evaluate(model, data.train, { limit: trainLimit });
    }
    if (evaluation !== 'skipped') {
      const testStart = performance.now();
      testEval = await evaluate(model, data.test, { loss: preset.recipe.loss, targets: preset.recipe.targets });
      testSeconds = (performance.now() - testStart) / 1000;
    }
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
      resumedFrom: result.resumedFrom,
      gradients: result.gradients,
      epochs: result.epochs,
      seconds: result.seconds,
      trainSeconds: result.trainSeconds,
      samplesPerSec: result.samplesPerSec,
      stopped: result.stopped,
      evaluation,
      ...(evaluationNote ? { evaluationNote } : {}),
      trainAccuracy: trainEval?.accuracy ?? NaN,
      trainAccuracySamples: trainEval?.count ?? 0,
      testAccuracy: testEval?.accuracy ?? NaN,
      testLoss: testEval?.loss ?? NaN,
      testSamples: testEval?.count ?? 0,
      testSeconds,
      perClassAccuracy: testEval?.perClassAccuracy ?? [],
      confusion: testEval?.confusion ?? [],
      reported: preset.reported.text,
      machine: machineFacts(),
      date: new Date().toISOString(),
      history: result.history,
      ...(result.earlyStopping ? { earlyStopping: result.earlyStopping } : {}),
      ...(bestDir && Number.isFinite(bestLoss) ? { bestSavedTo: bestDir } : {}),
    };
    if (options.saveDir && aborted) out.savedTo = options.saveDir;
    else if (options.saveDir && finalState) {
      await saveCheckpoint(
        options.saveDir,
        model,
        metadata(result.history, {
          checkpoint: lastEpoch,
          stopped: result.stopped,
          steps: result.steps,
          testAccuracy: testEval?.accuracy,
          testLoss: testEval?.loss,
        }),
        finalState,
      );
      out.savedTo = options.saveDir;
    }
    return { result: out, model, evaluation: testEval };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** The recipe overrides a checkpoint records, so that a resumed run uses the same ones. */
const RESUMED_OVERRIDES = ['epochs', 'steps', 'maxSeconds', 'evalIntervalSeconds', 'batchSize', 'learningRate', 'limit', 'logInterval', 'validationSplit'] as const;
/** Overrides a resumed run may change: the run's length and how often it logs. */
const EXTENDABLE: ReadonlySet<string> = new Set(['epochs', 'steps', 'maxSeconds', 'evalIntervalSeconds', 'logInterval']);

function savedOverrides(o: RecipeOverrides): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of RESUMED_OVERRIDES) if (o[key] !== undefined) out[key] = o[key] as number;
  return out;
}

/** Loads the checkpoint to resume and checks that it is one of `preset`'s runs. */
async function openCheckpoint(preset: Preset, options: TrainJobOptions): Promise<Checkpoint> {
  if (!options.saveDir) throw new InvalidArgumentError('resume', 'needs saveDir (--save DIR), the folder of the checkpoint to continue');
  const checkpoint = await loadCheckpoint(options.saveDir);
  const { metadata, state } = checkpoint;
  const fail = (argument: string, problem: string): never => {
    checkpoint.model.dispose();
    throw new InvalidArgumentError(argument, `${options.saveDir} holds a checkpoint ${problem}`);
  };
  if (metadata.preset !== preset.id) fail('model', `of '${String(metadata.preset)}', not '${preset.id}'`);
  if (options.dataset !== undefined && metadata.dataset !== undefined && options.dataset !== metadata.dataset) {
    fail('dataset', `trained on ${String(metadata.dataset)}, not ${options.dataset}`);
  }
  if (options.seed !== undefined && options.seed !== state.seed) fail('seed', `of a run with seed ${state.seed}, not ${options.seed}`);
  return checkpoint;
}

/** The checkpointed run's overrides, with the length (and log interval) the caller gives, if any. */
function resumedOverrides(checkpoint: Checkpoint, options: TrainJobOptions): RecipeOverrides {
  const saved = (checkpoint.metadata['overrides'] ?? {}) as Record<string, number>;
  const out: RecipeOverrides = { ...saved };
  for (const key of RESUMED_OVERRIDES) {
    const given = options[key];
    if (given === undefined) continue;
    if (!EXTENDABLE.has(key) && given !== saved[key]) {
      checkpoint.model.dispose();
      const was = saved[key] === undefined ? `the recipe's ${key}` : `${key} ${saved[key]}`;
      throw new InvalidArgumentError(key, `the checkpoint being resumed was trained with ${was}, not ${given}`);
    }
    out[key] = given;
  }
  if (options.epochs !== undefined) delete out.steps;
  if (options.steps !== undefined) delete out.epochs;
  return out;
}
