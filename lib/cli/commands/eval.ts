import type { CommandModule } from 'yargs';
import { DATASET_NAMES, DatasetName, loadDataset, Normalization } from '../../datasets';
import { evaluate } from '../../training/evaluate';
import type { LossName } from '../../training/losses';
import { markdownTable } from '../../report';
import { RunArgs, checkFlag, loadOptionsFrom, selectBackend, withRunOptions } from '../common-options';
import { logLine, printJson, printText } from '../output';
import { ModelFolderArgs, loadModelFolder, withModelFolderOptions } from '../model-options';

type EvalArgs = Omit<RunArgs, 'dataset'> & ModelFolderArgs & { dataset?: DatasetName };

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a saved model on the test set: accuracy, loss, confusion matrix',
  builder: (y) =>
    withRunOptions(withModelFolderOptions(y))
      // No default here: left out, the model's own dataset is used; given, it is what is evaluated.
      .option('dataset', { choices: DATASET_NAMES, default: undefined, describe: 'Dataset to evaluate on (default: the one the model was trained on)' }) as never,
  handler: async (args) => {
    checkFlag('limit', args.limit);
    const backend = await selectBackend(args.backend, args.threads, args.verbose);
    const { model, metadata } = await loadModelFolder(args);
    try {
      const trainedOn = typeof metadata.dataset === 'string' ? (metadata.dataset as DatasetName) : undefined;
      const dataset = args.dataset ?? trainedOn ?? 'mnist';
      if (trainedOn !== undefined && dataset !== trainedOn) {
        logLine(`note: the model was trained on ${trainedOn}; evaluating it on ${dataset}, as --dataset asks`);
      }
      const data = await loadDataset(dataset, {
        ...loadOptionsFrom(args),
        normalization: metadata.normalization as Normalization,
        limit: args.limit === undefined ? undefined : { train: 1, test: args.limit },
      });
      const result = await evaluate(model, data.test, { loss: metadata.loss as LossName, targets: metadata.targets });
      const out = {
        modelDir: args['model-dir'],
        preset: metadata.preset,
        backend,
        dataset: data.name,
        trainedOn: trainedOn ?? null,
        testSamples: result.count,
        testAccuracy: result.accuracy,
        testLoss: result.loss,
        perClassAccuracy: result.perClassAccuracy,
        confusion: result.confusion,
      };
      if (args.json) return printJson(out);
      printText(`${out.preset ?? 'model'}${trainedOn !== undefined && trainedOn !== data.name ? ` (trained on ${trainedOn})` : ''} on ${data.name} test (${result.count} examples): accuracy ${(result.accuracy * 100).toFixed(2)}%, loss ${result.loss?.toFixed(4)}`);
      printText(
        markdownTable(
          ['class', 'accuracy', ...data.classNames],
          result.confusion.map((row, c) => [data.classNames[c], `${(result.perClassAccuracy[c] * 100).toFixed(1)}%`, ...row]),
        ),
      );
    } finally {
      model.dispose();
    }
  },
};
