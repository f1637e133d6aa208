/**
 * Compare an MLP with a CNN on the same data and backend over several seeds: accuracy with its
 * spread and the difference with its 95% interval, training and inference throughput, time to 90%
 * test accuracy, memory; writes report.md, report.html, results.json and plots.
 *
 * Shows: runBench() and writeBenchReport() from the library. They run every model in this one
 * process, so on wasm both get the same thread count; `mnist-nets bench` runs each model in a
 * process of its own with the threads `train` would give it.
 *
 * Run (after `npm install`):
 *   node dist/examples/compare-mlp-cnn.js --out compare-report          # 3 seeds, 25 s of training each
 *   node dist/examples/compare-mlp-cnn.js --dry-run --out /tmp/cmp      # 4 steps on 500 images (CI)
 *   node dist/examples/compare-mlp-cnn.js --backend tensorflow --seconds 300   # CUDA via tfjs-node-gpu
 */
import yargs from 'yargs';
import { BACKEND_CHOICES, BackendChoice, DEFAULT_BENCH_SECONDS, DEFAULT_BENCH_SEEDS, benchTable, runBench, useBackend, writeBenchReport } from '../lib';

export async function main(argv: string[]): Promise<void> {
  const args = await yargs(argv)
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice })
    .option('models', { type: 'string', default: 'two-layer-net,cnn' })
    .option('seconds', { type: 'number', default: DEFAULT_BENCH_SECONDS, describe: 'Training time per run (its recipe may end sooner)' })
    .option('seeds', { type: 'number', default: DEFAULT_BENCH_SEEDS, describe: 'Runs per model, seeds 1..N' })
    .option('data-dir', { type: 'string' })
    .option('out', { type: 'string', default: 'compare-report' })
    .option('dry-run', { type: 'boolean', default: false })
    .strict()
    .parseAsync();
  const { selected } = await useBackend(args.backend);
  const dry = args['dry-run'];
  const bench = await runBench({
    models: args.models.split(','),
    ...(dry ? { steps: 4 } : { seconds: args.seconds }),
    limit: dry ? 500 : undefined,
    seeds: Array.from({ length: args.seeds }, (_, i) => i + 1),
    load: { dataDir: args['data-dir'] },
    backend: selected,
    log: (l) => console.error(l),
  });
  const written = await writeBenchReport(bench, args.out);
  console.log(benchTable(bench));
  console.error(`wrote ${written.files.join(', ')} to ${written.dir}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
