import type { CommandModule } from 'yargs';
import { checkPositiveNumber, checkSeed } from '../../checks';
import { InvalidArgumentError } from '../../errors';
import { runTrainJob } from '../../jobs/train-job';
import { PRESET_IDS, getPreset } from '../../recipes';
import { stderrProgress } from '../../training/stderr-progress';
import { RunArgs, checkFlag, loadOptionsFrom, selectBackend, withRunOptions } from '../common-options';
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
  validationSplit: '--validation-split',
  earlyStopping: '--early-stopping',
};

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
    if (split !== undefined && !(split > 0 && split < 1)) throw new InvalidArgumentError('--validation-split', `must be a fraction between 0 and 1 (exclusive), got ${split}`);
    checkFlag('early-stopping', args['early-stopping'], { min: 0 });
    if (args['early-stopping'] !== undefined && split === undefined) throw new InvalidArgumentError('--early-stopping', 'needs --validation-split F: it watches the validation loss');
    const backend = await selectBackend(args.backend, args.threads, args.verbose, getPreset(args.model).family === 'cnn' ? 'conv' : 'dense');

    // Ctrl-C stops after the step in flight; the job then saves the last completed state.
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      logLine('interrupted: finishing the current step and saving (Ctrl-C again to quit at once)');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
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
      }).catch((err: unknown) => {
        if (err instanceof InvalidArgumentError && FLAG_OF[err.argument]) {
          throw new InvalidArgumentError(FLAG_OF[err.argument]!, err.message.slice(err.argument.length + 2));
        }
        throw err;
      });
      model.dispose();
      if (args.json) printJson(result);
      else
        printText(
          [
            `${result.model} on ${result.dataset} (${result.backend}): ${result.steps} steps, ${result.epochs.toFixed(2)} epochs in ${result.seconds.toFixed(1)} s` +
              (result.resumedFrom > 0 ? ` (resumed at step ${result.resumedFrom})` : '') +
              (result.stopped === 'time-limit' ? ` (stopped by --max-seconds ${args['max-seconds']})` : ''),
            `  ${Math.round(result.samplesPerSec).toLocaleString('en-US')} training samples/s, seed ${result.seed}`,
            `  train accuracy ${(result.trainAccuracy * 100).toFixed(2)}% (${result.trainAccuracySamples} examples)`,
            `  test accuracy ${(result.testAccuracy * 100).toFixed(2)}%, test loss ${result.testLoss.toFixed(4)}`,
            `  source reports: ${result.reported}`,
            ...(result.earlyStopping
              ? [`  best validation loss ${result.earlyStopping.best.toFixed(4)} at epoch ${result.earlyStopping.bestEpoch}${result.earlyStopping.stoppedEpoch ? `, stopped early after epoch ${result.earlyStopping.stoppedEpoch}` : ''}${result.earlyStopping.restored ? ', its weights restored' : ''}`]
              : []),
            ...(result.savedTo ? [`  saved to ${result.savedTo}`] : []),
            ...(result.bestSavedTo ? [`  best model (validation loss) in ${result.bestSavedTo}`] : []),
          ].join('\n'),
        );
      if (result.stopped === 'aborted') process.exitCode = 130;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
