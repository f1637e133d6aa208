import * as tf from '@tensorflow/tfjs';
import { checkNonNegativeNumber, checkOneOf, checkPositiveNumber, checkRate } from '../checks';
import { InvalidArgumentError, errorMessage } from '../errors';
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

/** The learning rate at 0-based step `iteration`; a tf.train optimiser's own `learningRate` (NaN if it has none). */
export function learningRateAt(config: OptimizerConfig | tf.Optimizer, iteration: number): number {
  if (config instanceof tf.Optimizer) {
    const own = config as unknown as { learningRate?: unknown; config?: OptimizerConfig };
    if (own.config !== undefined && typeof own.config.kind === 'string') return scheduledLearningRate(own.config, iteration);
    return typeof own.learningRate === 'number' ? own.learningRate : NaN;
  }
  return scheduledLearningRate(config, iteration);
}

/** {@link learningRateAt} of a config: what the momentum update asks every step, without the tf.train case. */
function scheduledLearningRate(config: OptimizerConfig, iteration: number): number {
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

/**
 * Kernels (dense and convolution kernels, depthwise ones too) get weight decay; biases and PReLU
 * slopes do not. tf.js names a layer's variables `<layer>/<weight>`, with `_<n>` appended when the
 * name was taken; train() asks with the original name, a tf.train optimiser with the variable's.
 */
export function isKernelVariable(name: string): boolean {
  return /kernel(_\d+)?$/.test(name);
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
  /**
   * The state as host arrays, for checkpoints: `slots` slot by slot, or what a tf.train optimiser
   * (which keeps its own state, outside `slots`) gives through getWeights.
   */
  readState(): Promise<Record<string, Float32Array[]>>;
  /** Puts back what {@link readState} gave, checking it belongs to this rule. */
  restoreState(saved: Record<string, Float32Array[]>): Promise<void>;
  dispose(): void;
}

/** The optimiser kinds an {@link OptimizerConfig} names. */
export const OPTIMIZER_KINDS: readonly OptimizerConfig['kind'][] = ['sgd', 'momentum', 'adam'];

/** Checks an optimiser config, each error naming the field (`optimizer.kind`, `weightDecay`, `policy.gamma`, ...). */
export function checkOptimizerConfig(config: OptimizerConfig): OptimizerConfig {
  if (config === null || typeof config !== 'object') throw new InvalidArgumentError('optimizer', `must be an optimiser config such as {kind: 'sgd', learningRate: 0.1} or a tf.train optimizer, got ${String(config)}`);
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

/** Options of {@link createUpdateRule} and {@link updateMath}. */
export interface UpdateRuleOptions {
  /**
   * Update with tf.js ops even where a fused update kernel exists (lib/kernels/update-kernels.ts,
   * 'wasm' and 'cpu'); both compute the same formulas. For tests and measurements.
   * @default false
   */
  composed?: boolean;
}

/**
 * The arithmetic of one optimiser step of a config, with no state of its own: train()'s update
 * rules ({@link createUpdateRule}) and the tf.train optimisers of the recipes
 * (recipe-optimizers.ts) both update through it, so the two cannot drift apart.
 */
export interface UpdateMath {
  /** The state each variable needs, slot by slot (`velocity`; Adam's `m` and `v`). */
  readonly slotNames: readonly string[];
  /**
   * Updates `variables` and their state (`slots[s][i]`: slot `s` of variable `i`) from `grads`
   * at 0-based step `iteration` (the learning-rate policy and Adam's bias correction use it).
   * Weight decay applies where `isKernel[i]`.
   */
  apply(
    variables: readonly tf.Variable[],
    grads: readonly tf.Tensor[],
    slots: readonly (readonly tf.Variable[])[],
    iteration: number,
    isKernel: readonly boolean[],
  ): void;
}

/**
 * The step of `config`. On 'wasm' and 'cpu' it is one fused kernel call for all variables (looked
 * up on the backend current at each call); elsewhere (WebGPU, tfjs-node) the same arithmetic in
 * tf.js ops.
 */
export function updateMath(config: OptimizerConfig, options: UpdateRuleOptions = {}): UpdateMath {
  checkOptimizerConfig(config);
  registerUpdateKernels();
  let backend: string | undefined;
  let kernels: Partial<Record<UpdateKernelName, boolean>> = {};
  const fused = (name: UpdateKernelName): boolean => {
    if (options.composed) return false;
    const current = tf.getBackend();
    if (current !== backend) [backend, kernels] = [current, {}];
    return (kernels[name] ??= hasUpdateKernel(name));
  };
  switch (config.kind) {
    case 'sgd':
      return sgdMath(config.learningRate, fused);
    case 'momentum':
      return momentumMath(config, fused);
    case 'adam':
      return adamMath(config, fused);
  }
}

/**
 * The update of `config` for `vars`, holding its state; a tf.train optimiser (tf.js's own or a
 * recipe's) is wrapped to update through its own `applyGradients`.
 */
export function createUpdateRule(
  config: OptimizerConfig | tf.Optimizer,
  vars: readonly TrainableVariable[],
  options: UpdateRuleOptions = {},
): UpdateRule {
  if (config instanceof tf.Optimizer) return optimizerRule(config, vars);
  const math = updateMath(config, options);
  const variables = vars.map((v) => v.variable);
  const isKernel = vars.map((v) => v.isKernel);
  const slots = math.slotNames.map(() => vars.map((v) => zeroSlot(v.variable.shape)));
  const named: Record<string, readonly tf.Variable[]> = Object.fromEntries(math.slotNames.map((name, s) => [name, slots[s]!]));
  return {
    apply: (grads, iteration) => math.apply(variables, grads, slots, iteration, isKernel),
    slots: named,
    readState: () => readSlots(named),
    restoreState: async (saved) => restoreSlots(named, saved),
    dispose: () => slots.flat().forEach((v) => v.dispose()),
  };
}

/** Host copies of an update rule's slots, slot by slot. */
async function readSlots(slots: UpdateRule['slots']): Promise<Record<string, Float32Array[]>> {
  const out: Record<string, Float32Array[]> = {};
  for (const [name, variables] of Object.entries(slots)) {
    out[name] = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  }
  return out;
}

/** Puts saved slot values back into a fresh update rule's slots, checking they belong to it. */
function restoreSlots(slots: UpdateRule['slots'], saved: Record<string, Float32Array[]>): void {
  const names = Object.keys(slots).sort();
  if (names.join() !== Object.keys(saved).sort().join()) {
    throw new InvalidArgumentError('resume', `the optimiser state holds [${Object.keys(saved).join(', ')}], this optimiser needs [${names.join(', ')}]`);
  }
  for (const name of names) {
    const variables = slots[name]!;
    const values = saved[name]!;
    if (values.length !== variables.length || values.some((v, i) => v.length !== variables[i]!.size)) {
      throw new InvalidArgumentError('resume', `the saved optimiser slot '${name}' does not fit this model's variables`);
    }
    tf.tidy(() => variables.forEach((variable, i) => variable.assign(tf.tensor(values[i]!, variable.shape, 'float32'))));
  }
}

/**
 * A non-trainable zero variable of `shape`: one variable's optimiser state before its first step,
 * for train()'s update rules and the recipe optimisers alike.
 */
export function zeroSlot(shape: readonly number[]): tf.Variable {
  // tf.variable keeps its initial tensor alive; tidy frees that copy, variables survive tidy.
  // tf.zeros is an upload of zeros, where zerosLike is a kernel: on webgpu a GPU program per slot.
  return tf.tidy(() => tf.variable(tf.zeros(shape as number[], 'float32'), false));
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

function sgdMath(learningRate: number, fused: FusedCheck): UpdateMath {
  return {
    slotNames: [],
    apply(variables, grads) {
      tf.tidy(() => {
        if (fused(SGD_UPDATE)) {
          assignAll([variables], runFused(SGD_UPDATE, { x: variables, g: grads }, { learningRate }));
        } else {
          variables.forEach((v, i) => v.assign(v.sub(grads[i]!.mul(learningRate))));
        }
      });
    },
  };
}

function momentumMath(config: Extract<OptimizerConfig, { kind: 'momentum' }>, fused: FusedCheck): UpdateMath {
  const weightDecay = config.weightDecay ?? 0;
  return {
    slotNames: ['velocity'],
    apply(variables, grads, [velocities], iteration, isKernel) {
      const lr = scheduledLearningRate(config, iteration);
      const decay = isKernel.map((k) => (k ? weightDecay : 0));
      tf.tidy(() => {
        if (fused(MOMENTUM_UPDATE)) {
          const out = runFused(MOMENTUM_UPDATE, { x: variables, g: grads, v: velocities! }, { learningRate: lr, momentum: config.momentum, decay });
          assignAll([variables, velocities!], out);
          return;
        }
        variables.forEach((w, i) => {
          const g = decay[i]! > 0 ? grads[i]!.add(w.mul(decay[i]!)) : grads[i]!;
          const next = velocities![i]!.mul(config.momentum).add(g.mul(lr));
          velocities![i]!.assign(next);
          w.assign(w.sub(next));
        });
      });
    },
  };
}

/**
 * TensorFlow 1's AdamOptimizer, which the cnn (the Deep MNIST tutorial) and deep-mlp sources ran:
 * its ApplyAdam kernel's formulas, epsilon added to the uncorrected sqrt(v) (see
 * {@link adamStepSize}). tf.train.adam is not used because it places epsilon differently.
 */
function adamMath(config: Extract<OptimizerConfig, { kind: 'adam' }>, fused: FusedCheck): UpdateMath {
  const beta1 = config.beta1 ?? DEFAULT_ADAM_BETA1;
  const beta2 = config.beta2 ?? DEFAULT_ADAM_BETA2;
  const epsilon = config.epsilon ?? DEFAULT_ADAM_EPSILON;
  return {
    slotNames: ['m', 'v'],
    apply(variables, grads, [m, v], iteration) {
      const lrT = adamStepSize(config, iteration);
      tf.tidy(() => {
        if (fused(ADAM_TF1_UPDATE)) {
          const out = runFused(ADAM_TF1_UPDATE, { x: variables, g: grads, m: m!, v: v! }, { lrT, beta1, beta2, epsilon });
          assignAll([variables, m!, v!], out);
          return;
        }
        variables.forEach((w, i) => {
          const g = grads[i]!;
          const mNext = m![i]!.add(g.sub(m![i]!).mul(1 - beta1));
          const vNext = v![i]!.add(g.square().sub(v![i]!).mul(1 - beta2));
          m![i]!.assign(mNext);
          v![i]!.assign(vNext);
          w.assign(w.sub(mNext.mul(lrT).div(vNext.sqrt().add(epsilon))));
        });
      });
    },
  };
}

/** Where a tf.train optimiser's state goes in a checkpoint: one entry, its weights in getWeights() order. */
const OPTIMIZER_STATE_PREFIX = 'tf.train:';

/**
 * A tf.train optimiser as an update rule: gradients go through its `applyGradients` (it counts
 * steps itself), its state through `getWeights`/`setWeights`. The caller owns the optimiser: it is
 * neither reset nor disposed here.
 */
function optimizerRule(optimizer: tf.Optimizer, vars: readonly TrainableVariable[]): UpdateRule {
  const key = `${OPTIMIZER_STATE_PREFIX}${optimizer.getClassName()}`;
  const fail = (problem: string, cause?: unknown): never => {
    throw new InvalidArgumentError('optimizer', `${optimizer.getClassName()}: ${problem}${cause === undefined ? '' : `: ${errorMessage(cause)}`}`);
  };
  return {
    apply(grads) {
      optimizer.applyGradients(vars.map((v, i) => ({ name: v.variable.name, tensor: grads[i]! })));
    },
    slots: {},
    async readState() {
      let weights: Array<{ name: string; tensor: tf.Tensor }>;
      try {
        weights = await optimizer.getWeights();
      } catch (err) {
        return fail('cannot save its state (getWeights), so it cannot be checkpointed', err);
      }
      try {
        return { [key]: await Promise.all(weights.map(async (w) => Float32Array.from(await w.tensor.data()))) };
      } finally {
        // The step counter comes as a fresh scalar; the rest are the optimiser's own variables.
        tf.dispose(weights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
      }
    },
    async restoreState(saved) {
      const values = saved[key];
      if (values === undefined || Object.keys(saved).length !== 1) {
        return fail(`the saved optimiser state holds [${Object.keys(saved).join(', ')}], this optimiser needs [${key}]`);
      }
      const [iterations, ...rest] = values;
      // tf.js optimisers keep their slots variable by variable, slot after slot (Adam: every m, then every v).
      if (iterations?.length !== 1 || rest.length % Math.max(vars.length, 1) !== 0) {
        return fail("the saved optimiser state does not fit this model's variables");
      }
      if (rest.some((value, j) => value.length !== vars[j % vars.length]!.variable.size)) {
        return fail("the saved optimiser state does not fit this model's variables");
      }
      const named = rest.map((value, j) => {
        const variable = vars[j % vars.length]!.variable;
        return { name: `${variable.name}/slot${Math.floor(j / vars.length)}`, tensor: tf.tensor(value, variable.shape, 'float32') };
      });
      const iter = { name: 'iter', tensor: tf.scalar(iterations[0]!, 'int32') };
      try {
        await optimizer.setWeights([iter, ...named]);
      } catch (err) {
        return fail('cannot restore its state (setWeights)', err);
      } finally {
        tf.dispose([iter.tensor, ...named.map((n) => n.tensor)]);
      }
    },
    dispose: () => undefined,
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
