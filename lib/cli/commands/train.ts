import type { CommandModule } from 'yargs';
import { wasmWorkloadOf } from '../../backends';
import { checkPositiveNumber, checkSeed } from '../../checks';
import { InvalidArgumentError } from '../../errors';
import { runTrainJob } from '../../jobs/train-job';
import { PRESET_IDS, getPreset } from '../../recipes';
import { checkValidationSplit } from '../../training/data-source';
import { stderrProgress } from '../../training/stderr-progress';
import { RunArgs, checkFlag, loadOptionsFrom, namingFlags, selectBackend, withRunOptions } from '../common-options';
import { logLine, printJson, printText } from '../output';

interface TrainArgs extends RunArgs {
  model: string;
  epochs?: number;
  steps?: number;
  'max-seconds'?: number;
  'batch-size'?: number;
  lr?: number;
  seed?: number;
  'log-interval'?: number;
  save?: string;
  resume: boolean;
  'validation-split'?: number;
  'early-stopping'?: number;
}

/** The flag behind each option runTrainJob checks, so that its errors name what the user typed. */
const FLAG_OF: Record<string, string> = {
  model: '--model',
  dataset: '--dataset',
  seed: '--seed',
  batchSize: '--batch-size',
  learningRate: '--lr',
  limit: '--limit',
  resume: '--resume',
  'epochs/steps': '--epochs/--steps',
  validationSplit: '--validation-split',
  earlyStopping: '--early-stopping',
};

