import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, TrainingError } from '../errors';
import { SeededMathRandom, deriveSeed, randomSeed } from '../random';
import { checkFunction, checkInt, checkOneOf, checkPositiveInt, checkPositiveNumber, checkSeed } from '../checks';
import { BatchMaker, modelInputShape } from './batches';
import { evaluate } from './evaluate';
import { GradientMethod, TrainingStep, createTrainingStep } from './dense-step';
import { DEFAULT_TARGETS, LOSS_NAMES, LossName, TargetValues } from './losses';
import { OptimizerConfig, TrainableVariable, UpdateRule, checkOptimizerConfig, createUpdateRule, isKernelVariable, learningRateAt } from './optimizers';
import { ProgressSink, ProgressState, silentProgress } from './progress';
import { BatchSampler, SAMPLINGS, Sampling, SamplerState } from './sampler';
import { nextTurn } from './yield';
import { ResolvedData, TrainInput, resolveTrainData } from './data-source';
import type { EarlyStoppingResult } from './early-stopping';
import { TfjsTrainOptions, TrainHooks, ValidationEntry, checkTfjsOptions, createTrainHooks, resetStopTraining } from './train-hooks';

/** Steps between reading the queued losses back from the device (one host sync per window). @default 50 */
export const DEFAULT_LOSS_SYNC_INTERVAL = 50;
/** MNIST's ten digits. @default 10 */
export const DEFAULT_NUM_CLASSES = 10;
/**
 * Milliseconds of wall time between turns given to the event loop (signal handlers, timers, a
 * page's events) and progress updates. A turn costs about 2 µs under Node, 0.4% of
 * two-layer-net's 0.5 ms step when taken after every step (docs/results/yield-cost.json); every
 * 50 ms it costs nothing measurable, and an abort still takes effect within 50 ms of a step's end.
 * @default 50
 */
export const DEFAULT_YIELD_INTERVAL_MS = 50;

/**
 * What train() trains on: `{train, test?}` splits (the library's typed arrays, `{xs, ys}` tensors
 * or tf.data Datasets), or a training split alone (lib/training/data-source.ts).
 */
export type TrainData = TrainInput;

export interface TrainOptions extends TfjsTrainOptions {
  loss: LossName;
  /**
   * A recipe optimiser as data, or any tf.train optimiser (tf.js's own, `recipeOptimizer()`),
   * which keeps its state after the run. Configs update through the fused kernels on wasm/cpu.
   */
  optimizer: OptimizerConfig | tf.Optimizer;
  batchSize: number;
  sampling: Sampling;
  /** Passes over the training split. Give `epochs` or `steps`, not both (either may be left out when `maxSeconds` is given). */
  epochs?: number;
  /** Optimiser steps. */
  steps?: number;
  /** Stop once this much training time (evaluations excluded) is spent; `epochs`/`steps`, if given, still cap the run. */
  maxSeconds?: number;
  /** Also evaluate each time training time passes a multiple of this many seconds (for accuracy-against-time curves). */
  evalIntervalSeconds?: number;
  /**
   * Also evaluate after a step when this returns true, given the steps done and the training time
   * so far: lets a caller space evaluations by its own measure of progress (the benchmark's
   * curves, lib/jobs/bench-job.ts). A run given one also ends with an evaluation.
   */
  evalWhen?: (progress: { stepsDone: number; trainSeconds: number }) => boolean;
  /** Makes batches, shuffles and dropout repeatable on one backend. A random seed is drawn (and reported) if omitted. */
  seed?: number;
  /** @default {off: 0, on: 1} */
  targets?: TargetValues;
  /** Evaluate train/test accuracy every this many steps (after step 0, as 003/004 log). 0: only at the end. @default 0 */
  logInterval?: number;
  /** Train accuracy at log intervals is measured on the first N training examples. @default all */
  evalTrainLimit?: number;
  /** Test accuracy at log intervals on the first N test examples (the final evaluation uses all). @default all */
  evalTestLimit?: number;
  /** Use only the first N training examples (prelu-mlp's 56,000-image split). @default all */
  trainLimit?: number;
  /** Classes of the labels; the model must have this many outputs. @default {@link DEFAULT_NUM_CLASSES} */
  numClasses?: number;
  /** @default {@link DEFAULT_LOSS_SYNC_INTERVAL} */
  lossSyncInterval?: number;
  /**
   * Milliseconds between turns given to the event loop, when the loop also updates `progress` and
   * checks `signal`. 0: after every step; Infinity: never (a signal then waits for the end of the
   * run on backends that compute synchronously, wasm and cpu). @default {@link DEFAULT_YIELD_INTERVAL_MS}
   */
  yieldIntervalMs?: number;
  /**
   * How gradients are computed: `auto` differentiates stacks of Dense (and PReLU) layers by hand
   * (lib/training/dense-step.ts, same gradients as the tape, fewer kernels, none wasted) and uses
   * tf.js's tape for everything else; `tape` always the tape; `dense` fails if the model is not
   * such a stack. @default 'auto'
   */
  gradients?: GradientMethod;
  /** Called after every step; `loss` is set on steps whose loss was read back (sync points). Awaiting it does not give the event loop a turn. */
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  /** Called after each full pass over the training split. */
  onEpochEnd?: (info: EpochEntry) => void | Promise<void>;
  /**
   * Receives the run's state (with the model's weights, all a checkpoint needs) after every epoch
   * but the last, and once at the end however the run stopped (`final`: completed, aborted, out of
   * time). lib/io/checkpoint.ts writes it to disk.
   */
  onCheckpoint?: (state: TrainState, info: { final: boolean }) => void | Promise<void>;
  /**
   * Continue a run from a state `onCheckpoint` received, with the model's weights as they were
   * then (e.g. loaded from the checkpoint) and the same options: the run goes on exactly as if it
   * had never stopped (same batches, dropout masks and optimiser state). `steps`/`epochs` may be
   * larger than the original run's, to train further.
   */
  resume?: TrainState;
  /** Called with each log-interval evaluation. */
  onEval?: (entry: EvalEntry) => void | Promise<void>;
  /** Where progress goes: updated every `yieldIntervalMs` and at the end, with the latest loss read back. @default silent */
  progress?: ProgressSink;
  /**
   * Aborting stops training after the step in flight (noticed within `yieldIntervalMs` of its
   * end); the result says `stopped: 'aborted'`, and no final evaluation runs.
   */
  signal?: AbortSignal;
  /**
   * The clock, in milliseconds, that training time, `maxSeconds`, `evalIntervalSeconds`, the
   * turns given to the event loop and every reported time read. Tests pass one that advances as
   * they decide, so that time-based stops and evaluations happen at the same steps on a loaded
   * machine as on an idle one.
   * @default performance.now
   */
  now?: () => number;
}

