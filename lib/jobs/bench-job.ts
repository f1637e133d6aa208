import * as tf from '@tensorflow/tfjs';
import type { Dataset, DatasetName, LoadOptions } from '../datasets';
import { checkInt, checkSeed } from '../checks';
import { InvalidArgumentError } from '../errors';
import { forwardFlops, trainingFlops } from '../models/summary';
import { getPreset, recipeOptions } from '../recipes';
import { type IntervalMethod, DEFAULT_INTERVAL_METHOD, INTERVAL_METHODS, type Summary, firstCrossing, summarize } from '../stats';
import { evaluate } from '../training/evaluate';
import { ProgressSink, silentProgress } from '../training/progress';
import { TrainHistory, TrainResult, train } from '../training/train';
import { type BenchComparison, type TestImages, accuracyCurves, compareModels } from './bench-analysis';
import { MachineFacts, machineFacts } from './machine';
import { loadPresetData } from './train-job';

export type { BenchComparison, TestImages } from './bench-analysis';

/** The comparison people come for. @default ['two-layer-net', 'cnn'] */
export const DEFAULT_BENCH_MODELS = ['two-layer-net', 'cnn'];
/**
 * Training-time budget per model and seed when none of steps, epochs or seconds is given: each run
 * trains for its recipe or this long, whichever ends first, so an MLP and a CNN get the same CPU
 * time. With {@link DEFAULT_BENCH_SEEDS} seeds it keeps `npm start` near 3 minutes on 2 cores
 * (README). @default 25
 */
export const DEFAULT_BENCH_SECONDS = 25;
/** Runs per model, seeds 1..N, when no seeds are given: the fewest that give an interval with some width to it. @default 3 */
export const DEFAULT_BENCH_SEEDS = 3;
/** Untimed steps on a throwaway model before a model's runs, so kernel set-up and JIT stay out of the numbers. @default 3 */
export const BENCH_WARMUP_STEPS = 3;
/** Evaluations per run spaced by progress, besides a few early ones (see {@link evaluationSchedule}). @default 12 */
export const BENCH_EVALS = 12;
/**
 * Training images each intermediate evaluation measures train accuracy on: the benchmark plots
 * test accuracy only, and on the cnn every image costs a forward pass. @default 100
 */
export const BENCH_EVAL_TRAIN_EXAMPLES = 100;
/** Time to reach this test accuracy is reported. @default 0.9 */
export const DEFAULT_TARGET_ACCURACY = 0.9;
/** Significant digits kept of each step's loss in the results: plenty for a plot, half the JSON. @default 6 */
export const LOSS_DIGITS = 6;

