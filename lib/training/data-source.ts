/**
 * What train() takes as data, in the forms tf.js users hold it: the library's own splits (typed
 * arrays), `{xs, ys}` tensors as `model.fit` takes them, and tf.data Datasets of `{xs, ys}`
 * batches as `model.fitDataset` takes them. All become host splits here, once, before training:
 * train() samples batches itself (the recipes' with-replacement and wrap-around orders, seeded),
 * from typed arrays that stay on the host (lib/training/batches.ts says why). Also where the
 * validation split is cut from the training data, as tf.js's `validationSplit` cuts it.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../datasets';
import { InvalidArgumentError } from '../errors';

/** Pixels per example: one 28x28 digit. */
const PIXELS = 784;

/** Examples and labels as tensors, as `model.fit(xs, ys)` takes them. */
export interface TensorData {
  /** [n, 784], [n, 28, 28] or [n, 28, 28, 1]: 784 values per example, scaled as the model expects. */
  xs: tf.Tensor;
  /** [n] class indices, or [n, classes] one-hot (or target-valued) rows, whose largest entry is the class. */
  ys: tf.Tensor;
}

/**
 * A tf.data Dataset of `{xs, ys}` batches (each with a leading batch dimension, as
 * `model.fitDataset` takes them), finite: it is read to its end once, before training.
 */
export type TensorDataset = tf.data.Dataset<tf.TensorContainer>;

/** One split in any form train() takes. */
export type SplitInput = DataSplit | TensorData | [tf.Tensor, tf.Tensor] | TensorDataset;

/** A split in each of the forms train() takes, plus the library's train/test pair. */
export interface TrainSplits {
  train: SplitInput;
  /** Evaluated at each log interval and at the end, when given; never used for validation. */
  test?: SplitInput;
}

/** What train() takes as data: a train/test pair, or the training split alone. */
export type TrainInput = TrainSplits | TensorData | TensorDataset;

/** The data as train() runs on it. */
export interface ResolvedData {
  train: DataSplit;
  test?: DataSplit;
  /** Measured at the end of each epoch (validationSplit or validationData), never the test split. */
  validation?: DataSplit;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

function isDataSplit(v: unknown): v is DataSplit {
  return isObject(v) && v.images instanceof Float32Array && v.labels instanceof Uint8Array && typeof v.count === 'number';
}

function isTensorData(v: unknown): v is TensorData {
  return isObject(v) && v.xs instanceof tf.Tensor && v.ys instanceof tf.Tensor;
}

/** A tf.data Dataset, by what it does (an app's tfjs-data copy has its own class). */
function isDataset(v: unknown): v is TensorDataset {
  return isObject(v) && typeof v.iterator === 'function' && typeof v.forEachAsync === 'function';
}

/** Whether `data` is a whole train/test pair rather than a training split alone. */
function isSplits(data: unknown): data is TrainSplits {
  return isObject(data) && 'train' in data && !isDataSplit(data) && !isTensorData(data) && !isDataset(data);
}

function checkDataSplit(split: DataSplit, argument: string, numClasses: number): DataSplit {
  if (!Number.isInteger(split.count) || split.count < 0 || split.labels.length !== split.count || split.images.length !== split.count * PIXELS) {
    throw new InvalidArgumentError(argument, `holds ${split.images.length} pixel values and ${split.labels.length} labels for count ${split.count}; expected count x 784 and count`);
  }
  const bad = split.labels.findIndex((l) => l >= numClasses);
  if (bad >= 0) throw new InvalidArgumentError(argument, `label ${split.labels[bad]} at index ${bad} is not a class index below numClasses (${numClasses})`);
  return split;
}

/** Labels from `ys` for `n` examples: indices as they are, rows by their largest entry. */
async function labelsOf(ys: tf.Tensor, n: number, argument: string, numClasses: number): Promise<Uint8Array> {
  let indices: tf.Tensor;
  if (ys.size === n && ys.rank <= 2 && (ys.rank < 2 || ys.shape[1] === 1)) {
    indices = ys.reshape([n]);
  } else if (ys.rank === 2 && ys.shape[0] === n && ys.shape[1] === numClasses) {
    indices = tf.argMax(ys, 1);
  } else {
    throw new InvalidArgumentError(argument, `ys has shape [${ys.shape.join(', ')}]; expected [${n}] class indices or [${n}, ${numClasses}] one-hot rows`);
  }
  const values = await indices.data();
  indices.dispose();
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = values[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new InvalidArgumentError(argument, `label ${label} of example ${i} is not a class index 0..${numClasses - 1}`);
    }
    labels[i] = label;
  }
  return labels;
}

/** The examples of `xs` (784 values each) and labels of `ys` as a host split. Nothing is disposed. */
async function tensorsToSplit(xs: tf.Tensor, ys: tf.Tensor, argument: string, numClasses: number): Promise<DataSplit> {
  const n = xs.shape[0] ?? 0;
  if (xs.rank < 2 || xs.size !== n * PIXELS) {
    throw new InvalidArgumentError(argument, `xs has shape [${xs.shape.join(', ')}]; expected 784 values per example: [n, 784], [n, 28, 28] or [n, 28, 28, 1]`);
  }
  const images = xs.dtype === 'float32' ? ((await xs.data()) as Float32Array) : Float32Array.from(await xs.data());
  return { images: images.slice(0, n * PIXELS), labels: await labelsOf(ys, n, argument, numClasses), count: n };
}

