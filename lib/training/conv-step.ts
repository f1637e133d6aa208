/**
 * The conv step: convolution and max-pooling layers in front of a dense step, differentiated by
 * hand, for a backend where each piece is one GPU program (webgpu, with lib/kernels/webgpu). The
 * tape pays there in programs: under a gradient tape tf.js does not fuse a product's bias and
 * activation (the fused ops' gradients handle only linear ones), softmaxCrossEntropy's forward
 * and custom gradient are 20 small programs, and every bias gradient a transpose and a reduction.
 * For the cnn recipe that was 62 of the step's programs besides the optimiser's; here:
 *
 * - forward: each conv layer one _FusedConv2D with its bias and ReLU, each pool one MaxPool, the
 *   dense layers as in dense-step.ts (_FusedMatMul), dropout one kernel (its mask drawn exactly as
 *   tf.layers' Dropout draws it, so the same seed gives the same masks as the tape on wasm);
 * - backward: the dense step's (loss with its gradient in one kernel, activation and bias
 *   gradients in one, two products per layer, dropout one), then per conv block the pool and
 *   ReLU gradient in one kernel, the bias gradient one reduction, the filter gradient and (but
 *   for the first layer) the input gradient one kernel each.
 *
 * The gradients are the tape's (tf.js's MaxPoolGrad, Relu and Conv2D gradients, written out), so
 * the two agree to float32 rounding. Used under `gradients: 'auto'` only where the backend has the
 * kernels of lib/kernels/webgpu/names.ts; on wasm and cpu the cnn keeps the tape, whose speed and
 * results docs/RESULTS.md records.
 */
import * as tf from '@tensorflow/tfjs';
import { LAYER_STEP_KERNELS, POOL_RELU_GRAD } from '../kernels/webgpu/names';
import { DenseUnit, TrainingStep, TrainingStepOptions, denseStep, denseUnitsOf, unitsMismatch, useDenseGradKernels } from './dense-step';
import type { LossName } from './losses';

type Pair = [number, number];

interface ConvLayer {
  kind: 'conv';
  kernel: tf.Variable;
  bias?: tf.Variable;
  relu: boolean;
  strides: Pair;
  pad: 'same' | 'valid';
}

interface PoolLayer {
  kind: 'pool';
  filterSize: Pair;
  strides: Pair;
  pad: 'same' | 'valid';
}

type FrontLayer = ConvLayer | PoolLayer;

/** What the conv step runs: conv and pool layers, a flatten, then a dense step with dropout. */
export interface ConvPlan {
  front: FrontLayer[];
  units: DenseUnit[];
  /** Dropout rate after dense unit i. */
  dropout: (number | undefined)[];
}

function pair(value: unknown): Pair {
  const v = Array.isArray(value) ? value : [value, value];
  return [Number(v[0]), Number(v[1])];
}

/** The plan of `model`, or why the conv step cannot train it. */
export function convPlan(model: tf.LayersModel): ConvPlan | { reason: string } {
  if (model.getClassName() !== 'Sequential') return { reason: `a ${model.getClassName()} model, not a Sequential stack` };
  const front: FrontLayer[] = [];
  const denseLayers: tf.layers.Layer[] = [];
  const dropout: (number | undefined)[] = [];
  let flattened = false;
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    const config = layer.getConfig() as Record<string, unknown>;
    if (!layer.trainable) return { reason: `layer ${layer.name} is frozen` };
    if (!flattened) {
      if (config['dataFormat'] !== undefined && config['dataFormat'] !== 'channelsLast') return { reason: `layer ${layer.name} is not channels-last` };
      if (kind === 'Conv2D') {
        for (const key of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer']) {
          if (config[key] != null) return { reason: `layer ${layer.name} has a ${key}` };
        }
        const activation = String(config['activation']);
        if (activation !== 'relu' && activation !== 'linear') return { reason: `conv layer ${layer.name} has activation '${activation}'` };
        if (pair(config['dilationRate']).some((d) => d !== 1)) return { reason: `conv layer ${layer.name} is dilated` };
        const weights = new Map(layer.trainableWeights.map((w) => [w.originalName.split('/').pop(), w.read() as tf.Variable]));
        const kernel = weights.get('kernel');
        if (!kernel || kernel.rank !== 4) return { reason: `conv layer ${layer.name} has no rank-4 kernel` };
        front.push({ kind: 'conv', kernel, bias: weights.get('bias'), relu: activation === 'relu', strides: pair(config['strides']), pad: config['padding'] as 'same' | 'valid' });
      } else if (kind === 'MaxPooling2D') {
        front.push({ kind: 'pool', filterSize: pair(config['poolSize']), strides: pair(config['strides'] ?? config['poolSize']), pad: config['padding'] as 'same' | 'valid' });
      } else if (kind === 'Flatten') {
        flattened = true;
      } else {
        return { reason: `layer ${layer.name} is a ${kind} before the Flatten` };
      }
    } else if (kind === 'Dropout') {
      if (config['noiseShape'] != null || config['seed'] != null) return { reason: `dropout layer ${layer.name} has a noise shape or seed of its own` };
      const units = denseLayers.filter((l) => l.getClassName() === 'Dense').length;
      if (units === 0 || dropout[units - 1] !== undefined) return { reason: `dropout layer ${layer.name} does not follow a Dense layer` };
      dropout[units - 1] = Number(config['rate']);
    } else {
      denseLayers.push(layer);
    }
  }
  if (!front.some((l) => l.kind === 'conv')) return { reason: 'no Conv2D layer in front of a Flatten' };
  const dense = denseUnitsOf(denseLayers);
  if ('reason' in dense) return dense;
  if (dropout.length >= dense.units.length) return { reason: 'a dropout layer after the last layer' };
  return { front, units: dense.units, dropout };
}

