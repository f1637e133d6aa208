/**
 * The dense step's fused backward pieces (lib/kernels/dense-grad.ts: same kernel names, inputs,
 * attributes and outputs) as one WebGPU program each:
 *
 * - LOSS_GRAD: loss, dL/dz and the bias gradient of the last layer. One workgroup: it walks the
 *   batch's rows (a few hundred rows of ten classes at most), reduces the loss in workgroup memory
 *   and then sums dL/dz's columns. Composed from tf.js ops the loss and its gradient were 12-20
 *   programs.
 * - ACTIVATION_GRAD: dL/dz of a hidden layer from dL/dout, with the bias gradient (and PReLU's
 *   slope gradient) in the same pass: one invocation per column walks the rows, so the column
 *   sums need no second program. A PReLU with one slope for all units sums across columns too,
 *   which takes one workgroup.
 *
 * Formulas as in dense-grad.ts (tf.js's gradient functions), in float32.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../../errors';
import { ACTIVATION_GRAD, DenseActivation, DenseLoss, LOSS_GRAD, activationGradArgs, lossGradArgs } from '../dense-grad';
import { allocate, runProgram, workgroupsFor } from './program';

/** Invocations of the one-workgroup programs (and the length of their reduction arrays). */
const SINGLE_WORKGROUP = 256;
/** Invocations per workgroup of the column-per-invocation program. */
const COLUMN_WORKGROUP = 64;

/** WGSL `f(v)` of an activation, from its pre-activation (softmax is done row-wise by the caller). */
function activationOf(activation: DenseActivation): string {
  switch (activation) {
    case 'sigmoid':
      return '1.0 / (1.0 + exp(-v))';
    case 'tanh':
      // exp of a large positive argument overflows; this form stays finite.
      return 'sign(v) * (1.0 - exp(-2.0 * abs(v))) / (1.0 + exp(-2.0 * abs(v)))';
    case 'relu':
      return 'max(v, 0.0)';
    default:
      return 'v';
  }
}

/** WGSL for dz from dL/dy `g` and the output `y` (elementwise activations). */
function elementGrad(activation: DenseActivation): string {
  switch (activation) {
    case 'sigmoid':
      return 'g * (y * (1.0 - y))';
    case 'tanh':
      return '(1.0 - y * y) * g';
    case 'relu':
      return 'select(g * 0.0, g, y > 0.0)';
    default:
      return 'g';
  }
}

function lossGradCode(loss: DenseLoss, activation: DenseActivation, bias: boolean): string {
  // out0: loss, out1: dz, out2: db; in0: z, in1: t.
  const rowStats = `
      var mx = -uniforms.INFINITY;
      for (var j = 0; j < n; j++) { mx = max(mx, in0[row + j]); }
      var s = 0.0;
      for (var j = 0; j < n; j++) { s = s + exp(in0[row + j] - mx); }`;
  let perRow: string;
  if (loss === 'softmax-cross-entropy') {
    perRow = `${rowStats}
      let lse = mx + log(s);
      for (var j = 0; j < n; j++) {
        let logResult = in0[row + j] - lse;
        let t = in1[row + j];
        total = total - t * logResult;
        out1[row + j] = (exp(logResult) - t) / batchF;
      }`;
  } else {
    const y = activation === 'softmax' ? 'exp(in0[row + j] - mx) / s' : `act(in0[row + j])`;
    const g =
      loss === 'cross-entropy' ? '-t / batchF / (y + uniforms.epsilon)' : '(y - t) / batchF';
    const term = loss === 'cross-entropy' ? 'total = total - t * log(y + uniforms.epsilon);' : 'total = total + 0.5 * (y - t) * (y - t);';
    if (activation === 'softmax') {
      perRow = `${rowStats}
      var gy = 0.0;
      for (var j = 0; j < n; j++) {
        let y = ${y};
        let t = in1[row + j];
        let g = ${g};
        gy = gy + g * y;
        ${term}
      }
      for (var j = 0; j < n; j++) {
        let y = ${y};
        let t = in1[row + j];
        let g = ${g};
        out1[row + j] = g * y - gy * y;
      }`;
    } else {
      perRow = `
      for (var j = 0; j < n; j++) {
        let y = ${y};
        let t = in1[row + j];
        let g = ${g};
        ${term}
        out1[row + j] = ${elementGrad(activation)};
      }`;
    }
  }
  return `
var<workgroup> sums : array<f32, ${SINGLE_WORKGROUP}>;
fn act(v : f32) -> f32 { return ${activationOf(activation)}; }
fn run(index : i32, local : i32) {
  let batch = uniforms.batch;
  let n = uniforms.n;
  let batchF = f32(batch);
  var total = 0.0;
  for (var r = local; r < batch; r = r + ${SINGLE_WORKGROUP}) {
    let row = r * n;
    ${perRow}
  }
  sums[local] = total;
  workgroupBarrier();
  for (var stride = ${SINGLE_WORKGROUP / 2}; stride > 0; stride = stride / 2) {
    if (local < stride) { sums[local] = sums[local] + sums[local + stride]; }
    workgroupBarrier();
  }
  if (local == 0) { out0[0] = sums[0] / batchF; }
  ${
    bias
      ? `storageBarrier();
  workgroupBarrier();
  for (var j = local; j < n; j = j + ${SINGLE_WORKGROUP}) {
    var sum = 0.0;
    for (var r = 0; r < batch; r++) { sum = sum + out1[r * n + j]; }
    out2[j] = sum;
  }`
      : ''
  }
}`;
}