export interface BenchOptions {
  /** Preset ids. @default {@link DEFAULT_BENCH_MODELS} */
  models?: string[];
  steps?: number;
  epochs?: number;
  /** Training-time budget per run (the recipe's own length still caps it). @default {@link DEFAULT_BENCH_SECONDS} when no steps or epochs */
  seconds?: number;
  /** Train each run for its whole recipe, with no time budget (instead of steps, epochs or seconds). @default false */
  recipe?: boolean;
  dataset?: DatasetName;
  load?: LoadOptions;
  limit?: number;
  /** One run per model with each seed. @default 1..{@link DEFAULT_BENCH_SEEDS} */
  seeds?: number[];
  /** @default {@link DEFAULT_TARGET_ACCURACY} */
  targetAccuracy?: number;
  /** How the interval of the accuracy difference is computed. @default 'welch' */
  interval?: IntervalMethod;
  /** The current backend's name, as reports show it (e.g. `wasm (2 threads)`). */
  backend: string;
  device?: string;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

/** One seed's run of one model. */
export interface BenchSeedRun {
  seed: number;
  /** Final, on the whole test set. */
  testAccuracy: number;
  testLoss: number;
  /** Training samples per second of training time (evaluations excluded). */
  samplesPerSec: number;
  /**
   * Training time until test accuracy first reached the target, linear between the two
   * evaluations around the crossing; null when it never did.
   */
  secondsToTarget: number | null;
  /** The gap between those two evaluations: the crossing lies within it. */
  secondsToTargetResolution: number | null;
  steps: number;
  epochs: number;
  trainSeconds: number;
  stopped: TrainResult['stopped'];
  /** The final pass over the test set, forward passes and loss. */
  inferenceSamplesPerSec: number;
  /** Measured for a full epoch when one ran (evaluations included), else projected from samples/s. */
  epochSeconds: number;
  epochSecondsMeasured: boolean;
  /** Final test confusion matrix: confusion[true][predicted]. */
  confusion: number[][];
  /** Per-step losses (to {@link LOSS_DIGITS} digits) and every evaluation. */
  history: TrainHistory;
}

export interface BenchModelResult {
  model: string;
  family: string;
  /** The backend this model ran on, as `train` would run it (threads included). */
  backend: string;
  params: number;
  flopsPerSample: number;
  trainFlopsPerSample: number;
  batchSize: number;
  /** Test images each intermediate evaluation used (the recipe may limit them); the final one uses all. */
  intermediateTestExamples: number;
  /** Highest over the runs. */
  peakRssBytes: number;
  peakTensorBytes: number;
  seeds: BenchSeedRun[];
  summary: {
    testAccuracy: Summary;
    testLoss: Summary;
    samplesPerSec: Summary;
    /** Over the runs that reached the target (`n` says how many). */
    secondsToTarget: Summary;
    secondsToTargetResolution: Summary;
    inferenceSamplesPerSec: Summary;
    epochSeconds: Summary;
    steps: Summary;
  };
}

export interface BenchDataFacts {
  dataset: string;
  dataSource: string;
  trainExamples: number;
  testExamples: number;
}

export interface BenchResult extends BenchDataFacts {
  /** Backends compared, in order (each model's own line, threads included, is its `backend`). */
  backends: string[];
  /** Backends asked for that could not run here, and why. */
  skippedBackends: Array<{ backend: string; reason: string }>;
  seeds: number[];
  targetAccuracy: number;
  /** How long each run trained: a time budget (capped by its recipe), or steps, or epochs, or its whole recipe. */
  budget: { seconds?: number; steps?: number; epochs?: number; recipe?: true };
  /** Untimed steps each model ran on a throwaway copy first. */
  warmupSteps: number;
  /** How each run's evaluations were spaced (`history.evals` has them). */
  evaluations: { spacing: string };
  machine: MachineFacts;
  date: string;
  /** The command that ran it, when it came from the CLI. */
  command?: string;
  /** Wall time of all the runs (warm-ups, evaluations and, from the CLI, each model's process included). */
  wallSeconds?: number;
  /** Every model on the first backend, then on the next. */
  results: BenchModelResult[];
  /** The first two models on the first backend; null with fewer than two models. */
  comparison: BenchComparison | null;
  /** The same for every backend. */
  comparisons: BenchComparison[];
}

/** One model's runs, with what the comparison needs besides the numbers: each run's test predictions. */
export interface BenchModelRun {
  result: BenchModelResult;
  /** Predicted class of every test image, one array per seed. */
  predictions: Uint8Array[];
}

export interface BenchModelOptions {
  preset: string;
  /** Loaded with the preset's normalisation. */
  data: Dataset;
  seeds: number[];
  steps?: number;
  epochs?: number;
  seconds?: number;
  limit?: number;
  targetAccuracy: number;
  backend: string;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

/**
 * When to evaluate, as `train`'s `evalWhen`: each time the run's progress passes (k / count)^2
 * for k = 1..count, and before the first of those after steps 1, 2, 4, 8, ... Progress is the
 * larger of steps done over the planned steps and training time over the time budget, so a run
 * that a budget stops early and one that finishes its recipe both get `count` evaluations.
 * Squares put more of them early, where accuracy changes fastest (time to target is read there);
 * the doublings give the log samples-seen axis points in each octave before the first square (the
 * MLP's 10,000-step recipe reaches it at step 70). Marks that fall on one step go to the steps
 * after it, so a short run is evaluated at each of its first steps.
 */
export function evaluationSchedule(totalSteps: number, seconds: number | undefined, count = BENCH_EVALS): (p: { stepsDone: number; trainSeconds: number }) => boolean {
  checkInt('count', count);
  const marks = Array.from({ length: count }, (_, k) => ((k + 1) / count) ** 2);
  let next = 0;
  return ({ stepsDone, trainSeconds }) => {
    const progress = Math.max(stepsDone / totalSteps, seconds === undefined ? 0 : trainSeconds / seconds);
    if (next < marks.length && progress >= marks[next]!) {
      // One evaluation per mark: marks closer than a step (a short run) go to the steps after.
      next++;
      return true;
    }
    return next === 0 && (stepsDone & (stepsDone - 1)) === 0;
  };
}

/** How a run's evaluations were spaced, in words, for the results and the report. */
export const EVALUATION_SPACING =
  `each time the run's progress (steps over planned steps, or training time over the budget, whichever is further) passes (k/${BENCH_EVALS})^2, ` +
  `k = 1..${BENCH_EVALS}, and before the first of those after steps 1, 2, 4, 8 and so on`;

/** At least one seed, each an integer: `benchPlan` checks a caller's seeds, `benchModel` those that reach it (the CLI's worker gets them over IPC). */
function checkSeeds(seeds: readonly number[]): void {
  if (seeds.length === 0) throw new InvalidArgumentError('seeds', 'name at least one seed');
  seeds.forEach((s, i) => checkSeed(`seeds[${i}]`, s));
}

const round = (x: number, digits: number) => Number(x.toPrecision(digits));

/**
 * Trains and evaluates one preset once per seed on the current backend: a warm-up on a throwaway
 * model, then each seed from scratch with evaluations spaced by progress, and a final pass over the
 * whole test set that keeps every prediction.
 */
export async function benchModel(o: BenchModelOptions): Promise<BenchModelRun> {
  const preset = getPreset(o.preset);
  checkSeeds(o.seeds);
  const data = o.data;
  const log = o.log ?? (() => {});
  const progress = o.progress ?? silentProgress;

  const warm = preset.build({ seed: o.seeds[0] });
  try {
    await train(warm, data, { ...recipeOptions(preset, { steps: BENCH_WARMUP_STEPS, seed: o.seeds[0], limit: o.limit }), logInterval: 0 });
  } finally {
    warm.dispose();
  }

  const planned = recipeOptions(preset, { steps: o.steps, epochs: o.epochs, limit: o.limit, maxSeconds: o.seconds });
  const trainCount = Math.min(data.train.count, planned.trainLimit ?? Infinity);
  const stepsPerEpoch = Math.ceil(trainCount / planned.batchSize);
  const totalSteps = planned.steps ?? (planned.epochs as number) * stepsPerEpoch;
  const intermediateTestExamples = Math.min(planned.evalTestLimit ?? Infinity, data.test.count);
  const seeds: BenchSeedRun[] = [];
  const predictions: Uint8Array[] = [];
  let peakRss = process.memoryUsage().rss;
  let peakTensorBytes = tf.memory().numBytes;
  const sample = () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
  };
  let facts: Pick<BenchModelResult, 'params' | 'flopsPerSample' | 'trainFlopsPerSample'> | undefined;