/** Options of {@link createConvStep}. */
export interface ConvStepOptions extends TrainingStepOptions {
  /**
   * Use the conv step on any backend, composing its pieces from tf.js ops where the backend lacks
   * its kernels (tests, to check it against the tape on cpu). @default false
   */
  anyBackend?: boolean;
}

/** Whether the current backend runs the conv step's own kernels. */
export function hasConvStepKernels(): boolean {
  return LAYER_STEP_KERNELS.every((name) => tf.getKernel(name, tf.getBackend()) != null);
}

/**
 * The gradient through a pool layer (and the ReLU before it): one kernel (`kernel`: the backend
 * had it when the step was made), or tf.js's MaxPoolGrad and Relu gradient.
 */
function poolGrad(dy: tf.Tensor, input: tf.Tensor, output: tf.Tensor, pool: PoolLayer, relu: boolean, kernel: boolean): tf.Tensor {
  const attrs = { filterSize: pool.filterSize, strides: pool.strides, pad: pool.pad, dimRoundingMode: undefined };
  if (kernel) {
    return tf.engine().runKernel(POOL_RELU_GRAD, { dy, input, output }, { ...attrs, relu } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  const dx = tf.engine().runKernel(tf.MaxPoolGrad, { dy, input, output }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  return relu ? tf.mul(dx, tf.step(input)) : dx;
}

function convAttrs(conv: ConvLayer): Record<string, unknown> {
  return { strides: conv.strides, pad: conv.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
}

/**
 * The conv step for `model`, or why it does not apply: not such a model, or (without
 * `anyBackend`) a backend without the step's kernels.
 */
export function createConvStep(
  model: tf.LayersModel,
  loss: LossName,
  vars: readonly tf.Variable[],
  options: ConvStepOptions = {},
): TrainingStep | { reason: string } {
  if (!options.anyBackend && !hasConvStepKernels()) return { reason: `the ${tf.getBackend()} backend has no conv-step kernels` };
  const plan = convPlan(model);
  if ('reason' in plan) return plan;
  const convs = plan.front.filter((l): l is ConvLayer => l.kind === 'conv');
  const convVars = convs.flatMap((c) => (c.bias ? [c.kernel, c.bias] : [c.kernel]));
  const mismatch = unitsMismatch(plan.units, convVars, vars, loss);
  if (mismatch) return { reason: mismatch };
  const slot = new Map(vars.map((v, i) => [v, i]));
  const tail = denseStep(plan.units, loss, vars, useDenseGradKernels(options), { dropout: plan.dropout, inputGrad: true });
  const { front } = plan;
  const firstConv = front.findIndex((l) => l.kind === 'conv');
  // Looked up once, as the dense tail's dropout is: the kernels a step uses are those of its backend when it is made.
  const poolKernel = tf.getKernel(POOL_RELU_GRAD, tf.getBackend()) != null;
  return {
    method: 'conv',
    run: (x, y) => {
      const saved: { input: tf.Tensor; out: tf.Tensor }[] = [];
      let a = x;
      for (const layer of front) {
        const out =
          layer.kind === 'conv'
            ? (tf.engine().runKernel(
                tf.FusedConv2D,
                { x: a, filter: layer.kernel, ...(layer.bias ? { bias: layer.bias } : {}) },
                { ...convAttrs(layer), activation: layer.relu ? 'relu' : 'linear', leakyreluAlpha: 0 } as unknown as tf.NamedAttrMap,
              ) as tf.Tensor)
            : tf.maxPool(a as tf.Tensor4D, layer.filterSize, layer.strides, layer.pad);
        saved.push({ input: a, out });
        a = out;
      }
      const { loss: value, grads, inputGrad } = tail(tf.reshape(a, [a.shape[0]!, -1]), y);
      let g = tf.reshape(inputGrad!, a.shape);
      // Set when a pool's gradient already went through the ReLU of the conv layer before it.
      let reluDone = false;
      for (let i = front.length - 1; i >= firstConv; i--) {
        const layer = front[i]!;
        const s = saved[i]!;
        if (layer.kind === 'pool') {
          const before = front[i - 1];
          reluDone = before?.kind === 'conv' && before.relu;
          g = poolGrad(g, s.input, s.out, layer, reluDone, poolKernel);
          continue;
        }
        const dz = layer.relu && !reluDone ? tf.mul(g, tf.step(s.out)) : g;
        reluDone = false;
        const attrs = convAttrs(layer);
        if (layer.bias) grads[slot.get(layer.bias)!] = tf.sum(dz, [0, 1, 2]);
        grads[slot.get(layer.kernel)!] = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: s.input, dy: dz }, {
          ...attrs,
          filterShape: layer.kernel.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        if (i > firstConv) {
          g = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz, filter: layer.kernel }, {
            ...attrs,
            inputShape: s.input.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
        }
      }
      return { loss: value, grads };
    },
  };
}
