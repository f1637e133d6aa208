/**
 * Training speed of the presets, two ways.
 *
 * 1. Beside the peers (`--peers torch,numpy`): each preset ours and PyTorch's (and two-layer-net
 *    as the source's NumPy code) on the same cores, back to back, for a fixed number of steps
 *    after untimed warm-up steps, in rounds that alternate ours and the peer's so that both share
 *    the machine's load. Ours runs as `train` does: wasm with the threads the CLI picks for the
 *    preset (2 for the cnn on 2+ cores, else 1), the hand-written dense step where it applies, in
 *    a process of its own per preset (threads are chosen when the backend starts). The peer is
 *    scripts/peers/torch_recipes.py on Debian's /usr/bin/python3 (python3-torch), on one thread
 *    and on all cores (--peer-threads), keeping the faster each round. Its speed depends on the
 *    libblas.so.3 the system selects (install libopenblas0-pthread; the JSON names it).
 *    Writes the raw JSON record (--out) and prints a markdown table; --update then rewrites every
 *    table in the docs from its record (scripts/docs-tables.ts, where the record's table is
 *    registered), the new one included.
 *
 *      node dist/scripts/speed.js --peers torch,numpy [--presets all] [--rounds 3] [--peer-threads 1,CORES] [--steps N]
 *          [--warmup N] [--data-dir DIR] [--out docs/results/speed-vs-peers.json] [--update]
 *      node dist/scripts/speed.js --peers-from docs/results/speed-vs-peers.json   # the table again
 *
 * 2. Every preset on every CPU backend in this process (wasm on one thread, cpu), plus the time
 *    to prepare MNIST:
 *
 *      node dist/scripts/speed.js [--backends wasm,cpu] [--presets ...] [--steps 50] [--json]
 *
 *    Each preset runs its own recipe (batch size, loss, optimiser) for --steps steps after 3
 *    untimed warm-up steps; the cnn on the plain cpu backend takes minutes a step (docs/PERF.md),
 *    so it gets one step there and no warm-up.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { BackendChoice, recommendedWasmThreads, useBackend, wasmWorkloadOf } from '../lib/backends';
import { Dataset, loadMnist } from '../lib/datasets';
import { PRESET_IDS, PRESETS, PresetId, getPreset, recipeOptions } from '../lib/recipes';
import { machineFacts } from '../lib/jobs/machine';
import { train } from '../lib/training/train';
import { formatDuration, formatNumber, markdownTable } from '../lib/report';
import { writeFileAtomic } from '../lib/atomic-write';
import { median } from '../lib/stats';
import { loadAverageLine } from './load-average';

/** Timed steps per preset beside the peers: a few seconds to a minute each on 2 cores. */
export const PEER_STEPS: Readonly<Record<PresetId, number>> = {
  mlp: 600,
  'deep-mlp': 100,
  'tanh-mlp': 600,
  'mse-mlp': 5000,
  'two-layer-net': 600,
  'prelu-mlp': 600,
  cnn: 100,
};
/** Untimed steps before the timed ones, on both sides. */
export const PEER_WARMUP: Readonly<Record<PresetId, number>> = {
  mlp: 50,
  'deep-mlp': 10,
  'tanh-mlp': 50,
  'mse-mlp': 500,
  'two-layer-net': 50,
  'prelu-mlp': 50,
  cnn: 5,
};
const PEER_SCRIPT = process.env['MNIST_NETS_PEER_SCRIPT'] ?? path.resolve(__dirname, '../../scripts/peers/torch_recipes.py');
/** Debian's python3 with python3-torch; the pyenv python3 first on PATH has no torch. */
const PEER_PYTHON = process.env['MNIST_NETS_PEER_PYTHON'] ?? '/usr/bin/python3';

/** What one of our child runs prints. */
export interface OursRun {
  samplesPerSec: number;
  backend: string;
  threads: number;
  gradients: string;
}

interface PeerRow {
  preset: PresetId;
  batchSize: number;
  steps: number;
  warmup: number;
  ours: OursRun[];
  /** Per round, the peer's best samples/s over the thread counts tried. */
  torch?: number[];
  numpy?: number[];
  /** Per peer, per round: samples/s by thread count. */
  byThreads?: Partial<Record<'torch' | 'numpy', Array<Record<string, number>>>>;
}

export interface PeerResult {
  date: string;
  machine: ReturnType<typeof machineFacts>;
  load: string[];
  rounds: number;
  /** Thread counts each peer ran with (each round takes the fastest); absent in results from before --peer-threads (the peer's default only). */
  peerThreads?: number[];
  peerEnvironment?: Record<string, unknown>;
  rows: PeerRow[];
}

