import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../datasets';
import { InvalidArgumentError } from '../errors';
import { DEFAULT_TARGETS, TargetValues, oneHotRows } from '../datasets/onehot';
import { gatherRows } from '../kernels/gather-rows';

/**
 * Builds batch tensors from a split that stays on the host. Each batch's rows are copied into a
 * fresh typed array and uploaded once: on wasm, `gather` from an uploaded 60000x784 tensor cost
 * ~5.5 ms per 100-row batch (measured), `slice` far more, while copying 100 rows here takes
 * microseconds (on wasm straight into its memory, lib/kernels/gather-rows.ts).
 */
export class BatchMaker {
  readonly pixels: number;
  readonly count: number;

  constructor(
    readonly split: DataSplit,
    /** The model's input shape without the batch dimension: [784] or [28, 28, 1]. */
    readonly inputShape: readonly number[],
    readonly numClasses = 10,
    readonly targets: TargetValues = DEFAULT_TARGETS,
    limit?: number,
  ) {
    this.count = limit === undefined ? split.count : Math.min(limit, split.count);
    if (this.count <= 0) throw new InvalidArgumentError('data', 'the split holds no examples');
    this.pixels = split.images.length / split.count;
    const want = inputShape.reduce((a, b) => a * b, 1);
    if (want !== this.pixels) {
      throw new InvalidArgumentError(
        'data',
        `examples hold ${this.pixels} values, the model's input [${inputShape.join(', ')}] needs ${want}`,
      );
    }
  }

  /** Images of rows `indices`, shaped for the model. */
  images(indices: Int32Array): tf.Tensor {
    return gatherRows(this.split.images, this.pixels, indices, [indices.length, ...this.inputShape]);
  }

  /** One-hot targets (with the recipe's on/off values) of rows `indices`. */
  targetsFor(indices: Int32Array): tf.Tensor2D {
    const { numClasses, targets } = this;
    return tf.tensor2d(oneHotRows(this.split.labels, numClasses, targets, indices), [indices.length, numClasses], 'float32');
  }

  /** Consecutive rows [start, start + size): no copy on the host before the upload. */
  imageRange(start: number, size: number): tf.Tensor {
    const { pixels } = this;
    return tf.tensor(this.split.images.subarray(start * pixels, (start + size) * pixels), [size, ...this.inputShape], 'float32');
  }

  labelRange(start: number, size: number): Uint8Array {
    return this.split.labels.subarray(start, start + size);
  }
}

/** The input shape the model wants, without the batch dimension (e.g. [784] or [28, 28, 1]). */
export function modelInputShape(model: tf.LayersModel): number[] {
  const shape = model.inputs[0].shape.slice(1);
  if (shape.some((d) => d === null)) {
    throw new InvalidArgumentError('model', `input shape ${JSON.stringify(model.inputs[0].shape)} must be fully defined`);
  }
  return shape as number[];
}