export interface BatchInfo {
  step: number;
  epoch: number;
  loss?: number;
}

export interface EvalEntry {
  step: number;
  epoch: number;
  /** Wall time since training started, evaluations included. */
  seconds: number;
  /** Time spent in training steps up to this point (what time-to-accuracy is measured in). */
  trainSeconds: number;
  trainAccuracy: number;
  testAccuracy?: number;
  testLoss?: number;
}

export interface EpochEntry {
  epoch: number;
  step: number;
  seconds: number;
  meanLoss: number;
  /** The validation split's loss and accuracy at the epoch's end, when train() validates. */
  validation?: ValidationEntry;
}

/**
 * Where a run is after `step` steps: everything besides the model's weights that the rest of
 * the run depends on. Plain data (typed arrays for the large parts), for checkpoints.
 */
export interface TrainState {
  /** Steps completed; the run continues with step number `step`. */
  step: number;
  seed: number;
  sampler: SamplerState;
  /** Position of the generator tf.js draws dropout seeds from during a step. */
  dropoutRng: number;
  /** The optimiser's state by slot (`m`, `v`, `velocity`), one array per trainable variable. */
  optimizer: Record<string, Float32Array[]>;
  history: TrainHistory;
  /** Training time spent so far (evaluations excluded): speed and time budgets count it. */
  trainSeconds: number;
  /** Where in `history.loss` the current epoch began. */
  epochLossStart: number;
}

export interface TrainHistory {
  /** Loss of every step, in order. */
  loss: number[];
  evals: EvalEntry[];
  epochs: EpochEntry[];
}

export interface TrainResult {
  history: TrainHistory;
  steps: number;
  /** The step this call started from: 0, or the resumed state's step. */
  resumedFrom: number;
  /** Steps / steps-per-epoch: fractional for step-based recipes. */
  epochs: number;
  /** Wall time of the whole call. */
  seconds: number;
  /** Time spent in training steps alone (evaluations excluded). */
  trainSeconds: number;
  samplesPerSec: number;
  seed: number;
  /** Which training step ran: the hand-written dense or conv one, or tf.js's tape (see {@link TrainOptions.gradients}). */
  gradients: TrainingStep['method'];
  /**
   * `time-limit`: stopped by `maxSeconds` before `epochs`/`steps` were done; `early-stopping`: by
   * `earlyStopping`; `stop-training`: a callback set `model.stopTraining`.
   */
  stopped: 'completed' | 'aborted' | 'time-limit' | 'early-stopping' | 'stop-training';
  finalLoss: number;
  /** What early stopping did, when asked for and an epoch ended. */
  earlyStopping?: EarlyStoppingResult;
}

