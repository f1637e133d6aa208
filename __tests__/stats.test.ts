import { InvalidArgumentError } from '../lib/errors';
import {
  alignedBand,
  bootstrapInterval,
  differenceInterval,
  firstCrossing,
  interpolateAt,
  logGamma,
  mean,
  median,
  quantileSorted,
  regularizedBeta,
  sd,
  studentTCdf,
  studentTQuantile,
  summarize,
  welchInterval,
} from '../lib/stats';

describe('summaries', () => {
  it('median: the middle value, the mean of the two middle ones, NaN for none; the input left as it was', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 10])).toBe(3.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  test('mean, sd and summary of the seed spread quoted in the issue, by hand', () => {
    // two-layer-net's recipe, seeds 1-3: 94.64, 94.52, 94.62. Mean 283.78 / 3 = 94.593333...;
    // deviations 0.046667, -0.073333, 0.026667; squares 0.0021778 + 0.0053778 + 0.0007111 = 0.0082667;
    // over n - 1 = 2: 0.0041333; sd = 0.064291.
    const v = [94.64, 94.52, 94.62];
    expect(mean(v)).toBeCloseTo(94.593333333, 8);
    expect(sd(v)).toBeCloseTo(0.0642910, 6);
    expect(summarize(v)).toEqual({ mean: expect.closeTo(94.5933333, 6), sd: expect.closeTo(0.064291, 5), min: 94.52, max: 94.64, n: 3 });
  });

  test('one value has no spread, none has nothing; the fields stay, as null', () => {
    expect(summarize([0.9])).toEqual({ mean: 0.9, sd: null, min: 0.9, max: 0.9, n: 1 });
    expect(summarize([])).toEqual({ mean: null, sd: null, min: null, max: null, n: 0 });
    expect(Number.isNaN(sd([1]))).toBe(true);
  });

  test('large close values keep their digits (samples/s)', () => {
    expect(sd([1e9 + 1, 1e9 + 2, 1e9 + 3])).toBeCloseTo(1, 12);
  });

  test('non-finite values are an error naming the position', () => {
    expect(() => summarize([1, NaN])).toThrow(new InvalidArgumentError('values[1]', 'must be a finite number, got NaN'));
  });
});

describe("Student's t", () => {
  test('log gamma at known points', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(logGamma(10.5)).toBeCloseTo(13.940625219403763, 11);
  });

  test('the regularised incomplete beta at closed forms: I_x(1, b) = 1 - (1 - x)^b, I_x(a, 1) = x^a', () => {
    expect(regularizedBeta(0.3, 1, 2.5)).toBeCloseTo(1 - 0.7 ** 2.5, 13);
    expect(regularizedBeta(0.8, 3.5, 1)).toBeCloseTo(0.8 ** 3.5, 13);
    expect(regularizedBeta(0.5, 2, 2)).toBeCloseTo(0.5, 13);
  });

  test('CDF: df 1 is Cauchy, df 2 has a closed form, and symmetry', () => {
    for (const t of [-3, -0.5, 0.2, 1, 4.7]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
      expect(studentTCdf(t, 3.7) + studentTCdf(-t, 3.7)).toBeCloseTo(1, 13);
    }
    // mpmath, 30 digits: betainc(1.25, 0.5, 0, 2.5 / (2.5 + 1.5^2), regularized=True) / 2 from 1.
    expect(studentTCdf(1.5, 2.5)).toBeCloseTo(0.876081773456852, 12);
  });

  test('two-sided 95% and 90% quantiles against the printed table', () => {
    // Any t table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2), to its three decimals.
    const table: Array<[number, number, number]> = [
      [1, 12.706, 6.314],
      [2, 4.303, 2.92],
      [3, 3.182, 2.353],
      [4, 2.776, 2.132],
      [5, 2.571, 2.015],
      [10, 2.228, 1.812],
      [30, 2.042, 1.697],
      [120, 1.98, 1.658],
    ];
    for (const [df, q975, q95] of table) {
      expect(studentTQuantile(0.975, df)).toBeCloseTo(q975, 3);
      expect(studentTQuantile(0.95, df)).toBeCloseTo(q95, 3);
    }
    // Far out the normal's 1.95996.
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 5);
  });

  test('quantiles in closed form (df 1: tan, df 2: (2p - 1) / sqrt(2p(1 - p))) and for fractional df', () => {
    for (const p of [0.6, 0.9, 0.975, 0.995]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 9);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 10);
      expect(studentTQuantile(1 - p, 2)).toBeCloseTo(-(2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 10);
    }
    // mpmath root of the CDF above, 30 digits.
    expect(studentTQuantile(0.975, 3.4)).toBeCloseTo(2.98077350255862, 10);
    expect(studentTQuantile(0.975, 50 / 17)).toBeCloseTo(3.21875861453288, 10);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  test('bad arguments name themselves', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(InvalidArgumentError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/df: must be a finite number > 0/);
    expect(() => studentTCdf(1, Infinity)).toThrow(/df/);
  });
});

