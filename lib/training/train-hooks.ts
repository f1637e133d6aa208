/**
 * What train() does around its loop for tf.js users: tf.js callbacks, validation at the end of
 * each epoch (on the validation split, never the test split), early stopping, and
 * `model.stopTraining`. It works only through train()'s own hooks (onEpochBegin, onBatchBegin,
 * onBatchEnd, onEpochEnd), composed here, so the loop and its fast paths stay as they are; a run
 * that uses none of this gets train()'s options back unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';
import { TfCallbacks, TrainCallbacks } from './callbacks';
import type { ResolvedData, SplitInput } from './data-source';
import { EarlyStopping, EarlyStoppingOptions, EarlyStoppingResult } from './early-stopping';
import { evaluate } from './evaluate';
import { DEFAULT_TARGETS } from './losses';
import type { BatchSampler } from './sampler';
import type { TrainOptions, TrainResult } from './train';

/** train()'s options for what tf.js users bring: callbacks, validation, early stopping. */
export interface TfjsTrainOptions {
  /**
   * tf.js callbacks, as `model.fit` takes them: an object of hooks (onTrainBegin, onEpochBegin,
   * onBatchBegin, onBatchEnd, onEpochEnd, onTrainEnd, onYield), or a list of such objects,
   * `tf.CustomCallback`s and `tf.Callback` subclasses (`tf.callbacks.earlyStopping()`). A hook
   * reading batch logs makes train() read every step's loss back (one host sync per step, as fit does).
   */
  callbacks?: TfCallbacks;
  /**
   * Fraction in (0, 1) of the training examples held out for validation: the last ones, before
   * any sampling, as tf.js's `validationSplit` takes them. Measured at each epoch's end.
   */
  validationSplit?: number;
  /** Validation data measured at each epoch's end (any form train() takes data in); not with `validationSplit`. */
  validationData?: SplitInput;
  /**
   * Stop when the validation loss (or `monitor`) has not improved for `patience` epochs, and put
   * back the best epoch's weights; needs validation unless it monitors 'loss'.
   */
  earlyStopping?: EarlyStoppingOptions;
  /** Called before each epoch's first step (and before the first step of a resumed run). */
  onEpochBegin?: (info: EpochBeginInfo) => void | Promise<void>;
  /** Called before every step. */
  onBatchBegin?: (info: { step: number; epoch: number }) => void | Promise<void>;
}

export interface EpochBeginInfo {
  /** 1-based epoch about to run, and the step it starts at. */
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  /** Steps the run is to make in all (Infinity when only a time budget ends it). */
  totalSteps: number;
}

/** An epoch's validation (train()'s `history.epochs[i].validation`). */
export interface ValidationEntry {
  loss: number;
  accuracy: number;
  count: number;
}

/** train()'s options with the hooks composed in, and what to do around the run. */
export interface TrainHooks {
  options: TrainOptions;
  /** Before the first step: the run's sampler, whose geometry (steps per epoch, batch sizes) callbacks are told. */
  start(sampler: BatchSampler): void;
  /** After the run: puts back the best weights, ends the callbacks, completes the result. */
  end(result: TrainResult): Promise<TrainResult>;
  /** Frees what the hooks hold (the best weights), also when the run failed. */
  dispose(): void;
}

/**
 * Composes callbacks, validation and early stopping into train()'s hooks for one run of `model` on
 * `data`; `callbacks` are `o.callbacks` as {@link checkTfjsOptions} built them. A hook of `o` that
 * none of them needs goes to train() as it is.
 */
