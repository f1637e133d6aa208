import * as tf from '@tensorflow/tfjs';
import { checkNonNegativeNumber, checkOneOf, checkPositiveNumber, checkRate } from '../checks';
import { InvalidArgumentError } from '../errors';
import {
  ADAM_TF1_UPDATE,
  MOMENTUM_UPDATE,
  SGD_UPDATE,
  UpdateKernelName,
  hasUpdateKernel,
  registerUpdateKernels,
} from '../kernels/update-kernels';

/**
 * Learning-rate policies of source 001's update module (Caffe's names).
 * `inv`: lr(iter) = base * (1 + gamma * iter)^-power.
 */
export type LrPolicy = { kind: 'fixed' } | { kind: 'inv'; gamma: number; power: number };

/** Optimisers the recipes use, as data, so presets and saved metadata can hold them. */
export type OptimizerConfig =
  /** w -= lr * g (batch-averaged g). */
  | { kind: 'sgd'; learningRate: number }
  /**
   * Source 001's momentum SGD: v = momentum * v + lr(iter) * (g + weightDecay * w); w -= v.
   * Weight decay applies to weights (kernels) only, not biases. tf.train.momentum differs:
   * it folds lr outside the velocity, which changes the update whenever the policy moves lr.
   */
  | { kind: 'momentum'; learningRate: number; momentum: number; weightDecay?: number; policy?: LrPolicy }
  /**
   * TensorFlow 1's Adam (its ApplyAdam kernel: epsilon added to the uncorrected sqrt(v)), which the
   * cnn and deep-mlp sources ran; epsilon defaults to TF1's 1e-8, betas to 0.9 / 0.999.
   */
  | { kind: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number };

/** TensorFlow 1.x AdamOptimizer's epsilon, which the cnn and deep-mlp sources ran with. @default 1e-8 */
export const DEFAULT_ADAM_EPSILON = 1e-8;
/** @default 0.9 */
export const DEFAULT_ADAM_BETA1 = 0.9;
/** @default 0.999 */
export const DEFAULT_ADAM_BETA2 = 0.999;

export function learningRateAt(config: OptimizerConfig, iteration: number): number {
  if (config.kind === 'momentum' && config.policy?.kind === 'inv') {
    return config.learningRate * Math.pow(1 + config.policy.gamma * iteration, -config.policy.power);
  }
  return config.learningRate;
}

/**
 * TensorFlow 1's bias-corrected Adam step size at 0-based `iteration` (its step t = iteration + 1):
 * lr sqrt(1 - beta2^t) / (1 - beta1^t). TF1 adds epsilon to the uncorrected sqrt(v) after this;
 * tf.train.adam (tf.js, Keras) adds it to sqrt(v-hat), which is 1/sqrt(1 - beta2^t) larger (about
 * 32x at step 1): the two differ while v is of the order of epsilon^2 and early in training.
 */
