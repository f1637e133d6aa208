/**
 * What the benchmark says about two models beyond their own numbers: the accuracy difference with
 * its interval, accuracy at equal training time and at equal samples seen (read from the curves),
 * accuracy per digit, and which test images one model gets wrong and the other right.
 */
import { type DifferenceInterval, type IntervalMethod, type Summary, differenceInterval, interpolateAt, summarize, DEFAULT_CONFIDENCE } from '../stats';
import { perClassAccuracy } from '../training/evaluate';
import type { BenchModelRun, BenchSeedRun } from './bench-job';

/** Test images shown per direction in the digit grids. @default 24 */
export const DIGITS_SHOWN = 24;
/** Fractions of the common training time at which accuracies are compared. @default [0.25, 0.5, 1] */
export const EQUAL_TIME_FRACTIONS = [0.25, 0.5, 1];
/** Fractions of the common samples seen (a log axis: a tenth apart). @default [0.01, 0.1, 1] */
export const EQUAL_SAMPLES_FRACTIONS = [0.01, 0.1, 1];

/** Labels and pixels of the test split the runs were evaluated on. */
export interface TestImages {
  labels: Uint8Array;
  /** The image's 784 pixel bytes (0 background .. 255 ink). */
  pixels(index: number): Uint8Array;
}

/** `comparison.testAccuracy`: mean(a) - mean(b) of the final test accuracies, with its interval. */
export interface AccuracyDifference {
  models: [string, string];
  difference: number;
  /** At {@link DEFAULT_CONFIDENCE}; null with fewer than two runs of a model. */
  ci95: [number, number] | null;
  method: IntervalMethod;
  /** The method in words, with its parameters (Welch: df and t quantile). */
  description: string;
  n: [number, number];
  /** Welch only: standard error, Welch-Satterthwaite degrees of freedom, the t quantile used. */
  se?: number;
  df?: number;
  t?: number;
}

/** Both models' accuracy read off their curves at one training time, or one count of samples seen. */
export interface BudgetPoint {
  at: number;
  accuracy: [Summary, Summary];
}

export interface DigitExample {
  /** Position in the test set. */
  index: number;
  label: number;
  /** Each model's prediction in each run (seed order). */
  predicted: [number[], number[]];
  /** The 784 pixel bytes, base64. */
  pixels: string;
}

export interface Disagreement {
  /** How many test images. */
  count: number;
  /** Up to {@link DIGITS_SHOWN}, the digits 0-9 in turn so one class does not fill the grid. */
  shown: DigitExample[];
}

export interface BenchComparison {
  backend: string;
  models: [string, string];
  testAccuracy: AccuracyDifference;
  /**
   * Accuracy at fractions of the training time every run reached, from the evaluations (the
   * recipe's test subset where it has one).
   */
  equalTime: BudgetPoint[];
  /** The same at fractions of the samples seen that every run reached. */
  equalSamples: BudgetPoint[];
  /** Final accuracy on each digit, and how much the second model gains over the first (mean difference). */
  perClass: Array<{ digit: number; accuracy: [Summary, Summary]; gain: number }>;
  /** Images the first model gets wrong in every run and the second right in every run, and the reverse. */
  digits: { aWrongBRight: Disagreement; bWrongARight: Disagreement };
}

export interface CompareOptions {
  interval: IntervalMethod;
}

/**
 * Curves of one run (a bench seed's, or `train`'s result itself): test accuracy at each evaluation
 * against training time and against samples seen.
 */
export function accuracyCurves(seed: Pick<BenchSeedRun, 'history'>, batchSize: number): { time: Array<[number, number]>; samples: Array<[number, number]> } {
  const evals = seed.history.evals.filter((e) => e.testAccuracy !== undefined);
  return {
    time: evals.map((e) => [e.trainSeconds, e.testAccuracy as number]),
    samples: evals.map((e) => [(e.step + 1) * batchSize, e.testAccuracy as number]),
  };
}

/** Rounds down to two significant digits: the point stays inside every curve and reads as a round number. */
function roundDown(x: number): number {
  if (!(x > 0)) return x;
  const unit = 10 ** (Math.floor(Math.log10(x)) - 1);
  // toPrecision: 19 * 0.1 is 1.9000000000000001.
  return Number((Math.floor(x / unit + 1e-9) * unit).toPrecision(2));
}