  for (const [k, seed] of o.seeds.entries()) {
    log(
      `bench: ${preset.id}, seed ${seed} (${k + 1} of ${o.seeds.length}), ${o.seconds === undefined ? '' : `${o.seconds} s of training or `}${totalSteps} steps of batch ${planned.batchSize}`,
    );
    const model = preset.build({ seed });
    try {
      facts ??= { params: model.countParams(), flopsPerSample: forwardFlops(model), trainFlopsPerSample: trainingFlops(model) };
      const run = await train(model, data, {
        ...planned,
        seed,
        logInterval: 0,
        evalTrainLimit: Math.min(planned.evalTrainLimit ?? Infinity, BENCH_EVAL_TRAIN_EXAMPLES),
        evalWhen: evaluationSchedule(totalSteps, o.seconds),
        onEval: sample,
        progress,
      });
      sample();
      const testStart = performance.now();
      const test = await evaluate(model, data.test, { loss: preset.recipe.loss, targets: preset.recipe.targets, keepPredictions: true });
      const testSeconds = (performance.now() - testStart) / 1000;
      sample();
      predictions.push(test.predictions as Uint8Array);
      const curve = accuracyCurves(run, planned.batchSize).time;
      // The final figure (whole test set) counts too when the evaluations' subset never got there.
      const crossing =
        firstCrossing(curve, o.targetAccuracy) ??
        (test.accuracy >= o.targetAccuracy ? firstCrossing([...curve.filter(([t]) => t < run.trainSeconds), [run.trainSeconds, test.accuracy]], o.targetAccuracy) : null);
      const measuredEpoch = run.history.epochs[0];
      const epochMeasured = Boolean(measuredEpoch && run.epochs >= 1);
      seeds.push({
        seed,
        testAccuracy: test.accuracy,
        testLoss: test.loss as number,
        samplesPerSec: run.samplesPerSec,
        secondsToTarget: crossing?.x ?? null,
        secondsToTargetResolution: crossing?.resolution ?? null,
        steps: run.steps,
        epochs: run.epochs,
        trainSeconds: run.trainSeconds,
        stopped: run.stopped,
        inferenceSamplesPerSec: test.count / testSeconds,
        epochSeconds: epochMeasured ? (measuredEpoch as { seconds: number }).seconds : (stepsPerEpoch * planned.batchSize) / run.samplesPerSec,
        epochSecondsMeasured: epochMeasured,
        confusion: test.confusion,
        history: { ...run.history, loss: run.history.loss.map((l) => round(l, LOSS_DIGITS)) },
      });
    } finally {
      model.dispose();
    }
  }
  const of = (f: (s: BenchSeedRun) => number | null) => summarize(seeds.map(f).filter((v): v is number => v !== null));
  return {
    result: {
      model: preset.id,
      family: preset.family,
      backend: o.backend,
      ...(facts as NonNullable<typeof facts>),
      batchSize: planned.batchSize,
      intermediateTestExamples,
      peakRssBytes: peakRss,
      peakTensorBytes,
      seeds,
      summary: {
        testAccuracy: of((s) => s.testAccuracy),
        testLoss: of((s) => s.testLoss),
        samplesPerSec: of((s) => s.samplesPerSec),
        secondsToTarget: of((s) => s.secondsToTarget),
        secondsToTargetResolution: of((s) => s.secondsToTargetResolution),
        inferenceSamplesPerSec: of((s) => s.inferenceSamplesPerSec),
        epochSeconds: of((s) => s.epochSeconds),
        steps: of((s) => s.steps),
      },
    },
    predictions,
  };
}

/** What every way of running the benchmark settles first: models, budget, seeds, target. */
export interface BenchPlan {
  models: string[];
  steps?: number;
  epochs?: number;
  seconds?: number;
  recipe: boolean;
  seeds: number[];
  targetAccuracy: number;
  interval: IntervalMethod;
}

/** What of a plan (and the data limit) every model's `benchModel` call takes: seeds, budget, target. */
export type BenchRunOptions = Pick<BenchModelOptions, 'seeds' | 'steps' | 'epochs' | 'seconds' | 'limit' | 'targetAccuracy'>;

/**
 * A plan's part of `benchModel`'s options, the one mapping of plan to run that `runBench`, the CLI's
 * request to its worker and the worker itself share.
 */
export function benchRunOptions(plan: Pick<BenchPlan, 'seeds' | 'steps' | 'epochs' | 'seconds' | 'targetAccuracy'>, limit: number | undefined): BenchRunOptions {
  return { seeds: plan.seeds, steps: plan.steps, epochs: plan.epochs, seconds: plan.seconds, limit, targetAccuracy: plan.targetAccuracy };
}

/** Checks the options and fills in the defaults (the budget, seeds 1..N). */
export function benchPlan(options: Omit<BenchOptions, 'backend'>): BenchPlan {
  const models = options.models ?? DEFAULT_BENCH_MODELS;
  if (models.length === 0) throw new InvalidArgumentError('models', 'name at least one preset');
  if (new Set(models).size !== models.length) throw new InvalidArgumentError('models', `names a preset twice: ${models.join(',')}`);
  models.forEach((m) => getPreset(m));
  const recipe = options.recipe ?? false;
  if ([options.steps, options.epochs, options.seconds, recipe || undefined].filter((v) => v !== undefined).length > 1) {
    throw new InvalidArgumentError('steps/epochs/seconds/recipe', 'give one of them');
  }
  const { steps, epochs } = options;
  const seconds = steps === undefined && epochs === undefined && !recipe ? options.seconds ?? DEFAULT_BENCH_SECONDS : undefined;
  const seeds = options.seeds ?? Array.from({ length: DEFAULT_BENCH_SEEDS }, (_, i) => i + 1);
  checkSeeds(seeds);
  if (new Set(seeds).size !== seeds.length) throw new InvalidArgumentError('seeds', `names a seed twice: ${seeds.join(',')}`);
  const interval = options.interval ?? DEFAULT_INTERVAL_METHOD;
  if (!INTERVAL_METHODS.includes(interval)) throw new InvalidArgumentError('interval', `must be one of ${INTERVAL_METHODS.join(', ')}, got '${interval}'`);
  return { models, steps, epochs, seconds, recipe, seeds, targetAccuracy: options.targetAccuracy ?? DEFAULT_TARGET_ACCURACY, interval };
}

/** One backend's runs of every model, in the plan's order. */
export interface BenchBackendRuns {
  backend: string;
  runs: BenchModelRun[];
  images: TestImages;
}

/** The result document from each backend's runs: summaries are in the runs; comparisons are made here. */
export function assembleBench(
  plan: BenchPlan,
  data: BenchDataFacts,
  backends: BenchBackendRuns[],
  skippedBackends: BenchResult['skippedBackends'] = [],
): BenchResult {
  const comparisons = backends
    .filter((b) => b.runs.length >= 2)
    .map((b) => compareModels(b.backend, b.runs[0]!, b.runs[1]!, b.images, { interval: plan.interval }));
  return {
    backends: backends.map((b) => b.backend),
    skippedBackends,
    ...data,
    seeds: plan.seeds,
    targetAccuracy: plan.targetAccuracy,
    budget: plan.recipe
      ? { recipe: true }
      : plan.seconds !== undefined
        ? { seconds: plan.seconds }
        : plan.steps !== undefined
          ? { steps: plan.steps }
          : { epochs: plan.epochs },
    warmupSteps: BENCH_WARMUP_STEPS,
    evaluations: { spacing: EVALUATION_SPACING },
    machine: machineFacts(),
    date: new Date().toISOString(),
    results: backends.flatMap((b) => b.runs.map((r) => r.result)),
    comparison: comparisons[0] ?? null,
    comparisons,
  };
}

/** The facts of a loaded dataset that the results record. */
export function dataFacts(data: Dataset): BenchDataFacts {
  return { dataset: data.name, dataSource: data.source.description, trainExamples: data.train.count, testExamples: data.test.count };
}

/** The test labels and each image's pixel bytes (undoing the normalisation), for the digit grids. */
export function testImagesOf(data: Dataset): TestImages {
  const size = data.height * data.width;
  const toByte =
    data.normalization === 'unit' ? (v: number) => v * 255 : data.normalization === 'offset' ? (v: number) => ((v - 0.01) / 0.99) * 255 : (v: number) => v;
  return {
    labels: data.test.labels,
    pixels: (index) => Uint8Array.from(data.test.images.subarray(index * size, (index + 1) * size), (v) => Math.round(toByte(v))),
  };
}

/**
 * Trains and evaluates each model once per seed on the same data and the current backend, and
 * compares the first two. One process runs one wasm thread count for all models; the CLI runs
 * each model in its own process instead, with the threads `train` would give it.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const plan = benchPlan(options);
  const datasets = new Map<string, Dataset>();
  const runs: BenchModelRun[] = [];
  let first: Dataset | undefined;
  for (const id of plan.models) {
    const preset = getPreset(id);
    const key = preset.recipe.normalization;
    if (!datasets.has(key)) datasets.set(key, await loadPresetData(preset, { dataset: options.dataset, load: options.load, limit: options.limit }));
    const data = datasets.get(key) as Dataset;
    first ??= data;
    runs.push(
      await benchModel({
        preset: id,
        data,
        ...benchRunOptions(plan, options.limit),
        backend: options.backend,
        progress: options.progress,
        log: options.log,
      }),
    );
  }
  const data = first as Dataset;
  return assembleBench(plan, dataFacts(data), [{ backend: options.backend, runs, images: testImagesOf(data) }]);
}

export {
  benchTableData,
  benchTable,
  benchHeadline,
  benchNotes,
  benchLossSvg,
  benchAccuracySvg,
  writeBenchReport,
  benchReportHtml,
  comparisonSentence,
  LOSS_SMOOTHING_HALF_WINDOW,
} from './bench-report';
export type { WrittenReport } from './bench-report';
