/**
 * Train each headline family — MLP, TwoLayerNet, two-conv CNN — built from its builder (not a
 * preset), with the library's training loop, then evaluate on the MNIST test set.
 *
 * Shows: builders with typed options, train() with a recipe you write yourself, evaluate().
 *
 * Run (after `npm install`, which builds dist/):
 *   node dist/examples/train-families.js                  # ~1 epoch each (MLPs) / 300 steps (CNN)
 *   node dist/examples/train-families.js --dry-run        # a few steps on 1,000 images (what CI runs)
 *   node dist/examples/train-families.js --backend tensorflow   # on a CUDA machine with tfjs-node-gpu
 */
import yargs from 'yargs';
import {
  BACKEND_CHOICES,
  BackendChoice,
  buildCnn,
  buildMlp,
  buildTwoLayerNet,
  evaluate,
  loadMnist,
  stderrProgress,
  train,
  useBackend,
} from '../lib';

export async function main(argv: string[]): Promise<void> {
  const args = await yargs(argv)
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice })
    .option('data-dir', { type: 'string', describe: 'Directory with the MNIST IDX files' })
    .option('seed', { type: 'number', default: 1 })
    .option('dry-run', { type: 'boolean', default: false, describe: 'A few steps on a small subset' })
    .strict()
    .parseAsync();
  const { selected } = await useBackend(args.backend);
  const dry = args['dry-run'];
  const data = await loadMnist({ dataDir: args['data-dir'], limit: dry ? { train: 1000, test: 500 } : undefined });
  console.error(`backend ${selected}; data: ${data.source.description}`);

  const families = [
    {
      name: 'MLP 784-128-64-10 (ReLU, logits)',
      model: buildMlp({ hiddenUnits: [128, 64], activation: 'relu', kernelInitializer: { kind: 'torch-linear' }, seed: args.seed }),
      options: { loss: 'softmax-cross-entropy', optimizer: { kind: 'sgd', learningRate: 0.1 }, batchSize: 64, sampling: 'shuffle' },
      steps: dry ? 5 : 940,
    },
    {
      name: 'TwoLayerNet 784-50-10 (sigmoid, softmax)',
      model: buildTwoLayerNet({ seed: args.seed }),
      options: { loss: 'cross-entropy', optimizer: { kind: 'sgd', learningRate: 0.1 }, batchSize: 100, sampling: 'replacement' },
      steps: dry ? 5 : 600,
    },
    {
      name: 'CNN conv32-conv64-fc1024',
      model: buildCnn({ seed: args.seed }),
      options: { loss: 'softmax-cross-entropy', optimizer: { kind: 'adam', learningRate: 1e-4 }, batchSize: 50, sampling: 'shuffle' },
      steps: dry ? 3 : 300,
    },
  ] as const;

  for (const f of families) {
    const result = await train(f.model, data, { ...f.options, steps: f.steps, seed: args.seed, progress: stderrProgress() });
    const test = await evaluate(f.model, data.test);
    console.log(
      `${f.name}: ${f.model.countParams().toLocaleString('en-US')} params, ${result.steps} steps, ` +
        `${Math.round(result.samplesPerSec)} samples/s, final loss ${result.finalLoss.toFixed(3)}, test accuracy ${(test.accuracy * 100).toFixed(2)}%`,
    );
    f.model.dispose();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