/** Exit status after a signal stopped the run: 128 + the signal's number, as a shell reports it. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** A word of a command line as a POSIX shell reads it back. */
function shellWord(word: string): string {
  return /^[\w./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that continues a run checkpointed in `args.save`: its data and backend flags too, which the checkpoint does not hold. */
export function resumeCommand(args: TrainArgs): string {
  const words = ['npx', 'mnist-nets', 'train', '--model', args.model, '--save', args.save as string, '--resume'];
  if (args['data-dir'] !== undefined) words.push('--data-dir', args['data-dir']);
  if (args.backend !== 'auto') words.push('--backend', args.backend);
  if (args.threads !== undefined) words.push('--threads', String(args.threads));
  if (args.steps !== undefined) words.push('--steps', String(args.steps));
  if (args.epochs !== undefined) words.push('--epochs', String(args.epochs));
  return words.map(shellWord).join(' ');
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: "Train a preset with its source's recipe (every flag defaults to the recipe)",
  builder: (y) =>
    withRunOptions(
      y
        .option('model', { choices: PRESET_IDS, demandOption: true, describe: 'Preset id (see `mnist-nets models`)' })
        .option('epochs', { type: 'number', describe: 'Passes over the training data' })
        .option('steps', { type: 'number', describe: 'Optimiser steps (instead of epochs)' })
        .option('max-seconds', { type: 'number', describe: 'Stop after this much training time (evaluations excluded), or at the recipe\'s end if sooner' })
        .option('batch-size', { type: 'number', describe: 'Examples per step' })
        .option('lr', { type: 'number', describe: 'Base learning rate' })
        .option('seed', { type: 'number', describe: 'Seed for initialisation, batches and dropout' })
        .option('log-interval', { type: 'number', describe: 'Evaluate train/test accuracy every N steps (0: at the end)' })
        .option('save', { type: 'string', describe: 'Save a checkpoint (model and training state) here after every epoch, on Ctrl-C and at the end' })
        .option('resume', {
          type: 'boolean',
          default: false,
          describe: "Continue the run checkpointed in --save DIR where it stopped (its recipe, data and seed; --steps/--epochs may extend it)",
        })
        .option('validation-split', {
          type: 'number',
          describe: 'Hold out this fraction (0-1) of the training data, its last examples, and measure loss and accuracy on it after every epoch; with --save, the best model so far is kept in DIR/best',
        })
        .option('early-stopping', {
          type: 'number',
          describe: 'Stop after this many epochs without a lower validation loss, and keep the best epoch\'s weights (needs --validation-split)',
        })
        .conflicts('epochs', 'steps'),
    ) as never,
  handler: async (args) => {
    checkFlag('epochs', args.epochs);
    checkFlag('steps', args.steps);
    checkFlag('batch-size', args['batch-size']);
    checkFlag('limit', args.limit);
    checkFlag('log-interval', args['log-interval'], { min: 0 });
    if (args.seed !== undefined) checkSeed('--seed', args.seed);
    if (args.lr !== undefined) checkPositiveNumber('--lr', args.lr);
    if (args['max-seconds'] !== undefined) checkPositiveNumber('--max-seconds', args['max-seconds']);
    if (args.resume && !args.save) throw new InvalidArgumentError('--resume', 'needs --save DIR, the folder of the checkpoint to continue');
    const split = args['validation-split'];
    if (split !== undefined) checkValidationSplit('--validation-split', split, 'a fraction');
    checkFlag('early-stopping', args['early-stopping'], { min: 0 });
    if (args['early-stopping'] !== undefined && split === undefined) throw new InvalidArgumentError('--early-stopping', 'needs --validation-split F: it watches the validation loss');
    const backend = await selectBackend(args.backend, args.threads, args.verbose, wasmWorkloadOf(getPreset(args.model).family));

    // Ctrl-C or SIGTERM stops after the step in flight (the loop gives signal handlers a turn
    // every 50 ms); the job then saves the last completed state. A second signal quits at once:
    // checkpoints are written so that one cut short leaves the previous one whole.
    const controller = new AbortController();
    let stoppedBy: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stoppedBy) {
        logLine(`${signal} again: quitting at once${args.save ? `; ${args.save} keeps its last complete checkpoint` : ''}`);
        process.exit(SIGNAL_EXIT[signal] ?? 1);
      }
      stoppedBy = signal;
      logLine(`${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: finishing the current step${args.save ? ' and saving' : ''} (Ctrl-C again to quit at once)`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const { result, model } = await runTrainJob({
        preset: args.model,
        // A resumed run reads its dataset from the checkpoint.
        dataset: args.resume ? undefined : args.dataset,
        resume: args.resume,
        load: loadOptionsFrom(args),
        epochs: args.epochs,
        steps: args.steps,
        maxSeconds: args['max-seconds'],
        batchSize: args['batch-size'],
        learningRate: args.lr,
        seed: args.seed,
        limit: args.limit,
        logInterval: args['log-interval'],
        validationSplit: args['validation-split'],
        earlyStopping: args['early-stopping'],
        saveDir: args.save,
        backend,
        // --json output is read by scripts, whose stderr is usually a log: lines, not a live line.
        progress: stderrProgress({ live: args.json ? false : undefined }),
        signal: controller.signal,
      }).catch(namingFlags(FLAG_OF));
      model.dispose();
      const interrupted = result.stopped === 'aborted' && stoppedBy !== undefined;
      const resume = interrupted && result.savedTo ? resumeCommand(args) : undefined;
      if (interrupted) {
        logLine(
          `${stoppedBy === 'SIGINT' ? 'interrupted' : 'terminated'} at step ${result.steps}` +
            (resume ? `; checkpoint saved in ${result.savedTo}` : '; nothing saved (train with --save DIR to be able to resume)') +
            // The text summary on stdout ends with the command; --json output holds it as resumeCommand.
            (resume && args.json ? `. Continue with:\n  ${resume}` : ''),
        );
      }
      if (args.json) printJson(interrupted ? { ...result, stopped: 'interrupted', signal: stoppedBy, ...(resume ? { resumeCommand: resume } : {}) } : result);
      else {
        const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
        const evalLines =
          result.evaluation === 'skipped'
            ? [`  evaluation skipped after the interruption: it would be slow${result.savedTo ? ` (later: npx mnist-nets eval --model-dir ${shellWord(result.savedTo)})` : ''}`]
            : [
                result.evaluation === 'test'
                  ? '  train accuracy not measured (interrupted)'
                  : `  train accuracy ${pct(result.trainAccuracy)} (${result.trainAccuracySamples} examples)`,
                `  test accuracy ${pct(result.testAccuracy)}, test loss ${result.testLoss.toFixed(4)}`,
              ];
        printText(
          [
            `${result.model} on ${result.dataset} (${result.backend}): ${result.steps} steps, ${result.epochs.toFixed(2)} epochs in ${result.seconds.toFixed(1)} s` +
              (result.resumedFrom > 0 ? ` (resumed at step ${result.resumedFrom})` : '') +
              (result.stopped === 'time-limit' ? ` (stopped by --max-seconds ${args['max-seconds']})` : '') +
              (interrupted ? ` (interrupted by ${stoppedBy} at step ${result.steps})` : ''),
            `  ${Math.round(result.samplesPerSec).toLocaleString('en-US')} training samples/s, seed ${result.seed}`,
            ...evalLines,
            `  source reports: ${result.reported}`,
            ...(result.earlyStopping
              ? [`  best validation loss ${result.earlyStopping.best.toFixed(4)} at epoch ${result.earlyStopping.bestEpoch}${result.earlyStopping.stoppedEpoch ? `, stopped early after epoch ${result.earlyStopping.stoppedEpoch}` : ''}${result.earlyStopping.restored ? ', its weights restored' : ''}`]
              : []),
            ...(result.savedTo ? [`  saved to ${result.savedTo}`] : []),
            ...(result.bestSavedTo ? [`  best model (validation loss) in ${result.bestSavedTo}`] : []),
            ...(resume ? [`  continue with: ${resume}`] : []),
          ].join('\n'),
        );
      }
      if (result.stopped === 'aborted') process.exitCode = SIGNAL_EXIT[stoppedBy ?? 'SIGINT'];
    } finally {
      // Once stopped by a signal, a further one while the process winds down still quits at once, with the same status.
      if (!stoppedBy) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
  },
};
