/**
 * Load a saved model and predict the digit in image files: PNG (any size; light backgrounds are
 * inverted to MNIST's white-on-black) or IDX (u8 [28, 28] or [n, 28, 28]).
 *
 * Shows: loadModel() with its metadata (normalisation, loss), readDigitImages(), predictDigitsAsync().
 *
 * Run (after `npm install`):
 *   npx mnist-nets train --model two-layer-net --save model-dir
 *   node dist/examples/predict-image.js --model-dir model-dir digit.png more-digits.idx
 *   node dist/examples/predict-image.js --dry-run      # trains a tiny model, writes a test digit as PNG and IDX, predicts both, removes them (CI)
 */
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { digitToPng, encodeIdx, loadMnist, loadModel, predictDigitsAsync, readDigitImages, runTrainJob, useBackend } from '../lib';

export async function main(argv: string[]): Promise<void> {
  const args = await yargs(argv)
    .command('$0 [files..]', 'Predict the digit in PNG or IDX image files with a saved model', (y) =>
      y.positional('files', { type: 'string', array: true, describe: 'PNG or IDX files' }),
    )
    .option('model-dir', { type: 'string', describe: 'Folder written by `mnist-nets train --save`' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Train a tiny model on a temporary folder and predict a test digit (removed afterwards)' })
    .option('data-dir', { type: 'string', describe: 'MNIST folder for the dry run (default: found or downloaded, else the npm sample)' })
    .strict()
    .parseAsync();
  await useBackend('auto');
  let modelDir = args['model-dir'];
  let files = ((args.files as string[] | undefined) ?? []).map(String);
  let work: string | undefined;
  try {
    if (args['dry-run']) {
      work = await fsp.mkdtemp(path.join(os.tmpdir(), 'predict-example-'));
      ({ modelDir, files } = await dryRun(work, args['data-dir']));
    }
    if (!modelDir || files.length === 0) throw new Error('give --model-dir DIR and at least one image file (or --dry-run)');
    await predictFiles(modelDir, files);
  } finally {
    if (work) await fsp.rm(work, { recursive: true, force: true });
  }
}

/** Trains a tiny model into `work` and writes the first test digit there as PNG and IDX. */
async function dryRun(work: string, dataDir: string | undefined): Promise<{ modelDir: string; files: string[] }> {
  const modelDir = path.join(work, 'model');
  const data = await loadMnist({ dataDir, limit: { train: 2000, test: 10 } });
  const { model } = await runTrainJob({ preset: 'prelu-mlp', data, steps: 100, seed: 1, logInterval: 0, saveDir: modelDir });
  model.dispose();
  // The first test digit (MNIST's is a 7) back to bytes, written both ways.
  const pixels = Uint8Array.from(data.test.images.subarray(0, 784), (v) => Math.round(v * 255));
  const files = [path.join(work, 'digit.png'), path.join(work, 'digit.idx')];
  await fsp.writeFile(files[0], digitToPng(pixels));
  await fsp.writeFile(files[1], encodeIdx({ type: 'u8', dims: [28, 28], data: pixels }));
  console.error(`dry run: model in ${modelDir}, test digit (label ${data.test.labels[0]}) in ${files.join(', ')}`);
  return { modelDir, files };
}

async function predictFiles(modelDir: string, files: string[]): Promise<void> {
  const { model, metadata } = await loadModel(modelDir);
  for (const file of files) {
    const images = await readDigitImages(file);
    const predictions = await predictDigitsAsync(model, images, metadata);
    predictions.forEach((p, i) => console.log(`${file}${images.length > 1 ? `[${i}]` : ''}: ${p.digit} (score ${Math.max(...p.scores).toFixed(3)})`));
  }
  model.dispose();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
