import * as path from 'path';
import type { CommandModule } from 'yargs';
import { checkPositiveNumber, checkSeed } from '../../checks';
import { InvalidArgumentError } from '../../errors';
import { DEFAULT_BENCH_MODELS, benchHeadline, benchTable, runBench, writeBenchReport } from '../../jobs/bench-job';
import { PRESET_IDS } from '../../recipes';
import { stderrProgress } from '../../training/stderr-progress';
import { RunArgs, checkFlag, loadOptionsFrom, namingFlags, selectBackend, withRunOptions } from '../common-options';
import { logLine, printJson, printText } from '../output';

interface BenchArgs extends RunArgs {
  models: string;
  seconds?: number;
  steps?: number;
  epochs?: number;
  seed: number;
  'target-accuracy': number;
  out?: string;
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Benchmark presets on the same data and backend: accuracy, time, throughput, memory; report with plots',
  builder: (y) =>
    withRunOptions(
      y
        .option('models', { type: 'string', default: DEFAULT_BENCH_MODELS.join(','), describe: 'Comma-separated preset ids' })
        .option('seconds', { type: 'number', describe: 'Training time per model; each stops at its recipe\'s end if sooner (default 60 when no --steps/--epochs)' })
        .option('steps', { type: 'number', describe: 'Training steps per model instead of a time budget' })
        .option('epochs', { type: 'number', describe: 'Epochs per model instead of a time budget' })
        .option('seed', { type: 'number', default: 1, describe: 'Seed for every model' })
        .option('target-accuracy', { type: 'number', default: 0.9, describe: 'Report the training time to reach this test accuracy' })
        .option('out', { type: 'string', describe: 'Write report.md, results.json and plots into this directory' })
        .conflicts('steps', 'epochs')
        .conflicts('seconds', ['steps', 'epochs']),
    ) as never,
  handler: async (args) => {
    checkFlag('steps', args.steps);
    if (args.seconds !== undefined) checkPositiveNumber('--seconds', args.seconds);
    checkFlag('epochs', args.epochs);
    checkFlag('limit', args.limit);
    checkSeed('--seed', args.seed);
    const target = args['target-accuracy'];
    if (!(target > 0 && target <= 1)) throw new InvalidArgumentError('--target-accuracy', `must be in (0, 1], got ${target}`);
    const models = args.models.split(',').map((m) => m.trim()).filter(Boolean);
    for (const m of models) {
      if (!(PRESET_IDS as readonly string[]).includes(m)) throw new InvalidArgumentError('--models', `unknown preset '${m}'; choose from ${PRESET_IDS.join(', ')}`);
    }
    if (models.length === 0) throw new InvalidArgumentError('--models', `name at least one preset: ${PRESET_IDS.join(', ')}`);
    const backend = await selectBackend(args.backend, args.threads, args.verbose);
    const bench = await runBench({
      models,
      steps: args.steps,
      epochs: args.epochs,
      seconds: args.seconds,
      dataset: args.dataset,
      load: loadOptionsFrom(args),
      limit: args.limit,
      seed: args.seed,
      targetAccuracy: target,
      backend,
      // --json output is read by scripts, whose stderr is usually a log: lines, not a live line.
      progress: stderrProgress({ live: args.json ? false : undefined }),
      log: logLine,
    }).catch(namingFlags({ models: '--models', 'steps/epochs/seconds': '--steps/--epochs/--seconds', batchSize: '--batch-size', limit: '--limit', seed: '--seed' }));
    if (args.out) {
      const command = `npx mnist-nets bench ${process.argv.slice(3).join(' ')}`.trim();
      const written = await writeBenchReport(bench, args.out, command);
      logLine(`report written to ${path.resolve(written.dir)}: ${written.files.join(', ')}`);
    }
    if (args.json) printJson(bench);
    else printText(`${benchHeadline(bench)}\n\n${benchTable(bench)}`);
  },
};
