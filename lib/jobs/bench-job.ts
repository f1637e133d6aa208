import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { Dataset, DatasetName, LoadOptions } from '../datasets';
import { InvalidArgumentError } from '../errors';
import { trainingFlops } from '../models/summary';
import { getPreset, recipeOptions } from '../recipes';
import {
  type Align,
  type Series,
  confusionMatrixSvg,
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
import { ProgressSink, silentProgress } from '../training/progress';
import { TrainHistory, train } from '../training/train';
import { MachineFacts, machineFacts } from './machine';
import { TrainJobResult, loadPresetData, runTrainJob } from './train-job';

/** The comparison people come for. @default ['two-layer-net', 'cnn'] */
export const DEFAULT_BENCH_MODELS = ['two-layer-net', 'cnn'];
/**
 * Training-time budget per model when none of steps, epochs or seconds is given: each model
 * trains for its recipe or this long, whichever ends first, so an MLP and a CNN get the same CPU
 * time and the table compares what each does with it. @default 60
 */
export const DEFAULT_BENCH_SECONDS = 60;
/** Untimed steps before each measured run, so kernel set-up and JIT stay out of the numbers. @default 3 */
export const BENCH_WARMUP_STEPS = 3;
/** Evaluations per run, for the accuracy-against-time curve. @default 10 */
export const BENCH_EVALS = 10;
/**
 * Half the smoothing window of the loss curves, as a fraction of the x axis's span (linear time, or
 * decades of samples seen): 2% each side, so about 1/25 of the axis. @default 0.02
 */
export const LOSS_SMOOTHING_HALF_WINDOW = 0.02;
/** Time to reach this test accuracy is reported. @default 0.9 */
export const DEFAULT_TARGET_ACCURACY = 0.9;

export interface BenchOptions {
  models?: string[];
  steps?: number;
  epochs?: number;
  /** Training-time budget per model (the recipe's own length still caps it). */
  seconds?: number;
  dataset?: DatasetName;
  load?: LoadOptions;
  limit?: number;
  seed?: number;
  targetAccuracy?: number;
  backend: string;
  device?: string;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

export interface BenchModelResult {
  model: string;
  family: string;
  params: number;
  flopsPerSample: number;
  trainFlopsPerSample: number;
  batchSize: number;
  steps: number;
  epochs: number;
  samplesPerSec: number;
  inferenceSamplesPerSec: number;
  /** Measured for a full epoch when one ran, else projected from samples/s. */
  epochSeconds: number;
  epochSecondsMeasured: boolean;
  trainSeconds: number;
  /** Training time until the test accuracy first reached the target; null when it never did. */
  secondsToTarget: number | null;
  testAccuracy: number;
  testLoss: number;
  trainAccuracy: number;
  peakRssBytes: number;
  peakTensorBytes: number;
  confusion: number[][];
  /** Test images each intermediate evaluation used (the recipe may limit them); the final one uses all. */
  intermediateTestExamples: number;
  history: TrainHistory;
}

export interface BenchResult {
  backend: string;
  device?: string;
  dataset: string;
  dataSource: string;
  trainExamples: number;
  testExamples: number;
  seed: number;
  targetAccuracy: number;
  /** How long each model trained: a time budget (capped by its recipe), or steps, or epochs. */
  budget: { seconds?: number; steps?: number; epochs?: number };
  /** Untimed steps each model ran on a throwaway copy first. */
  warmupSteps: number;
  machine: MachineFacts;
  date: string;
  results: BenchModelResult[];
}

/** Trains and evaluates each model on the same data and backend, measuring speed and accuracy. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const models = options.models ?? DEFAULT_BENCH_MODELS;
  if (models.length === 0) throw new InvalidArgumentError('models', 'name at least one preset');
  const presets = models.map((m) => getPreset(m));
  if ([options.steps, options.epochs, options.seconds].filter((v) => v !== undefined).length > 1) {
    throw new InvalidArgumentError('steps/epochs/seconds', 'give one of them');
  }
  const { steps, epochs } = options;
  const seconds = steps === undefined && epochs === undefined ? options.seconds ?? DEFAULT_BENCH_SECONDS : undefined;
  const seed = options.seed ?? 1;
  const target = options.targetAccuracy ?? DEFAULT_TARGET_ACCURACY;
  const log = options.log ?? (() => {});
  const datasets = new Map<string, Dataset>();
  const results: BenchModelResult[] = [];
  let first: Dataset | undefined;

  for (const preset of presets) {
    const key = preset.recipe.normalization;
    if (!datasets.has(key)) {
      datasets.set(key, await loadPresetData(preset, { dataset: options.dataset, load: options.load, limit: options.limit }));
    }
    const data = datasets.get(key) as Dataset;
    first ??= data;

    // Warm-up on a throwaway model: first calls compile kernels and grow the wasm heap.
    const warm = preset.build({ seed });
    await train(warm, data, { ...recipeOptions(preset, { steps: BENCH_WARMUP_STEPS, seed }), logInterval: 0 });
    warm.dispose();

    const plannedSteps = recipeOptions(preset, { steps, epochs, limit: options.limit });
    const totalSteps =
      plannedSteps.steps ?? (plannedSteps.epochs as number) * Math.ceil(Math.min(data.train.count, plannedSteps.trainLimit ?? Infinity) / plannedSteps.batchSize);
    let peakRss = process.memoryUsage().rss;
    let peakTensorBytes = tf.memory().numBytes;
    log(
      `bench: ${preset.id}, ${seconds === undefined ? '' : `${seconds} s of training or `}${totalSteps} steps of batch ${plannedSteps.batchSize}`,
    );
    const sample = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
    };
    const { result, model } = await runTrainJob({
      preset: preset.id,
      data,
      steps,
      epochs,
      maxSeconds: seconds,
      // Evenly spaced evaluations for the accuracy-against-time curve: in time under a budget.
      evalIntervalSeconds: seconds === undefined ? undefined : seconds / BENCH_EVALS,
      logInterval: seconds === undefined ? Math.max(1, Math.floor(totalSteps / BENCH_EVALS)) : 0,
      seed,
      limit: options.limit,
      backend: options.backend,
      progress: options.progress ?? silentProgress,
      onEval: sample,
    });
    try {
      sample();
      // The job's final pass over the test set is the inference measurement: no second pass.
      const inference = result.testSamples / result.testSeconds;
      const intermediateTestExamples = Math.min(plannedSteps.evalTestLimit ?? Infinity, data.test.count);
      results.push({
        ...toModelResult(result, model, inference, target, plannedSteps.batchSize, peakRss, peakTensorBytes),
        intermediateTestExamples,
      });
    } finally {
      model.dispose();
    }
  }
  const data = first as Dataset;
  return {
    backend: options.backend,
    device: options.device,
    dataset: data.name,
    dataSource: data.source.description,
    trainExamples: data.train.count,
    testExamples: data.test.count,
    seed,
    targetAccuracy: target,
    budget: seconds !== undefined ? { seconds } : steps !== undefined ? { steps } : { epochs },
    warmupSteps: BENCH_WARMUP_STEPS,
    machine: machineFacts(),
    date: new Date().toISOString(),
    results,
  };
}

function toModelResult(
  r: TrainJobResult,
  model: tf.LayersModel,
  inferenceSamplesPerSec: number,
  target: number,
  batchSize: number,
  peakRssBytes: number,
  peakTensorBytes: number,
): Omit<BenchModelResult, 'intermediateTestExamples'> {
  const reached = r.history.evals.find((e) => (e.testAccuracy ?? 0) >= target);
  const measuredEpoch = r.history.epochs[0];
  return {
    model: r.model,
    family: r.family,
    params: r.params,
    flopsPerSample: r.flopsPerSample,
    trainFlopsPerSample: trainingFlops(model),
    batchSize,
    steps: r.steps,
    epochs: r.epochs,
    samplesPerSec: r.samplesPerSec,
    inferenceSamplesPerSec,
    // A full epoch's measured time counts evaluations too; the projection uses training speed alone.
    epochSeconds: measuredEpoch && r.epochs >= 1 ? measuredEpoch.seconds : ((r.steps / r.epochs) * batchSize) / r.samplesPerSec,
    epochSecondsMeasured: Boolean(measuredEpoch && r.epochs >= 1),
    trainSeconds: r.trainSeconds,
    // Intermediate evaluations may use a test subset; the final one (whole test set) counts too.
    secondsToTarget: reached ? reached.trainSeconds : r.testAccuracy >= target ? r.trainSeconds : null,
    testAccuracy: r.testAccuracy,
    testLoss: r.testLoss,
    trainAccuracy: r.trainAccuracy,
    peakRssBytes,
    peakTensorBytes,
    confusion: r.confusion,
    history: r.history,
  };
}

/** The comparison table's columns and rows, formatted, for the markdown and HTML tables. */
export function benchTableData(bench: BenchResult): { headers: string[]; rows: string[][]; align: Align[] } {
  const mb = (b: number) => `${formatNumber(b / 2 ** 20, 1)} MiB`;
  return {
    headers: ['model', 'params', 'MFLOP/sample (fwd)', 'train samples/s', 'infer samples/s', 'epoch time', `time to ${(bench.targetAccuracy * 100).toFixed(0)}%`, 'test acc', 'test loss', 'steps', 'peak RSS', 'peak tensors'],
    rows: bench.results.map((r) => [
      r.model,
      formatNumber(r.params),
      (r.flopsPerSample / 1e6).toFixed(2),
      formatNumber(r.samplesPerSec),
      formatNumber(r.inferenceSamplesPerSec),
      `${formatDuration(r.epochSeconds)}${r.epochSecondsMeasured ? '' : ' (proj.)'}`,
      r.secondsToTarget === null ? 'not reached' : formatDuration(r.secondsToTarget),
      `${(r.testAccuracy * 100).toFixed(2)}%`,
      r.testLoss.toFixed(4),
      String(r.steps),
      mb(r.peakRssBytes),
      mb(r.peakTensorBytes),
    ]),
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}

/** The comparison table, as markdown. */
export function benchTable(bench: BenchResult): string {
  const { headers, rows, align } = benchTableData(bench);
  return markdownTable(headers, rows, align);
}

/** One line on what was measured where, for the top of the table. */
export function benchHeadline(bench: BenchResult): string {
  return (
    `${bench.dataset} (${bench.dataSource}; ${formatNumber(bench.trainExamples)} train / ${formatNumber(bench.testExamples)} test), ` +
    `backend ${bench.backend}${bench.device ? ` on ${bench.device}` : ''}, ${bench.machine.cpu} x${bench.machine.cores}, seed ${bench.seed}`
  );
}

/** "a", "a and b", "a, b and c". */
function listing(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * What the table's numbers mean, from what the runs actually did: the budget, the warm-up, and on
 * how many test images each model's intermediate accuracy was measured.
 */
export function benchNotes(bench: BenchResult): string[] {
  const b = bench.budget;
  const length =
    b.seconds !== undefined
      ? `Each model trained for ${formatNumber(b.seconds)} s of training time or its recipe, whichever ended first (the steps column says how far it got).`
      : b.steps !== undefined
        ? `Each model trained for ${formatNumber(b.steps)} steps.`
        : `Each model trained for ${formatNumber(b.epochs ?? 0)} epoch${b.epochs === 1 ? '' : 's'}.`;
  const all = formatNumber(bench.testExamples);
  const byCount = new Map<number, string[]>();
  for (const r of bench.results) byCount.set(r.intermediateTestExamples, [...(byCount.get(r.intermediateTestExamples) ?? []), r.model]);
  const subsets = [...byCount.entries()].filter(([n]) => n < bench.testExamples);
  const intermediate =
    subsets.length === 0
      ? `Intermediate test accuracy (the curves) uses the whole test set (${all} images), as the final figure does.`
      : `Intermediate test accuracy (the curves) uses ${listing(
          [...byCount.entries()].map(([n, models]) => `${n < bench.testExamples ? `the first ${formatNumber(n)}` : `all ${all}`} test images for ${listing(models)}`),
        )}; the final figures use all ${all}.`;
  return [
    length,
    `Samples/s and time to accuracy count training steps only (evaluations excluded), after ${bench.warmupSteps} untimed warm-up steps.`,
    intermediate,
  ];
}

/** Training time at each step count, interpolated between the evaluations' (steps, training time) anchors. */
function trainSecondsAt(r: BenchModelResult): (steps: number) => number {
  const anchors: Array<[number, number]> = [[0, 0], ...r.history.evals.map((e) => [e.step + 1, e.trainSeconds] as [number, number]), [r.steps, r.trainSeconds]];
  anchors.sort((a, b) => a[0] - b[0]);
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

/** Curves of every model against training time (left) and samples seen (right, log scale), side by side. */
function timeAndSamplesPanels(
  bench: BenchResult,
  label: string,
  curves: (r: BenchModelResult) => Array<{ steps: number; y: number }>,
  options: { title: string; yLabel: string; logY?: boolean; yMin?: number; yMax?: number; smooth: boolean },
): string {
  const perModel = bench.results.map((r) => {
    const time = trainSecondsAt(r);
    const points = curves(r);
    return {
      r,
      time: points.map((p) => [time(p.steps), p.y] as [number, number]),
      samples: points.map((p) => [p.steps * r.batchSize, p.y] as [number, number]),
    };
  });
  const maxTime = Math.max(0, ...perModel.flatMap((m) => m.time.map(([x]) => x)));
  const samples = perModel.flatMap((m) => m.samples.map(([x]) => x)).filter((x) => x > 0);
  const decades = samples.length ? Math.log10(Math.max(...samples)) - Math.log10(Math.min(...samples)) : 1;
  const series = (axis: 'time' | 'samples'): Series[] =>
    perModel.flatMap((m, k) => {
      const points = m[axis];
      if (!options.smooth) return [{ name: m.r.model, points, colorIndex: k }];
      const halfWidth = LOSS_SMOOTHING_HALF_WINDOW * (axis === 'time' ? maxTime : decades);
      return [
        { name: `${m.r.model}, every step`, points, faint: true, colorIndex: k },
        { name: m.r.model, points: smoothSeries(points, halfWidth, { logY: options.logY, logX: axis === 'samples' }), colorIndex: k },
      ];
    });
  const subtitle = options.smooth
    ? `lines: local linear fit${options.logY ? ' of log loss' : ''} over ${Math.round(LOSS_SMOOTHING_HALF_WINDOW * 200)}% of the axis; faint: every step`
    : undefined;
  const common = { width: PANEL_WIDTH, height: PANEL_HEIGHT, yLabel: options.yLabel, logY: options.logY, yMin: options.yMin, yMax: options.yMax, subtitle };
  return svgRow(
    [
      lineChartSvg(series('time'), { ...common, title: `${options.title} against training time (${bench.backend})`, xLabel: 'training time (s), evaluations excluded', legend: false }),
      lineChartSvg(series('samples'), { ...common, title: `${options.title} against samples seen (${bench.backend})`, xLabel: 'training samples seen (log scale)', logX: true }),
    ],
    label,
  );
}

/** The recipes' own training losses, smoothed (raw faint), against training time and samples seen. */
export function benchLossSvg(bench: BenchResult): string {
  return timeAndSamplesPanels(bench, `Training loss of ${bench.results.map((r) => r.model).join(', ')}`, (r) => r.history.loss.map((y, i) => ({ steps: i + 1, y })), {
    title: 'Training loss',
    // Log scale: the CNN starts near 10 and the recipes' losses end two orders of magnitude lower.
    yLabel: "loss (recipe's own loss, log scale)",
    logY: true,
    smooth: true,
  });
}

/** Test accuracy at each evaluation against training time and samples seen. */
export function benchAccuracySvg(bench: BenchResult): string {
  return timeAndSamplesPanels(
    bench,
    `Test accuracy of ${bench.results.map((r) => r.model).join(', ')}`,
    (r) => r.history.evals.filter((e) => e.testAccuracy !== undefined).map((e) => ({ steps: e.step + 1, y: e.testAccuracy as number })),
    { title: 'Test accuracy', yLabel: 'test accuracy', yMin: 0, yMax: 1, smooth: false },
  );
}

export interface WrittenReport {
  dir: string;
  files: string[];
}

/**
 * Writes report.md, report.html (one self-contained page: table, inline plots, machine, backend,
 * command), results.json and the plots (SVG, and PNG where resvg is installed) into `dir`.
 */
export async function writeBenchReport(bench: BenchResult, dir: string, command?: string): Promise<WrittenReport> {
  await fsp.mkdir(dir, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    await writeFileAtomic(path.join(dir, name), data);
    files.push(name);
  };
  const charts: Array<{ name: string; svg: string; caption: string; small?: boolean }> = [
    { name: 'loss', svg: benchLossSvg(bench), caption: 'Training loss against training time and against samples seen' },
    { name: 'accuracy', svg: benchAccuracySvg(bench), caption: 'Test accuracy against training time and against samples seen' },
    ...bench.results.map((r) => ({
      name: `confusion-${r.model}`,
      svg: confusionMatrixSvg(r.confusion, { title: `${r.model}: confusion matrix on ${bench.dataset} test` }),
      caption: `${r.model}: confusion matrix on the ${bench.dataset} test set (rows: true digit, columns: predicted)`,
      small: true,
    })),
  ];
  for (const c of charts) {
    await write(`${c.name}.svg`, c.svg);
    const png = await svgToPng(c.svg);
    if (png) await write(`${c.name}.png`, png);
  }
  await write('results.json', JSON.stringify(bench, null, 2));
  const title = `MLP versus CNN: ${bench.results.map((r) => r.model).join(', ')}`;
  const images = files.filter((f) => f.endsWith('.png'));
  const shown = images.length ? images : files.filter((f) => f.endsWith('.svg'));
  const md = [
    `# ${title}`,
    '',
    benchHeadline(bench),
    '',
    benchTable(bench),
    '',
    `Measured ${bench.date}. ${benchNotes(bench).join('\n')}`,
    ...(command ? ['', 'Reproduce with:', '', '```', command, '```'] : []),
    '',
    ...shown.map((f) => `![${f}](${f})`),
    '',
  ].join('\n');
  await write('report.md', md);
  await write('report.html', benchReportHtml(bench, charts, command));
  return { dir, files };
}

/** report.html: everything in one file, the plots inline as SVG, so it opens offline. */
export function benchReportHtml(bench: BenchResult, charts: Array<{ svg: string; caption: string; small?: boolean }>, command?: string): string {
  const { headers, rows, align } = benchTableData(bench);
  const figure = (c: { svg: string; caption: string }) => `<figure>\n${inlineSvg(c.svg)}\n<figcaption>${escapeHtml(c.caption)}</figcaption>\n</figure>`;
  const m = bench.machine;
  const facts: Array<[string, string]> = [
    ['backend', `${bench.backend}${bench.device ? ` on ${bench.device}` : ''}`],
    ['machine', `${m.cpu}, ${m.cores} cores, ${formatNumber(m.memoryBytes / 2 ** 30, 1)} GiB, ${m.platform}`],
    ['software', `Node ${m.node}, TensorFlow.js ${m.tfjs}`],
    ['data', `${bench.dataset}: ${bench.dataSource}; ${formatNumber(bench.trainExamples)} train / ${formatNumber(bench.testExamples)} test images`],
    ['seed', String(bench.seed)],
    ['measured', bench.date],
  ];
  const title = `MLP versus CNN: ${bench.results.map((r) => r.model).join(', ')}`;
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${escapeHtml(benchHeadline(bench))}</p>`,
    `<div class="scroll">${htmlTable(headers, rows, align)}</div>`,
    ...benchNotes(bench).map((n) => `<p>${escapeHtml(n)}</p>`),
    '<h2>Where and how</h2>',
    `<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`,
    ...(command ? ['<p>Reproduce with:</p>', `<pre><code>${escapeHtml(command)}</code></pre>`] : []),
    '<h2>Plots</h2>',
    ...charts.filter((c) => !c.small).map(figure),
    `<div class="row">${charts.filter((c) => c.small).map(figure).join('\n')}</div>`,
  ].join('\n');
  return htmlPage(title, body);
}
