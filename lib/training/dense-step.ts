/**
 * Training steps: the gradients of a batch's loss with respect to the trainable variables.
 *
 * Two ways, chosen in one place ({@link createTrainingStep}):
 * - `tape`: `tf.variableGrads` over `model.apply`, which handles any model.
 * - `dense`: a stack of Dense layers (and PReLU layers after linear ones) differentiated by hand:
 *   the forward pass with fused bias and activation, then the backward pass with only the products
 *   the variables need. The tape path pays for things a dense step does not need: tfjs-layers'
 *   Dense runs `tf.fused.matMul`, whose custom gradient computes the gradient of every input,
 *   including the one with respect to the input images (for 784-50-10 at batch 100 a third of the
 *   step's arithmetic, thrown away), and `model.apply` with the tape adds Identity, Reshape and
 *   Cast calls around the real work (76 kernel calls per 784-50-10 step against 13 here, 28 with the
 *   backward pass op by op).
 *
 * The backward formulas are tf.js's own gradient functions (Sigmoid_grad, Tanh_grad, Relu_grad,
 * Prelu_grad, Softmax_grad, the MatMul and bias-add gradients, softmaxCrossEntropy's custom
 * gradient, and the tape's derivatives of the other two losses), written out in the same
 * operations, so the two paths agree to float32 rounding (the tests hold them to 1e-5).
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';
import { ACTIVATION_GRAD, LOSS_GRAD, hasDenseGradKernels, registerDenseGradKernels } from '../kernels/dense-grad';
import { createConvStep } from './conv-step';
import { dropoutOnBackend } from './dropout';
import { CROSS_ENTROPY_EPSILON, LossName, lossFunction } from './losses';

/** Gradients of one batch; `grads[i]` belongs to the i-th variable the step was made for. */
export interface StepResult {
  loss: tf.Scalar;
  grads: tf.Tensor[];
}

/**
 * How {@link createTrainingStep} computes gradients: `auto` uses the hand-written dense step
 * where it applies and the tape elsewhere; `tape` always the tape; `dense` the dense step or an
 * error saying why it does not apply.
 */
export type GradientMethod = 'auto' | 'tape' | 'dense';
export const GRADIENT_METHODS: readonly GradientMethod[] = ['auto', 'tape', 'dense'];

/** Options of {@link createTrainingStep}. */
export interface TrainingStepOptions {
  /**
   * On 'wasm' and 'cpu', run the loss with its gradient, and each activation gradient with its
   * bias gradient, as single kernels (lib/kernels/dense-grad.ts); false composes tf.js ops as on
   * the other backends (for tests and measurements). @default true
   */
  fusedKernels?: boolean;
}

export interface TrainingStep {
  /** `conv`: lib/training/conv-step.ts, conv layers in front of a dense step (on backends with its kernels). */
  method: 'tape' | 'dense' | 'conv';
  /** Why the dense step does not apply (when `method` is `tape` under `auto`). */
  fallbackReason?: string;
  /** Loss and gradients for images `x` and targets `y`; call inside `tf.tidy`. */
  run(x: tf.Tensor, y: tf.Tensor): StepResult;
}

type DenseActivation = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'softmax';
const DENSE_ACTIVATIONS: readonly string[] = ['linear', 'sigmoid', 'tanh', 'relu', 'softmax'];
/** Activations every backend fuses into its matMul kernel (wasm, cpu, webgl, webgpu, tfjs-node). */
const FUSABLE: readonly DenseActivation[] = ['linear', 'relu', 'sigmoid'];

/** One Dense layer and the PReLU that may follow it. */
export interface DenseUnit {
  kernel: tf.Variable;
  bias?: tf.Variable;
  activation: DenseActivation;
  alpha?: tf.Variable;
}

/** The units of `model`, or why the dense step cannot train it. */
export function denseUnits(model: tf.LayersModel): { units: DenseUnit[] } | { reason: string } {
  if (model.getClassName() !== 'Sequential') return { reason: `a ${model.getClassName()} model, not a Sequential stack` };
  return denseUnitsOf(model.layers);
}

