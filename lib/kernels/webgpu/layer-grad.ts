/**
 * The conv step's kernels (names.ts) as WebGPU programs, and a bias-gradient Sum:
 *
 * - DROPOUT: x * (floor(u + keep) / keep) in one program (tf.dropout's add, floor, div and mul
 *   were four).
 * - POOL_RELU_GRAD: per element of the pool's input, the dy of each window that has this element
 *   as its first maximum (tf.js's MaxPoolGrad, which routes each dy to the first maximum of its
 *   window, as the cpu backend and lib/kernels' wasm kernel do), times step(input) under `relu`. A
 *   gather, so no second pass: upstream's MaxPoolGrad is two programs (positions, then the
 *   scatter) and the ReLU gradient two more (Step, Multiply). Its ties go to the last maximum;
 *   this follows the reference.
 * - Sum over every axis but the last (a bias gradient: [N, H, W, C] to [C]): one program, where
 *   upstream transposes first (two). Every other Sum goes to upstream's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../../errors';
import { requireInput } from '../compose';
import { columnSumOf } from '../reduce-sum';
import { DROPOUT, POOL_RELU_GRAD } from './names';
import { allocate, runProgram, workgroupsFor } from './program';

type KernelArgs = Parameters<tf.KernelFunc>[0];

const WORKGROUP = 256;

const DROPOUT_CODE = `
fn run(index : i32, local : i32) {
  if (index < uniforms.lenOut0) {
    out0[index] = in0[index] * (floor(in1[index] + uniforms.keep) / uniforms.keep);
  }
}`;

function dropout(args: KernelArgs): tf.TensorInfo {
  const x = requireInput(DROPOUT, args.inputs, 'x');
  const u = requireInput(DROPOUT, args.inputs, 'u');
  const size = tf.util.sizeFromShape(x.shape);
  if (tf.util.sizeFromShape(u.shape) !== size) throw new KernelError(DROPOUT, `the mask [${u.shape}] does not match x [${x.shape}]`);
  const rate = Number((args.attrs as Record<string, unknown>)['rate']);
  if (!(rate >= 0 && rate < 1)) throw new KernelError(DROPOUT, `attr 'rate' must be in [0, 1), got ${rate}`);
  const [out] = runProgram(args.backend, {
    name: 'DropoutProgram',
    variant: '',
    outputs: [allocate(args.backend, x.shape)],
    inputs: [x, u],
    uniforms: [{ name: 'keep', type: 'f32', value: 1 - rate }],
    workgroupSize: WORKGROUP,
    workgroups: workgroupsFor(size, WORKGROUP),
    code: DROPOUT_CODE,
  });
  return out!;
}

function poolReluGradCode(relu: boolean): string {
  return `
/** The first window index whose span [o * stride - pad, o * stride - pad + filter) reaches x. */
fn firstWindow(x : i32, pad : i32, span : i32, stride : i32) -> i32 {
  let reach = x + pad - span + 1;
  return select(0, (reach + stride - 1) / stride, reach > 0);
}
fn run(index : i32, local : i32) {
  if (index >= uniforms.lenOut0) { return; }
  let C = uniforms.channels;
  let W = uniforms.inWidth;
  let H = uniforms.inHeight;
  let ch = index % C;
  let xc = (index / C) % W;
  let xr = (index / (C * W)) % H;
  let b = index / (C * W * H);
  ${relu ? 'if (!(in1[index] > 0.0)) { out0[index] = 0.0; return; }' : ''}
  var sum = 0.0;
  let rLast = min(uniforms.outHeight - 1, (xr + uniforms.padTop) / uniforms.strideHeight);
  let cLast = min(uniforms.outWidth - 1, (xc + uniforms.padLeft) / uniforms.strideWidth);
  for (var oh = firstWindow(xr, uniforms.padTop, uniforms.filterHeight, uniforms.strideHeight); oh <= rLast; oh++) {
    for (var ow = firstWindow(xc, uniforms.padLeft, uniforms.filterWidth, uniforms.strideWidth); ow <= cLast; ow++) {
      let r0 = oh * uniforms.strideHeight - uniforms.padTop;
      let c0 = ow * uniforms.strideWidth - uniforms.padLeft;
      var best = -uniforms.INFINITY;
      var at = -1;
      for (var wr = 0; wr < uniforms.filterHeight; wr++) {
        let r = r0 + wr;
        if (r < 0 || r >= H) { continue; }
        for (var wc = 0; wc < uniforms.filterWidth; wc++) {
          let c = c0 + wc;
          if (c < 0 || c >= W) { continue; }
          let v = in1[((b * H + r) * W + c) * C + ch];
          if (v > best) { best = v; at = r * W + c; }
        }
      }
      if (at == xr * W + xc) { sum = sum + in0[((b * uniforms.outHeight + oh) * uniforms.outWidth + ow) * C + ch]; }
    }
  }
  out0[index] = sum;
}`;
}

function poolReluGrad(args: KernelArgs): tf.TensorInfo {
  const dy = requireInput(POOL_RELU_GRAD, args.inputs, 'dy');
  const x = requireInput(POOL_RELU_GRAD, args.inputs, 'input');
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs & { relu?: boolean };
  if (x.shape.length !== 4) throw new KernelError(POOL_RELU_GRAD, `the input must be NHWC, got [${x.shape}]`);
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (info.outShape.join() !== dy.shape.join()) throw new KernelError(POOL_RELU_GRAD, `dy is [${dy.shape}], the pool's output [${info.outShape}]`);
  const size = tf.util.sizeFromShape(x.shape);
  const relu = Boolean(attrs.relu);
  const [out] = runProgram(args.backend, {
    name: 'MaxPoolReluGradProgram',
    variant: String(relu),
    outputs: [allocate(args.backend, x.shape)],
    inputs: [dy, x],
    uniforms: [
      { name: 'inHeight', type: 'i32', value: info.inHeight },
      { name: 'inWidth', type: 'i32', value: info.inWidth },
      { name: 'channels', type: 'i32', value: info.inChannels },
      { name: 'outHeight', type: 'i32', value: info.outHeight },
      { name: 'outWidth', type: 'i32', value: info.outWidth },
      { name: 'filterHeight', type: 'i32', value: info.filterHeight },
      { name: 'filterWidth', type: 'i32', value: info.filterWidth },
      { name: 'strideHeight', type: 'i32', value: info.strideHeight },
      { name: 'strideWidth', type: 'i32', value: info.strideWidth },
      { name: 'padTop', type: 'i32', value: info.padInfo.top },
      { name: 'padLeft', type: 'i32', value: info.padInfo.left },
    ],
    workgroupSize: WORKGROUP,
    workgroups: workgroupsFor(size, WORKGROUP),
    code: () => poolReluGradCode(relu),
  });
  return out!;
}

