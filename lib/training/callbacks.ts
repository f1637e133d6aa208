/**
 * tf.js callbacks in train(): `tf.CustomCallback`s, `tf.Callback` subclasses (tf.js's
 * `tf.callbacks.earlyStopping()` among them) and plain objects with onTrainBegin, onEpochBegin,
 * onBatchBegin, onBatchEnd, onEpochEnd, onTrainEnd, called with the arguments and logs
 * `model.fit` gives them: 0-based epoch and batch indices, `loss` per batch and per epoch,
 * `val_loss` and `val_acc` per epoch when train() validates. Through tf.js's own CallbackList, so
 * they behave as in fit (a CustomCallback's onYield included); `model.stopTraining = true` from
 * any of them stops train() as it stops fit.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';

/** One callback: a callback object, or the hooks of a CustomCallback. */
export type TfCallback = tf.Callback | tf.CustomCallback | tf.CustomCallbackArgs;
/**
 * What `model.fit`'s `callbacks` takes: an object of hooks (typed as such, so its functions' arguments
 * are), or a list of callbacks.
 */
export type TfCallbacks = tf.CustomCallbackArgs | readonly TfCallback[];

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'onYield', 'nowFunc', 'nextFrameFunc'] as const;

type Logs = Record<string, number>;

/** A callback instance, tf.js's or another copy's: it takes a model and parameters. */
function isCallbackObject(v: unknown): v is tf.Callback {
  const c = v as Partial<tf.Callback>;
  return typeof c.setModel === 'function' && typeof c.setParams === 'function';
}

/** The callbacks of one train() call, through tf.js's CallbackList. */
export class TrainCallbacks {
  private readonly list: tf.CallbackList;
  /** Whether a callback reads each batch's loss: train() then reads every step's loss back. */
  readonly wantsBatchLoss: boolean;

  private constructor(callbacks: Array<tf.Callback | tf.CustomCallback>, wantsBatchLoss: boolean) {
    this.list = new tf.CallbackList(callbacks as never);
    this.wantsBatchLoss = wantsBatchLoss;
  }

  /** Checks `callbacks` (one or a list) and makes each plain object a `tf.CustomCallback`, as fit does. */
  static from(callbacks: TfCallbacks | TfCallback): TrainCallbacks {
    const items = Array.isArray(callbacks) ? callbacks : [callbacks];
    let wantsBatchLoss = false;
    const list = items.map((item, i) => {
      const argument = Array.isArray(callbacks) ? `callbacks[${i}]` : 'callbacks';
      if (item === null || typeof item !== 'object') throw new InvalidArgumentError(argument, `must be a tf.Callback or an object of hooks, got ${String(item)}`);
      if (isCallbackObject(item)) {
        // A Callback subclass overriding onBatchEnd, or a CustomCallback given one, reads batch logs.
        const custom = item as unknown as { batchEnd?: unknown; onBatchEnd?: unknown };
        wantsBatchLoss ||= item instanceof tf.CustomCallback ? custom.batchEnd != null : custom.onBatchEnd !== tf.Callback.prototype.onBatchEnd;
        return item as tf.Callback;
      }
      for (const [key, value] of Object.entries(item)) {
        if (!(HOOKS as readonly string[]).includes(key)) throw new InvalidArgumentError(argument, `has '${key}', which is not a callback hook; hooks: ${HOOKS.join(', ')}`);
        if (typeof value !== 'function') throw new InvalidArgumentError(`${argument}.${key}`, 'must be a function');
      }
      wantsBatchLoss ||= typeof (item as tf.CustomCallbackArgs).onBatchEnd === 'function';
      return new tf.CustomCallback(item as tf.CustomCallbackArgs);
    });
    return new TrainCallbacks(list, wantsBatchLoss);
  }

  /** What fit tells callbacks before training: the model, and the run's parameters. */
  async trainBegin(model: tf.LayersModel, params: { epochs: number; steps: number; samples: number; batchSize: number; doValidation: boolean }): Promise<void> {
    this.list.setModel(model);
    this.list.setParams({ ...params, verbose: 0, metrics: params.doValidation ? ['loss', 'val_loss', 'val_acc'] : ['loss'] });
    await this.list.onTrainBegin({});
  }

  epochBegin(epoch: number): Promise<void> {
    return this.list.onEpochBegin(epoch, {});
  }

  batchBegin(batch: number, size: number): Promise<void> {
    return this.list.onBatchBegin(batch, { batch, size });
  }

  batchEnd(batch: number, size: number, loss: number | undefined): Promise<void> {
    const logs: Logs = { batch, size };
    if (loss !== undefined) logs['loss'] = loss;
    return this.list.onBatchEnd(batch, logs);
  }

  epochEnd(epoch: number, logs: Logs): Promise<void> {
    return this.list.onEpochEnd(epoch, logs);
  }

  trainEnd(logs: Logs = {}): Promise<void> {
    return this.list.onTrainEnd(logs);
  }
}
