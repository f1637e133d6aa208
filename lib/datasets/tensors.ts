/**
 * Typed arrays to tensors. Kept out of the loaders so that loading data never needs tf.js, and so
 * that the one place tensors are born from dataset arrays checks their sizes.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';
import { IMAGE_HEIGHT, IMAGE_SIZE, IMAGE_WIDTH, NUM_CLASSES } from './catalog';
import type { DataSplit } from './dataset';
import { oneHotRows } from './onehot';

/** 'flat': [n, 784] for dense nets; 'image': [n, 28, 28, 1] (NHWC) for conv nets. */
export type ImageLayout = 'flat' | 'image';
/** 'index': int32 [n] class indices (sparse losses); 'onehot': float32 [n, numClasses]. */
export type LabelEncoding = 'index' | 'onehot';

/** @default 'flat' */
export const DEFAULT_IMAGE_LAYOUT: ImageLayout = 'flat';
/** @default 'index' */
export const DEFAULT_LABEL_ENCODING: LabelEncoding = 'index';

function tagOf(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? (value as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : undefined;
}

/**
 * Images as a float32 tensor, [count, 784] or [count, 28, 28, 1]. The caller disposes it. The cpu
 * backend keeps the array itself rather than a copy (that is what makes this take milliseconds for
 * all of MNIST), so leave `images` unmodified while the tensor lives.
 */
export function imagesToTensor(images: Float32Array, count: number, layout?: 'flat'): tf.Tensor2D;
export function imagesToTensor(images: Float32Array, count: number, layout: 'image'): tf.Tensor4D;
export function imagesToTensor(images: Float32Array, count: number, layout?: ImageLayout): tf.Tensor;
export function imagesToTensor(images: Float32Array, count: number, layout: ImageLayout = DEFAULT_IMAGE_LAYOUT): tf.Tensor {
  if (tagOf(images) !== 'Float32Array') throw new InvalidArgumentError('images', 'must be a Float32Array');
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError('count', `must be a non-negative integer, got ${String(count)}`);
  if (images.length !== count * IMAGE_SIZE) {
    throw new InvalidArgumentError('images', `has ${images.length} values but ${count} images of ${IMAGE_SIZE} need ${count * IMAGE_SIZE}`);
  }
  if (layout === 'flat') return tf.tensor2d(images, [count, IMAGE_SIZE], 'float32');
  if (layout === 'image') return tf.tensor4d(images, [count, IMAGE_HEIGHT, IMAGE_WIDTH, 1], 'float32');
  throw new InvalidArgumentError('layout', `must be 'flat' or 'image', got ${JSON.stringify(layout)}`);
}

/** Labels as int32 [n] indices or float32 [n, numClasses] one-hot rows. The caller disposes it. */
export function labelsToTensor(labels: Uint8Array, encoding?: 'index', numClasses?: number): tf.Tensor1D;
export function labelsToTensor(labels: Uint8Array, encoding: 'onehot', numClasses?: number): tf.Tensor2D;
export function labelsToTensor(labels: Uint8Array, encoding?: LabelEncoding, numClasses?: number): tf.Tensor;
export function labelsToTensor(labels: Uint8Array, encoding: LabelEncoding = DEFAULT_LABEL_ENCODING, numClasses: number = NUM_CLASSES): tf.Tensor {
  if (tagOf(labels) !== 'Uint8Array') throw new InvalidArgumentError('labels', 'must be a Uint8Array');
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new InvalidArgumentError('numClasses', `must be an integer from 1 to 256, got ${String(numClasses)}`);
  }
  if (encoding !== 'index' && encoding !== 'onehot') {
    throw new InvalidArgumentError('encoding', `must be 'index' or 'onehot', got ${JSON.stringify(encoding)}`);
  }
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    if (labels[i] >= numClasses) throw new InvalidArgumentError('labels', `label ${labels[i]} at index ${i} is not below numClasses ${numClasses}`);
  }
  if (encoding === 'index') return tf.tensor1d(Int32Array.from(labels), 'int32');
  // Built on the host rather than with tf.oneHot: no intermediate tensors and no int32 upload.
  return tf.tensor2d(oneHotRows(labels, numClasses), [n, numClasses], 'float32');
}

export interface SplitToTensorsOptions {
  /** @default DEFAULT_IMAGE_LAYOUT ('flat') */
  layout?: ImageLayout;
  /** @default DEFAULT_LABEL_ENCODING ('index') */
  labels?: LabelEncoding;
}

/** Both halves of a split as tensors; the caller disposes `xs` and `ys`. */
export function splitToTensors(split: DataSplit, options: SplitToTensorsOptions = {}): { xs: tf.Tensor; ys: tf.Tensor } {
  if (split === null || typeof split !== 'object') throw new InvalidArgumentError('split', 'must be a DataSplit { images, labels, count }');
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  if (split.labels?.length !== split.count) {
    throw new InvalidArgumentError('split', `has ${split.labels?.length} labels but count ${split.count}`);
  }
  const xs = imagesToTensor(split.images, split.count, options.layout ?? DEFAULT_IMAGE_LAYOUT);
  try {
    return { xs, ys: labelsToTensor(split.labels, options.labels ?? DEFAULT_LABEL_ENCODING) };
  } catch (err) {
    xs.dispose();
    throw err;
  }
}