/** ColumnSumProgram's two variants: an invocation per column, or a workgroup per column. */
const COLUMN_SUM_CODE = {
  column: `
fn run(index : i32, local : i32) {
  if (index >= uniforms.cols) { return; }
  var s = 0.0;
  for (var r = 0; r < uniforms.rows; r++) { s = s + in0[r * uniforms.cols + index]; }
  out0[index] = s;
}`,
  workgroup: `
var<workgroup> sums : array<f32, ${WORKGROUP}>;
fn run(index : i32, local : i32) {
  // A dispatch split in two dimensions may run a few workgroups past the last column.
  let c = workgroupIndex();
  var s = 0.0;
  if (c < uniforms.cols) {
    for (var r = local; r < uniforms.rows; r = r + ${WORKGROUP}) { s = s + in0[r * uniforms.cols + c]; }
  }
  sums[local] = s;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}; stride > 0; stride = stride / 2) {
    if (local < stride) { sums[local] = sums[local] + sums[local + stride]; }
    workgroupBarrier();
  }
  if (local == 0 && c < uniforms.cols) { out0[c] = sums[0]; }
}`,
};

/** The webgpu backend's own Sum, for every reduction this one leaves to it. */
export type SumFallback = (args: KernelArgs) => tf.TensorInfo;

/** Sum over every axis but the last in one program; others to `fallback` (upstream's Sum). */
export function sumKernel(fallback: () => SumFallback | undefined): tf.KernelFunc {
  return (args) => {
    const plan = columnSumOf(args);
    if (!plan) {
      const original = fallback();
      if (original == null) throw new KernelError('Sum', "upstream's webgpu kernel was not captured");
      return original(args);
    }
    const { x, rows, cols } = plan;
    const out = allocate(args.backend, plan.outShape);
    // Few rows (a dense layer's batch): an invocation per column. Many (a conv layer's N x H x W):
    // a workgroup per column, its invocations striding over the rows, then a tree in workgroup memory.
    const perColumn = rows <= WORKGROUP;
    const [sum] = runProgram(args.backend, {
      name: 'ColumnSumProgram',
      variant: perColumn ? 'column' : 'workgroup',
      outputs: [out],
      inputs: [x],
      uniforms: [
        { name: 'rows', type: 'i32', value: rows },
        { name: 'cols', type: 'i32', value: cols },
      ],
      workgroupSize: perColumn ? 64 : WORKGROUP,
      workgroups: perColumn ? workgroupsFor(cols, 64) : cols,
      code: COLUMN_SUM_CODE[perColumn ? 'column' : 'workgroup'],
    });
    return sum!;
  };
}

export const WEBGPU_LAYER_KERNELS: Record<typeof DROPOUT | typeof POOL_RELU_GRAD, tf.KernelFunc> = {
  [DROPOUT]: dropout as tf.KernelFunc,
  [POOL_RELU_GRAD]: poolReluGrad as tf.KernelFunc,
};
