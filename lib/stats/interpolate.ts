/**
 * Reading values off measured curves (points (x, y) in increasing x): a value between two
 * measurements, the x at which a curve first reaches a level, and several runs' curves on one
 * grid so that their spread can be drawn as a band.
 */
import { InvalidArgumentError } from '../errors';
import { mean, sd } from './descriptive';

export type Point = readonly [number, number];

function checkPoints(argument: string, points: readonly Point[]): void {
  if (!Array.isArray(points)) throw new InvalidArgumentError(argument, 'must be an array of [x, y] points');
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!Array.isArray(p) || p.length !== 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new InvalidArgumentError(`${argument}[${i}]`, `must be a pair of finite numbers, got ${JSON.stringify(p)}`);
    }
    if (i > 0 && p[0] < points[i - 1]![0]) throw new InvalidArgumentError(argument, `x must not decrease: ${points[i - 1]![0]} then ${p[0]} at ${i}`);
  }
}

/**
 * y at `x`, linear between the measured points around it; NaN outside the measured range (a
 * curve says nothing past its last measurement). At a repeated x, the later point's y.
 */
export function interpolateAt(points: readonly Point[], x: number): number {
  checkPoints('points', points);
  const n = points.length;
  if (n === 0 || !(x >= points[0]![0] && x <= points[n - 1]![0])) return NaN;
  let k = 1;
  while (k < n && points[k]![0] < x) k++;
  if (k === n) return points[n - 1]![1];
  const [x0, y0] = points[k - 1]!;
  const [x1, y1] = points[k]!;
  if (x1 === x0) return y1;
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

export interface Crossing {
  /** The x where the curve first reaches the level, linear between the two measurements around it. */
  x: number;
  /**
   * How finely that is known: the distance between those two measurements (the crossing lies
   * between them); for a curve already at the level at its first point, that point's x.
   */
  resolution: number;
}

/** Where `points` first reach `level` (y >= level), or null when they never do. */
export function firstCrossing(points: readonly Point[], level: number): Crossing | null {
  checkPoints('points', points);
  const k = points.findIndex(([, y]) => y >= level);
  if (k < 0) return null;
  const [x1, y1] = points[k]!;
  if (k === 0) return { x: x1, resolution: Math.abs(x1) };
  const [x0, y0] = points[k - 1]!;
  return { x: y1 === y0 ? x1 : x0 + ((level - y0) * (x1 - x0)) / (y1 - y0), resolution: x1 - x0 };
}

/** Several runs' curves side by side: at each point, x and the mean, sd, min and max of y. */
export interface Band {
  x: number[];
  mean: number[];
  /** NaN with a single run. */
  sd: number[];
  min: number[];
  max: number[];
}

/**
 * Runs' curves taken point by point: the k-th point of every run (the same step, or the same
 * evaluation of a schedule every run followed) gives x (the runs' mean x: their training times
 * differ a little) and the spread of y. Runs of different lengths are read up to the shortest.
 * At most `maxPoints` points, evenly spaced by index, the last always kept.
 */
export function alignedBand(curves: ReadonlyArray<readonly Point[]>, maxPoints = Infinity): Band {
  if (curves.length === 0) throw new InvalidArgumentError('curves', 'must hold at least one curve');
  curves.forEach((c, i) => checkPoints(`curves[${i}]`, c));
  if (!(maxPoints >= 2)) throw new InvalidArgumentError('maxPoints', `must be at least 2, got ${maxPoints}`);
  const n = Math.min(...curves.map((c) => c.length));
  const out: Band = { x: [], mean: [], sd: [], min: [], max: [] };
  if (n === 0) return out;
  const count = Math.min(n, maxPoints);
  for (let j = 0; j < count; j++) {
    const k = count === 1 ? 0 : Math.round((j * (n - 1)) / (count - 1));
    const ys = curves.map((c) => c[k]![1]);
    out.x.push(mean(curves.map((c) => c[k]![0])));
    out.mean.push(mean(ys));
    out.sd.push(ys.length >= 2 ? sd(ys) : NaN);
    out.min.push(Math.min(...ys));
    out.max.push(Math.max(...ys));
  }
  return out;
}
