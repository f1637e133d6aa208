/**
 * The one one-hot encoder: class indices to rows of target values, as a typed array. Dataset
 * tensors, training batches and evaluation losses all build their targets with it.
 */

/** Target values for one-hot encoding: source 002 trains towards 0.01 / 0.99 instead of 0 / 1. */
export interface TargetValues {
  /** @default 0 */
  off: number;
  /** @default 1 */
  on: number;
}
export const DEFAULT_TARGETS: TargetValues = { off: 0, on: 1 };

/**
 * Rows [n, numClasses] with `targets.on` at each label and `targets.off` elsewhere, for the
 * labels at `rows` (all labels, in order, when omitted). Labels must be below `numClasses`.
 */
export function oneHotRows(
  labels: Uint8Array,
  numClasses: number,
  targets: TargetValues = DEFAULT_TARGETS,
  rows?: ArrayLike<number>,
): Float32Array {
  const n = rows === undefined ? labels.length : rows.length;
  const out = new Float32Array(n * numClasses);
  if (targets.off !== 0) out.fill(targets.off);
  for (let i = 0; i < n; i++) out[i * numClasses + labels[rows === undefined ? i : rows[i]]] = targets.on;
  return out;
}