describe('intervals for a difference of means', () => {
  test('Welch, by hand: a = 1, 2, 3 and b = 4, 6, 8', () => {
    // Means 2 and 6: difference -4. Variances 1 and 4; over n: 1/3 and 4/3; se = sqrt(5/3).
    // Welch-Satterthwaite df = (5/3)^2 / ((1/3)^2 / 2 + (4/3)^2 / 2) = (25/9) / (17/18) = 50/17.
    // t(0.975, 50/17) = 3.21875861 (above), so the interval is -4 -/+ 3.21875861 * 1.29099445.
    const w = welchInterval([1, 2, 3], [4, 6, 8]);
    expect(w.difference).toBe(-4);
    expect(w.se).toBeCloseTo(Math.sqrt(5 / 3), 13);
    expect(w.df).toBeCloseTo(50 / 17, 12);
    expect(w.t).toBeCloseTo(3.21875861453288, 10);
    expect(w.ci![0]).toBeCloseTo(-8.15539950318251, 9);
    expect(w.ci![1]).toBeCloseTo(0.155399503182506, 9);
    expect(w.description).toBe("Welch's t interval (95%): standard error 1.29, Welch-Satterthwaite df 2.94, t quantile 3.219");
  });

  test('Welch with equal sizes and spreads is the pooled t interval (df = 2n - 2)', () => {
    // a - b = 10 - 0 with both sds 1: se = sqrt(2/4), df = 6, t(0.975, 6) = 2.447 (table).
    const w = welchInterval([9, 10, 11, 10], [-1, 0, 1, 0]);
    const s = Math.sqrt(2 / 3);
    expect(w.df).toBeCloseTo(6, 12);
    expect(w.t).toBeCloseTo(2.447, 3);
    expect(w.se).toBeCloseTo(Math.sqrt((s * s) / 4 + (s * s) / 4), 12);
  });

  test('one run of a model: the difference and no interval', () => {
    const w = welchInterval([0.95], [0.93, 0.94]);
    expect(w.difference).toBeCloseTo(0.015, 12);
    expect(w.ci).toBeNull();
    expect(w.description).toMatch(/at least 2 runs per model \(have 1 and 2\)/);
    expect(bootstrapInterval([0.95], [0.93, 0.94]).ci).toBeNull();
  });

  test('constant groups: an interval of no width, said so', () => {
    const w = welchInterval([0.9, 0.9], [0.8, 0.8]);
    expect(w.ci![0]).toBeCloseTo(0.1, 12);
    expect(w.ci![1]).toBeCloseTo(0.1, 12);
  });

  test('bootstrap by hand: a = 0, 1 against b = 0, 0 resamples mean(a*) to 0, 1/2, 1 with odds 1:2:1', () => {
    // The 2.5% quantile falls among the zeros, the 97.5% among the ones.
    const bs = bootstrapInterval([0, 1], [0, 0]);
    expect(bs.difference).toBe(0.5);
    expect(bs.ci).toEqual([0, 1]);
    expect(bs.description).toBe('percentile bootstrap (95%): 10000 resamples of each model\'s runs, seed 1');
  });

  test('bootstrap is repeatable by seed, and near Welch for many normal-ish runs', () => {
    const a = Array.from({ length: 40 }, (_, i) => 0.95 + 0.01 * Math.sin(i * 1.7));
    const b = Array.from({ length: 40 }, (_, i) => 0.93 + 0.012 * Math.cos(i * 2.3));
    const one = bootstrapInterval(a, b, { seed: 7 });
    expect(bootstrapInterval(a, b, { seed: 7 })).toEqual(one);
    expect(bootstrapInterval(a, b, { seed: 8 }).ci).not.toEqual(one.ci);
    const w = welchInterval(a, b);
    const width = w.ci![1] - w.ci![0];
    expect(Math.abs(one.ci![0] - w.ci![0])).toBeLessThan(0.1 * width);
    expect(Math.abs(one.ci![1] - w.ci![1])).toBeLessThan(0.1 * width);
    expect(differenceInterval(a, b, { method: 'bootstrap', seed: 7 })).toEqual(one);
    expect(differenceInterval(a, b)).toEqual(w);
    expect(() => differenceInterval(a, b, { method: 'jackknife' as never })).toThrow(/method: must be one of welch, bootstrap/);
  });

  test('quantiles of sorted values, R type 7', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([5], 0.9)).toBe(5);
  });
});

