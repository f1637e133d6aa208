import type { Argv } from 'yargs';
import { NORMALIZATIONS, Normalization } from '../datasets';
import { SavedModel, loadModel } from '../io/model-io';
import { logLine } from './output';

/** The flags saying how a model folder's inputs look, for folders that do not record it (plain tf.js). */
export interface ModelFolderArgs {
  'model-dir': string;
  normalization?: Normalization;
  layout?: 'flat' | 'image';
}

/** Adds --model-dir and the flags a plain tf.js folder may need. */
export function withModelFolderOptions<T>(y: Argv<T>): Argv<T & ModelFolderArgs> {
  return y
    .option('model-dir', {
      type: 'string',
      demandOption: true,
      describe: 'Model folder: written by `train --save`, by tf.js model.save, or by tensorflowjs_converter (a Layers model)',
    })
    .option('normalization', {
      choices: NORMALIZATIONS,
      describe: "Pixel scaling the model was trained with (default: the folder's, else unit = x/255)",
    })
    .option('layout', {
      choices: ['flat', 'image'] as const,
      describe: "Input layout, checked against the model's input (default: the folder's, else from the input shape)",
    }) as never;
}

/** Loads the folder `--model-dir` names; what it did not record and was given or inferred is said on stderr. */
export async function loadModelFolder(args: ModelFolderArgs): Promise<SavedModel> {
  const saved = await loadModel(args['model-dir'], { normalization: args.normalization, layout: args.layout });
  for (const note of saved.notes) logLine(`note: ${args['model-dir']}: ${note}`);
  return saved;
}