export function adamStepSize(config: Extract<OptimizerConfig, { kind: 'adam' }>, iteration: number): number {
  const t = iteration + 1;
  const beta1 = config.beta1 ?? DEFAULT_ADAM_BETA1;
  const beta2 = config.beta2 ?? DEFAULT_ADAM_BETA2;
  return (config.learningRate * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
}

/** One trainable variable with what the update needs to know about it. */
export interface TrainableVariable {
  variable: tf.Variable;
  /** Kernels get weight decay; biases and PReLU slopes do not. */
  isKernel: boolean;
}

/** Applies one update from gradients; owns any optimiser state (velocities, moments). */
export interface UpdateRule {
  /**
   * Updates every variable from its gradient (same order as the variables). `iteration` is the
   * 0-based step: it drives the learning-rate policy and Adam's bias correction, so a rule
   * restored from a checkpoint continues exactly where it stopped.
   */
  apply(grads: readonly tf.Tensor[], iteration: number): void;
  /**
   * The optimiser's state, one variable per trainable variable and slot (`velocity`; Adam's `m`
   * and `v`), for checkpoints: read them to save, assign to them to restore.
   */
  readonly slots: Readonly<Record<string, readonly tf.Variable[]>>;
  dispose(): void;
}

/** The optimiser kinds an {@link OptimizerConfig} names. */
export const OPTIMIZER_KINDS: readonly OptimizerConfig['kind'][] = ['sgd', 'momentum', 'adam'];

/** Checks an optimiser config, each error naming the field (`optimizer.kind`, `weightDecay`, `policy.gamma`, ...). */
export function checkOptimizerConfig(config: OptimizerConfig): OptimizerConfig {
  if (config === null || typeof config !== 'object') throw new InvalidArgumentError('optimizer', `must be an optimiser config such as {kind: 'sgd', learningRate: 0.1}, got ${String(config)}`);
  checkOneOf('optimizer.kind', config.kind, OPTIMIZER_KINDS);
  checkPositiveNumber('learningRate', config.learningRate);
  if (config.kind === 'momentum') {
    checkRate('momentum', config.momentum);
    // Negative decay grows the weights, and the fused and tf.js-op updates then part ways.
    if (config.weightDecay !== undefined) checkNonNegativeNumber('weightDecay', config.weightDecay);
    const policy = config.policy;
    if (policy !== undefined) {
      if (policy === null || typeof policy !== 'object') throw new InvalidArgumentError('policy', `must be {kind: 'fixed'} or {kind: 'inv', gamma, power}, got ${String(policy)}`);
      checkOneOf('policy.kind', policy.kind, ['fixed', 'inv'] as const);
      if (policy.kind === 'inv') {
        checkNonNegativeNumber('policy.gamma', policy.gamma);
        checkNonNegativeNumber('policy.power', policy.power);
      }
    }
  }
  if (config.kind === 'adam') {
    if (config.beta1 !== undefined) checkRate('beta1', config.beta1);
    if (config.beta2 !== undefined) checkRate('beta2', config.beta2);
    if (config.epsilon !== undefined) checkPositiveNumber('epsilon', config.epsilon);
  }
  return config;
}

/** Options of {@link createUpdateRule}. */
export interface UpdateRuleOptions {
  /**
   * Update with tf.js ops even where a fused update kernel exists (lib/kernels/update-kernels.ts,
   * 'wasm' and 'cpu'); both compute the same formulas. For tests and measurements.
   * @default false
   */
  composed?: boolean;
}

/**
 * The update of `config` for `vars`. On 'wasm' and 'cpu' it is one fused kernel call per step
 * for all variables; on other backends (WebGPU, tfjs-node) the same arithmetic in tf.js ops.
 */
export function createUpdateRule(
  config: OptimizerConfig,
  vars: readonly TrainableVariable[],
  options: UpdateRuleOptions = {},
): UpdateRule {
  checkOptimizerConfig(config);
  registerUpdateKernels();
  const fused = (name: UpdateKernelName) => !options.composed && hasUpdateKernel(name);
  switch (config.kind) {
    case 'sgd':
      return sgdRule(config.learningRate, vars, fused);
    case 'momentum':
      return momentumRule(config, vars, fused);
    case 'adam':
      return adamRule(config, vars, fused);
    default:
      throw new InvalidArgumentError('optimizer.kind', `must be one of ${OPTIMIZER_KINDS.join(', ')}, got ${JSON.stringify((config as { kind: unknown }).kind)}`);
  }
}

/** Non-trainable zero variables shaped like `vars`, one per variable. */
function zeroSlots(vars: readonly TrainableVariable[]): tf.Variable[] {
  // tf.variable keeps its initial tensor alive; tidy frees that copy, variables survive tidy.
  // tf.zeros is an upload of zeros, where zerosLike is a kernel: on webgpu a GPU program per slot.
  return vars.map((v) => tf.tidy(() => tf.variable(tf.zeros(v.variable.shape, 'float32'), false)));
}

/** Calls the fused kernel `name` with variables, gradients and state slots as its numbered inputs. */
function runFused(
  name: UpdateKernelName,
  groups: Record<string, readonly tf.Tensor[]>,
  attrs: Record<string, unknown>,
): tf.Tensor[] {
  const inputs: tf.NamedTensorMap = {};
  for (const [prefix, tensors] of Object.entries(groups)) tensors.forEach((t, i) => (inputs[`${prefix}${i}`] = t));
  const out = tf.engine().runKernel(name, inputs, { count: groups['x']!.length, ...attrs } as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? out : [out as tf.Tensor];
}

/** Assigns `values` group by group: the first `targets[0].length` to targets[0], and so on. */
function assignAll(targets: readonly (readonly tf.Variable[])[], values: readonly tf.Tensor[]): void {
  let k = 0;
  for (const group of targets) for (const variable of group) variable.assign(values[k++]!);
}

type FusedCheck = (name: UpdateKernelName) => boolean;

function sgdRule(learningRate: number, vars: readonly TrainableVariable[], fused: FusedCheck): UpdateRule {
  const variables = vars.map((v) => v.variable);
  const useKernel = fused(SGD_UPDATE);
  return {
    apply(grads) {
      tf.tidy(() => {
        if (useKernel) {
          assignAll([variables], runFused(SGD_UPDATE, { x: variables, g: grads }, { learningRate }));
        } else {
          variables.forEach((v, i) => v.assign(v.sub(grads[i]!.mul(learningRate))));
        }
      });
    },
    slots: {},
    dispose: () => undefined,
  };
}

function momentumRule(config: Extract<OptimizerConfig, { kind: 'momentum' }>, vars: readonly TrainableVariable[], fused: FusedCheck): UpdateRule {
  const variables = vars.map((v) => v.variable);
  const velocities = zeroSlots(vars);
  const decay = vars.map((v) => (v.isKernel ? (config.weightDecay ?? 0) : 0));
  const useKernel = fused(MOMENTUM_UPDATE);
  return {
    apply(grads, iteration) {
      const lr = learningRateAt(config, iteration);
      tf.tidy(() => {
        if (useKernel) {
          const out = runFused(MOMENTUM_UPDATE, { x: variables, g: grads, v: velocities }, { learningRate: lr, momentum: config.momentum, decay });
          assignAll([variables, velocities], out);
          return;
        }
        variables.forEach((w, i) => {
          const g = decay[i]! > 0 ? grads[i]!.add(w.mul(decay[i]!)) : grads[i]!;
          const next = velocities[i]!.mul(config.momentum).add(g.mul(lr));
          velocities[i]!.assign(next);
          w.assign(w.sub(next));
        });
      });
    },
    slots: { velocity: velocities },
    dispose: () => velocities.forEach((v) => v.dispose()),
  };
}

/**
 * TensorFlow 1's AdamOptimizer, which the cnn (the Deep MNIST tutorial) and deep-mlp sources ran:
 * its ApplyAdam kernel's formulas, epsilon added to the uncorrected sqrt(v) (see
 * {@link adamStepSize}). tf.train.adam is not used because it places epsilon differently.
 */
function adamRule(config: Extract<OptimizerConfig, { kind: 'adam' }>, vars: readonly TrainableVariable[], fused: FusedCheck): UpdateRule {
  const variables = vars.map((v) => v.variable);
  const m = zeroSlots(vars);
  const v = zeroSlots(vars);
  const beta1 = config.beta1 ?? DEFAULT_ADAM_BETA1;
  const beta2 = config.beta2 ?? DEFAULT_ADAM_BETA2;
  const epsilon = config.epsilon ?? DEFAULT_ADAM_EPSILON;
  const useKernel = fused(ADAM_TF1_UPDATE);
  return {
    apply(grads, iteration) {
      const lrT = adamStepSize(config, iteration);
      tf.tidy(() => {
        if (useKernel) {
          const out = runFused(ADAM_TF1_UPDATE, { x: variables, g: grads, m, v }, { lrT, beta1, beta2, epsilon });
          assignAll([variables, m, v], out);
          return;
        }
        variables.forEach((w, i) => {
          const g = grads[i]!;
          const mNext = m[i]!.add(g.sub(m[i]!).mul(1 - beta1));
          const vNext = v[i]!.add(g.square().sub(v[i]!).mul(1 - beta2));
          m[i]!.assign(mNext);
          v[i]!.assign(vNext);
          w.assign(w.sub(mNext.mul(lrT).div(vNext.sqrt().add(epsilon))));
        });
      });
    },
    slots: { m, v },
    dispose: () => [...m, ...v].forEach((s) => s.dispose()),
  };
}

export function describeOptimizer(config: OptimizerConfig): string {
  switch (config.kind) {
    case 'sgd':
      return `SGD lr ${config.learningRate}`;
    case 'momentum': {
      const policy = config.policy?.kind === 'inv' ? `, inv(gamma ${config.policy.gamma}, power ${config.policy.power})` : '';
      const wd = config.weightDecay ? `, weight decay ${config.weightDecay}` : '';
      return `momentum ${config.momentum} SGD lr ${config.learningRate}${policy}${wd}`;
    }
    case 'adam':
      return `Adam (TensorFlow 1) lr ${config.learningRate}`;
  }
}
