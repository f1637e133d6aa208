import type { CommandModule } from 'yargs';
import { predictDigitsAsync, readDigitImages } from '../../io/images';
import { BackendArgs, selectBackend, withBackendOption, withJsonOption } from '../common-options';
import { printJson, printText } from '../output';
import { ModelFolderArgs, loadModelFolder, withModelFolderOptions } from '../model-options';

interface PredictArgs extends BackendArgs, ModelFolderArgs {
  files: string[];
  json: boolean;
}

export const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict <files..>',
  describe: 'Predict the digit in image files (PNG of any size, or IDX u8 [n, 28, 28]) with a saved model',
  builder: (y) =>
    withJsonOption(
      withBackendOption(withModelFolderOptions(y.positional('files', { type: 'string', array: true, demandOption: true, describe: 'PNG or IDX files' }))),
    ) as never,
  handler: async (args) => {
    await selectBackend(args.backend, args.threads, args.verbose);
    const { model, metadata } = await loadModelFolder(args);
    try {
      const out: Array<{ file: string; index: number; digit: number; scores: number[] }> = [];
      const many = new Set<string>();
      for (const file of args.files) {
        const images = await readDigitImages(file);
        if (images.length > 1) many.add(file);
        const predictions = await predictDigitsAsync(model, images, metadata);
        predictions.forEach((p, index) => out.push({ file, index, digit: p.digit, scores: p.scores }));
      }
      if (args.json) return printJson(out);
      for (const p of out) {
        const conf = Math.max(...p.scores);
        // Every image of a file holding several is numbered, the first ([0]) too.
        printText(`${p.file}${many.has(p.file) ? `[${p.index}]` : ''}: ${p.digit} (score ${conf.toFixed(3)})`);
      }
    } finally {
      model.dispose();
    }
  },
};