/**
 * Trains `model` with its own loop rather than `model.fit`: on wasm `fit` was 2-3x slower per
 * step on the 784-50-10 net, and the recipes need pieces `fit` lacks (001's momentum with the
 * inv policy, with-replacement sampling, per-iteration loss history without per-step syncs).
 */
export async function train(model: tf.LayersModel, data: TrainData, options: TrainOptions): Promise<TrainResult> {
  const o = checkTrainOptions(model, options);
  if (o.resume && o.seed !== undefined && o.seed !== o.resume.seed) {
    throw new InvalidArgumentError('seed', `the run being resumed used seed ${o.resume.seed}, not ${o.seed}`);
  }
  const seed = o.resume?.seed ?? o.seed ?? randomSeed();
  const callbacks = checkTfjsOptions(o);
  const resolved = await resolveTrainData(data, { ...o, numClasses: o.numClasses ?? DEFAULT_NUM_CLASSES });
  const hooks = createTrainHooks(model, resolved, o, callbacks);
  try {
    resetStopTraining(model);
    return await hooks.end(await runTraining(model, resolved, hooks, seed));
  } finally {
    hooks.dispose();
  }
}

/** Every option checked before any work, each error naming its option. */
function checkTrainOptions(model: tf.LayersModel, options: TrainOptions): TrainOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  checkOneOf('loss', options.loss, LOSS_NAMES);
  checkOneOf('sampling', options.sampling, SAMPLINGS);
  checkPositiveInt('batchSize', options.batchSize);
  // A tf.train optimiser object is not an OptimizerConfig; what train() does with one is decided where it is taken.
  if (!(options.optimizer instanceof tf.Optimizer)) checkOptimizerConfig(options.optimizer);
  if (options.epochs !== undefined && options.steps !== undefined) {
    throw new InvalidArgumentError('epochs/steps', 'give one of epochs or steps, not both');
  }
  if (options.epochs === undefined && options.steps === undefined && options.maxSeconds === undefined) {
    throw new InvalidArgumentError('epochs/steps', 'give epochs, steps or maxSeconds');
  }
  for (const key of ['maxSeconds', 'evalIntervalSeconds'] as const) {
    if (options[key] !== undefined) checkPositiveNumber(key, options[key]);
  }
  if (options.epochs !== undefined) checkPositiveInt('epochs', options.epochs);
  if (options.steps !== undefined) checkPositiveInt('steps', options.steps);
  if (options.logInterval !== undefined) checkInt('logInterval', options.logInterval, { min: 0 });
  if (options.seed !== undefined) checkSeed('seed', options.seed);
  for (const key of ['trainLimit', 'evalTrainLimit', 'evalTestLimit', 'lossSyncInterval'] as const) {
    if (options[key] !== undefined) checkPositiveInt(key, options[key]);
  }
  const numClasses = options.numClasses === undefined ? DEFAULT_NUM_CLASSES : checkInt('numClasses', options.numClasses, { min: 2 });
  const outputShape = model.outputs[0]?.shape;
  const units = outputShape?.[outputShape.length - 1];
  if (typeof units === 'number' && units !== numClasses) {
    throw new InvalidArgumentError('numClasses', `is ${numClasses}${options.numClasses === undefined ? ' (the default)' : ''}, but the model has ${units} outputs`);
  }
  if (options.yieldIntervalMs !== undefined && !(typeof options.yieldIntervalMs === 'number' && options.yieldIntervalMs >= 0)) {
    throw new InvalidArgumentError('yieldIntervalMs', `must be a number >= 0 (Infinity: never), got ${String(options.yieldIntervalMs)}`);
  }
  return options;
}

