/**
 * The recipes' optimisers as tf.train optimisers, for `model.compile` / `model.fit` and anything
 * else that takes a `tf.Optimizer`: TensorFlow 1's Adam, Caffe's momentum with its learning-rate
 * policy and weight decay, and plain SGD. Each updates through the same arithmetic as train()'s
 * update rules ({@link updateMath}: the fused kernels on wasm and cpu, tf.js ops elsewhere), keeps
 * its state as tf.js's own optimisers do (slots by position of the gradients, a step counter that
 * `getWeights`/`setWeights` carry), and is registered with tf.serialization like them, so a
 * training config naming it deserialises once this module is loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';
import {
  DEFAULT_ADAM_BETA1,
  DEFAULT_ADAM_BETA2,
  DEFAULT_ADAM_EPSILON,
  LrPolicy,
  OptimizerConfig,
  UpdateMath,
  checkOptimizerConfig,
  isKernelVariable,
  updateMath,
  zeroSlot,
} from './optimizers';

type NamedTensor = { name: string; tensor: tf.Tensor };
type AdamConfig = Extract<OptimizerConfig, { kind: 'adam' }>;
type MomentumConfig = Extract<OptimizerConfig, { kind: 'momentum' }>;
type SgdConfig = Extract<OptimizerConfig, { kind: 'sgd' }>;

/** What every recipe optimiser shares: the state, the step counter, serialisation. */
export abstract class RecipeOptimizer extends tf.Optimizer {
  /** The optimiser as train() and saved metadata describe it. */
  readonly config: OptimizerConfig;
  readonly learningRate: number;
  private readonly math: UpdateMath;
  /** `slots[s][i]`: slot `s` of the i-th variable in the order gradients arrive. */
  private slots: Array<Array<{ originalName: string; variable: tf.Variable } | undefined>>;

  protected constructor(config: OptimizerConfig) {
    super();
    this.config = checkOptimizerConfig(config);
    this.learningRate = config.learningRate;
    this.math = updateMath(config);
    this.slots = this.math.slotNames.map(() => []);
  }

  /**
   * One step from gradients by variable name; a variable without a gradient (null) is left as it
   * is. State is created on the first step, zero, slot by slot per variable position, as tf.js's
   * own optimisers do.
   */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name]! }));
    const variables: tf.Variable[] = [];
    const grads: tf.Tensor[] = [];
    const isKernel: boolean[] = [];
    const state: tf.Variable[][] = this.math.slotNames.map(() => []);
    entries.forEach(({ name, tensor }, i) => {
      const variable = tf.engine().registeredVariables[name];
      if (variable === undefined) throw new InvalidArgumentError('variableGradients', `no variable named '${name}'`);
      this.math.slotNames.forEach((slot, s) => {
        this.slots[s]![i] ??= { originalName: `${name}/${slot}`, variable: zeroSlot(variable.shape) };
      });
      if (tensor == null) return;
      variables.push(variable);
      grads.push(tensor);
      isKernel.push(isKernelVariable(name));
      this.math.slotNames.forEach((_, s) => state[s]!.push(this.slots[s]![i]!.variable));
    });
    if (variables.length > 0) this.math.apply(variables, grads, state, this.iterations, isKernel);
    this.incrementIterations();
  }

  /** The step counter, then every variable's first slot, then every variable's second (tf.js's order). */
  override async getWeights(): Promise<NamedTensor[]> {
    const slots = this.slots.flatMap((slot) => slot.filter((s) => s !== undefined).map((s) => ({ name: s.originalName, tensor: s.variable as tf.Tensor })));
    return [await this.saveIterations(), ...slots];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const values = await this.extractIterations(weightValues);
    const slotCount = this.math.slotNames.length;
    if (slotCount === 0 ? values.length !== 0 : values.length % slotCount !== 0) {
      throw new InvalidArgumentError('weightValues', `${this.getClassName()} keeps ${slotCount} slot(s) per variable, got ${values.length} weights besides the step counter`);
    }
    this.disposeSlots();
    const perSlot = slotCount === 0 ? 0 : values.length / slotCount;
    this.slots = this.math.slotNames.map((_, s) =>
      values.slice(s * perSlot, (s + 1) * perSlot).map((v) => ({ originalName: v.name, variable: v.tensor.variable(false) })),
    );
  }

  override dispose(): void {
    this.disposeSlots();
    super.dispose();
  }

  private disposeSlots(): void {
    for (const slot of this.slots) for (const s of slot) s?.variable.dispose();
    this.slots = this.math.slotNames.map(() => []);
  }
}

