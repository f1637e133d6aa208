/**
 * Conv2DBackpropFilter for webgpu as a blocked, split-K matrix product: dW [kh*kw*ci, co] =
 * im2col(x)^T [kh*kw*ci, K] x dy [K, co], K = batch x outHeight x outWidth.
 *
 * Upstream's program gives each filter element one invocation that walks all K positions, reading
 * two values per multiply-add: for the cnn's first layer 800 invocations walking 39,200
 * positions each (at batch 50), the longest serial chain of the step. Here an invocation computes
 * a 4 x 4 block of dW (four filter taps by four output channels: eight reads per sixteen
 * multiply-adds) over one slice of the positions, stepping through them without a division, and a
 * second program adds the slices' partial blocks. The slices are cut so that the first program has
 * some ten thousand invocations; with one slice the block is written directly and there is no
 * second program. Blocks in registers rather than tiles in workgroup memory: on lavapipe (the
 * rehearsal's adapter) a workgroup barrier is expensive enough that a 32 x 32 tiled version was
 * slower than upstream's loop, and for these shapes (at most 800 x 64 outputs) the reuse a tile
 * adds over the block is small.
 *
 * NHWC, dilation 1, float32; everything else goes to upstream's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../../errors';
import { requireInput } from '../compose';
import { allocate, runProgram, webgpuBackend, workgroupsFor } from './program';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Filter taps and output channels per invocation (a 4 x 4 block). */
const BLOCK = 4;
const WORKGROUP = 64;
/** The first program aims at this many invocations... */
const TARGET_INVOCATIONS = 16384;
/** ...with at least this many positions per slice. */
const MIN_SLICE = 64;

/** How K is cut into slices for `blocks` invocations per slice: their count and length. */
export function kSlices(blocks: number, k: number): { slices: number; length: number } {
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_INVOCATIONS / blocks), Math.ceil(k / MIN_SLICE)));
  const length = Math.ceil(k / wanted);
  return { slices: Math.ceil(k / length), length };
}

const taps = [0, 1, 2, 3];

const PARTIAL_CODE = `
fn run(index : i32, local : i32) {
  let M = uniforms.M;
  let N = uniforms.N;
  let perSlice = uniforms.blocksM * uniforms.blocksN;
  let slice = index / perSlice;
  if (slice >= uniforms.slices) { return; }
  let m0 = (index % perSlice % uniforms.blocksM) * ${BLOCK};
  let n0 = (index % perSlice / uniforms.blocksM) * ${BLOCK};
  let Ci = uniforms.inChannels;
  let H = uniforms.inHeight;
  let W = uniforms.inWidth;
  // The block's four filter taps; rows past M read a valid tap and are never written.
${taps
  .map(
    (q) => `  let t${q} = min(m0 + ${q}, M - 1);
  let ci${q} = t${q} % Ci;
  let kw${q} = (t${q} / Ci) % uniforms.filterWidth;
  let kh${q} = t${q} / (Ci * uniforms.filterWidth);`,
  )
  .join('\n')}
  let kBegin = slice * uniforms.sliceLength;
  let kEnd = min(kBegin + uniforms.sliceLength, uniforms.K);
  var ow = kBegin % uniforms.outWidth;
  var oh = (kBegin / uniforms.outWidth) % uniforms.outHeight;
  var b = kBegin / (uniforms.outWidth * uniforms.outHeight);
${taps.map((q) => `  var acc${q} = vec4<f32>(0.0);`).join('\n')}
  for (var k = kBegin; k < kEnd; k++) {
    // Columns past N read whatever follows (the next row, or a clamped read) and are never written.
    let at = k * N + n0;
    let d = vec4<f32>(in1[at], in1[at + 1], in1[at + 2], in1[at + 3]);
    let r = oh * uniforms.strideHeight - uniforms.padTop;
    let c = ow * uniforms.strideWidth - uniforms.padLeft;
${taps
  .map(
    (q) => `    {
      let xr = r + kh${q};
      let xc = c + kw${q};
      if (xr >= 0 && xr < H && xc >= 0 && xc < W) { acc${q} = acc${q} + in0[((b * H + xr) * W + xc) * Ci + ci${q}] * d; }
    }`,
  )
  .join('\n')}
    ow = ow + 1;
    if (ow == uniforms.outWidth) {
      ow = 0;
      oh = oh + 1;
      if (oh == uniforms.outHeight) { oh = 0; b = b + 1; }
    }
  }
  let base = slice * M * N;
${taps
  .map(
    (q) => `  if (m0 + ${q} < M) {
    for (var j = 0; j < ${BLOCK}; j++) {
      if (n0 + j < N) { out0[base + (m0 + ${q}) * N + n0 + j] = acc${q}[j]; }
    }
  }`,
  )
  .join('\n')}
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
    const blocksM = Math.ceil(M / BLOCK);
    const blocksN = Math.ceil(N / BLOCK);
    const { slices, length } = kSlices(blocksM * blocksN, K);
    const dW = allocate(args.backend, attrs.filterShape as number[]);
    const partial = slices === 1 ? dW : allocate(args.backend, [slices, M, N]);
    runProgram(args.backend, {
      name: 'Conv2DFilterGradBlockedProgram',
      variant: '',
      outputs: [partial],
      inputs: [x, dy],
      uniforms: [
        ...Object.entries({
          M,
          N,
          K,
          blocksM,
          blocksN,
          slices,
          sliceLength: length,
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
      workgroups: workgroupsFor(blocksM * blocksN * slices, WORKGROUP),
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
