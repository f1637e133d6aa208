/**
 * Statistics over repeated runs (seeds): summaries, Student's t, intervals for a difference of
 * means (Welch, bootstrap), and reading values off measured curves. Plain numbers in and out; no
 * tf.js, no Node APIs.
 */
export { mean, median, variance, sd, summarize } from './descriptive';
export type { Summary } from './descriptive';
export { logGamma, regularizedBeta, studentTCdf, studentTQuantile } from './student-t';
export {
  welchInterval,
  bootstrapInterval,
  differenceInterval,
  quantileSorted,
  DEFAULT_CONFIDENCE,
  DEFAULT_BOOTSTRAP_RESAMPLES,
  DEFAULT_BOOTSTRAP_SEED,
  DEFAULT_INTERVAL_METHOD,
  INTERVAL_METHODS,
} from './interval';
export type { DifferenceInterval, IntervalMethod, IntervalOptions } from './interval';
export { interpolateAt, firstCrossing, alignedBand } from './interpolate';
export type { Point, Crossing, Band } from './interpolate';
