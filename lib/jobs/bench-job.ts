import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { Dataset, DatasetName, LoadOptions } from '../datasets';
import { InvalidArgumentError } from '../errors';
import { trainingFlops } from '../models/summary';
import { getPreset, recipeOptions } from '../recipes';
import {
  confusionMatrixSvg,
  formatDuration,
  formatNumber,
  lineChartSvg,
  markdownTable,
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
/** Test examples per intermediate evaluation (the final one uses the whole test set). @default 1000 */
export const BENCH_EVAL_TEST_LIMIT = 1000;
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
  machine: MachineFacts;
  date: string;
  results: BenchModelResult[];
}

/** Trains and evaluates each model on the same data and backend, measuring speed and accuracy. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const models = options.models ?? DEFAULT_BENCH_MODELS;
  if (models.length === 0) throw new InvalidArgumentError('--models', 'name at least one preset');
  const presets = models.map((m) => getPreset(m));
  if ([options.steps, options.epochs, options.seconds].filter((v) => v !== undefined).length > 1) {
    throw new InvalidArgumentError('--steps/--epochs/--seconds', 'give one of them');
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
      results.push(toModelResult(result, model, inference, target, plannedSteps.batchSize, peakRss, peakTensorBytes));
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
): BenchModelResult {
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

/** The comparison table, as markdown. */
export function benchTable(bench: BenchResult): string {
  const mb = (b: number) => `${formatNumber(b / 2 ** 20, 1)} MiB`;
  return markdownTable(
    ['model', 'params', 'MFLOP/sample (fwd)', 'train samples/s', 'infer samples/s', 'epoch time', `time to ${(bench.targetAccuracy * 100).toFixed(0)}%`, 'test acc', 'test loss', 'steps', 'peak RSS', 'peak tensors'],
    bench.results.map((r) => [
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
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** One line on what was measured where, for the top of the table. */
export function benchHeadline(bench: BenchResult): string {
  return (
    `${bench.dataset} (${bench.dataSource}; ${formatNumber(bench.trainExamples)} train / ${formatNumber(bench.testExamples)} test), ` +
    `backend ${bench.backend}${bench.device ? ` on ${bench.device}` : ''}, ${bench.machine.cpu} x${bench.machine.cores}, seed ${bench.seed}`
  );
}

export interface WrittenReport {
  dir: string;
  files: string[];
}

/** Writes report.md, results.json and the plots (SVG, and PNG where resvg is installed) into `dir`. */
export async function writeBenchReport(bench: BenchResult, dir: string, command?: string): Promise<WrittenReport> {
  await fsp.mkdir(dir, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, data: string | Uint8Array) => {
    await writeFileAtomic(path.join(dir, name), data);
    files.push(name);
  };
  const plot = async (name: string, svg: string) => {
    await write(`${name}.svg`, svg);
    const png = await svgToPng(svg);
    if (png) await write(`${name}.png`, png);
  };

  await plot(
    'loss',
    lineChartSvg(
      bench.results.map((r) => ({ name: r.model, points: r.history.loss.map((l, i) => [i + 1, l] as [number, number]) })),
      // Log scale: the CNN starts near 10 and the recipes' losses end two orders of magnitude lower.
      { title: `Training loss per iteration (${bench.backend})`, xLabel: 'iteration', yLabel: 'loss (recipe\'s own loss, log scale)', logY: true },
    ),
  );
  await plot(
    'accuracy',
    lineChartSvg(
      bench.results.map((r) => ({
        name: r.model,
        points: r.history.evals.map((e) => [e.trainSeconds, e.testAccuracy ?? NaN] as [number, number]),
      })),
      { title: `Test accuracy against training time (${bench.backend})`, xLabel: 'training time (s)', yLabel: 'test accuracy', yMin: 0, yMax: 1 },
    ),
  );
  for (const r of bench.results) {
    await plot(
      `confusion-${r.model}`,
      confusionMatrixSvg(r.confusion, { title: `${r.model}: confusion matrix on ${bench.dataset} test` }),
    );
  }
  await write('results.json', JSON.stringify(bench, null, 2));
  const images = files.filter((f) => f.endsWith('.png'));
  const shown = images.length ? images : files.filter((f) => f.endsWith('.svg'));
  const md = [
    `# MLP versus CNN: ${bench.results.map((r) => r.model).join(', ')}`,
    '',
    benchHeadline(bench),
    '',
    benchTable(bench),
    '',
    `Measured ${bench.date}. Each model trained for the budget or its recipe, whichever ended first (the steps column says how far it got).`,
    `Samples/s and time to accuracy count training steps only (evaluations excluded), after ${BENCH_WARMUP_STEPS} warm-up steps;`,
    `intermediate test accuracy uses the first ${BENCH_EVAL_TEST_LIMIT} test images, the final figure the whole test set.`,
    ...(command ? ['', 'Reproduce with:', '', '```', command, '```'] : []),
    '',
    ...shown.map((f) => `![${f}](${f})`),
    '',
  ].join('\n');
  await write('report.md', md);
  return { dir, files };
}
