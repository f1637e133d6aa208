import * as tf from '@tensorflow/tfjs';
import { createRng } from '../random';
import { LossName, lossFunction } from './losses';

/**
 * Central-difference step. Source 004 uses 1e-4 in float64; tf.js computes in float32, where
 * rounding of the loss (~1e-7 relative) divided by 2h swamps a small step: at 1e-3 a sigmoid net's
 * check was off by 14%, at 1e-2 the O(h^2) truncation error is the smaller one.
 * @default 1e-2
 */
export const DEFAULT_GRADCHECK_STEP = 1e-2;
/** Entries checked per variable, drawn at random (every entry when the variable is smaller). @default 16 */
export const DEFAULT_GRADCHECK_SAMPLES = 16;
/** Gradients smaller than this are compared absolutely rather than relatively. @default 1e-3 */
export const DEFAULT_GRADCHECK_FLOOR = 1e-3;

export interface GradientCheckOptions {
  /** @default {@link DEFAULT_GRADCHECK_STEP} */
  h?: number;
  /** @default {@link DEFAULT_GRADCHECK_SAMPLES} */
  samplesPerVariable?: number;
  /** @default {@link DEFAULT_GRADCHECK_FLOOR} */
  floor?: number;
  /** Which entries are checked. @default 0 */
  seed?: number;
}

export interface VariableCheck {
  name: string;
  checked: number;
  maxAbsError: number;
  /** max |analytic - numeric| / max(|analytic|, |numeric|, floor). */
  maxRelError: number;
}

export interface GradientCheckResult {
  variables: VariableCheck[];
  maxRelError: number;
}

/**
 * Compares backpropagated gradients (tf.variableGrads) of `loss` with central differences
 * (f(w + h) - f(w - h)) / 2h on sampled entries of every trainable weight, as source 004's
 * `gradient_check` does by hand. The model runs in inference mode, so dropout is off.
 * Weights are restored exactly afterwards, also when the loss throws.
 */
export function gradientCheck(
  model: tf.LayersModel,
  xs: tf.Tensor,
  yTrue: tf.Tensor,
  loss: LossName,
  options: GradientCheckOptions = {},
): GradientCheckResult {
  const h = options.h ?? DEFAULT_GRADCHECK_STEP;
  const samples = options.samplesPerVariable ?? DEFAULT_GRADCHECK_SAMPLES;
  const floor = options.floor ?? DEFAULT_GRADCHECK_FLOOR;
  const rng = createRng(options.seed ?? 0);
  const lossFn = lossFunction(loss);
  const f = (): tf.Scalar => lossFn(yTrue, model.apply(xs, { training: false }) as tf.Tensor);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);

  const analytic = tf.tidy(() => {
    const { grads } = tf.variableGrads(f, vars);
    return vars.map((v) => grads[v.name].dataSync().slice());
  });
  const lossAt = (): number => tf.tidy(() => f().dataSync()[0]);

  const variables = vars.map((v, vi) => {
    const original = v.dataSync().slice();
    const work = original.slice();
    const picks =
      original.length <= samples
        ? Array.from({ length: original.length }, (_, i) => i)
        : Array.from({ length: samples }, () => Math.floor(rng() * original.length));
    let maxAbsError = 0;
    let maxRelError = 0;
    const set = (values: typeof work) => tf.tidy(() => v.assign(tf.tensor(values, v.shape, v.dtype)));
    try {
      for (const i of picks) {
        work[i] = original[i] + h;
        set(work);
        const plus = lossAt();
        work[i] = original[i] - h;
        set(work);
        const minus = lossAt();
        work[i] = original[i];
        const numeric = (plus - minus) / (2 * h);
        const a = analytic[vi][i];
        const abs = Math.abs(a - numeric);
        maxAbsError = Math.max(maxAbsError, abs);
        maxRelError = Math.max(maxRelError, abs / Math.max(Math.abs(a), Math.abs(numeric), floor));
      }
    } finally {
      // A loss that throws half-way must not leave a weight moved by h in the caller's model.
      set(original);
    }
    return { name: v.name, checked: picks.length, maxAbsError, maxRelError };
  });
  return { variables, maxRelError: Math.max(0, ...variables.map((v) => v.maxRelError)) };
}
