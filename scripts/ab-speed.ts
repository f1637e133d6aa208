/**
 * Training speed of two builds of this library, A and B, on the same data in the same process:
 * for each preset, a process of its own (wasm threads are chosen when the backend starts, as the
 * CLI chooses them for the preset) that loads both builds' train() and runs the preset's recipe
 * with each, alternating A B, B A, ... round after round, so that a busy machine slows both alike
 * (read the ratios). Samples/s is train()'s own figure (training steps only). Used to check that a
 * change keeps the fast paths (the hand-written dense step, the fused update kernels): A the
 * build before it, B the build after.
 *
 *   git archive <before> | tar -x -C /tmp/before && ln -s $PWD/node_modules /tmp/before/ && (cd /tmp/before && npm run build)
 *   npm run build && node dist/scripts/ab-speed.js --a /tmp/before/dist --b dist \
 *     [--presets two-layer-net,cnn] [--rounds 12] [--out docs/results/FILE.json]
 *
 * Both builds must resolve @tensorflow/tfjs to the same files (the symlinked node_modules above),
 * so that they share one engine; the kernels this library registers are then A's, registered
 * first. The builds' differences outside lib/kernels are what this measures.
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { writeFileAtomic } from '../lib/atomic-write';
import { wasmWorkloadOf } from '../lib/backends/types';
import { machineFacts } from '../lib/jobs/machine';
import { median } from '../lib/stats';
import { interleavedRounds, roundRatios } from './interleave';

/** Steps per timed run, and the training examples loaded (the recipe's sampling draws from them). */
const RUNS: Record<string, { steps: number; limit: number }> = {
  'two-layer-net': { steps: 600, limit: 10_000 },
  mlp: { steps: 600, limit: 10_000 },
  'tanh-mlp': { steps: 600, limit: 10_000 },
  'deep-mlp': { steps: 40, limit: 10_000 },
  cnn: { steps: 12, limit: 10_000 },
};

interface Args {
  a: string;
  b: string;
  presets: string[];
  rounds: number;
  out?: string;
  child?: string;
}

async function parseArgs(argv: string[]): Promise<Args> {
  const args = await yargs(argv)
    .scriptName('ab-speed')
    .usage('$0 --a DIST --b DIST [options]: training speed of two builds, A and B, in interleaved rounds (see the header of scripts/ab-speed.ts)')
    .option('a', { type: 'string', describe: "build A's dist/ (the build before the change)" })
    .option('b', { type: 'string', describe: "build B's dist/ (the build after it)" })
    .option('presets', { type: 'string', default: 'two-layer-net,cnn' })
    // A string, converted below, so that a bad value reads as Number() reads it (NaN), not as yargs' null.
    .option('rounds', { type: 'string', default: '12' })
    .option('out', { type: 'string' })
    .option('child', { type: 'string', hidden: true })
    .strict()
    .fail((message, err) => {
      throw err ?? new Error(message);
    })
    .parseAsync();
  const need = (flag: 'a' | 'b'): string => {
    const v = args[flag];
    if (!v) throw new Error(`--${flag} is required (see the header of scripts/ab-speed.ts)`);
    return v;
  };
  const rounds = Number(args.rounds);
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`--rounds must be a positive integer, got ${rounds}`);
  const presets = args.presets.split(',');
  for (const p of presets) if (!RUNS[p]) throw new Error(`--presets: no run defined for '${p}'; one of ${Object.keys(RUNS).join(', ')}`);
  return { a: path.resolve(need('a')), b: path.resolve(need('b')), presets, rounds, out: args.out, child: args.child };
}

interface Build {
  train: typeof import('../lib/training/train').train;
  recipes: typeof import('../lib/recipes');
}

function load(dist: string): Build {
  return { train: require(path.join(dist, 'lib/training/train.js')).train, recipes: require(path.join(dist, 'lib/recipes/index.js')) };
}

/** One preset's rounds, in this process: samples/s of A and of B per round. */
async function child(args: Args, preset: string): Promise<{ a: number[]; b: number[]; gradients: string[] }> {
  const backends: typeof import('../lib/backends') = require(path.join(args.b, 'lib/backends/index.js'));
  const datasets: typeof import('../lib/datasets') = require(path.join(args.b, 'lib/datasets/index.js'));
  const builds = { a: load(args.a), b: load(args.b) };
  const family = builds.b.recipes.getPreset(preset).family;
  await backends.useBackend('wasm', { wasmThreads: backends.recommendedWasmThreads(wasmWorkloadOf(family)), wasmThreadsFallback: true });
  const { steps, limit } = RUNS[preset]!;
  const data = await datasets.loadMnist({ normalization: builds.b.recipes.getPreset(preset).recipe.normalization, limit: { train: limit, test: 100 }, log: () => undefined });
  const gradients = new Set<string>();
  const run = async (which: 'a' | 'b'): Promise<number> => {
    const { train, recipes } = builds[which];
    const p = recipes.getPreset(preset);
    const model = p.build({ seed: 1 });
    const result = await train(model, data, { ...recipes.recipeOptions(p, { steps, seed: 1 }), logInterval: 0 });
    model.dispose();
    gradients.add(`${which}:${result.gradients}`);
    return result.samplesPerSec;
  };
  await run('a');
  await run('b');
  const out = await interleavedRounds(['a', 'b'] as const, args.rounds, async (which, round) => {
    const speed = await run(which);
    process.stderr.write(`${preset} round ${round + 1} ${which.toUpperCase()}: ${Math.round(speed)} samples/s\n`);
    return speed;
  });
  return { ...out, gradients: [...gradients].sort() };
}

async function main(): Promise<void> {
  const args = await parseArgs(process.argv.slice(2));
  if (args.child) {
    process.stdout.write(JSON.stringify(await child(args, args.child)));
    return;
  }
  const results: Record<string, unknown> = {};
  // Other work on the machine slows both builds alike; how much of it there was, for the record.
  const loadBefore = os.loadavg();
  for (const preset of args.presets) {
    const r = spawnSync(process.execPath, [__filename, '--a', args.a, '--b', args.b, '--rounds', String(args.rounds), '--child', preset], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 2 ** 20,
    });
    if (r.status !== 0) throw new Error(`the ${preset} rounds exited ${r.status}`);
    const { a, b, gradients } = JSON.parse(r.stdout) as { a: number[]; b: number[]; gradients: string[] };
    const ratios = roundRatios(b, a);
    results[preset] = { steps: RUNS[preset]!.steps, gradients, a, b, medianA: median(a), medianB: median(b), ratioBtoA: median(ratios), roundRatios: ratios };
  }
  const record = {
    command: `node dist/scripts/ab-speed.js ${process.argv.slice(2).join(' ')}`,
    date: new Date().toISOString(),
    machine: machineFacts(),
    backend: 'wasm',
    loadAverage: { before: loadBefore, after: os.loadavg() },
    a: args.a,
    b: args.b,
    results,
  };
  const text = JSON.stringify(record, null, 2);
  if (args.out) await writeFileAtomic(args.out, `${text}\n`);
  process.stdout.write(`${text}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`ab-speed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