async function runTraining(model: tf.LayersModel, data: ResolvedData, hooks: Pick<TrainHooks, 'options' | 'start'>, seed: number): Promise<TrainResult> {
  const o = hooks.options;
  const now = checkFunction('now', o.now, () => performance.now(), '() => number (milliseconds)');
  const started = now();
  const numClasses = o.numClasses ?? DEFAULT_NUM_CLASSES;
  const targets = o.targets ?? DEFAULT_TARGETS;
  const progress = o.progress ?? silentProgress;
  const syncEvery = o.lossSyncInterval ?? DEFAULT_LOSS_SYNC_INTERVAL;
  const yieldEvery = o.yieldIntervalMs ?? DEFAULT_YIELD_INTERVAL_MS;
  const inputShape = modelInputShape(model);

  const runner = { current: undefined as StepRunner | undefined };
  const pending: tf.Scalar[] = [];
  const latestLoss = new LatestLoss();
  try {
    const batches = new BatchMaker(data.train, inputShape, numClasses, targets, o.trainLimit);
    const sampler = new BatchSampler(batches.count, o.batchSize, o.sampling, deriveSeed(seed, 1));
    hooks.start(sampler);
    const totalSteps = o.steps ?? (o.epochs === undefined ? Infinity : o.epochs * sampler.stepsPerEpoch);
    const totalEpochs = Math.ceil(totalSteps / sampler.stepsPerEpoch);
    const budgetMillis = o.maxSeconds === undefined ? Infinity : o.maxSeconds * 1000;
    const evalEveryMillis = o.evalIntervalSeconds === undefined ? Infinity : o.evalIntervalSeconds * 1000;
    let nextTimedEval = evalEveryMillis;
    runner.current = createStepRunner(model, batches, o, seed);
    const { rule, dropoutRandom } = runner.current;

    const history: TrainHistory = { loss: [], evals: [], epochs: [] };
    let trainMillis = 0;
    let evalMillis = 0;
    let epochLossStart = 0;
    let stopped: TrainResult['stopped'] = 'completed';
    let step = 0;
    if (o.resume) {
      const r = o.resume;
      sampler.setState(r.sampler);
      dropoutRandom.state = r.dropoutRng;
      await rule.restoreState(r.optimizer);
      history.loss.push(...r.history.loss);
      history.evals.push(...r.history.evals);
      history.epochs.push(...r.history.epochs);
      trainMillis = r.trainSeconds * 1000;
      epochLossStart = r.epochLossStart;
      step = r.step;
      nextTimedEval = (Math.floor(trainMillis / evalEveryMillis) + 1) * evalEveryMillis;
    }
    const resumedFrom = step;

    const captureState = async (stepsDone: number): Promise<TrainState> => ({
      step: stepsDone,
      seed,
      sampler: sampler.getState(),
      dropoutRng: dropoutRandom.state,
      optimizer: await rule.readState(),
      history: { loss: [...history.loss], evals: [...history.evals], epochs: [...history.epochs] },
      trainSeconds: trainMillis / 1000,
      epochLossStart,
    });
    let shown: ProgressState | undefined;

    const flushLosses = async (): Promise<void> => {
      if (pending.length === 0) return;
      const stacked = tf.stack(pending);
      const values = await stacked.data();
      stacked.dispose();
      const firstStep = history.loss.length;
      tf.dispose(pending.splice(0));
      latestLoss.offer(firstStep + values.length, values[values.length - 1]);
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) {
          throw new TrainingError(
            `loss became ${values[i]} at step ${firstStep + i} (learning rate ${learningRateAt(o.optimizer, firstStep + i)}); ` +
              'training stopped: lower the learning rate',
            firstStep + i,
          );
        }
        history.loss.push(values[i]);
      }
    };

    const runEval = async (atStep: number): Promise<void> => {
      const t0 = now();
      const trainEval = await evaluate(model, data.train, { limit: Math.min(o.evalTrainLimit ?? Infinity, batches.count), numClasses });
      const testEval = data.test
        ? await evaluate(model, data.test, { limit: o.evalTestLimit, loss: o.loss, targets, numClasses })
        : undefined;
      evalMillis += now() - t0;
      const entry: EvalEntry = {
        step: atStep,
        epoch: (atStep + 1) / sampler.stepsPerEpoch,
        seconds: (now() - started) / 1000,
        trainSeconds: trainMillis / 1000,
        trainAccuracy: trainEval.accuracy,
        testAccuracy: testEval?.accuracy,
        testLoss: testEval?.loss,
      };
      history.evals.push(entry);
      // The live progress line shows the latest accuracy, the final evaluation's included.
      const accuracy = testEval ? { value: testEval.accuracy, split: 'test' as const } : { value: trainEval.accuracy, split: 'train' as const };
      if (shown) progress.update((shown = { ...shown, accuracy }));
      const testPart = testEval ? `, test acc ${(testEval.accuracy * 100).toFixed(2)}%` : '';
      progress.log(`step ${atStep}: train acc ${(trainEval.accuracy * 100).toFixed(2)}%${testPart}`, 'eval');
      await o.onEval?.(entry);
    };

    const progressAt = (done: number): ProgressState => ({
      epoch: Math.floor((done - 1) / sampler.stepsPerEpoch) + 1,
      epochs: totalEpochs,
      step: done,
      steps: totalSteps,
      loss: latestLoss.value,
      lossStep: latestLoss.value === undefined || latestLoss.step === done ? undefined : latestLoss.step,
      elapsedSeconds: (now() - started) / 1000,
      samplesPerSec: sampler.samplesIn(done) / (trainMillis / 1000),
      etaSeconds: Number.isFinite(totalSteps)
        ? Math.min((trainMillis / done) * (totalSteps - done), budgetMillis - trainMillis) / 1000
        : (budgetMillis - trainMillis) / 1000,
      accuracy: shown?.accuracy,
    });
    let lastTurn = -Infinity;

    for (; step < totalSteps; step++) {
      if (o.signal?.aborted) {
        stopped = 'aborted';
        break;
      }
      const epochNow = Math.floor(step / sampler.stepsPerEpoch) + 1;
      if (o.onEpochBegin && (step % sampler.stepsPerEpoch === 0 || step === resumedFrom)) {
        await o.onEpochBegin({ epoch: epochNow, step, stepsPerEpoch: sampler.stepsPerEpoch, totalSteps });
      }
      if (o.onBatchBegin) await o.onBatchBegin({ step, epoch: epochNow });
      const t0 = now();
      const indices = sampler.next();
      const lossValue = runner.current.run(indices, step);
      pending.push(lossValue);
      const done = step + 1;
      const epochEnds = done % sampler.stepsPerEpoch === 0 || done === totalSteps;
      // Every yieldEvery ms the event loop gets a turn (a signal handler, a page's events run) and
      // the progress line an update, with this step's loss, read without waiting for the device.
      const turnDue = t0 - lastTurn >= yieldEvery || done === totalSteps;
      // Near the time budget every step syncs, so the clock sees the work the device really did.
      const nearBudget = trainMillis + 2 * (now() - t0) >= budgetMillis;
      const syncing = pending.length >= syncEvery || epochEnds || nearBudget;
      // A step that syncs hands its loss to the progress line in flushLosses: one read-back, not two.
      if (turnDue && !syncing) latestLoss.request(lossValue, done);
      let syncedLoss: number | undefined;
      if (syncing) {
        await flushLosses();
        syncedLoss = history.loss[history.loss.length - 1];
      }
      trainMillis += now() - t0;
      const outOfTime = trainMillis >= budgetMillis;
      const epoch = Math.floor(step / sampler.stepsPerEpoch) + 1;
      await o.onBatchEnd?.({ step, epoch, loss: syncedLoss });
      if (turnDue || (outOfTime && done < totalSteps)) {
        if (yieldEvery !== Infinity) await nextTurn();
        lastTurn = now();
        progress.update((shown = progressAt(done)));
      }
      const timedEval = trainMillis >= nextTimedEval;
      if (timedEval) nextTimedEval = (Math.floor(trainMillis / evalEveryMillis) + 1) * evalEveryMillis;
      if ((o.logInterval && step % o.logInterval === 0) || timedEval || o.evalWhen?.({ stepsDone: done, trainSeconds: trainMillis / 1000 })) {
        await flushLosses();
        await runEval(step);
      }
      if (epochEnds) {
        const losses = history.loss.slice(epochLossStart);
        epochLossStart = history.loss.length;
        const entry: EpochEntry = {
          epoch,
          step: done,
          seconds: (now() - started) / 1000,
          meanLoss: losses.reduce((a, b) => a + b, 0) / losses.length,
        };
        history.epochs.push(entry);
        progress.log(
          `epoch ${epoch}${Number.isFinite(totalEpochs) ? `/${totalEpochs}` : ''} done: mean loss ${entry.meanLoss.toFixed(4)}, ${entry.seconds.toFixed(1)} s elapsed`,
          'epoch',
        );
        await o.onEpochEnd?.(entry);
        // The last one is the final checkpoint below.
        if (o.onCheckpoint && done < totalSteps && !outOfTime && !o.signal?.aborted && !model.stopTraining) await o.onCheckpoint(await captureState(done), { final: false });
      }
      if (outOfTime && done < totalSteps) {
        stopped = 'time-limit';
        step++;
        break;
      }
      if (model.stopTraining && done < totalSteps) {
        stopped = 'stop-training';
        step++;
        break;
      }
    }
    await flushLosses();
    // The line left on screen shows where the run stopped (an abort stops between updates).
    if (shown && shown.step !== step && step > resumedFrom) progress.update((shown = progressAt(step)));
    const lastEval = history.evals[history.evals.length - 1];
    const evaluating = Boolean(o.logInterval) || o.evalIntervalSeconds !== undefined || o.evalWhen !== undefined;
    if (stopped !== 'aborted' && evaluating && step > resumedFrom && lastEval?.step !== step - 1) await runEval(step - 1);
    progress.done();
    if (o.onCheckpoint) await o.onCheckpoint(await captureState(step), { final: true });
    const trainSeconds = trainMillis / 1000;
    return {
      history,
      steps: step,
      resumedFrom,
      epochs: step / sampler.stepsPerEpoch,
      seconds: (now() - started) / 1000,
      trainSeconds,
      samplesPerSec: trainSeconds > 0 ? sampler.samplesIn(step) / trainSeconds : 0,
      seed,
      gradients: runner.current.method,
      stopped,
      finalLoss: history.loss[history.loss.length - 1] ?? NaN,
    };
  } finally {
    tf.dispose(pending);
    runner.current?.dispose();
    await latestLoss.settled();
  }
}

