/**
 * Conv2DBackpropFilter for webgpu as a tiled, split-K matrix product: dW [kh*kw*ci, co] =
 * im2col(x)^T [kh*kw*ci, K] x dy [K, co], K = batch x outHeight x outWidth.
 *
 * Upstream's program gives each filter element one invocation that walks all K positions: for the
 * cnn's first layer that is 800 invocations walking 39,200 positions each (at batch 50), the
 * longest serial chain of the step, and it was 45-50% of a cnn step on lavapipe. Here a workgroup
 * computes a 32 x 32 tile of dW over one slice of K, staging 32 positions at a time of both
 * operands in workgroup memory (each invocation 2 x 2 outputs), and a second program adds the
 * slices' partial tiles. The slices are chosen so that the first program has a few hundred
 * workgroups; with a single slice the tile is written directly and there is no second program.
 *
 * NHWC, dilation 1, float32; everything else goes to upstream's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../../errors';
import { requireInput } from '../compose';
import { allocate, runProgram, webgpuBackend, workgroupsFor } from './program';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Tile edge (outputs and positions per stage). */
const TILE = 32;
/** Invocations per workgroup: each computes 2 x 2 outputs of a tile. */
const WORKGROUP = 256;
/** The first program aims at this many workgroups... */
const TARGET_WORKGROUPS = 256;
/** ...with at least this many positions per slice. */
const MIN_SLICE = 256;

/** How K is cut into slices: their count and length (a multiple of the tile). */
export function kSlices(tiles: number, k: number): { slices: number; length: number } {
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.ceil(k / MIN_SLICE)));
  const length = Math.ceil(k / wanted / TILE) * TILE;
  return { slices: Math.ceil(k / length), length };
}

const PARTIAL_CODE = `
var<workgroup> tileA : array<f32, ${TILE * TILE}>;
var<workgroup> tileB : array<f32, ${TILE * TILE}>;
fn run(index : i32, local : i32) {
  let M = uniforms.M;
  let N = uniforms.N;
  let wg = workgroupIndex();
  let tm = wg % uniforms.tilesM;
  let tn = (wg / uniforms.tilesM) % uniforms.tilesN;
  let slice = wg / (uniforms.tilesM * uniforms.tilesN);
  let kBegin = slice * uniforms.sliceLength;
  let kEnd = min(kBegin + uniforms.sliceLength, uniforms.K);
  let row = (local / 16) * 2;
  let col = (local % 16) * 2;
  var acc00 = 0.0;
  var acc01 = 0.0;
  var acc10 = 0.0;
  var acc11 = 0.0;
  // The trip count is a uniform: every invocation reaches the barriers.
  for (var stage = 0; stage < uniforms.stages; stage++) {
    let k0 = kBegin + stage * ${TILE};
    for (var e = 0; e < ${(TILE * TILE) / WORKGROUP}; e++) {
      let i = local + e * ${WORKGROUP};
      let kk = i / ${TILE};
      let j = i % ${TILE};
      let k = k0 + kk;
      var a = 0.0;
      var b = 0.0;
      if (k < kEnd) {
        let ow = k % uniforms.outWidth;
        let oh = (k / uniforms.outWidth) % uniforms.outHeight;
        let batch = k / (uniforms.outWidth * uniforms.outHeight);
        let m = tm * ${TILE} + j;
        if (m < M) {
          let ci = m % uniforms.inChannels;
          let kw = (m / uniforms.inChannels) % uniforms.filterWidth;
          let kh = m / (uniforms.inChannels * uniforms.filterWidth);
          let xr = oh * uniforms.strideHeight + kh - uniforms.padTop;
          let xc = ow * uniforms.strideWidth + kw - uniforms.padLeft;
          if (xr >= 0 && xr < uniforms.inHeight && xc >= 0 && xc < uniforms.inWidth) {
            a = in0[((batch * uniforms.inHeight + xr) * uniforms.inWidth + xc) * uniforms.inChannels + ci];
          }
        }
        let n = tn * ${TILE} + j;
        if (n < N) { b = in1[k * N + n]; }
      }
      tileA[kk * ${TILE} + j] = a;
      tileB[kk * ${TILE} + j] = b;
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${TILE}; kk++) {
      let a0 = tileA[kk * ${TILE} + row];
      let a1 = tileA[kk * ${TILE} + row + 1];
      let b0 = tileB[kk * ${TILE} + col];
      let b1 = tileB[kk * ${TILE} + col + 1];
      acc00 = acc00 + a0 * b0;
      acc01 = acc01 + a0 * b1;
      acc10 = acc10 + a1 * b0;
      acc11 = acc11 + a1 * b1;
    }
    workgroupBarrier();
  }
  if (slice < uniforms.slices) {
    let m = tm * ${TILE} + row;
    let n = tn * ${TILE} + col;
    let base = slice * M * N;
    if (m < M && n < N) { out0[base + m * N + n] = acc00; }
    if (m < M && n + 1 < N) { out0[base + m * N + n + 1] = acc01; }
    if (m + 1 < M && n < N) { out0[base + (m + 1) * N + n] = acc10; }
    if (m + 1 < M && n + 1 < N) { out0[base + (m + 1) * N + n + 1] = acc11; }
  }
}`;