/** The units of a run of Dense (and PReLU) layers, or why the dense step cannot train them. */
export function denseUnitsOf(layers: readonly tf.layers.Layer[]): { units: DenseUnit[] } | { reason: string } {
  const units: DenseUnit[] = [];
  for (const layer of layers) {
    const config = layer.getConfig() as Record<string, unknown>;
    const kind = layer.getClassName();
    if (!layer.trainable) return { reason: `layer ${layer.name} is frozen` };
    for (const key of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'alphaRegularizer']) {
      if (config[key] != null) return { reason: `layer ${layer.name} has a ${key}` };
    }
    const weights = new Map(layer.trainableWeights.map((w) => [w.originalName.split('/').pop(), w.read() as tf.Variable]));
    if (kind === 'Dense') {
      const activation = String(config['activation']);
      if (!DENSE_ACTIVATIONS.includes(activation)) return { reason: `layer ${layer.name} has activation '${activation}'` };
      const kernel = weights.get('kernel');
      if (!kernel || kernel.rank !== 2) return { reason: `layer ${layer.name} has no rank-2 kernel` };
      const inputShape = (layer.input as tf.SymbolicTensor).shape;
      if (inputShape.length !== 2) return { reason: `layer ${layer.name} takes rank-${inputShape.length} input` };
      units.push({ kernel, bias: weights.get('bias'), activation: activation as DenseActivation });
    } else if (kind === 'PReLU') {
      const last = units[units.length - 1];
      const alpha = weights.get('alpha');
      if (!last || last.activation !== 'linear' || last.alpha || !alpha) {
        return { reason: `PReLU layer ${layer.name} does not follow a linear Dense layer` };
      }
      last.alpha = alpha;
    } else {
      return { reason: `layer ${layer.name} is a ${kind}` };
    }
  }
  if (units.length === 0) return { reason: 'the model has no layers' };
  if (units.slice(0, -1).some((u) => u.activation === 'softmax')) return { reason: 'softmax before the last layer' };
  return { units };
}

/** Where the forward pass of one unit left what its backward pass needs. */
interface Saved {
  input: tf.Tensor;
  /** Pre-activation, kept when PReLU (its mask) needs it. */
  z?: tf.Tensor;
  out: tf.Tensor;
}

/**
 * input x kernel + bias, activated, as one _FusedMatMul kernel call. `tf.fused.matMul` would
 * wrap the same call in a custom gradient (saved tensors, a gradient closure) on every step
 * although no tape is recording here: measured at a tenth of the step of 784-50-10.
 */
function fusedProduct(input: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | undefined, activation: tf.fused.Activation): tf.Tensor {
  const [m, k] = input.shape as [number, number];
  const n = kernel.shape[1]!;
  const inputs: tf.NamedTensorMap = { a: tf.reshape(input, [1, m, k]), b: tf.reshape(kernel, [1, k, n]) };
  if (bias) inputs['bias'] = bias;
  const attrs = { transposeA: false, transposeB: false, activation, leakyreluAlpha: 0 };
  const out = tf.engine().runKernel(tf._FusedMatMul, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  return tf.reshape(out, [m, n]);
}

function forward(unit: DenseUnit, input: tf.Tensor): Saved {
  const fused = !unit.alpha && FUSABLE.includes(unit.activation);
  const z = fusedProduct(input, unit.kernel, unit.bias, fused ? (unit.activation as tf.fused.Activation) : 'linear');
  if (fused) return { input, out: z };
  if (unit.alpha) return { input, z, out: tf.prelu(z, unit.alpha) };
  return { input, out: unit.activation === 'tanh' ? tf.tanh(z) : tf.softmax(z) };
}

/** dL/dz from dL/dout, as tf.js's gradient of the unit's activation computes it. */
function activationGrad(unit: DenseUnit, saved: Saved, dOut: tf.Tensor): tf.Tensor {
  const y = saved.out;
  switch (unit.activation) {
    case 'linear':
      return dOut;
    case 'sigmoid':
      return tf.mul(dOut, tf.mul(y, tf.sub(1, y)));
    case 'tanh':
      return tf.mul(tf.sub(1, tf.square(y)), dOut);
    case 'relu':
      return tf.mul(dOut, tf.step(y));
    case 'softmax': {
      const dyTimesY = tf.mul(dOut, y);
      return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, 1, true), y));
    }
  }
}

/**
 * The loss of the network's last unit and dL/dz of that unit (its pre-activation), for the
 * recipes' three losses. Softmax cross-entropy takes the logits (a linear last layer).
 */