/** Child mode: one preset, ours, as `train` runs it; prints an {@link OursRun} as JSON. */
async function oursChild(id: PresetId, steps: number, warmup: number, dataDir?: string): Promise<void> {
  const preset = getPreset(id);
  const selection = await useBackend('wasm', { wasmThreads: recommendedWasmThreads(wasmWorkloadOf(preset.family)) });
  const data = await loadMnist({ dataDir, normalization: preset.recipe.normalization, log: () => undefined });
  const model = preset.build({ seed: 1 });
  await train(model, data, { ...recipeOptions(preset, { steps: warmup, seed: 1 }), logInterval: 0 });
  const r = await train(model, data, { ...recipeOptions(preset, { steps, seed: 2 }), logInterval: 0 });
  model.dispose();
  const out: OursRun = { samplesPerSec: r.samplesPerSec, backend: 'wasm', threads: Number(selection.statuses[0]!.details?.['runningThreads'] ?? 1), gradients: r.gradients };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runJson(command: string, args: string[], what: string): unknown {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20, timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout);
}

async function comparePeers(args: { presets: string; peers: string; rounds: number; peerThreads: string; steps?: number; warmup?: number; dataDir?: string; out?: string; update: boolean }): Promise<void> {
  const ids = (args.presets === 'all' ? PRESET_IDS : args.presets.split(',').map((p) => getPreset(p).id)) as PresetId[];
  const peers = args.peers.split(',').filter(Boolean);
  for (const peer of peers) if (peer !== 'torch' && peer !== 'numpy') throw new Error(`--peers: torch or numpy, got ${peer}`);
  if (!fs.existsSync(PEER_SCRIPT)) throw new Error(`${PEER_SCRIPT} is missing: the peer script comes with the peer issue's branch`);
  const dataDir = args.dataDir ?? process.env['MNIST_DIR'];
  if (!dataDir) throw new Error('--data-dir (or MNIST_DIR): the folder with the four MNIST files, which the peer reads too');
  // A BLAS peer on small matrices is often fastest on one thread (its threads wait on each
  // other): trying each count and keeping the best is fair to the peer.
  const peerThreads = args.peerThreads.split(',').map((t) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--peer-threads: a comma list of thread counts >= 1, got ${args.peerThreads}`);
    return n;
  });
  const result: PeerResult = { date: new Date().toISOString(), machine: machineFacts(), load: [], rounds: args.rounds, peerThreads, rows: [] };
  for (const id of ids) {
    const steps = args.steps ?? PEER_STEPS[id];
    const warmup = args.warmup ?? PEER_WARMUP[id];
    const row: PeerRow = { preset: id, batchSize: PRESETS[id].recipe.batchSize, steps, warmup, ours: [] };
    const peerRuns = peers.filter((p) => p === 'torch' || id === 'two-layer-net');
    for (let round = 0; round < args.rounds; round++) {
      result.load.push(loadAverageLine());
      const ours = runJson(process.execPath, [__filename, '--child', id, '--steps', String(steps), '--warmup', String(warmup), '--data-dir', dataDir], `ours (${id})`) as OursRun;
      row.ours.push(ours);
      let line = `${id} round ${round + 1}/${args.rounds}: ours ${ours.samplesPerSec.toFixed(0)}`;
      for (const peer of peerRuns as Array<'torch' | 'numpy'>) {
        const byThreads: Record<string, number> = {};
        for (const threads of peerThreads) {
          const doc = runJson(
            PEER_PYTHON,
            [PEER_SCRIPT, '--recipe', id, '--impl', peer, '--steps', String(steps + warmup), '--warmup', String(warmup), '--seed', '1', '--data-dir', dataDir, '--json', '--threads', String(threads)],
            `${peer} (${id})`,
          ) as { environment: Record<string, unknown>; results: Array<{ samples_per_sec: number }> };
          result.peerEnvironment ??= doc.environment;
          byThreads[threads] = doc.results[0]!.samples_per_sec;
        }
        (row[peer] ??= []).push(Math.max(...Object.values(byThreads)));
        ((row.byThreads ??= {})[peer] ??= []).push(byThreads);
        line += `, ${peer} ${Object.entries(byThreads).map(([t, v]) => `${v.toFixed(0)} (${t} threads)`).join(' / ')}`;
      }
      process.stderr.write(`${line} samples/s (load ${result.load.at(-1)})\n`);
    }
    result.rows.push(row);
  }
  const table = peersTable(result);
  if (args.out) await writeFileAtomic(args.out, `${JSON.stringify(result, null, 2)}\n`);
  if (args.update) await (await import('./docs-tables')).rewriteDocs('speed'); // lazily: docs-tables imports this module's renderers
  process.stdout.write(`${table}\n`);
}

/**
 * One thread and every core: a BLAS peer on these small products is often fastest on one thread,
 * sometimes on all, and measuring only its default (all) made it look up to 3.5x slower here.
 */
export function defaultPeerThreads(): string {
  const cores = os.cpus().length;
  return cores > 1 ? `1,${cores}` : '1';
}

/** One preset of a {@link PeerResult}: medians over its rounds, ours and each peer's, in samples/s. */
export interface PeerMedians {
  preset: PresetId;
  batchSize: number;
  steps: number;
  ours: number;
  torch?: number;
  numpy?: number;
  /** How ours ran (the first round's). */
  run: OursRun;
}

export function peerMedians(result: PeerResult): PeerMedians[] {
  return result.rows.map((r) => ({
    preset: r.preset,
    batchSize: r.batchSize,
    steps: r.steps,
    ours: median(r.ours.map((o) => o.samplesPerSec)),
    torch: r.torch ? median(r.torch) : undefined,
    numpy: r.numpy ? median(r.numpy) : undefined,
    run: r.ours[0]!,
  }));
}

/** The BLAS the peer loaded, as its record names it. */
export function peerBlas(result: PeerResult): string {
  const env = result.peerEnvironment ?? {};
  const libs = Array.isArray(env['blas_libraries']) && env['blas_libraries'].length ? (env['blas_libraries'] as string[]).map((l) => path.basename(l)).join(', ') : String(env['blas'] ?? '?');
  return `${libs}${env['reference_blas'] ? ', the reference BLAS' : ''}`;
}

/** The markdown of a {@link PeerResult}: medians over the rounds, ratios ours / peer. */
export function peersTable(result: PeerResult): string {
  const rows = peerMedians(result).map(({ preset, batchSize, steps, ours, torch, numpy, run: o }) => {
    const digits = (v: number) => (v < 10 ? 2 : 0);
    return [
      preset,
      String(batchSize),
      String(steps),
      `${formatNumber(ours, digits(ours))} (${o.backend}, ${o.threads} thread${o.threads > 1 ? 's' : ''}, ${o.gradients})`,
      torch === undefined ? '-' : formatNumber(torch, digits(torch)),
      torch === undefined ? '-' : `${(ours / torch).toFixed(2)}x`,
      numpy === undefined ? '-' : formatNumber(numpy, digits(numpy)),
      numpy === undefined ? '-' : `${(ours / numpy).toFixed(2)}x`,
    ];
  });
  const env = result.peerEnvironment ?? {};
  const table = markdownTable(
    ['preset', 'batch', 'timed steps', 'ours: samples/s (backend, threads, step)', 'PyTorch CPU', 'ours / PyTorch', "source's NumPy", 'ours / NumPy'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const m = result.machine;
  return [
    table,
    '',
    `Medians of ${result.rounds} rounds, each round ours then the peer(s), back to back; warm-up steps excluded on both sides. ` +
      `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, tf.js ${m.tfjs}; peer: PyTorch ${String(env['torch'] ?? '?')}, NumPy ${String(env['numpy'] ?? '?')} ` +
      `(BLAS: ${peerBlas(result)}), Python ${String(env['python'] ?? '?')}, ` +
      (result.peerThreads ? `each round the faster of ${result.peerThreads.join(' and ')} threads. ` : `${String(env['threads'] ?? '?')} threads. `) +
      `${result.date.slice(0, 10)}; load average at the start of each round: ${[...new Set(result.load.map((l) => l.split(' ')[0]))].join(', ')}.`,
  ].join('\n');
}

export interface SpeedRow {
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
    .option('steps', { type: 'number' })
    .option('warmup', { type: 'number' })
    .option('data-dir', { type: 'string' })
    .option('json', { type: 'boolean', default: false })
    .option('from', { type: 'string', describe: 'Print the table of a saved --json result instead of measuring' })
    .option('peers', { type: 'string', describe: 'torch,numpy: compare each preset with the peer script instead' })
    .option('peers-from', { type: 'string', describe: 'Print the table of a saved --peers result' })
    .option('rounds', { type: 'number', default: 3 })
    .option('peer-threads', { type: 'string', default: defaultPeerThreads(), describe: 'Comma list of thread counts to run each peer with; each round keeps its fastest' })
    .option('out', { type: 'string', describe: 'Write the --peers result as JSON here' })
    .option('update', { type: 'boolean', default: false, describe: 'After --peers, rewrite the docs\' tables from their records (scripts/docs-tables.ts)' })
    .option('child', { type: 'string', hidden: true })
    .strict()
    .parseAsync();
  if (args.child) return oursChild(getPreset(args.child).id, args.steps ?? PEER_STEPS[getPreset(args.child).id], args.warmup ?? 0, args['data-dir']);
  if (args['peers-from']) {
    process.stdout.write(`${peersTable(JSON.parse(fs.readFileSync(args['peers-from'], 'utf8')) as PeerResult)}\n`);
    if (args.update) await (await import('./docs-tables')).rewriteDocs('speed'); // lazily: docs-tables imports this module's renderers
    return;
  }
  if (args.peers) {
    return comparePeers({ presets: args.presets === PRESET_IDS.join(',') ? 'all' : args.presets, peers: args.peers, rounds: args.rounds, peerThreads: args['peer-threads'], steps: args.steps, warmup: args.warmup, dataDir: args['data-dir'], out: args.out, update: args.update });
  }
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
      const steps = slow ? 1 : (args.steps ?? 50);
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

export interface SpeedResult {
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
