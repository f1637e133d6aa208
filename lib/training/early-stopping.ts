/**
 * Early stopping for train(): after each epoch's validation, stop once the monitored quantity has
 * not improved by `minDelta` for `patience` epochs, and put back the weights of the best epoch.
 * Keras's EarlyStopping with `restore_best_weights` (tf.js's own has no restoring); the best
 * weights are kept on the device between epochs, one copy.
 */
import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkInt, checkOneOf } from '../checks';
import { InvalidArgumentError } from '../errors';

/** What early stopping watches: the validation loss or accuracy (each epoch), or the mean training loss of the epoch. */
export type Monitor = 'val_loss' | 'val_acc' | 'loss';
export const MONITORS: readonly Monitor[] = ['val_loss', 'val_acc', 'loss'];

/** Epochs without improvement before stopping. @default 0 (as Keras and tf.js: stop at the first epoch that does not improve) */
export const DEFAULT_PATIENCE = 0;
/** Smallest change of the monitored quantity that counts as an improvement. @default 0 */
export const DEFAULT_MIN_DELTA = 0;

/** Options of early stopping (train()'s `earlyStopping`). */
export interface EarlyStoppingOptions {
  /** @default 'val_loss' */
  monitor?: Monitor;
  /** @default {@link DEFAULT_PATIENCE} */
  patience?: number;
  /** @default {@link DEFAULT_MIN_DELTA} */
  minDelta?: number;
  /** Put back the best epoch's weights when the run ends (stopped early or not). @default true */
  restoreBestWeights?: boolean;
}

/** What early stopping did, in train()'s result. */
export interface EarlyStoppingResult {
  monitor: Monitor;
  /** The 1-based epoch with the best value, and that value. */
  bestEpoch: number;
  best: number;
  /** The epoch after which it stopped the run, when it did. */
  stoppedEpoch?: number;
  /** Whether the model holds the best epoch's weights because they were put back. */
  restored: boolean;
}

/** One run's early stopping. */
export class EarlyStopping {
  readonly monitor: Monitor;
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly restoreBestWeights: boolean;
  private best = NaN;
  /** The 1-based epoch of the best value so far (0: none yet). */
  bestEpoch = 0;
  private lastEpoch = 0;
  private wait = 0;
  private stoppedEpoch: number | undefined;
  private bestWeights: tf.Tensor[] | undefined;

  constructor(options: EarlyStoppingOptions, hasValidation: boolean) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('earlyStopping', `must be an object of options, got ${String(options)}`);
    this.monitor = options.monitor === undefined ? 'val_loss' : checkOneOf('earlyStopping.monitor', options.monitor, MONITORS);
    this.patience = options.patience === undefined ? DEFAULT_PATIENCE : checkInt('earlyStopping.patience', options.patience, { min: 0 });
    const minDelta = options.minDelta ?? DEFAULT_MIN_DELTA;
    if (typeof minDelta !== 'number' || !(minDelta >= 0) || !Number.isFinite(minDelta)) {
      throw new InvalidArgumentError('earlyStopping.minDelta', `must be a number >= 0, got ${String(minDelta)}`);
    }
    this.minDelta = minDelta;
    this.restoreBestWeights = checkBoolean('earlyStopping.restoreBestWeights', options.restoreBestWeights, true);
    if (this.monitor !== 'loss' && !hasValidation) {
      throw new InvalidArgumentError('earlyStopping', `monitors ${this.monitor}: give validationSplit or validationData (or monitor 'loss')`);
    }
  }

  /** Accuracy improves upwards, losses downwards. */
  private improves(value: number): boolean {
    if (Number.isNaN(this.best)) return true;
    return this.monitor === 'val_acc' ? value > this.best + this.minDelta : value < this.best - this.minDelta;
  }

  /**
   * Takes epoch `epoch`'s logs (1-based epoch); returns whether the run should stop. Keeps the
   * weights of an improving epoch.
   */
  epochEnd(model: tf.LayersModel, epoch: number, logs: Record<string, number>): { stop: boolean; improved: boolean } {
    const value = logs[this.monitor];
    if (value === undefined || !Number.isFinite(value)) return { stop: false, improved: false };
    this.lastEpoch = epoch;
    if (this.improves(value)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        tf.dispose(this.bestWeights);
        this.bestWeights = tf.tidy(() => model.getWeights().map((w) => w.clone()));
      }
      return { stop: false, improved: true };
    }
    this.wait++;
    if (this.wait > this.patience) {
      this.stoppedEpoch = epoch;
      return { stop: true, improved: false };
    }
    return { stop: false, improved: false };
  }

  /** At the end of the run: puts back the best weights (when the last epoch was not the best) and frees the copy. */
  trainEnd(model: tf.LayersModel): EarlyStoppingResult | undefined {
    const restore = this.bestWeights !== undefined && this.bestEpoch !== this.lastEpoch;
    if (restore) model.setWeights(this.bestWeights!);
    this.dispose();
    if (this.bestEpoch === 0) return undefined;
    return {
      monitor: this.monitor,
      bestEpoch: this.bestEpoch,
      best: this.best,
      ...(this.stoppedEpoch !== undefined ? { stoppedEpoch: this.stoppedEpoch } : {}),
      restored: restore,
    };
  }

  dispose(): void {
    tf.dispose(this.bestWeights);
    this.bestWeights = undefined;
  }
}