/** Reads a Dataset of `{xs, ys}` batches to its end (or `limit` examples), disposing each batch as tf.js's fitDataset does. */
async function datasetToSplit(dataset: TensorDataset, argument: string, numClasses: number, limit: number): Promise<DataSplit> {
  const parts: DataSplit[] = [];
  let count = 0;
  const iterator = await dataset.iterator();
  while (count < limit) {
    const next = await iterator.next();
    if (next.done) break;
    const element = next.value as unknown;
    try {
      const pair = Array.isArray(element) ? { xs: element[0], ys: element[1] } : element;
      if (!isTensorData(pair)) {
        throw new InvalidArgumentError(argument, 'a Dataset for train() yields {xs, ys} batches of tensors, as model.fitDataset takes');
      }
      const part = await tensorsToSplit(pair.xs, pair.ys, `${argument} (batch ${parts.length})`, numClasses);
      parts.push(part);
      count += part.count;
    } finally {
      tf.dispose(element as tf.TensorContainer);
    }
  }
  const total = Math.min(count, limit);
  const images = new Float32Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    const take = Math.min(part.count, total - at);
    images.set(part.images.subarray(0, take * PIXELS), at * PIXELS);
    labels.set(part.labels.subarray(0, take), at);
    at += take;
  }
  return { images, labels, count: total };
}

/**
 * One split as a host split. `limit` stops reading a Dataset early (train()'s `trainLimit`); the
 * other forms are read whole. `argument` names the split in errors.
 */
export async function toDataSplit(input: SplitInput, argument: string, numClasses: number, limit = Infinity): Promise<DataSplit> {
  if (isDataSplit(input)) return checkDataSplit(input, argument, numClasses);
  if (isTensorData(input)) return tensorsToSplit(input.xs, input.ys, argument, numClasses);
  if (Array.isArray(input) && input.length === 2 && input[0] instanceof tf.Tensor && input[1] instanceof tf.Tensor) {
    return tensorsToSplit(input[0], input[1], argument, numClasses);
  }
  if (isDataset(input)) return datasetToSplit(input, argument, numClasses, limit);
  throw new InvalidArgumentError(
    argument,
    'must be a split ({images, labels, count}), {xs, ys} tensors, [xs, ys], or a tf.data Dataset of {xs, ys} batches',
  );
}

/** The first `count` examples of `split`, and the rest: views, no copies. */
function cut(split: DataSplit, count: number): [DataSplit, DataSplit] {
  const take = (from: number, to: number): DataSplit => ({
    images: split.images.subarray(from * PIXELS, to * PIXELS),
    labels: split.labels.subarray(from, to),
    count: to - from,
  });
  return [take(0, count), take(count, split.count)];
}

/** How the validation split is had: cut from the training data, or given. */
export interface ValidationOptions {
  /**
   * Fraction in (0, 1) of the training examples held out for validation: the last ones, before
   * any sampling, as tf.js's `validationSplit` takes them. Not with `validationData`.
   */
  validationSplit?: number;
  /** Data measured at the end of each epoch instead (never the test split). */
  validationData?: SplitInput;
}

/**
 * Checks a validation split, the fraction of the training examples held out: strictly between 0
 * and 1. `argument` names it as its user gave it (train()'s `validationSplit`, the CLI's
 * `--validation-split`), and `kind` is what the message asks for (the CLI words it "a fraction").
 */
export function checkValidationSplit(argument: string, value: unknown, kind = 'a number'): number {
  if (!(typeof value === 'number' && value > 0 && value < 1)) {
    throw new InvalidArgumentError(argument, `must be ${kind} between 0 and 1 (exclusive), got ${String(value)}`);
  }
  return value;
}

/**
 * Resolves train()'s `data` and validation options into host splits. `trainLimit` only limits how
 * much of a training Dataset is read (train() still applies it to the split).
 */
export async function resolveTrainData(
  data: TrainInput,
  options: ValidationOptions & { numClasses: number; trainLimit?: number },
): Promise<ResolvedData> {
  if (data === null || typeof data !== 'object') throw new InvalidArgumentError('data', `must be {train, test?}, {xs, ys} or a tf.data Dataset, got ${String(data)}`);
  const { validationSplit, validationData, numClasses } = options;
  if (validationSplit !== undefined && validationData !== undefined) {
    throw new InvalidArgumentError('validationSplit', 'give validationSplit or validationData, not both');
  }
  if (validationSplit !== undefined) checkValidationSplit('validationSplit', validationSplit);
  const splits: TrainSplits = isSplits(data) ? data : { train: data };
  // A Dataset is read only as far as training and the held-out part need.
  const readLimit = validationSplit === undefined ? (options.trainLimit ?? Infinity) : Infinity;
  let train = await toDataSplit(splits.train, isSplits(data) ? 'data.train' : 'data', numClasses, readLimit);
  const test = splits.test === undefined ? undefined : await toDataSplit(splits.test, 'data.test', numClasses);
  let validation: DataSplit | undefined;
  if (validationData !== undefined) validation = await toDataSplit(validationData, 'validationData', numClasses);
  if (validationSplit !== undefined) {
    const keep = Math.floor(train.count * (1 - validationSplit));
    if (keep === 0 || keep === train.count) {
      throw new InvalidArgumentError('validationSplit', `${validationSplit} of ${train.count} examples leaves ${keep === 0 ? 'none to train on' : 'none to validate on'}`);
    }
    [train, validation] = cut(train, keep);
  }
  if (validation !== undefined && validation.count === 0) throw new InvalidArgumentError('validationData', 'holds no examples');
  return { train, ...(test ? { test } : {}), ...(validation ? { validation } : {}) };
}