describe('reading curves', () => {
  const curve: Array<[number, number]> = [
    [1, 0.2],
    [3, 0.6],
    [7, 0.92],
    [10, 0.95],
  ];

  test('interpolation between points; nothing outside them', () => {
    expect(interpolateAt(curve, 2)).toBeCloseTo(0.4, 12);
    expect(interpolateAt(curve, 5)).toBeCloseTo(0.76, 12);
    expect(interpolateAt(curve, 10)).toBe(0.95);
    expect(interpolateAt(curve, 1)).toBe(0.2);
    expect(interpolateAt(curve, 0.5)).toBeNaN();
    expect(interpolateAt(curve, 11)).toBeNaN();
    expect(() => interpolateAt([[2, 0], [1, 1]], 1.5)).toThrow(/x must not decrease/);
  });

  test('time to a level: linear between the two evaluations around it, their gap the resolution', () => {
    // 0.9 lies between (3, 0.6) and (7, 0.92): 3 + (0.3 / 0.32) * 4 = 6.75, known to within 4.
    expect(firstCrossing(curve, 0.9)).toEqual({ x: expect.closeTo(6.75, 12), resolution: 4 });
    expect(firstCrossing(curve, 0.1)).toEqual({ x: 1, resolution: 1 });
    expect(firstCrossing(curve, 0.96)).toBeNull();
    // The first crossing counts, not a later dip and rise.
    expect(firstCrossing([[0, 0.5], [1, 0.95], [2, 0.8], [3, 0.97]], 0.9)).toEqual({ x: expect.closeTo(0.888888889, 8), resolution: 1 });
  });

  test('bands: the runs point by point, x their mean, y their mean, sd, min and max; up to the shortest run', () => {
    const runs: Array<Array<[number, number]>> = [
      [[1, 0.1], [2, 0.5], [3, 0.9], [4, 0.95]],
      [[1.2, 0.3], [2.2, 0.6], [3.4, 0.7]],
      [[0.8, 0.2], [1.8, 0.4], [2.6, 0.8], [3.9, 0.9]],
    ];
    const band = alignedBand(runs);
    expect(band.x).toEqual([expect.closeTo(1, 12), expect.closeTo(2, 12), expect.closeTo(3, 12)]);
    expect(band.mean).toEqual([expect.closeTo(0.2, 12), expect.closeTo(0.5, 12), expect.closeTo(0.8, 12)]);
    expect(band.min).toEqual([0.1, 0.4, 0.7]);
    expect(band.max).toEqual([0.3, 0.6, 0.9]);
    expect(band.sd[2]).toBeCloseTo(sd([0.9, 0.7, 0.8]), 12);
    // Thinned evenly by index, the last point kept.
    const long = Array.from({ length: 11 }, (_, i) => [i, i / 10] as [number, number]);
    expect(alignedBand([long, long], 3).x).toEqual([0, 5, 10]);
    expect(alignedBand([long]).sd.every(Number.isNaN)).toBe(true);
  });
});