export function createTrainHooks(model: tf.LayersModel, data: ResolvedData, o: TrainOptions, callbacks: TrainCallbacks | undefined): TrainHooks {
  if (callbacks === undefined && o.earlyStopping === undefined && data.validation === undefined) {
    return { options: o, start: () => undefined, end: async (r) => r, dispose: () => undefined };
  }
  const early = o.earlyStopping === undefined ? undefined : new EarlyStopping(o.earlyStopping, data.validation !== undefined);
  // train() makes the sampler, and starts the hooks with it, before any hook below is called.
  let sampler!: BatchSampler;
  let begun = false;

  const options: TrainOptions = {
    ...o,
    ...(callbacks?.wantsBatchLoss ? { lossSyncInterval: 1 } : {}),
    ...(callbacks
      ? {
          onEpochBegin: async (info: EpochBeginInfo) => {
            if (!begun) {
              begun = true;
              await callbacks.trainBegin(model, {
                epochs: Math.ceil(info.totalSteps / info.stepsPerEpoch),
                steps: info.stepsPerEpoch,
                samples: sampler.count,
                batchSize: o.batchSize,
                doValidation: data.validation !== undefined,
              });
            }
            await callbacks.epochBegin(info.epoch - 1);
            await o.onEpochBegin?.(info);
          },
          onBatchBegin: async (info: { step: number; epoch: number }) => {
            await callbacks.batchBegin(info.step % sampler.stepsPerEpoch, sampler.batchSizeAt(info.step));
            await o.onBatchBegin?.(info);
          },
          onBatchEnd: async (info) => {
            await callbacks.batchEnd(info.step % sampler.stepsPerEpoch, sampler.batchSizeAt(info.step), info.loss);
            await o.onBatchEnd?.(info);
          },
        }
      : {}),
    onEpochEnd: async (entry) => {
      const logs: Record<string, number> = { loss: entry.meanLoss };
      if (data.validation) {
        const v = await evaluate(model, data.validation, { loss: o.loss, targets: o.targets ?? DEFAULT_TARGETS, numClasses: o.numClasses });
        entry.validation = { loss: v.loss!, accuracy: v.accuracy, count: v.count };
        logs['val_loss'] = v.loss!;
        logs['val_acc'] = v.accuracy;
        o.progress?.log(`epoch ${entry.epoch} validation: loss ${v.loss!.toFixed(4)}, accuracy ${(v.accuracy * 100).toFixed(2)}% (${v.count} examples)`, 'eval');
      }
      if (early?.epochEnd(model, entry.epoch, logs).stop) {
        model.stopTraining = true;
        o.progress?.log(`early stopping after epoch ${entry.epoch}: ${early.monitor} best at epoch ${early.bestEpoch}, no improvement since`, 'epoch');
      }
      await callbacks?.epochEnd(entry.epoch - 1, logs);
      await o.onEpochEnd?.(entry);
    },
  };

  return {
    options,
    start: (s) => {
      sampler = s;
    },
    async end(result) {
      const stopping: EarlyStoppingResult | undefined = early?.trainEnd(model);
      if (begun) await callbacks?.trainEnd({});
      if (stopping === undefined) return result;
      return { ...result, earlyStopping: stopping, stopped: stopping.stoppedEpoch !== undefined ? 'early-stopping' : result.stopped };
    },
    dispose: () => early?.dispose(),
  };
}

/** Checks the options of this module that need no data, before any work; gives the callbacks, built, for {@link createTrainHooks}. */
export function checkTfjsOptions(o: TfjsTrainOptions): TrainCallbacks | undefined {
  for (const key of ['onEpochBegin', 'onBatchBegin'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new InvalidArgumentError(key, 'must be a function');
  }
  return o.callbacks === undefined ? undefined : TrainCallbacks.from(o.callbacks);
}

/**
 * Clears `model.stopTraining` before a run, as fit does, so a flag left set by an earlier run
 * does not stop this one. A Sequential model keeps the flag on the inner model that compile
 * builds: an uncompiled one is built here, as compile would, so that callbacks can set it.
 */
export function resetStopTraining(model: tf.LayersModel): void {
  if (model instanceof tf.Sequential && !model.built) model.build();
  model.stopTraining = false;
}
