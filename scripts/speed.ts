/**
 * Training speed of every preset on every CPU backend present, plus the time to prepare MNIST.
 * Prints a markdown table (and JSON with --json) for docs/RESULTS.md.
 *
 *   node dist/scripts/speed.js [--backends wasm,cpu] [--presets ...] [--steps 50] [--json]
 *
 * Each preset runs its own recipe (batch size, loss, optimiser) for --steps steps after 3 untimed
 * warm-up steps; the cnn on the plain cpu backend takes ~136 s a step (docs/PERF.md), so it gets
 * one step there and no warm-up.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { BackendChoice, useBackend } from '../lib/backends';
import { Dataset, loadMnist } from '../lib/datasets';
import { PRESET_IDS, PRESETS, recipeOptions } from '../lib/recipes';
import { machineFacts } from '../lib/jobs/machine';
import { train } from '../lib/training/train';
import { formatDuration, formatNumber, markdownTable } from '../lib/report';

interface SpeedRow {
  preset: string;
  backend: string;
  batchSize: number;
  steps: number;
  samplesPerSec: number;
  epochSeconds: number;
}

async function main(): Promise<void> {
  const args = await yargs(process.argv.slice(2))
    .option('backends', { type: 'string', default: 'wasm,cpu' })
    .option('presets', { type: 'string', default: PRESET_IDS.join(',') })
    .option('steps', { type: 'number', default: 50 })
    .option('data-dir', { type: 'string' })
    .option('json', { type: 'boolean', default: false })
    .option('from', { type: 'string', describe: 'Print the table of a saved --json result instead of measuring' })
    .strict()
    .parseAsync();
  if (args.from) {
    process.stdout.write(`${speedTable(JSON.parse(fs.readFileSync(args.from, 'utf8')) as SpeedResult)}\n`);
    return;
  }

  const t0 = performance.now();
  const unit = await loadMnist({ dataDir: args['data-dir'], normalization: 'unit' });
  const loadSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const upload = tf.tensor2d(unit.train.images, [unit.train.count, 784]);
  upload.dispose();
  const tensorSeconds = (performance.now() - t1) / 1000;
  const offset = await loadMnist({ dataDir: args['data-dir'], normalization: 'offset' });
  console.error(`MNIST: ${unit.source.description}; typed arrays in ${loadSeconds.toFixed(2)} s, train images to a tensor in ${tensorSeconds.toFixed(3)} s`);

  const rows: SpeedRow[] = [];
  for (const backend of args.backends.split(',')) {
    await useBackend(backend as BackendChoice);
    for (const id of args.presets.split(',')) {
      const preset = PRESETS[id as keyof typeof PRESETS];
      const data: Dataset = preset.recipe.normalization === 'offset' ? offset : unit;
      const slow = id === 'cnn' && backend === 'cpu';
      const steps = slow ? 1 : args.steps;
      const model = preset.build({ seed: 1 });
      if (!slow) await train(model, data, { ...recipeOptions(preset, { steps: 3, seed: 1 }), logInterval: 0 });
      const r = await train(model, data, { ...recipeOptions(preset, { steps, seed: 2 }), logInterval: 0 });
      model.dispose();
      const options = recipeOptions(preset, {});
      const epochExamples = Math.min(options.trainLimit ?? Infinity, data.train.count);
      rows.push({ preset: id, backend, batchSize: options.batchSize, steps, samplesPerSec: r.samplesPerSec, epochSeconds: epochExamples / r.samplesPerSec });
      console.error(`${backend} ${id}: ${r.samplesPerSec.toPrecision(3)} samples/s`);
    }
  }
  const result: SpeedResult = { machine: machineFacts(), date: new Date().toISOString(), mnist: { loadSeconds, tensorSeconds, source: unit.source.description }, rows };
  process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : `${speedTable(result)}\n`);
}

interface SpeedResult {
  machine: ReturnType<typeof machineFacts>;
  date: string;
  mnist: { loadSeconds: number; tensorSeconds: number; source: string };
  rows: SpeedRow[];
}

export function speedTable(result: SpeedResult): string {
  const table = markdownTable(
    ['preset', 'backend', 'batch', 'timed steps', 'train samples/s', 'epoch time'],
    result.rows.map((r) => [
      r.preset,
      r.backend,
      String(r.batchSize),
      String(r.steps),
      formatNumber(r.samplesPerSec, r.samplesPerSec < 10 ? 2 : 0),
      formatDuration(r.epochSeconds),
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r'],
  );
  const m = result.mnist;
  return `${table}\n\nMNIST (${m.source}): all four files into typed arrays in ${m.loadSeconds.toFixed(2)} s; the 60,000 training images into one tensor in ${(m.tensorSeconds * 1000).toFixed(1)} ms.`;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
