/**
 * The benchmark's report from its result document alone (results.json can be re-rendered): the
 * table of means and spreads, the difference with its interval in a sentence, equal-budget views,
 * per-digit accuracy, digit grids, and the curves with their spread over seeds.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import {
  type Align,
  type Series,
  confusionMatrixSvg,
  digitGridSvg,
  downsampleMinMax,
  escapeHtml,
  formatDuration,
  formatNumber,
  htmlPage,
  htmlTable,
  inlineSvg,
  lineChartSvg,
  markdownTable,
  smoothSeries,
  svgRow,
  svgToPng,
  writeFileAtomic,
} from '../report';
import { type Point, type Summary, alignedBand } from '../stats';
import { type BenchComparison, type Disagreement, accuracyCurves } from './bench-analysis';
import type { BenchModelResult, BenchResult, BenchSeedRun } from './bench-job';

/**
 * Half the smoothing window of the loss curves, as a fraction of the x axis's span (linear time, or
 * decades of samples seen): 2% each side, so about 1/25 of the axis. @default 0.02
 */
export const LOSS_SMOOTHING_HALF_WINDOW = 0.02;
/** Points kept of the mean line and band of several runs' curves. @default 300 */
export const BAND_POINTS = 300;
/** Points kept of each run's own curve, drawn faint (min-max reduced). @default 600 */
export const FAINT_POINTS = 600;

/** `mean ± sd` of a summary, `mean` for one run, `-` for none. */
export function meanSd(s: Summary, format: (x: number) => string, unit = ''): string {
  if (s.mean === null) return '-';
  return s.sd === null ? `${format(s.mean)}${unit}` : `${format(s.mean)} ± ${format(s.sd)}${unit}`;
}

const accuracyCell = (s: Summary) => meanSd(s, (x) => formatNumber(x * 100, 2), '%');

/** The backends the results ran on, in order, each with its models' results. */
function byBackend(bench: BenchResult): Array<{ backend: string; results: BenchModelResult[]; comparison?: BenchComparison }> {
  const per = bench.results.length / Math.max(1, bench.backends.length);
  return bench.backends.map((backend, k) => ({
    backend,
    results: bench.results.slice(k * per, (k + 1) * per),
    comparison: bench.comparisons.find((c) => c.backend === backend),
  }));
}

