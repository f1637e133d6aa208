import { fork } from 'child_process';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { BACKEND_CHOICES, type BackendChoice } from '../../backends';
import { checkInt, checkPositiveNumber, checkSeed } from '../../checks';
import { BackendUnavailableError, InvalidArgumentError, MnistNetsError } from '../../errors';
import {
  type BenchBackendRuns,
  type BenchDataFacts,
  type BenchPlan,
  DEFAULT_BENCH_MODELS,
  DEFAULT_BENCH_SECONDS,
  DEFAULT_BENCH_SEEDS,
  assembleBench,
  benchHeadline,
  benchPlan,
  benchRunOptions,
  benchTable,
  comparisonSentence,
  writeBenchReport,
} from '../../jobs/bench-job';
import { PRESET_IDS } from '../../recipes';
import { DEFAULT_INTERVAL_METHOD, INTERVAL_METHODS, type IntervalMethod } from '../../stats';
import { RunArgs, checkFlag, namingFlags, withRunOptions } from '../common-options';
import { logLine, printJson, printText } from '../output';
import type { BenchWorkerReply, BenchWorkerRequest } from './bench-worker';

interface BenchArgs extends RunArgs {
  models: string;
  seconds?: number;
  steps?: number;
  epochs?: number;
  recipe?: boolean;
  seed?: number;
  seeds?: number;
  'seed-list'?: string;
  'target-accuracy': number;
  interval: IntervalMethod;
  backends?: string;
  out?: string;
}

/** A comma-separated flag's items, trimmed, none empty or repeated. */
function listFlag(flag: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError(flag, `has an empty item: '${value}'`);
  const twice = items.find((s, i) => items.indexOf(s) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(flag, `names '${twice}' twice`);
  return items;
}

/** An error a worker reported, with the exit code it would have exited with. */
class WorkerError extends MnistNetsError {
  override name = 'WorkerError';
  constructor(
    message: string,
    override readonly exitCode: number,
  ) {
    super(message.replace(/^mnist-nets: /, ''));
  }
}

/** Runs one model's seeds in a child process (this CLI's `bench-worker`) and returns its reply. */
function runWorker(request: BenchWorkerRequest): Promise<Extract<BenchWorkerReply, { type: 'result' | 'unavailable' }>> {
  return new Promise((resolve, reject) => {
    // The entry this process was started with: dist/lib/cli/main.js, or the bundle's mnist-nets.cjs.
    const child = fork(process.argv[1] as string, ['bench-worker'], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
      execArgv: process.execArgv,
    });
    // Nothing of the child's may reach this process's stdout, which --json keeps for its document.
    child.stdout?.pipe(process.stderr);
    let reply: BenchWorkerReply | undefined;
    child.on('message', (m) => (reply = m as BenchWorkerReply));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (reply?.type === 'error') reject(new WorkerError(reply.message, reply.exitCode));
      else if (reply) resolve(reply);
      else reject(new Error(`bench: the process running ${request.model} on ${request.backend} ended (${signal ?? `exit code ${code}`}) without a result`));
    });
    child.send(request);
  });
}

/**
 * Every model on every backend, each model in a process of its own (so wasm gets the threads
 * `train` would give it); a backend that cannot start is skipped with its reason.
 */
