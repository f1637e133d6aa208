/**
 * The optimiser updates of lib/kernels/update-kernels.ts (same kernel names, inputs, attributes
 * and outputs) as WebGPU programs: each program updates as many variables as the device lets one
 * program bind (WebGPU's default of 8 storage buffers: Adam's 7 buffers per variable give one
 * variable a program, momentum's 5 one, SGD's 3 two). Composed from tf.js ops, TF1 Adam was 12
 * programs per variable, 96 of the cnn step's 158.
 *
 * The arithmetic is that of the CPU kernels and of lib/training/optimizers.ts's composed form, in
 * the same order, in float32: w' = w - lr g; Caffe momentum v' = momentum v + lr (g + decay w),
 * w' = w - v'; TF1 Adam m' = m + (g - m)(1 - beta1), v' = v + (g^2 - v)(1 - beta2),
 * w' = w - lrT m' / (sqrt(v') + epsilon).
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_TF1_UPDATE, MOMENTUM_UPDATE, SGD_UPDATE, UpdateKernelName, groups } from '../update-kernels';
import { Uniform, allocate, maxStorageBuffers, runProgram, workgroupsFor } from './program';

const WORKGROUP = 256;

/** One rule: its input groups, how many outputs per variable, per-variable scalars and the WGSL of one element. */
interface Rule {
  inputs: readonly string[];
  outputs: number;
  /** Scalars shared by every variable. */
  shared(attrs: Record<string, unknown>): Uniform[];
  /** Scalars of variable `i` (named with the suffix `_k`, k its place in the program). */
  perVariable?(attrs: Record<string, unknown>, i: number, k: number): Uniform[];
  /**
   * WGSL statements for element `j` of the k-th variable of the program; `i(n)` names input group
   * n of that variable, `o(n)` output n.
   */
  body(k: number, i: (n: number) => string, o: (n: number) => string): string;
}

const RULES: Record<UpdateKernelName, Rule> = {
  [SGD_UPDATE]: {
    inputs: ['x', 'g'],
    outputs: 1,
    shared: (a) => [{ name: 'lr', type: 'f32', value: Number(a['learningRate']) }],
    body: (_, i, o) => `${o(0)}[j] = ${i(0)}[j] - ${i(1)}[j] * uniforms.lr;`,
  },
  [MOMENTUM_UPDATE]: {
    inputs: ['x', 'g', 'v'],
    outputs: 2,
    shared: (a) => [
      { name: 'lr', type: 'f32', value: Number(a['learningRate']) },
      { name: 'momentum', type: 'f32', value: Number(a['momentum']) },
    ],
    perVariable: (a, i, k) => [{ name: `decay_${k}`, type: 'f32', value: Number((a['decay'] as number[] | undefined)?.[i] ?? 0) }],
    body: (k, i, o) => `
      let w = ${i(0)}[j];
      var grad = ${i(1)}[j];
      if (uniforms.decay_${k} > 0.0) { grad = grad + w * uniforms.decay_${k}; }
      let next = ${i(2)}[j] * uniforms.momentum + grad * uniforms.lr;
      ${o(1)}[j] = next;
      ${o(0)}[j] = w - next;`,
  },
  [ADAM_TF1_UPDATE]: {
    inputs: ['x', 'g', 'm', 'v'],
    outputs: 3,
    shared: (a) => [
      { name: 'lrT', type: 'f32', value: Number(a['lrT']) },
      { name: 'c1', type: 'f32', value: 1 - Number(a['beta1']) },
      { name: 'c2', type: 'f32', value: 1 - Number(a['beta2']) },
      { name: 'eps', type: 'f32', value: Number(a['epsilon']) },
    ],
    body: (_, i, o) => `
      let g = ${i(1)}[j];
      let m = ${i(2)}[j] + (g - ${i(2)}[j]) * uniforms.c1;
      let v = ${i(3)}[j] + (g * g - ${i(3)}[j]) * uniforms.c2;
      ${o(1)}[j] = m;
      ${o(2)}[j] = v;
      ${o(0)}[j] = ${i(0)}[j] - (m * uniforms.lrT) / (sqrt(v) + uniforms.eps);`,
  },
};

/** Program names in profiles. */
const PROGRAM_NAMES: Record<UpdateKernelName, string> = {
  [SGD_UPDATE]: 'SgdUpdateProgram',
  [MOMENTUM_UPDATE]: 'MomentumUpdateProgram',
  [ADAM_TF1_UPDATE]: 'AdamTf1UpdateProgram',
};

/** The program updating `variables` variables in one dispatch: a branch per variable's range. */
function updateCode(name: UpdateKernelName, variables: number): string {
  const rule = RULES[name];
  const branches = Array.from({ length: variables }, (_, k) => {
    const input = (n: number) => `in${k * rule.inputs.length + n}`;
    const output = (n: number) => `out${k * rule.outputs + n}`;
    const start = k === 0 ? '0' : `uniforms.end_${k - 1}`;
    return `if (index < uniforms.end_${k}) {
      let j = index - ${start};
      ${rule.body(k, input, output)}
      return;
    }`;
  });
  return `fn run(index : i32, local : i32) {
    ${branches.join('\n    ')}
  }`;
}

function updateKernel(name: UpdateKernelName): tf.KernelFunc {
  const rule = RULES[name];
  return (args) => {
    const attrs = args.attrs as Record<string, unknown>;
    const count = Number(attrs['count']);
    const ins = groups(name, args.inputs, count, rule.inputs);
    const outs = Array.from({ length: rule.outputs }, () => ins[0]!.map((x) => allocate(args.backend, x.shape)));
    const perProgram = Math.max(1, Math.floor(maxStorageBuffers(args.backend) / (rule.inputs.length + rule.outputs)));
    const shared = rule.shared(attrs);
    for (let first = 0; first < count; first += perProgram) {
      const vars = Array.from({ length: Math.min(perProgram, count - first) }, (_, k) => first + k);
      const sizes = vars.map((v) => tf.util.sizeFromShape(ins[0]![v]!.shape));
      const ends: number[] = [];
      sizes.reduce((total, n) => (ends.push(total + n), total + n), 0);
      const uniforms: Uniform[] = [
        ...shared,
        ...vars.flatMap((v, k) => rule.perVariable?.(attrs, v, k) ?? []),
        ...ends.map((end, k) => ({ name: `end_${k}`, type: 'i32' as const, value: end })),
      ];
      runProgram(args.backend, {
        name: PROGRAM_NAMES[name],
        variant: String(vars.length),
        outputs: vars.flatMap((v) => outs.map((group) => group[v]!)),
        inputs: vars.flatMap((v) => ins.map((group) => group[v]!)),
        uniforms,
        workgroupSize: WORKGROUP,
        workgroups: workgroupsFor(ends[ends.length - 1]!, WORKGROUP),
        code: () => updateCode(name, vars.length),
      });
    }
    return outs.flat();
  };
}

export const WEBGPU_UPDATE_KERNELS: Record<UpdateKernelName, tf.KernelFunc> = {
  [SGD_UPDATE]: updateKernel(SGD_UPDATE),
  [MOMENTUM_UPDATE]: updateKernel(MOMENTUM_UPDATE),
  [ADAM_TF1_UPDATE]: updateKernel(ADAM_TF1_UPDATE),
};