/** The comparison table's columns and rows, formatted, for the markdown and HTML tables. */
export function benchTableData(bench: BenchResult): { headers: string[]; rows: string[][]; align: Align[] } {
  const mb = (b: number) => `${formatNumber(b / 2 ** 20, 1)} MiB`;
  const runs = bench.seeds.length;
  return {
    headers: ['model', 'backend', 'params', 'MFLOP/sample (fwd)', 'train samples/s', 'infer samples/s', 'epoch time', `time to ${formatNumber(bench.targetAccuracy * 100, 0)}%`, 'test acc', 'test loss', 'steps', 'peak RSS', 'peak tensors'],
    rows: bench.results.map((r) => {
      const s = r.summary;
      const toTarget = s.secondsToTarget;
      const reached = toTarget.n === 0 ? 'not reached' : `${meanSd(toTarget, formatDuration)}${toTarget.n < runs ? ` (${toTarget.n} of ${runs} runs)` : ''}`;
      const steps = s.steps.min === s.steps.max ? String(s.steps.min) : `${s.steps.min}-${s.steps.max}`;
      const projected = r.seeds.some((x) => !x.epochSecondsMeasured);
      return [
        r.model,
        r.backend,
        formatNumber(r.params),
        (r.flopsPerSample / 1e6).toFixed(2),
        meanSd(s.samplesPerSec, (x) => formatNumber(x)),
        formatNumber(s.inferenceSamplesPerSec.mean ?? NaN),
        `${formatDuration(s.epochSeconds.mean ?? 0)}${projected ? ' (proj.)' : ''}`,
        reached,
        accuracyCell(s.testAccuracy),
        meanSd(s.testLoss, (x) => x.toFixed(4)),
        steps,
        mb(r.peakRssBytes),
        mb(r.peakTensorBytes),
      ];
    }),
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}

/** The comparison table, as markdown. */
export function benchTable(bench: BenchResult): string {
  const { headers, rows, align } = benchTableData(bench);
  return markdownTable(headers, rows, align);
}

/** "13" or "4 to 13". */
function span(counts: number[]): string {
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  return lo === hi ? String(lo) : `${lo} to ${hi}`;
}

/** "a", "a and b", "a, b and c". */
function listing(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** One line on what was measured where, for the top of the table. */
export function benchHeadline(bench: BenchResult): string {
  const seeds = bench.seeds.length === 1 ? `seed ${bench.seeds[0]}` : `seeds ${bench.seeds.join(', ')}`;
  return (
    `${bench.dataset} (${bench.dataSource}; ${formatNumber(bench.trainExamples)} train / ${formatNumber(bench.testExamples)} test), ` +
    `backend${bench.backends.length > 1 ? 's' : ''} ${bench.backends.join(', ')}, ${bench.machine.cpu} x${bench.machine.cores}, ${seeds}`
  );
}

/**
 * What the table's numbers mean, from what the runs actually did: runs and spread, the budget, the
 * warm-up, the evaluations and the resolution of time to target, the test images the curves used.
 */
export function benchNotes(bench: BenchResult): string[] {
  const b = bench.budget;
  const n = bench.seeds.length;
  const runs =
    n === 1
      ? `Each model ran once (seed ${bench.seeds[0]}), so the table has no spread and the difference no interval.`
      : `Each model ran ${n} times, with seeds ${bench.seeds.join(', ')}, on the same data; cells read mean ± standard deviation over the runs.`;
  const length = b.recipe
    ? 'Each run trained for its whole recipe.'
    : b.seconds !== undefined
      ? `Each run trained for ${formatNumber(b.seconds)} s of training time or its recipe, whichever ended first (the steps column says how far it got).`
      : b.steps !== undefined
        ? `Each run trained for ${formatNumber(b.steps)} steps.`
        : `Each run trained for ${formatNumber(b.epochs ?? 0)} epoch${b.epochs === 1 ? '' : 's'}.`;
  const all = formatNumber(bench.testExamples);
  const byCount = new Map<number, string[]>();
  for (const r of bench.results) if (!byCount.get(r.intermediateTestExamples)?.includes(r.model)) byCount.set(r.intermediateTestExamples, [...(byCount.get(r.intermediateTestExamples) ?? []), r.model]);
  const subsets = [...byCount.entries()].filter(([k]) => k < bench.testExamples);
  const intermediate =
    subsets.length === 0
      ? `Intermediate test accuracy (the curves) uses the whole test set (${all} images), as the final figure does.`
      : `Intermediate test accuracy (the curves) uses ${listing(
          [...byCount.entries()].map(([k, models]) => `${k < bench.testExamples ? `the first ${formatNumber(k)}` : `all ${all}`} test images for ${listing(models)}`),
        )}; the final figures use all ${all}.`;
  const target = formatNumber(bench.targetAccuracy * 100, 0);
  const resolution = bench.results
    .filter((r) => r.summary.secondsToTargetResolution.mean !== null)
    .map((r) => `${r.model}${bench.backends.length > 1 ? ` (${r.backend})` : ''} ${formatDuration(r.summary.secondsToTargetResolution.mean as number)}`);
  return [
    runs,
    length,
    `Samples/s and time to accuracy count training steps only (evaluations excluded), after ${bench.warmupSteps} untimed warm-up steps.`,
    `Each run was evaluated ${span(bench.results.flatMap((r) => r.seeds.map((x) => x.history.evals.length)))} times: ${bench.evaluations.spacing}${bench.evaluations.spacing.endsWith('.') ? '' : '.'}`,
    `Time to ${target}% is interpolated linearly between the two evaluations around the crossing` +
      (resolution.length ? `; those were on average ${listing(resolution)} apart, the resolution of that column.` : '.'),
    intermediate,
  ];
}

/** The difference and its interval in one plain sentence. */
export function comparisonSentence(c: BenchComparison): string {
  const t = c.testAccuracy;
  const [a, b] = t.models;
  const points = (x: number) => formatNumber(Math.abs(x) * 100, 2);
  if (t.difference === 0 && t.ci95 === null) return `${a} and ${b} reached the same test accuracy in their one run each; with one run there is no interval.`;
  const better = t.difference >= 0 ? a : b;
  const worse = t.difference >= 0 ? b : a;
  const runsText = t.n[0] === t.n[1] ? `${t.n[0]} runs each` : `${t.n[0]} and ${t.n[1]} runs`;
  const runs = t.n[0] === 1 && t.n[1] === 1 ? 'one run each' : `mean of ${runsText}`;
  const head = `On ${c.backend}, ${better} is ${points(t.difference)} percentage points more accurate on the test set than ${worse} (${runs})`;
  if (t.ci95 === null) return `${head}; with fewer than two runs of a model there is no interval, so this may be noise (run with --seeds 3 or more).`;
  // The interval turned to the same direction as the sentence.
  const [lo, hi] = t.difference >= 0 ? t.ci95 : [-t.ci95[1], -t.ci95[0]];
  const signed = (x: number) => `${x < 0 ? '-' : ''}${points(x)}`;
  const method = t.method === 'welch' ? `Welch's t, ${formatNumber(t.df ?? NaN, 1)} degrees of freedom` : 'percentile bootstrap';
  const verdict = lo > 0 ? 'larger than the spread between seeds explains' : 'an interval that includes zero, so these runs cannot tell the two apart';
  return `${head}; the 95% interval of the difference is ${signed(lo)} to ${signed(hi)} points (${method}): ${verdict}.`;
}

/**
 * Accuracy at equal training time and at equal samples seen, as table rows, each accuracy by `cell`
 * (the report's mean ± sd; the docs' blocks show the mean alone).
 */
export function equalBudgetRows(c: BenchComparison, cell: (s: Summary) => string = accuracyCell): { headers: string[]; rows: string[][] } {
  const [a, b] = c.models;
  const row = (label: string, p: BenchComparison['equalTime'][number]) => [label, cell(p.accuracy[0]), cell(p.accuracy[1])];
  return {
    headers: ['budget', `${a} test acc`, `${b} test acc`],
    rows: [
      ...c.equalTime.map((p) => row(`${formatDuration(p.at)} of training`, p)),
      ...c.equalSamples.map((p) => row(`${formatNumber(p.at)} samples seen`, p)),
    ],
  };
}

/** A gain in accuracy as signed percentage points: `0.0123` -> `'+1.23'`, `-0.004` -> `'-0.40'`. */
export function signedPoints(gain: number): string {
  return `${gain >= 0 ? '+' : '-'}${formatNumber(Math.abs(gain) * 100, 2)}`;
}

/** The comparison's digits, the one where the second model gains most first (ties in digit order). */
export function digitsByGain(c: BenchComparison): BenchComparison['perClass'] {
  return [...c.perClass].sort((x, y) => y.gain - x.gain || x.digit - y.digit);
}

/** Final accuracy per digit, the digits where the second model gains most first. */
function perClassRows(c: BenchComparison): { headers: string[]; rows: string[][]; align: Align[] } {
  const [a, b] = c.models;
  return {
    headers: ['digit', a, b, `${b} gain (points)`],
    rows: digitsByGain(c).map((r) => [String(r.digit), accuracyCell(r.accuracy[0]), accuracyCell(r.accuracy[1]), signedPoints(r.gain)]),
    align: ['l', 'r', 'r', 'r'],
  };
}

/** Training time of each step, interpolated between the evaluations' (steps, training time) anchors. */
function trainSecondsAt(s: BenchSeedRun): (steps: number) => number {
  const anchors: Array<[number, number]> = [[0, 0], ...s.history.evals.map((e) => [e.step + 1, e.trainSeconds] as [number, number]), [s.steps, s.trainSeconds]];
  anchors.sort((x, y) => x[0] - y[0]);
  return (steps) => {
    let k = 1;
    while (k < anchors.length - 1 && anchors[k]![0] < steps) k++;
    const [s0, t0] = anchors[k - 1]!;
    const [s1, t1] = anchors[k]!;
    return s1 === s0 ? t1 : t0 + ((t1 - t0) * (steps - s0)) / (s1 - s0);
  };
}

const PANEL_WIDTH = 620;
const PANEL_HEIGHT = 420;

/**
 * Several runs' curves as one mean line and a min-max band, point by point: each run's k-th point
 * is the same step, or the same evaluation (every run follows one schedule), wherever in time it fell.
 */
function meanAndBand(curves: Point[][]): { mean: Array<[number, number]>; band?: Array<[number, number, number]> } {
  if (curves.length === 1) return { mean: curves[0]!.map(([x, y]) => [x, y]) };
  const band = alignedBand(curves, BAND_POINTS);
  return { mean: band.x.map((x, i) => [x, band.mean[i]!]), band: band.x.map((x, i) => [x, band.min[i]!, band.max[i]!]) };
}

type Axis = 'time' | 'samples';

/**
 * Curves of every model against training time (left) and samples seen (right, log scale): per
 * model the mean over its runs with the range of the runs as a band, each run faint beneath.
 */
function timeAndSamplesPanels(
  backend: string,
  results: BenchModelResult[],
  label: string,
  curves: (r: BenchModelResult, s: BenchSeedRun) => Record<Axis, Point[]>,
  options: { title: string; yLabel: string; logY?: boolean; yMin?: number; yMax?: number; subtitle: string },
): string {
  // Each run's curves once, for both panels: the loss's are smoothed over every step.
  const perRun = results.map((r) => r.seeds.map((s) => curves(r, s)));
  const series = (axis: Axis): Series[] =>
    results.flatMap((r, k) => {
      const perSeed = perRun[k]!.map((c) => c[axis]);
      const { mean, band } = meanAndBand(perSeed);
      const own = (c: Point[]) => {
        const points = c.map(([x, y]) => [x, y] as [number, number]);
        return points.length > FAINT_POINTS ? downsampleMinMax(points, FAINT_POINTS) : points;
      };
      const faint: Series[] = r.seeds.length > 1 ? perSeed.map((c, i) => ({ name: `${r.model}, seed ${r.seeds[i]!.seed}`, points: own(c), faint: true, colorIndex: k })) : [];
      return [...faint, { name: r.model, points: mean, band, colorIndex: k }];
    });
  const common = { width: PANEL_WIDTH, height: PANEL_HEIGHT, yLabel: options.yLabel, logY: options.logY, yMin: options.yMin, yMax: options.yMax, subtitle: options.subtitle };
  return svgRow(
    [
      lineChartSvg(series('time'), { ...common, title: `${options.title} against training time (${backend})`, xLabel: 'training time (s), evaluations excluded', legend: false }),
      lineChartSvg(series('samples'), { ...common, title: `${options.title} against samples seen (${backend})`, xLabel: 'training samples seen (log scale)', logX: true }),
    ],
    label,
  );
}

const runsOf = (results: BenchModelResult[]) => Math.max(...results.map((r) => r.seeds.length));

/** The recipes' own training losses, each run smoothed, against training time and samples seen. */
export function benchLossSvg(bench: BenchResult, backend = bench.backends[0]!): string {
  const results = byBackend(bench).find((g) => g.backend === backend)?.results ?? [];
  const maxTime = Math.max(0, ...results.flatMap((r) => r.seeds.map((s) => s.trainSeconds)));
  const samples = results.flatMap((r) => r.seeds.map((s) => s.steps * r.batchSize)).filter((x) => x > 0);
  const decades = samples.length ? Math.max(1, Math.log10(Math.max(...samples)) - Math.log10(Math.min(...results.map((r) => r.batchSize)))) : 1;
  return timeAndSamplesPanels(
    backend,
    results,
    `Training loss of ${results.map((r) => r.model).join(', ')}`,
    (r, s) => {
      const time = trainSecondsAt(s);
      const raw = s.history.loss.map((y, i) => ({ steps: i + 1, y }));
      const t = smoothSeries(raw.map((p) => [time(p.steps), p.y]), LOSS_SMOOTHING_HALF_WINDOW * maxTime, { logY: true });
      const n = smoothSeries(raw.map((p) => [p.steps * r.batchSize, p.y]), LOSS_SMOOTHING_HALF_WINDOW * decades, { logY: true, logX: true });
      return { time: t, samples: n };
    },
    {
      title: 'Training loss',
      // Log scale: the CNN starts near 10 and the recipes' losses end two orders of magnitude lower.
      yLabel: "loss (recipe's own loss, log scale)",
      logY: true,
      subtitle:
        `each run smoothed over ${Math.round(LOSS_SMOOTHING_HALF_WINDOW * 200)}% of the axis` +
        (runsOf(results) > 1 ? `; line: mean of ${runsOf(results)} runs; band: their range` : ''),
    },
  );
}

/** Test accuracy at each evaluation against training time and samples seen. */
export function benchAccuracySvg(bench: BenchResult, backend = bench.backends[0]!): string {
  const results = byBackend(bench).find((g) => g.backend === backend)?.results ?? [];
  return timeAndSamplesPanels(backend, results, `Test accuracy of ${results.map((r) => r.model).join(', ')}`, (r, s) => accuracyCurves(s, r.batchSize), {
    title: 'Test accuracy',
    yLabel: 'test accuracy',
    yMin: 0,
    yMax: 1,
    subtitle: runsOf(results) > 1 ? `line: mean of ${runsOf(results)} runs; band: their range at each point; faint: each run` : 'one run per model',
  });
}

/** The digit grid of one direction of disagreement. */
function digitsSvg(c: BenchComparison, which: 'aWrongBRight' | 'bWrongARight'): string {
  const d: Disagreement = c.digits[which];
  const [a, b] = c.models;
  const [wrong, right] = which === 'aWrongBRight' ? [a, b] : [b, a];
  const said = (p: number[]) => [...new Set(p)].join('/');
  return digitGridSvg(
    d.shown.map((e) => ({
      pixels: Uint8Array.from(Buffer.from(e.pixels, 'base64')),
      caption: [`${e.label}, test #${e.index}`, `${a}: ${said(e.predicted[0])}`, `${b}: ${said(e.predicted[1])}`],
      title: `test image ${e.index}, a ${e.label}`,
    })),
    {
      title: `Test digits ${wrong} gets wrong and ${right} right, in every run (${formatNumber(d.count)}; ${d.shown.length} shown, ${c.backend})`,
      subtitle: 'under each: the true digit and its place in the test set, then what each model predicted (every distinct answer over the runs)',
      columns: 8,
      emptyText: 'none',
    },
  );
}

/** Chart files of one backend: the first backend's keep the plain names. */
const suffix = (bench: BenchResult, backend: string) => (backend === bench.backends[0] ? '' : `-${backend.replace(/[^a-z0-9]+/gi, '-')}`);

interface Chart {
  name: string;
  svg: string;
  caption: string;
  small?: boolean;
}

/** Every chart of one backend's section. */
function backendCharts(bench: BenchResult, backend: string, results: BenchModelResult[], c?: BenchComparison): Chart[] {
  const sfx = suffix(bench, backend);
  const runs = bench.seeds.length;
  const charts: Chart[] = [
    { name: `accuracy${sfx}`, svg: benchAccuracySvg(bench, backend), caption: `Test accuracy against training time and against samples seen (${backend})` },
    { name: `loss${sfx}`, svg: benchLossSvg(bench, backend), caption: `Training loss against training time and against samples seen (${backend})` },
  ];
  if (c) {
    const [a, b] = c.models;
    charts.push(
      { name: `digits-${a}-wrong${sfx}`, svg: digitsSvg(c, 'aWrongBRight'), caption: `Test digits ${a} gets wrong and ${b} right in every run (${backend})` },
      { name: `digits-${b}-wrong${sfx}`, svg: digitsSvg(c, 'bWrongARight'), caption: `Test digits ${b} gets wrong and ${a} right in every run (${backend})` },
    );
  }
  for (const r of results) {
    const summed = r.seeds[0]!.confusion.map((row, i) => row.map((_, j) => r.seeds.reduce((s, x) => s + x.confusion[i]![j]!, 0)));
    const over = runs === 1 ? '' : `, summed over ${runs} runs`;
    charts.push({
      name: `confusion-${r.model}${sfx}`,
      svg: confusionMatrixSvg(summed, { title: `${r.model}: confusion matrix on ${bench.dataset} test${over}` }),
      caption: `${r.model}: confusion matrix on the ${bench.dataset} test set${over} (rows: true digit, columns: predicted; ${backend})`,
      small: true,
    });
  }
  return charts;
}

/**
 * JSON indented for reading, except that arrays of numbers stay on one line: 10,000 per-step losses
 * per run, one to a line, would make most of the file indentation.
 */
export function jsonWithFlatArrays(value: unknown): string {
  // Raw line breaks occur only between elements: a JSON string holds them escaped.
  const numbers = /\[\n\s+((?:-?[\d.eE+-]+|null)(?:,\n\s+(?:-?[\d.eE+-]+|null))*)\n\s+\]/g;
  return JSON.stringify(value, null, 2).replace(numbers, (_, body: string) => `[${body.replace(/,\n\s+/g, ',')}]`);
}

export interface WrittenReport {
  dir: string;
  files: string[];
}

/**
 * Writes report.md, report.html (one self-contained page: tables, the comparison, inline plots and
 * digit grids, machine, backend, command), results.json and the plots (SVG, and PNG where resvg is
 * installed) into `dir`.
 */
export async function writeBenchReport(bench: BenchResult, dir: string, command = bench.command): Promise<WrittenReport> {
  await fsp.mkdir(dir, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    await writeFileAtomic(path.join(dir, name), data);
    files.push(name);
  };
  const sections = byBackend(bench).map((g) => ({ ...g, charts: backendCharts(bench, g.backend, g.results, g.comparison) }));
  const shownAs = new Map<string, string>();
  for (const chart of sections.flatMap((s) => s.charts)) {
    await write(`${chart.name}.svg`, chart.svg);
    const png = await svgToPng(chart.svg);
    if (png) await write(`${chart.name}.png`, png);
    shownAs.set(chart.name, png ? `${chart.name}.png` : `${chart.name}.svg`);
  }
  await write('results.json', jsonWithFlatArrays(bench));
  const title = benchTitle(bench);
  const md: string[] = [`# ${title}`, '', benchHeadline(bench), '', benchTable(bench), '', `Measured ${bench.date}.`, '', ...benchNotes(bench).map((n) => `- ${n}`)];
  if (bench.skippedBackends.length) md.push('', ...bench.skippedBackends.map((s) => `Skipped backend ${s.backend}: ${s.reason}`));
  if (command) md.push('', 'Reproduce with:', '', '```', command, '```');
  for (const s of sections) {
    md.push('', `## ${sections.length > 1 ? `On ${s.backend}` : 'Comparison'}`, '');
    if (s.comparison) {
      const c = s.comparison;
      const eq = equalBudgetRows(c);
      const pc = perClassRows(c);
      md.push(
        `**${comparisonSentence(c)}**`,
        '',
        `Difference ${c.models[0]} − ${c.models[1]}: ${c.testAccuracy.description}.`,
        '',
        '### Equal budgets, read from the curves',
        '',
        markdownTable(eq.headers, eq.rows),
        '',
        `### Per digit: where ${c.models[1]} gains over ${c.models[0]}`,
        '',
        markdownTable(pc.headers, pc.rows, pc.align),
        '',
      );
    }
    md.push(...s.charts.map((ch) => `![${ch.caption}](${shownAs.get(ch.name)})`), '');
  }
  await write('report.md', md.join('\n'));
  await write('report.html', benchReportHtml(bench, sections, command));
  return { dir, files };
}

function benchTitle(bench: BenchResult): string {
  const models = [...new Set(bench.results.map((r) => r.model))];
  return `MLP versus CNN: ${models.join(', ')}`;
}

/** report.html: everything in one file, the plots inline as SVG, so it opens offline. */
export function benchReportHtml(
  bench: BenchResult,
  sections: Array<{ backend: string; comparison?: BenchComparison; charts: Array<{ svg: string; caption: string; small?: boolean }> }>,
  command?: string,
): string {
  const { headers, rows, align } = benchTableData(bench);
  const figure = (c: { svg: string; caption: string }) => `<figure>\n${inlineSvg(c.svg)}\n<figcaption>${escapeHtml(c.caption)}</figcaption>\n</figure>`;
  const m = bench.machine;
  const facts: Array<[string, string]> = [
    ['backends', bench.results.map((r) => `${r.model}: ${r.backend}`).join('; ')],
    ...bench.skippedBackends.map((s): [string, string] => [`skipped ${s.backend}`, s.reason]),
    ['machine', `${m.cpu}, ${m.cores} cores, ${formatNumber(m.memoryBytes / 2 ** 30, 1)} GiB, ${m.platform}`],
    ['software', `Node ${m.node}, TensorFlow.js ${m.tfjs}`],
    ['data', `${bench.dataset}: ${bench.dataSource}; ${formatNumber(bench.trainExamples)} train / ${formatNumber(bench.testExamples)} test images`],
    ['seeds', bench.seeds.join(', ')],
    ['measured', bench.date],
  ];
  const body = [
    `<h1>${escapeHtml(benchTitle(bench))}</h1>`,
    `<p>${escapeHtml(benchHeadline(bench))}</p>`,
    `<div class="scroll">${htmlTable(headers, rows, align)}</div>`,
    `<ul>${benchNotes(bench).map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
    '<h2>Where and how</h2>',
    `<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`,
    ...(command ? ['<p>Reproduce with:</p>', `<pre><code>${escapeHtml(command)}</code></pre>`] : []),
  ];
  for (const s of sections) {
    body.push(`<h2>${escapeHtml(sections.length > 1 ? `On ${s.backend}` : 'Comparison')}</h2>`);
    if (s.comparison) {
      const c = s.comparison;
      const eq = equalBudgetRows(c);
      const pc = perClassRows(c);
      body.push(
        `<p class="verdict"><strong>${escapeHtml(comparisonSentence(c))}</strong></p>`,
        `<p>Difference ${escapeHtml(`${c.models[0]} − ${c.models[1]}: ${c.testAccuracy.description}`)}.</p>`,
        '<h3>Equal budgets, read from the curves</h3>',
        htmlTable(eq.headers, eq.rows),
        `<h3>${escapeHtml(`Per digit: where ${c.models[1]} gains over ${c.models[0]}`)}</h3>`,
        htmlTable(pc.headers, pc.rows, pc.align),
      );
    }
    body.push(...s.charts.filter((c) => !c.small).map(figure), `<div class="row">${s.charts.filter((c) => c.small).map(figure).join('\n')}</div>`);
  }
  return htmlPage(benchTitle(bench), body.join('\n'));
}
