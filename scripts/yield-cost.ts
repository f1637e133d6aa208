/**
 * What giving the event loop a turn costs the training loop (lib/training/yield.ts), on the preset
 * with the smallest steps, two-layer-net (about 1 ms a step on wasm), where a turn after every step
 * costs the most. Three measurements:
 * 1. one turn alone: the time of an empty `await nextTurn()`, many times over;
 * 2. in one process, round by round (the order rotated each round, so that all variants share the
 *    machine's load and none always goes first): `yieldIntervalMs` Infinity (no turns: the loop
 *    before issue 17), 0 (a turn after every step), and the default (every 50 ms of wall time);
 *    compared as the median over rounds of each variant's time over that round's no-turn time;
 * 3. with `--before DIR`, the CLI of another build (the commit before the change) beside this
 *    one's, alternating, as the before/after of the whole change.
 * Writes a JSON record (--out).
 *
 *   node dist/scripts/yield-cost.js [--steps 1000] [--rounds 15] [--data-dir DIR] [--before DIR] [--out docs/results/yield-cost.json]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import yargs from 'yargs';
import { writeFileAtomic } from '../lib/atomic-write';
import { useBackend } from '../lib/backends';
import { loadMnist } from '../lib/datasets';
import { machineFacts } from '../lib/jobs/machine';
import type { RecordHeader } from './record-header';
import { PRESETS, recipeOptions } from '../lib/recipes';
import { DEFAULT_YIELD_INTERVAL_MS, train } from '../lib/training/train';
import { nextTurn } from '../lib/training/yield';
import { interleavedRounds, roundRatios } from './interleave';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One run of a variant in a round of the in-process comparison. */
interface YieldRun {
  samplesPerSec: number;
  wallSeconds: number;
}

/** What this script records (docs/results/yield-cost.json), from which scripts/docs-tables.ts writes its table. */
export interface YieldCostRecord extends RecordHeader {
  steps: number;
  rounds: number;
  turnMicros: number;
  stepMillis: number;
  estimatedCost: { everyStep: number; every50ms: number };
  inProcess: {
    /** Per variant, its runs in round order. */
    rounds: Record<string, YieldRun[]>;
    summary: Record<string, { medianSamplesPerSec: number; medianWallSeconds: number; medianWallVsNoTurns: number }>;
  };
  /** The CLI of this build against another's, when run with --before. */
  cli?: {
    command: string;
    builds: { before: string; after: string };
    samplesPerSec: { before: number[]; after: number[] };
    medianBefore: number;
    medianAfter: number;
    medianAfterVsBefore: number;
  };
}

async function main(): Promise<void> {
  const args = await yargs(process.argv.slice(2))
    .option('steps', { type: 'number', default: 1000 })
    .option('rounds', { type: 'number', default: 15 })
    .option('data-dir', { type: 'string' })
    .option('before', { type: 'string', describe: "Another build's dist/ whose CLI runs beside this one's" })
    .option('out', { type: 'string' })
    .strict()
    .parseAsync();
  await useBackend('wasm', { wasmThreads: 1 });
  const data = await loadMnist({ dataDir: args['data-dir'], normalization: 'unit' });
  const preset = PRESETS['two-layer-net'];
  const variants: Record<string, number> = { 'no turns (before)': Infinity, 'a turn after every step': 0, [`a turn every ${DEFAULT_YIELD_INTERVAL_MS} ms (default)`]: DEFAULT_YIELD_INTERVAL_MS };
  const turns = 100_000;
  const t = performance.now();
  for (let i = 0; i < turns; i++) await nextTurn();
  const turnMicros = ((performance.now() - t) * 1000) / turns;
  process.stderr.write(`one turn of the event loop: ${turnMicros.toFixed(2)} µs\n`);
  // Untimed warm-up: kernels compiled, the wasm heap grown.
  await train(preset.build({ seed: 1 }), data, { ...recipeOptions(preset, { steps: 500, seed: 1 }), logInterval: 0 });
  const rounds: Record<string, YieldRun[]> = await interleavedRounds(Object.keys(variants), args.rounds, async (name, round) => {
    const model = preset.build({ seed: 1 });
    const t0 = performance.now();
    const r = await train(model, data, { ...recipeOptions(preset, { steps: args.steps, seed: 1 }), logInterval: 0, yieldIntervalMs: variants[name] });
    const wallSeconds = (performance.now() - t0) / 1000;
    model.dispose();
    process.stderr.write(`round ${round + 1}: ${name}: ${Math.round(r.samplesPerSec)} samples/s, ${wallSeconds.toFixed(2)} s\n`);
    return { samplesPerSec: r.samplesPerSec, wallSeconds };
  });
  const wall = (rs: { wallSeconds: number }[]): number[] => rs.map((r) => r.wallSeconds);
  const none = wall(rounds['no turns (before)']!);
  const summary = Object.fromEntries(
    Object.entries(rounds).map(([name, rs]) => [
      name,
      {
        medianSamplesPerSec: median(rs.map((r) => r.samplesPerSec)),
        medianWallSeconds: median(wall(rs)),
        // Paired within each round, then the median: the machine's load changes between rounds.
        medianWallVsNoTurns: median(roundRatios(wall(rs), none)),
      },
    ]),
  );
  const stepMillis = (summary['no turns (before)']!.medianWallSeconds * 1000) / args.steps;

  let cli: YieldCostRecord['cli'];
  if (args.before) {
    const builds = { before: path.resolve(args.before), after: path.resolve(__dirname, '..') };
    const runs = await interleavedRounds(['before', 'after'] as const, args.rounds, async (name, round) => {
      const cliArgs = ['train', '--model', 'two-layer-net', '--steps', String(args.steps), '--seed', '1', '--log-interval', '0', '--backend', 'wasm', '--json'];
      if (args['data-dir']) cliArgs.push('--data-dir', args['data-dir']);
      const r = spawnSync(process.execPath, [path.join(builds[name], 'lib/cli/main.js'), ...cliArgs], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as { samplesPerSec: number };
      process.stderr.write(`cli round ${round + 1}: ${name}: ${Math.round(out.samplesPerSec)} samples/s\n`);
      return out.samplesPerSec;
    });
    cli = {
      command: `node <dist>/lib/cli/main.js train --model two-layer-net --steps ${args.steps} --seed 1 --log-interval 0 --backend wasm --json`,
      builds,
      samplesPerSec: runs,
      medianBefore: median(runs.before),
      medianAfter: median(runs.after),
      medianAfterVsBefore: median(roundRatios(runs.after, runs.before)),
    };
  }
  const record: YieldCostRecord = {
    what: 'cost of giving the event loop a turn during training (two-layer-net, wasm, one thread)',
    command: `node dist/scripts/yield-cost.js ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: machineFacts(),
    backend: 'wasm (1 thread)',
    dataset: data.source.description,
    steps: args.steps,
    rounds: args.rounds,
    turnMicros,
    stepMillis,
    // What a turn costs as a share of the training time, from the two measurements above.
    estimatedCost: { everyStep: turnMicros / 1000 / stepMillis, every50ms: (turnMicros / 1000) / DEFAULT_YIELD_INTERVAL_MS },
    inProcess: { rounds, summary },
    ...(cli ? { cli } : {}),
  };
  if (args.out) await writeFileAtomic(args.out, `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify({ turnMicros, stepMillis, summary, cli: cli && { medianBefore: cli.medianBefore, medianAfter: cli.medianAfter, medianAfterVsBefore: cli.medianAfterVsBefore } }, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