async function runIsolated(plan: BenchPlan, backends: BackendChoice[], args: BenchArgs): Promise<ReturnType<typeof assembleBench>> {
  const groups: BenchBackendRuns[] = [];
  const skipped: Array<{ backend: string; reason: string }> = [];
  let data: BenchDataFacts | undefined;
  for (const backend of backends) {
    const runs: BenchBackendRuns['runs'] = [];
    const pixels = new Map<number, Uint8Array>();
    let labels: Uint8Array = new Uint8Array(0);
    let selected: string | undefined;
    let unavailable: string | undefined;
    for (const model of plan.models) {
      const reply = await runWorker({
        model,
        backend,
        threads: backend === 'wasm' ? args.threads : undefined,
        verbose: args.verbose,
        ...benchRunOptions(plan, args.limit),
        dataset: args.dataset,
        dataDir: args['data-dir'],
        live: args.json ? false : undefined,
      });
      if (reply.type === 'unavailable') {
        unavailable = reply.reason;
        break;
      }
      runs.push({ result: reply.result, predictions: reply.predictions });
      for (const [i, p] of reply.pixels) pixels.set(i, p);
      labels = reply.labels;
      data ??= reply.data;
      // `auto` is named by what it chose; threads are each model's own (in its results).
      selected ??= reply.selected;
    }
    if (unavailable !== undefined) {
      skipped.push({ backend, reason: unavailable });
      logLine(`bench: skipping backend ${backend}: ${unavailable}`);
      continue;
    }
    groups.push({
      backend: selected ?? backend,
      runs,
      images: {
        labels,
        pixels: (i) => {
          const p = pixels.get(i);
          if (!p) throw new Error(`bench: no pixels came back for test image ${i}`);
          return p;
        },
      },
    });
  }
  if (groups.length === 0) {
    throw new BackendUnavailableError(backends.join(','), skipped.map((s) => (backends.length > 1 ? `${s.backend}: ${s.reason}` : s.reason)).join('; '));
  }
  return assembleBench(plan, data as BenchDataFacts, groups, skipped);
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Benchmark presets on the same data and backend over several seeds: accuracy with its spread and the difference with its interval, time, throughput, memory; report with plots',
  builder: (y) =>
    withRunOptions(
      y
        .option('models', { type: 'string', default: DEFAULT_BENCH_MODELS.join(','), describe: 'Comma-separated preset ids; the first two are compared' })
        .option('seconds', { type: 'number', describe: `Training time per run; each stops at its recipe's end if sooner (default ${DEFAULT_BENCH_SECONDS} when no --steps/--epochs)` })
        .option('steps', { type: 'number', describe: 'Training steps per run instead of a time budget' })
        .option('epochs', { type: 'number', describe: 'Epochs per run instead of a time budget' })
        .option('recipe', { type: 'boolean', describe: 'Train each run for its whole recipe, with no time budget' })
        .option('seeds', { type: 'number', describe: `Runs per model, with seeds --seed, --seed + 1, ... (default ${DEFAULT_BENCH_SEEDS})` })
        .option('seed', { type: 'number', describe: 'First seed (default 1)' })
        .option('seed-list', { type: 'string', describe: 'Comma-separated seeds, one run per model each (instead of --seeds/--seed)' })
        .option('target-accuracy', { type: 'number', default: 0.9, describe: 'Report the training time to reach this test accuracy' })
        .option('interval', {
          choices: INTERVAL_METHODS,
          default: DEFAULT_INTERVAL_METHOD,
          describe: "How the 95% interval of the accuracy difference is computed: Welch's t (fit for few seeds) or a percentile bootstrap",
        })
        .option('backends', { type: 'string', describe: 'Comma-separated backends to compare on, e.g. wasm,cpu,webgpu (instead of --backend); one that cannot run here is skipped with its reason' })
        .option('out', { type: 'string', describe: 'Write report.md, report.html, results.json and plots into this directory' })
        .conflicts('steps', 'epochs')
        .conflicts('seconds', ['steps', 'epochs'])
        .conflicts('recipe', ['seconds', 'steps', 'epochs'])
        .conflicts('seed-list', ['seeds', 'seed']),
    ) as never,
  handler: async (args) => {
    checkFlag('steps', args.steps);
    if (args.seconds !== undefined) checkPositiveNumber('--seconds', args.seconds);
    checkFlag('epochs', args.epochs);
    checkFlag('limit', args.limit);
    if (args.seeds !== undefined) checkInt('--seeds', args.seeds);
    if (args.seed !== undefined) checkSeed('--seed', args.seed);
    const seeds = args['seed-list'] !== undefined
      ? listFlag('--seed-list', args['seed-list']).map((s) => checkSeed('--seed-list', /^-?\d+$/.test(s) ? Number(s) : s))
      : Array.from({ length: args.seeds ?? DEFAULT_BENCH_SEEDS }, (_, i) => (args.seed ?? 1) + i);
    const target = args['target-accuracy'];
    if (!(target > 0 && target <= 1)) throw new InvalidArgumentError('--target-accuracy', `must be in (0, 1], got ${target}`);
    const models = listFlag('--models', args.models);
    for (const m of models) {
      if (!(PRESET_IDS as readonly string[]).includes(m)) throw new InvalidArgumentError('--models', `unknown preset '${m}'; choose from ${PRESET_IDS.join(', ')}`);
    }
    const backends = (args.backends !== undefined ? listFlag('--backends', args.backends) : [args.backend]) as BackendChoice[];
    for (const b of backends) if (!BACKEND_CHOICES.includes(b)) throw new InvalidArgumentError('--backends', `unknown backend '${b}' (one of ${BACKEND_CHOICES.join(', ')})`);
    if (args.threads !== undefined) {
      checkFlag('threads', args.threads);
      if (!backends.includes('wasm')) throw new InvalidArgumentError('--threads', 'applies to the wasm backend only');
    }
    const plan = (() => {
      try {
        return benchPlan({ models, steps: args.steps, epochs: args.epochs, seconds: args.seconds, recipe: args.recipe, seeds, targetAccuracy: target, interval: args.interval });
      } catch (err) {
        return namingFlags({ models: '--models', 'steps/epochs/seconds/recipe': '--steps/--epochs/--seconds/--recipe', seeds: '--seed-list', interval: '--interval' })(err);
      }
    })();
    const started = performance.now();
    const bench = await runIsolated(plan, backends, args);
    bench.wallSeconds = (performance.now() - started) / 1000;
    bench.command = `npx mnist-nets bench ${process.argv.slice(3).join(' ')}`.trim();
    if (args.out) {
      const written = await writeBenchReport(bench, args.out);
      logLine(`report written to ${path.resolve(written.dir)}: ${written.files.join(', ')}`);
    }
    if (args.json) printJson(bench);
    else printText([benchHeadline(bench), '', benchTable(bench), ...bench.comparisons.map((c) => `\n${comparisonSentence(c)}`)].join('\n'));
  },
};