function lossGrad(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { z, t, loss, activation, bias, epsilon, batch, n } = lossGradArgs(args);
  const outputs = [allocate(args.backend, []), allocate(args.backend, [batch, n]), ...(bias ? [allocate(args.backend, [n])] : [])];
  return runProgram(args.backend, {
    name: 'LossGradProgram',
    variant: `${loss}:${activation}:${bias}`,
    outputs,
    inputs: [z, t],
    uniforms: [
      { name: 'batch', type: 'i32', value: batch },
      { name: 'n', type: 'i32', value: n },
      { name: 'epsilon', type: 'f32', value: epsilon || 0 },
    ],
    workgroupSize: SINGLE_WORKGROUP,
    workgroups: 1,
    code: () => lossGradCode(loss, activation, bias),
  });
}

function activationGradCode(activation: DenseActivation, bias: boolean, sharedSlope: boolean): string {
  const prelu = activation === 'prelu';
  // out0: dz, then db if bias, then dAlpha for prelu; in0: dOut, in1: y (z for prelu), in2: alpha.
  const db = bias ? 'out1' : '';
  const dAlpha = prelu ? (bias ? 'out2' : 'out1') : '';
  const column = `
    var sumB = 0.0;
    var sumA = 0.0;
    ${prelu ? `let a = in2[${sharedSlope ? '0' : 'c'}];` : ''}
    for (var r = 0; r < rows; r++) {
      let i = r * cols + c;
      let g = in0[i];
      let y = in1[i];
      ${
        prelu
          ? `let d = select(g * a, g, y > 0.0);
      if (!(y > 0.0)) { sumA = sumA + g * y; }`
          : `let d = ${elementGrad(activation)};`
      }
      out0[i] = d;
      sumB = sumB + d;
    }
    ${db ? `${db}[c] = sumB;` : ''}`;
  if (prelu && sharedSlope) {
    return `
var<workgroup> sums : array<f32, ${SINGLE_WORKGROUP}>;
fn run(index : i32, local : i32) {
  let rows = uniforms.rows;
  let cols = uniforms.cols;
  var slope = 0.0;
  for (var c = local; c < cols; c = c + ${SINGLE_WORKGROUP}) {
    ${column}
    slope = slope + sumA;
  }
  sums[local] = slope;
  workgroupBarrier();
  for (var stride = ${SINGLE_WORKGROUP / 2}; stride > 0; stride = stride / 2) {
    if (local < stride) { sums[local] = sums[local] + sums[local + stride]; }
    workgroupBarrier();
  }
  if (local == 0) { ${dAlpha}[0] = sums[0]; }
}`;
  }
  return `
fn run(index : i32, local : i32) {
  let rows = uniforms.rows;
  let cols = uniforms.cols;
  let c = index;
  if (c >= cols) { return; }
  ${column}
  ${prelu ? `${dAlpha}[c] = sumA;` : ''}
}`;
}

function activationGrad(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const { activation, prelu, bias, dOut, y, rows, cols, alpha, sharedSlope } = activationGradArgs(args);
  const shared = prelu && sharedSlope;
  const outputs = [
    allocate(args.backend, [rows, cols]),
    ...(bias ? [allocate(args.backend, [cols])] : []),
    ...(alpha ? [allocate(args.backend, alpha.shape)] : []),
  ];
  return runProgram(args.backend, {
    name: 'ActivationGradProgram',
    variant: `${activation}:${bias}:${shared}`,
    outputs,
    inputs: alpha ? [dOut, y, alpha] : [dOut, y],
    uniforms: [
      { name: 'rows', type: 'i32', value: rows },
      { name: 'cols', type: 'i32', value: cols },
    ],
    workgroupSize: shared ? SINGLE_WORKGROUP : COLUMN_WORKGROUP,
    workgroups: shared ? 1 : workgroupsFor(cols, COLUMN_WORKGROUP),
    code: () => activationGradCode(activation, bias, shared),
  });
}

export const WEBGPU_DENSE_GRAD_KERNELS: Record<typeof LOSS_GRAD | typeof ACTIVATION_GRAD, tf.KernelFunc> = {
  [LOSS_GRAD]: lossGrad as tf.KernelFunc,
  [ACTIVATION_GRAD]: activationGrad as tf.KernelFunc,
};