/**
 * The newest loss known for the progress line: a step's loss read back without waiting for it
 * (on wasm and cpu it is there by the next turn of the event loop; a GPU answers later, and the
 * line then names the older step), or the newest of a synced window, whichever step is later.
 */
class LatestLoss {
  step = 0;
  value: number | undefined;
  private reading: Promise<void> | undefined;

  /** Starts reading `loss` (step `step`, counted from 1) unless a read is in flight. */
  request(loss: tf.Scalar, step: number): void {
    if (this.reading) return;
    // Its own reference to the data: the loss itself is disposed once its window is synced.
    const copy = loss.clone();
    this.reading = copy
      .data()
      .then((v) => this.offer(step, v[0]!), () => undefined)
      .finally(() => {
        copy.dispose();
        this.reading = undefined;
      });
  }

  offer(step: number, value: number): void {
    if (step >= this.step) {
      this.step = step;
      this.value = value;
    }
  }

  /** Resolves once no read is in flight (its tensor disposed). */
  async settled(): Promise<void> {
    await this.reading;
  }
}

/** One training step exactly as train() runs it, for train() and for profiling scripts. */
export interface StepRunner {
  /** Uploads the batch of rows `indices`, computes gradients, updates; returns the loss, left on the device. */
  run(indices: Int32Array, iteration: number): tf.Scalar;
  method: TrainingStep['method'];
  rule: UpdateRule;
  /** Where tf.js draws dropout seeds from during a step. */
  dropoutRandom: SeededMathRandom;
  dispose(): void;
}