function lossAndGrad(loss: LossName, unit: DenseUnit, saved: Saved, y: tf.Tensor): { value: tf.Scalar; dz: tf.Tensor } {
  const batch = y.shape[0];
  const out = saved.out;
  switch (loss) {
    case 'softmax-cross-entropy': {
      // softmaxCrossEntropy's forward and its custom gradient, d/dlogits = (exp(logResult) - labels) / batch.
      const logResult = tf.sub(out, tf.logSumExp(out, 1, true));
      const value = tf.mul(tf.sum(tf.mul(logResult, y)), -1 / batch) as tf.Scalar;
      return { value, dz: activationGrad(unit, saved, tf.mul(tf.sub(tf.exp(logResult), y), 1 / batch)) };
    }
    case 'cross-entropy': {
      const shifted = tf.add(out, CROSS_ENTROPY_EPSILON);
      const value = tf.mul(tf.sum(tf.mul(y, tf.log(shifted))), -1 / batch) as tf.Scalar;
      return { value, dz: activationGrad(unit, saved, tf.div(tf.mul(y, -1 / batch), shifted)) };
    }
    case 'quadratic': {
      const diff = tf.sub(out, y);
      const value = tf.mul(tf.sum(tf.square(diff)), 0.5 / batch) as tf.Scalar;
      // The tape's (0.5 / batch) * 2 (out - y), which is exactly (out - y) / batch in float32.
      return { value, dz: activationGrad(unit, saved, tf.mul(diff, 1 / batch)) };
    }
  }
}

/** What the conv step (conv-step.ts) needs of a dense step that ends its network. */
export interface DenseTail {
  /** Dropout rate after unit i (absent or 0: none): the mask of tf.layers' Dropout, drawn the same way. */
  dropout?: readonly (number | undefined)[];
  /** Also compute dL/dx of the first unit's input, as `inputGrad`. */
  inputGrad?: boolean;
}