/**
 * TensorFlow 1's AdamOptimizer (its ApplyAdam kernel): epsilon added to the uncorrected sqrt(v),
 * where tf.train.adam adds it to sqrt(v-hat). The cnn and deep-mlp sources ran this one.
 */
export class Tf1AdamOptimizer extends RecipeOptimizer {
  static className = 'Tf1Adam';

  constructor(options: Omit<AdamConfig, 'kind'>) {
    super({ kind: 'adam', ...options });
  }

  getConfig(): tf.serialization.ConfigDict {
    const c = this.config as AdamConfig;
    return {
      learningRate: c.learningRate,
      beta1: c.beta1 ?? DEFAULT_ADAM_BETA1,
      beta2: c.beta2 ?? DEFAULT_ADAM_BETA2,
      epsilon: c.epsilon ?? DEFAULT_ADAM_EPSILON,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new (cls as unknown as typeof Tf1AdamOptimizer)({
      learningRate: config['learningRate'] as number,
      beta1: config['beta1'] as number,
      beta2: config['beta2'] as number,
      epsilon: config['epsilon'] as number,
    }) as unknown as T;
  }
}

/**
 * Caffe's momentum SGD (source 001): v = momentum v + lr(iter) (g + weightDecay w); w -= v, with
 * weight decay on kernels only and the learning rate from the policy (`inv`: lr (1 + gamma
 * iter)^-power). tf.train.momentum folds lr outside the velocity and has neither.
 */
export class CaffeMomentumOptimizer extends RecipeOptimizer {
  static className = 'CaffeMomentum';

  constructor(options: Omit<MomentumConfig, 'kind'>) {
    super({ kind: 'momentum', ...options });
  }

  /** Flat, as tf.js's own configs are: the policy as its name and its two numbers. */
  getConfig(): tf.serialization.ConfigDict {
    const c = this.config as MomentumConfig;
    const policy = c.policy ?? { kind: 'fixed' };
    return {
      learningRate: c.learningRate,
      momentum: c.momentum,
      weightDecay: c.weightDecay ?? 0,
      policy: policy.kind,
      ...(policy.kind === 'inv' ? { gamma: policy.gamma, power: policy.power } : {}),
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const policy: LrPolicy =
      config['policy'] === 'inv' ? { kind: 'inv', gamma: config['gamma'] as number, power: config['power'] as number } : { kind: 'fixed' };
    return new (cls as unknown as typeof CaffeMomentumOptimizer)({
      learningRate: config['learningRate'] as number,
      momentum: config['momentum'] as number,
      weightDecay: config['weightDecay'] as number,
      policy,
    }) as unknown as T;
  }
}

/** Plain SGD, w -= lr g, through the same fused kernel train() uses on wasm and cpu. */
export class RecipeSgdOptimizer extends RecipeOptimizer {
  static className = 'RecipeSGD';

  constructor(options: Omit<SgdConfig, 'kind'>) {
    super({ kind: 'sgd', ...options });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.config.learningRate };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new (cls as unknown as typeof RecipeSgdOptimizer)({ learningRate: config['learningRate'] as number }) as unknown as T;
  }
}

tf.serialization.registerClass(Tf1AdamOptimizer);
tf.serialization.registerClass(CaffeMomentumOptimizer);
tf.serialization.registerClass(RecipeSgdOptimizer);

/** The tf.train optimiser of an optimiser config. */
export function optimizerFromConfig(config: OptimizerConfig): RecipeOptimizer {
  checkOptimizerConfig(config);
  const { kind, ...options } = config;
  switch (kind) {
    case 'adam':
      return new Tf1AdamOptimizer(options as Omit<AdamConfig, 'kind'>);
    case 'momentum':
      return new CaffeMomentumOptimizer(options as Omit<MomentumConfig, 'kind'>);
    case 'sgd':
      return new RecipeSgdOptimizer(options as Omit<SgdConfig, 'kind'>);
  }
}
