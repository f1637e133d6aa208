import * as tf from '@tensorflow/tfjs';
import { checkPositiveNumber, checkRate } from '../checks';

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
  /** tf.train.adam; epsilon defaults to TensorFlow 1's 1e-8 (tf.js's own default is 1e-7). */
  | { kind: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number };

/** TensorFlow 1.x AdamOptimizer's epsilon, which the cnn and deep-mlp sources ran with. @default 1e-8 */
export const DEFAULT_ADAM_EPSILON = 1e-8;

export function learningRateAt(config: OptimizerConfig, iteration: number): number {
  if (config.kind === 'momentum' && config.policy?.kind === 'inv') {
    return config.learningRate * Math.pow(1 + config.policy.gamma * iteration, -config.policy.power);
  }
  return config.learningRate;
}

/** One trainable variable with what the update needs to know about it. */
export interface TrainableVariable {
  variable: tf.Variable;
  /** Kernels get weight decay; biases and PReLU slopes do not. */
  isKernel: boolean;
}

/** Applies one update from gradients; owns any optimiser state (velocities, moments). */
export interface UpdateRule {
  apply(grads: readonly tf.Tensor[], iteration: number): void;
  dispose(): void;
}

export function checkOptimizerConfig(config: OptimizerConfig): OptimizerConfig {
  checkPositiveNumber('learningRate', config.learningRate);
  if (config.kind === 'momentum') checkRate('momentum', config.momentum);
  return config;
}

export function createUpdateRule(config: OptimizerConfig, vars: readonly TrainableVariable[]): UpdateRule {
  checkOptimizerConfig(config);
  switch (config.kind) {
    case 'sgd':
      return sgdRule(config.learningRate, vars);
    case 'momentum':
      return momentumRule(config, vars);
    case 'adam':
      return adamRule(config, vars);
  }
}

function sgdRule(learningRate: number, vars: readonly TrainableVariable[]): UpdateRule {
  const lr = tf.keep(tf.scalar(-learningRate));
  return {
    apply(grads) {
      tf.tidy(() => vars.forEach((v, i) => v.variable.assign(v.variable.add(grads[i].mul(lr)))));
    },
    dispose: () => lr.dispose(),
  };
}

function momentumRule(config: Extract<OptimizerConfig, { kind: 'momentum' }>, vars: readonly TrainableVariable[]): UpdateRule {
  // tf.variable keeps its initial tensor alive; tidy frees that copy, variables survive tidy.
  const velocities = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v.variable), false)));
  const decay = config.weightDecay ?? 0;
  return {
    apply(grads, iteration) {
      const lr = learningRateAt(config, iteration);
      tf.tidy(() => {
        vars.forEach((v, i) => {
          const g = v.isKernel && decay > 0 ? grads[i].add(v.variable.mul(decay)) : grads[i];
          const next = velocities[i].mul(config.momentum).add(g.mul(lr));
          velocities[i].assign(next);
          v.variable.assign(v.variable.sub(next));
        });
      });
    },
    dispose: () => velocities.forEach((v) => v.dispose()),
  };
}

function adamRule(config: Extract<OptimizerConfig, { kind: 'adam' }>, vars: readonly TrainableVariable[]): UpdateRule {
  const optimizer = tf.train.adam(
    config.learningRate,
    config.beta1 ?? 0.9,
    config.beta2 ?? 0.999,
    config.epsilon ?? DEFAULT_ADAM_EPSILON,
  );
  return {
    apply(grads) {
      optimizer.applyGradients(vars.map((v, i) => ({ name: v.variable.name, tensor: grads[i] })));
    },
    dispose: () => optimizer.dispose(),
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
      return `Adam lr ${config.learningRate}`;
  }
}