const SUM_CODE = `
fn run(index : i32, local : i32) {
  let size = uniforms.lenOut0;
  if (index >= size) { return; }
  var s = 0.0;
  for (var slice = 0; slice < uniforms.slices; slice++) { s = s + in0[slice * size + index]; }
  out0[index] = s;
}`;

/** Conv2DBackpropFilter on webgpu; `fallback` is upstream's kernel, for what this one does not handle. */
export function conv2DBackpropFilterKernel(fallback: () => tf.KernelFunc | undefined): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = requireInput(tf.Conv2DBackpropFilter, args.inputs, 'x');
    const dy = requireInput(tf.Conv2DBackpropFilter, args.inputs, 'dy');
    const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
    const format = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
    const dilated = attrs.dilations !== undefined && [attrs.dilations].flat().some((d) => d !== 1);
    if (format !== 'channelsLast' || dilated || x.dtype !== 'float32' || dy.dtype !== 'float32') {
      const original = fallback();
      if (original == null) throw new KernelError(tf.Conv2DBackpropFilter, "upstream's webgpu kernel was not captured");
      return original(args) as tf.TensorInfo;
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    if (info.outShape.join() !== dy.shape.join()) {
      throw new KernelError(tf.Conv2DBackpropFilter, `dy is [${dy.shape}], the convolution's output [${info.outShape}]`);
    }
    const M = info.filterHeight * info.filterWidth * info.inChannels;
    const N = info.outChannels;
    const K = info.batchSize * info.outHeight * info.outWidth;
    const tilesM = Math.ceil(M / TILE);
    const tilesN = Math.ceil(N / TILE);
    const { slices, length } = kSlices(tilesM * tilesN, K);
    const dW = allocate(args.backend, attrs.filterShape as number[]);
    const partial = slices === 1 ? dW : allocate(args.backend, [slices, M, N]);
    runProgram(args.backend, {
      name: 'Conv2DFilterGradTiledProgram',
      variant: '',
      outputs: [partial],
      inputs: [x, dy],
      uniforms: [
        ...Object.entries({
          M,
          N,
          K,
          tilesM,
          tilesN,
          slices,
          sliceLength: length,
          stages: length / TILE,
          inHeight: info.inHeight,
          inWidth: info.inWidth,
          inChannels: info.inChannels,
          outHeight: info.outHeight,
          outWidth: info.outWidth,
          filterWidth: info.filterWidth,
          strideHeight: info.strideHeight,
          strideWidth: info.strideWidth,
          padTop: info.padInfo.top,
          padLeft: info.padInfo.left,
        }).map(([name, value]) => ({ name, type: 'i32' as const, value })),
      ],
      workgroupSize: WORKGROUP,
      workgroups: tilesM * tilesN * slices,
      code: PARTIAL_CODE,
    });
    if (slices === 1) return dW;
    runProgram(args.backend, {
      name: 'Conv2DFilterGradSumProgram',
      variant: '',
      outputs: [dW],
      inputs: [partial],
      uniforms: [{ name: 'slices', type: 'i32', value: slices }],
      workgroupSize: 64,
      workgroups: workgroupsFor(M * N, 64),
      code: SUM_CODE,
    });
    // Released once the queue has run both programs (upstream defers buffers the queue still uses).
    (webgpuBackend(tf.Conv2DBackpropFilter, args.backend) as unknown as tf.KernelBackend).disposeData(partial.dataId);
    return dW;
  };
}