/**
 * The step of `model` under `o`'s loss, optimiser and gradient method, on batches from
 * `batches`. `composedUpdates` and `fusedKernels: false` force the tf.js-op forms of the update
 * and of the dense step's backward pass (measurements only).
 */
export function createStepRunner(
  model: tf.LayersModel,
  batches: BatchMaker,
  o: Pick<TrainOptions, 'loss' | 'optimizer' | 'gradients'> & { composedUpdates?: boolean; fusedKernels?: boolean },
  seed: number,
): StepRunner {
  const vars: TrainableVariable[] = model.trainableWeights.map((w) => ({
    variable: w.read() as tf.Variable,
    isKernel: isKernelVariable(w.originalName),
  }));
  const rule = createUpdateRule(o.optimizer, vars, { composed: o.composedUpdates });
  try {
    const varList = vars.map((v) => v.variable);
    const step = createTrainingStep(model, o.loss, varList, o.gradients, { fusedKernels: o.fusedKernels });
    const dropoutRandom = new SeededMathRandom(seed);
    return {
      run: (indices, iteration) =>
        dropoutRandom.run(() =>
          tf.tidy(() => {
            const { loss, grads } = step.run(batches.images(indices), batches.targetsFor(indices));
            rule.apply(grads, iteration);
            return loss;
          }),
        ),
      method: step.method,
      rule,
      dropoutRandom,
      dispose: () => rule.dispose(),
    };
  } catch (err) {
    rule.dispose();
    throw err;
  }
}
