/**
 * Train a preset on an NVIDIA GPU through tfjs-node-gpu (TensorFlow's CUDA kernels).
 *
 * One-time setup on the CUDA machine (tfjs-node-gpu 4.22 downloads libtensorflow 2.9.1 at
 * install, and needs CUDA 11.2 + cuDNN 8.1 on the library path and an NVIDIA driver):
 *   npm install @tensorflow/tfjs-node-gpu@4.22.0
 *   npx mnist-nets doctor            # must show: [ok] tensorflow (@tensorflow/tfjs-node-gpu)
 *
 * Run:
 *   node dist/examples/train-cuda.js --model cnn --steps 20000     # the TF tutorial's ~99.2% run
 *   node dist/examples/train-cuda.js --dry-run                     # CI: a few steps; without the
 *       CUDA backend it says why (doctor's reason) and runs the few steps on the best backend present
 *
 * This path could not be run where the library is developed (tfjs-node-gpu cannot install
 * without internet); the README says what was verified where.
 */
import yargs from 'yargs';
import { BackendUnavailableError, PRESET_IDS, runTrainJob, stderrProgress, useBackend } from '../lib';

export async function main(argv: string[]): Promise<void> {
  const args = await yargs(argv)
    .option('model', { choices: PRESET_IDS, default: 'cnn' as (typeof PRESET_IDS)[number] })
    .option('steps', { type: 'number' })
    .option('data-dir', { type: 'string' })
    .option('dry-run', { type: 'boolean', default: false })
    .strict()
    .parseAsync();
  let backend: string;
  try {
    backend = (await useBackend('tensorflow')).selected;
  } catch (err) {
    if (!(err instanceof BackendUnavailableError) || !args['dry-run']) throw err;
    console.error(`CUDA backend unavailable: ${err.reason}`);
    backend = (await useBackend('auto')).selected;
    console.error(`dry run continues on '${backend}' so the rest of this script is exercised`);
  }
  const { result, model } = await runTrainJob({
    preset: args.model,
    steps: args['dry-run'] ? 3 : args.steps,
    limit: args['dry-run'] ? 500 : undefined,
    load: { dataDir: args['data-dir'] },
    backend,
    seed: 1,
    progress: stderrProgress(),
  });
  model.dispose();
  console.log(JSON.stringify({ model: result.model, backend: result.backend, steps: result.steps, samplesPerSec: result.samplesPerSec, testAccuracy: result.testAccuracy }));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
