/**
 * Sum for the wasm backend, for the reduction a bias gradient is: over every axis but the last
 * (a conv layer's [N, H, W, C] to [C], a dense layer's [N, units] to [units]).
 *
 * The backend's own kernel first transposes the input so that the reduced axes come last (a full
 * copy), then sums rows. Summing columns in place needs no copy: one SIMD pass adding each row of
 * 4-float vectors into the result (simd-activation.ts `columnSums`). The cnn's conv1 bias
 * gradient reduces 50x28x28x32 values this way. Every other reduction goes to the original.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors';
import { originalKernels, requireInput } from './compose';
import { WasmBackendLike, wasmMemoryOf } from './host-memory';
import { simdActivationGrads } from './simd-activation';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Whether `axis` (as Sum's attr) names exactly the axes 0 .. rank-2. */
export function reducesAllButLast(axis: number | number[], rank: number): boolean {
  if (rank < 2) return false;
  const axes = [...new Set(tf.util.parseAxisParam(axis, Array(rank).fill(1)))].sort((a, b) => a - b);
  return axes.length === rank - 1 && axes.every((a, i) => a === i);
}

/** A Sum that is a column sum: `x` as a [rows, cols] matrix summed over its rows into `outShape`. */
export interface ColumnSum {
  x: tf.TensorInfo;
  rows: number;
  cols: number;
  outShape: number[];
}

/**
 * Sum's arguments as a column sum (float32, every axis but the last, no empty axis), which the
 * wasm and webgpu kernels both take; undefined for every other reduction, left to the backend's own.
 */
export function columnSumOf(args: KernelArgs): ColumnSum | undefined {
  const x = requireInput(tf.Sum, args.inputs, 'x');
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || !reducesAllButLast(axis, rank) || x.shape.some((d) => d === 0)) return undefined;
  const cols = x.shape[rank - 1]!;
  return { x, rows: tf.util.sizeFromShape(x.shape) / cols, cols, outShape: keepDims ? [...Array(rank - 1).fill(1), cols] : [cols] };
}

export function sumWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmBackendLike;
  const memory = wasmMemoryOf(args.backend);
  const fns = memory ? simdActivationGrads(memory) : null;
  const sum = fns ? columnSumOf(args) : undefined;
  if (!fns || !sum) {
    const original = originalKernels.get(tf.Sum);
    if (original == null) throw new KernelError('Sum', "the wasm backend's own kernel was not captured");
    return original.kernelFunc(args) as tf.TensorInfo;
  }
  const out = backend.makeOutput(sum.outShape, 'float32');
  fns.columnSums(backend.getMemoryOffset(sum.x.dataId), 0, 0, backend.getMemoryOffset(out.dataId), sum.rows, sum.cols);
  return out;
}