export function denseStep(
  units: DenseUnit[],
  loss: LossName,
  vars: readonly tf.Variable[],
  fusedKernels: boolean,
  tail: DenseTail = {},
): (x: tf.Tensor, y: tf.Tensor) => StepResult & { inputGrad?: tf.Tensor } {
  const index = new Map(vars.map((v, i) => [v, i]));
  // createTrainingStep checked that every unit's variable is among `vars`.
  const slot = (v: tf.Variable): number => index.get(v)!;
  const last = units.length - 1;
  const applyDropout = dropoutOnBackend();
  return (x, y) => {
    const saved: Saved[] = [];
    const masks: (tf.Tensor | undefined)[] = [];
    let input = x;
    for (const [i, unit] of units.entries()) {
      // The fused loss kernel takes the last layer's pre-activation and applies its activation itself.
      const s = fusedKernels && i === last ? { input, out: fusedProduct(input, unit.kernel, unit.bias, 'linear') } : forward(unit, input);
      saved.push(s);
      input = s.out;
      const rate = tail.dropout?.[i];
      if (rate && i < last) {
        masks[i] = tf.randomUniform(input.shape, 0, 1, 'float32');
        input = applyDropout(input, masks[i]!, rate);
      }
    }
    const grads: tf.Tensor[] = new Array(vars.length);
    let value: tf.Scalar;
    let dz: tf.Tensor;
    let db: tf.Tensor | undefined;
    if (fusedKernels) {
      const unit = units[last]!;
      const attrs = { loss, activation: unit.activation, bias: Boolean(unit.bias), epsilon: CROSS_ENTROPY_EPSILON };
      [value, dz, db] = tf.engine().runKernel(LOSS_GRAD, { z: saved[last]!.out, t: y }, attrs as unknown as tf.NamedAttrMap) as [tf.Scalar, tf.Tensor, tf.Tensor?];
    } else {
      ({ value, dz } = lossAndGrad(loss, units[last]!, saved[last]!, y));
    }
    for (let i = last; i >= 0; i--) {
      const unit = units[i]!;
      const s = saved[i]!;
      if (i < last) {
        // dL/dout of this unit is dL/dinput of the next one (through this unit's dropout mask).
        const dNext = tf.matMul(dz, units[i + 1]!.kernel, false, true);
        const dOut = masks[i] ? applyDropout(dNext, masks[i]!, tail.dropout![i]!) : dNext;
        db = undefined;
        if (fusedKernels) {
          const attrs = { activation: unit.alpha ? 'prelu' : unit.activation, bias: Boolean(unit.bias) };
          const inputs: tf.NamedTensorMap = unit.alpha ? { dOut, z: s.z!, alpha: unit.alpha } : { dOut, y: s.out };
          const out = tf.engine().runKernel(ACTIVATION_GRAD, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          dz = out[0]!;
          if (unit.bias) db = out[1];
          if (unit.alpha) grads[slot(unit.alpha)] = tf.reshape(out[out.length - 1]!, unit.alpha.shape);
        } else if (unit.alpha && s.z) {
          const mask = tf.greater(s.z, 0);
          const perElement = tf.where(mask, tf.zerosLike(dOut), tf.mul(dOut, s.z));
          const axes = tf.backend_util.getReductionAxes(unit.alpha.shape, dOut.shape);
          grads[slot(unit.alpha)] = tf.reshape(axes.length > 0 ? tf.sum(perElement, axes) : perElement, unit.alpha.shape);
          dz = tf.where(mask, dOut, tf.mul(dOut, unit.alpha));
        } else {
          dz = activationGrad(unit, s, dOut);
        }
      }
      grads[slot(unit.kernel)] = tf.matMul(s.input, dz, true, false);
      if (unit.bias) grads[slot(unit.bias)] = db ?? tf.sum(dz, 0);
    }
    const inputGrad = tail.inputGrad ? tf.matMul(dz, units[0]!.kernel, false, true) : undefined;
    return { loss: value, grads, inputGrad };
  };
}

function tapeStep(model: tf.LayersModel, loss: LossName, vars: readonly tf.Variable[]): TrainingStep['run'] {
  const lossFn = lossFunction(loss);
  const varList = [...vars];
  return (x, y) => {
    const { value, grads } = tf.variableGrads(() => lossFn(y, model.apply(x, { training: true }) as tf.Tensor), varList);
    return { loss: value, grads: varList.map((v) => grads[v.name]!) };
  };
}

/**
 * Why `units` cannot give the gradients of exactly `vars` under `loss` (with `otherVars`, the
 * variables of layers in front of them, as the conv step has), or undefined when they can.
 */
export function unitsMismatch(units: readonly DenseUnit[], otherVars: readonly tf.Variable[], vars: readonly tf.Variable[], loss: LossName): string | undefined {
  const unitVars = [...otherVars, ...units.flatMap((u) => [u.kernel, u.bias, u.alpha]).filter((v): v is tf.Variable => v !== undefined)];
  if (loss === 'softmax-cross-entropy' && units[units.length - 1]!.activation !== 'linear') return 'softmax cross-entropy needs a linear (logits) last layer';
  if (unitVars.some((v) => !vars.includes(v))) return 'some Dense or PReLU weights are not among the variables to train';
  if (vars.some((v) => !unitVars.includes(v))) return 'a variable to train is not a Dense kernel, bias or PReLU slope';
  return undefined;
}

/** Whether the dense step runs its loss and activation gradients as fused kernels on the current backend. */
export function useDenseGradKernels(options: TrainingStepOptions): boolean {
  registerDenseGradKernels();
  return (options.fusedKernels ?? true) && hasDenseGradKernels();
}

/**
 * The training step for `model` under `loss`, giving gradients for `vars` (normally
 * `model.trainableWeights`): the hand-written dense step where it applies (`method` 'auto'),
 * then, on a backend that has its kernels (webgpu), the conv step (conv-step.ts), else the tape.
 * Softmax cross-entropy on a softmax output is not what the recipes do, and the softmax output
 * with another loss goes through tf.js's softmax gradient, as on the tape.
 */
export function createTrainingStep(
  model: tf.LayersModel,
  loss: LossName,
  vars: readonly tf.Variable[],
  method: GradientMethod = 'auto',
  options: TrainingStepOptions = {},
): TrainingStep {
  if (!GRADIENT_METHODS.includes(method)) {
    throw new InvalidArgumentError('gradients', `must be one of ${GRADIENT_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  }
  if (method === 'tape') return { method: 'tape', run: tapeStep(model, loss, vars) };
  const plan = denseUnits(model);
  const reason = 'units' in plan ? unitsMismatch(plan.units, [], vars, loss) : plan.reason;
  if (reason === undefined && 'units' in plan) {
    return { method: 'dense', run: denseStep(plan.units, loss, vars, useDenseGradKernels(options)) };
  }
  if (method === 'dense') throw new InvalidArgumentError('gradients', `the dense step does not apply: ${reason}`);
  const conv = createConvStep(model, loss, vars, options);
  if ('run' in conv) return conv;
  return { method: 'tape', fallbackReason: reason, run: tapeStep(model, loss, vars) };
}