function budgetPoints(runs: [BenchModelRun, BenchModelRun], axis: 'time' | 'samples', fractions: number[]): BudgetPoint[] {
  const curves = runs.map((r) => r.result.seeds.map((s) => accuracyCurves(s, r.result.batchSize)[axis]));
  const ends = curves.flat().map((c) => (c.length ? c[c.length - 1]![0] : 0));
  const common = Math.min(...ends);
  if (!(common > 0)) return [];
  const out: BudgetPoint[] = [];
  for (const f of fractions) {
    const at = roundDown(common * f);
    const values = curves.map((perSeed) => perSeed.map((c) => interpolateAt(c, at)));
    // Before a run's first evaluation its curve says nothing; such a point is left out.
    if (values.some((v) => v.some(Number.isNaN))) continue;
    out.push({ at, accuracy: [summarize(values[0]!), summarize(values[1]!)] });
  }
  return out;
}

function perClass(a: BenchModelRun, b: BenchModelRun): BenchComparison['perClass'] {
  const classes = a.result.seeds[0]?.confusion.length ?? 0;
  // Each run's accuracy per digit (NaN where the digit had no test images), then per digit over the runs.
  const perRun = (r: BenchModelRun) => r.result.seeds.map((s) => perClassAccuracy(s.confusion));
  const runsA = perRun(a);
  const runsB = perRun(b);
  const accuracy = (runs: number[][], c: number) => summarize(runs.map((p) => p[c]!).filter((v) => !Number.isNaN(v)));
  return Array.from({ length: classes }, (_, digit) => {
    const acc: [Summary, Summary] = [accuracy(runsA, digit), accuracy(runsB, digit)];
    return { digit, accuracy: acc, gain: (acc[1].mean ?? NaN) - (acc[0].mean ?? NaN) };
  });
}

/** Test images `wrong` misclassifies in every run and `right` classifies correctly in every run. */
function disagreement(wrong: Uint8Array[], right: Uint8Array[], images: TestImages, order: 'ab' | 'ba'): Disagreement {
  const labels = images.labels;
  const byClass = new Map<number, number[]>();
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (wrong.every((p) => p[i] !== label) && right.every((p) => p[i] === label)) {
      count++;
      const indices = byClass.get(label);
      if (indices) indices.push(i);
      else byClass.set(label, [i]);
    }
  }
  const digits = [...byClass.keys()].sort((x, y) => x - y);
  const picked: number[] = [];
  for (let round = 0; picked.length < Math.min(DIGITS_SHOWN, count); round++) {
    for (const digit of digits) {
      const i = byClass.get(digit)![round];
      if (i !== undefined && picked.length < DIGITS_SHOWN) picked.push(i);
    }
  }
  picked.sort((x, y) => x - y);
  return {
    count,
    shown: picked.map((index) => {
      const w = wrong.map((p) => p[index]!);
      const r = right.map((p) => p[index]!);
      return { index, label: labels[index]!, predicted: order === 'ab' ? [w, r] : [r, w], pixels: Buffer.from(images.pixels(index)).toString('base64') };
    }),
  };
}

/** Everything the report says about `a` against `b` on one backend. */
export function compareModels(backend: string, a: BenchModelRun, b: BenchModelRun, images: TestImages, o: CompareOptions): BenchComparison {
  const accA = a.result.seeds.map((s) => s.testAccuracy);
  const accB = b.result.seeds.map((s) => s.testAccuracy);
  const interval: DifferenceInterval = differenceInterval(accA, accB, { method: o.interval, level: DEFAULT_CONFIDENCE });
  const models: [string, string] = [a.result.model, b.result.model];
  return {
    backend,
    models,
    testAccuracy: {
      models,
      difference: interval.difference,
      ci95: interval.ci,
      method: interval.method,
      description: interval.description,
      n: [accA.length, accB.length],
      ...(interval.se !== undefined ? { se: interval.se } : {}),
      ...(interval.df !== undefined ? { df: interval.df, t: interval.t } : {}),
    },
    equalTime: budgetPoints([a, b], 'time', EQUAL_TIME_FRACTIONS),
    equalSamples: budgetPoints([a, b], 'samples', EQUAL_SAMPLES_FRACTIONS),
    perClass: perClass(a, b),
    digits: {
      aWrongBRight: disagreement(a.predictions, b.predictions, images, 'ab'),
      bWrongARight: disagreement(b.predictions, a.predictions, images, 'ba'),
    },
  };
}
