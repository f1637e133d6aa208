/** Smoothing noisy per-step curves (training loss) for plotting next to the raw points. */

import { InvalidArgumentError } from '../errors';

/** Options of `smoothSeries`. */
export interface SmoothOptions {
  /** Fit log10(y): right for a loss drawn on a log axis, and not dragged up by single spikes. @default false */
  logY?: boolean;
  /** Measure the window in log10(x), for a curve drawn on a log x axis. @default false */
  logX?: boolean;
}

/**
 * A local linear fit: each point's smoothed value is the least-squares line through the points
 * within `halfWidth` of it along x (axis units, so curves with many or few points on one chart are
 * smoothed alike), evaluated at the point. Unlike a moving average it does not flatten the steep
 * start of a loss curve, and near the ends, where the window is cut off on one side, it neither lags
 * nor falls back to the raw noise. Points that cannot be drawn (non-finite, or <= 0 on a log axis)
 * are dropped. `points` must be in increasing x. O(n) with running sums.
 */
export function smoothSeries(points: Array<[number, number]>, halfWidth: number, options: SmoothOptions = {}): Array<[number, number]> {
  if (!(Number.isFinite(halfWidth) && halfWidth >= 0)) throw new InvalidArgumentError('halfWidth', `must be a finite number >= 0, got ${halfWidth}`);
  const logX = options.logX ?? false;
  const logY = options.logY ?? false;
  const kept = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0));
  const n = kept.length;
  if (n === 0) return [];
  // Centred on the first x, so the sums of x and x^2 stay small next to their differences.
  const origin = logX ? Math.log10(kept[0]![0]) : kept[0]![0];
  const xs = kept.map(([x]) => (logX ? Math.log10(x) : x) - origin);
  const ys = kept.map(([, y]) => (logY ? Math.log10(y) : y));
  for (let i = 1; i < n; i++) {
    if (xs[i]! < xs[i - 1]!) throw new InvalidArgumentError('points', `must be in increasing x; point ${i} goes back`);
  }
  const sum = (f: (i: number) => number) => {
    const prefix = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + f(i);
    return (lo: number, hi: number) => prefix[hi + 1]! - prefix[lo]!;
  };
  const sx = sum((i) => xs[i]!);
  const sxx = sum((i) => xs[i]! * xs[i]!);
  const sy = sum((i) => ys[i]!);
  const sxy = sum((i) => xs[i]! * ys[i]!);
  const out: Array<[number, number]> = [];
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    while (xs[lo]! < x - halfWidth) lo++;
    if (hi < i) hi = i;
    while (hi + 1 < n && xs[hi + 1]! <= x + halfWidth) hi++;
    const m = hi + 1 - lo;
    // The line y = a + b (x' - x) through the window, at x' = x: a.
    const u = sx(lo, hi) - m * x;
    const uu = sxx(lo, hi) - 2 * x * sx(lo, hi) + m * x * x;
    const uy = sxy(lo, hi) - x * sy(lo, hi);
    const det = m * uu - u * u;
    const a = det > 1e-12 * Math.max(1, m * uu) ? (sy(lo, hi) * uu - u * uy) / det : sy(lo, hi) / m;
    out.push([kept[i]![0], logY ? 10 ** a : a]);
  }
  return out;
}
