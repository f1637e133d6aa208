/**
 * Intervals for the difference of two means measured over a few runs each (seeds): Welch's t
 * interval, which does not assume equal spreads and is exact under normality for any n >= 2, and
 * a percentile bootstrap for those who prefer not to assume a distribution (it needs more runs:
 * with three per group it cannot see beyond the values it has, and its intervals come out short).
 */
import { checkInt, checkOneOf, checkSeed } from '../checks';
import { InvalidArgumentError } from '../errors';
import { Mulberry32 } from '../random';
import { mean, variance } from './descriptive';
import { studentTQuantile } from './student-t';

/** Confidence level of the intervals the benchmark reports. @default 0.95 */
export const DEFAULT_CONFIDENCE = 0.95;
/** Bootstrap resamples. @default 10000 */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;
/** Seed of the bootstrap's generator, so a report is the same each time it is drawn. @default 1 */
export const DEFAULT_BOOTSTRAP_SEED = 1;

export const INTERVAL_METHODS = ['welch', 'bootstrap'] as const;
export type IntervalMethod = (typeof INTERVAL_METHODS)[number];

/** @default 'welch' */
export const DEFAULT_INTERVAL_METHOD: IntervalMethod = 'welch';

export interface DifferenceInterval {
  /** mean(a) - mean(b) */
  difference: number;
  /** [low, high] at the requested level; null when a group has fewer than two values. */
  ci: [number, number] | null;
  method: IntervalMethod;
  /** One line naming the method and its parameters (df, quantile, resamples), or why there is no interval. */
  description: string;
  /** Welch: the standard error of the difference, the Welch-Satterthwaite degrees of freedom and the t quantile used. */
  se?: number;
  df?: number;
  t?: number;
}

export interface IntervalOptions {
  /** @default {@link DEFAULT_CONFIDENCE} */
  level?: number;
  /** @default {@link DEFAULT_INTERVAL_METHOD} */
  method?: IntervalMethod;
  /** Bootstrap only. @default {@link DEFAULT_BOOTSTRAP_RESAMPLES} */
  resamples?: number;
  /** Bootstrap only. @default {@link DEFAULT_BOOTSTRAP_SEED} */
  seed?: number;
}

function checkLevel(level: number): void {
  if (!(typeof level === 'number' && level > 0 && level < 1)) throw new InvalidArgumentError('level', `must be in (0, 1), got ${String(level)}`);
}

/**
 * Welch's interval for mean(a) - mean(b): d ± t * se, se = sqrt(va/na + vb/nb), t the
 * (1 + level)/2 quantile of Student's t with the Welch-Satterthwaite degrees of freedom
 * (va/na + vb/nb)^2 / ((va/na)^2/(na-1) + (vb/nb)^2/(nb-1)).
 */
export function welchInterval(a: readonly number[], b: readonly number[], level = DEFAULT_CONFIDENCE): DifferenceInterval {
  checkLevel(level);
  const difference = mean(a) - mean(b);
  if (a.length < 2 || b.length < 2) {
    return { difference, ci: null, method: 'welch', description: `no interval: Welch's t needs at least 2 runs per model (have ${a.length} and ${b.length})` };
  }
  const qa = variance(a) / a.length;
  const qb = variance(b) / b.length;
  const se = Math.sqrt(qa + qb);
  const pct = `${formatLevel(level)}`;
  if (se === 0) {
    // Both groups constant: no spread to scale by, and every run agreed.
    return { difference, ci: [difference, difference], method: 'welch', se: 0, description: `Welch's t: every run of each model gave the same value, so the ${pct} interval is the difference itself` };
  }
  const df = (qa + qb) ** 2 / (qa ** 2 / (a.length - 1) + qb ** 2 / (b.length - 1));
  const t = studentTQuantile((1 + level) / 2, df);
  return {
    difference,
    ci: [difference - t * se, difference + t * se],
    method: 'welch',
    se,
    df,
    t,
    description: `Welch's t interval (${pct}): standard error ${se.toPrecision(3)}, Welch-Satterthwaite df ${df.toFixed(2)}, t quantile ${t.toFixed(3)}`,
  };
}

/**
 * Percentile bootstrap interval for mean(a) - mean(b): each group resampled with replacement,
 * `resamples` times, from a seeded generator (the same inputs give the same interval).
 */
export function bootstrapInterval(a: readonly number[], b: readonly number[], options: Omit<IntervalOptions, 'method'> = {}): DifferenceInterval {
  const level = options.level ?? DEFAULT_CONFIDENCE;
  checkLevel(level);
  const resamples = checkInt('resamples', options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES, { min: 100 });
  const seed = checkSeed('seed', options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const difference = mean(a) - mean(b);
  if (a.length < 2 || b.length < 2) {
    return { difference, ci: null, method: 'bootstrap', description: `no interval: the bootstrap needs at least 2 runs per model (have ${a.length} and ${b.length})` };
  }
  const rng = new Mulberry32(seed);
  const resampledMean = (values: readonly number[]): number => {
    let s = 0;
    for (let i = 0; i < values.length; i++) s += values[Math.floor(rng.next() * values.length)]!;
    return s / values.length;
  };
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) diffs[r] = resampledMean(a) - resampledMean(b);
  diffs.sort();
  const alpha = (1 - level) / 2;
  return {
    difference,
    ci: [quantileSorted(diffs, alpha), quantileSorted(diffs, 1 - alpha)],
    method: 'bootstrap',
    description: `percentile bootstrap (${formatLevel(level)}): ${resamples} resamples of each model's runs, seed ${seed}`,
  };
}

/** The `q` quantile of sorted values, linear between order statistics (R's type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The interval for mean(a) - mean(b) by the method asked for. */
export function differenceInterval(a: readonly number[], b: readonly number[], options: IntervalOptions = {}): DifferenceInterval {
  const method = checkOneOf('method', options.method ?? DEFAULT_INTERVAL_METHOD, INTERVAL_METHODS);
  return method === 'welch' ? welchInterval(a, b, options.level) : bootstrapInterval(a, b, options);
}

function formatLevel(level: number): string {
  return `${Number((level * 100).toPrecision(6))}%`;
}
