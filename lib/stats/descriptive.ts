/** Summaries of a handful of repeated measurements (one per seed): mean, spread, range. */
import { InvalidArgumentError } from '../errors';

/**
 * A measurement over runs. `n` counts the runs that have a value (e.g. those that reached a target
 * accuracy); with `n` 0 every field is null, with `n` 1 `sd` is null (one run has no spread).
 */
export interface Summary {
  mean: number | null;
  /** Sample standard deviation (divisor n - 1). */
  sd: number | null;
  min: number | null;
  max: number | null;
  n: number;
}

function checkFinite(argument: string, values: readonly number[]): void {
  if (!Array.isArray(values)) throw new InvalidArgumentError(argument, 'must be an array of numbers');
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgumentError(`${argument}[${i}]`, `must be a finite number, got ${String(v)}`);
  });
}

/** Arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  checkFinite('values', values);
  if (values.length === 0) return NaN;
  // Around the first value: keeps digits when the values are large and close (samples/s).
  const shift = values[0]!;
  return shift + values.reduce((s, v) => s + (v - shift), 0) / values.length;
}

/** The middle value, or the mean of the two middle values; NaN for no values. Left unsorted. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const half = s.length >> 1;
  return s.length % 2 ? s[half]! : (s[half - 1]! + s[half]!) / 2;
}

/** Sample variance (divisor n - 1); NaN for fewer than two values. Two passes, for accuracy. */
export function variance(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  return values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1);
}

/** Sample standard deviation (divisor n - 1); NaN for fewer than two values. */
export function sd(values: readonly number[]): number {
  return Math.sqrt(variance(values));
}

/** Mean, sd, min, max and count of `values`, nulls where a field needs more values than there are. */
export function summarize(values: readonly number[]): Summary {
  checkFinite('values', values);
  const n = values.length;
  if (n === 0) return { mean: null, sd: null, min: null, max: null, n };
  return { mean: mean(values), sd: n >= 2 ? sd(values) : null, min: Math.min(...values), max: Math.max(...values), n };
}
