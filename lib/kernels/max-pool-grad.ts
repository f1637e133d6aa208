/**
 * MaxPoolGrad for the wasm backend, computed in JavaScript directly on the backend's heap.
 *
 * The backend's own kernel is both slow and wrong for some inputs. It recomputes every window's
 * argmax inside a generic 3D-pooling loop (32 ms for the cnn recipe's first pool at batch 50,
 * against 2.6 ms for the forward MaxPool), and it starts each window's maximum at
 * `std::numeric_limits<float>::min()` (the smallest *positive* float) with a `>=` comparison:
 * a window whose values are all <= 0 never records a position and its gradient lands on the
 * wrong element, and ties go to the last maximum. tf.js's reference (the cpu backend) routes
 * each dy to the first maximum of its window, starting from -Infinity; so does this kernel.
 *
 * One pass over the windows, channels innermost (NHWC keeps them contiguous), scattering dy
 * into a zeroed dx: overlapping windows add up, as in the reference.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors';
import { originalKernels, requireInput } from './compose';
import { WasmBackendLike, wasmMemoryOf } from './host-memory';
import { simdPool } from './simd-pool';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Heap offsets of one window's valid positions, reused across windows and calls. */
let windowOffsets = new Int32Array(0);

export function maxPoolGradWasm(args: KernelArgs): tf.TensorInfo {
  const { inputs } = args;
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const dy = requireInput(tf.MaxPoolGrad, inputs, 'dy');
  const x = requireInput(tf.MaxPoolGrad, inputs, 'input');
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || x.shape.length !== 4) {
    const original = originalKernels.get(tf.MaxPoolGrad);
    if (original == null) throw new KernelError('MaxPoolGrad', "the wasm backend's own kernel was not captured");
    return original.kernelFunc(args) as tf.TensorInfo;
  }
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;

  const backend = args.backend as unknown as WasmBackendLike;
  // Allocate before taking views: an allocation can grow the wasm memory, which detaches
  // every view made earlier.
  const dx = backend.makeOutput(x.shape, 'float32');
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const dxv = backend.typedArrayFromHeap(dx) as Float32Array;
  // Non-overlapping windows inside the input, 4 channels at a time: the SIMD loop (simd-pool.ts).
  const memory = wasmMemoryOf(args.backend);
  const pool = memory ? simdPool(memory) : null;
  if (
    pool &&
    channels % 4 === 0 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    strideHeight === effectiveFilterHeight &&
    strideWidth === effectiveFilterWidth &&
    padTop === 0 &&
    padLeft === 0 &&
    outHeight * strideHeight <= inHeight &&
    outWidth * strideWidth <= inWidth
  ) {
    // Positions no window covers (a remainder row or column) get no gradient.
    if (outHeight * strideHeight < inHeight || outWidth * strideWidth < inWidth) dxv.fill(0);
    const at = (t: tf.TensorInfo) => backend.getMemoryOffset(t.dataId);
    pool.maxPoolGrad(at(x), at(dy), at(dx), batchSize, inHeight, inWidth, channels, outHeight, outWidth, strideHeight, strideWidth);
    return dx;
  }
  dxv.fill(0);
  const maxWindow = Math.ceil(effectiveFilterHeight / dilationHeight) * Math.ceil(effectiveFilterWidth / dilationWidth);
  if (windowOffsets.length < maxWindow) windowOffsets = new Int32Array(maxWindow);
  const offsets = windowOffsets;
  const rowStride = inWidth * channels;
  const imageStride = inHeight * rowStride;

  let dyOffset = 0;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * imageStride;
    for (let yR = 0; yR < outHeight; yR++) {
      const rCorner = yR * strideHeight - padTop;
      let rMin = rCorner;
      while (rMin < 0) rMin += dilationHeight;
      const rMax = Math.min(inHeight, rCorner + effectiveFilterHeight);
      for (let yC = 0; yC < outWidth; yC++) {
        const cCorner = yC * strideWidth - padLeft;
        let cMin = cCorner;
        while (cMin < 0) cMin += dilationWidth;
        const cMax = Math.min(inWidth, cCorner + effectiveFilterWidth);
        // Window positions in row-major order, the order in which the first maximum wins.
        let count = 0;
        for (let r = rMin; r < rMax; r += dilationHeight) {
          for (let c = cMin; c < cMax; c += dilationWidth) {
            offsets[count++] = imageBase + r * rowStride + c * channels;
          }
        }
        // Per channel: start from -Infinity with no position and compare with a strict '>', so
        // a window of NaN or -Infinity passes no gradient, exactly as the reference.
        for (let d = 0; d < channels; d++) {
          let max = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let k = 0; k < count; k++) {
            const v = xv[offsets[k]! + d]!;
            if (v > max) {
              max = v;
              at = offsets[k]! + d;
            }
          }
          if (at >= 0) dxv[at] += dyv[dyOffset + d]!;
        }
        dyOffset += channels;
      }
    }
  }
  return dx;
}
