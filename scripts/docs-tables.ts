/**
 * The tables in README.md, docs/RESULTS.md and docs/GPU.md, and the paragraphs made of measured figures,
 * written from their JSON records under docs/results/ (and docs/browser.json), so that no figure in
 * the docs is typed by hand and none can drift from its record.
 *
 * In a markdown file a block sits between two marker comments, which it keeps:
 *
 *   <!-- table:NAME -->
 *   ...written by this script...
 *   <!-- /table:NAME -->
 *
 * and has one entry in {@link BLOCKS}: its name, the files that hold it, the records it is written
 * from, and a function from those records to its markdown. Adding a table is adding an entry
 * (DEVELOPERS.md, "Figures in the docs").
 *
 *   node dist/scripts/docs-tables.js --check   # exit 1 naming each block that differs from its records
 *   node dist/scripts/docs-tables.js --write   # rewrite every block from its records
 *   node dist/scripts/docs-tables.js --list    # the blocks, their files and records
 *
 * __tests__/docs-tables.test.ts runs the check in `npm test`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../lib/atomic-write';
import type { BenchResult } from '../lib/jobs/bench-job';
import { benchDetails, benchSummary } from './bench-section';
import type { TrainJobResult } from '../lib/jobs/train-job';
import { PRESET_IDS, PRESETS, PresetId } from '../lib/recipes';
import { formatDuration, formatNumber, formatPercent, markdownTable } from '../lib/report';
import { recipesTable } from './recipes-table';
import type { PeerResult, SpeedResult } from './speed';
import { peerBlas, peerMedians, peersTable, speedTable } from './speed';
import type { SizesRecord } from './sizes';
import type { BrowserWebGPURecord } from './browser-webgpu';
import { tables as browserWebGPUTables } from './browser-webgpu';
import type { TestsRecord } from './test-record';
import type { DemoFacts } from './demo-screenshot';
import type { InterruptCheckRecord } from './interrupt-check';
import type { YieldCostRecord } from './yield-cost';
import type { ProgramsRecord } from './gpu/count-programs';
import { PROGRAMS_RECORD, markdownTables as programsTables } from './gpu/count-programs';
import { GPU_PRESET_RECORDS, GPU_PROFILE, GPU_SUMMARY, WasmRecords, gpuComparison, gpuPresets, gpuProfile, gpuVersusWasm } from './gpu/gpu-results';
import { ROOT } from './repo-root';


/** Parses one of a block's records, by its path relative to the repository root. */
export type ReadRecord = <T = unknown>(file: string) => T;

/** One generated block of the docs. */
export interface DocBlock {
  /** The marker name: `<!-- table:NAME -->` ... `<!-- /table:NAME -->`; unique within a file. */
  name: string;
  /** The markdown files that hold it (the same text in each), relative to the repository root. */
  files: readonly string[];
  /** The records it is written from, relative to the repository root; it may read no others. */
  records: readonly string[];
  /** Its markdown, from its records. */
  render: (read: ReadRecord) => string;
  /** Whether its prose is re-wrapped to {@link PROSE_WIDTH} columns (tables never are). @default true */
  wrap?: boolean;
}

const recipeRecord = (id: PresetId): string => `docs/results/recipes/${id}.json`;
const RECIPE_RECORDS = PRESET_IDS.map(recipeRecord);
const CNN_20K = 'docs/results/cnn-20k/train.json';
/** What the GPU runs are compared with (scripts/gpu/gpu-results.ts). */
const WASM_RECORDS: WasmRecords = { recipe: recipeRecord, cnn20k: CNN_20K };
const PEERS = 'docs/results/speed-vs-peers.json';
const PEERS_TWO = 'docs/results/speed-vs-peers-threads.json';
const PEERS_REFERENCE = 'docs/results/speed-vs-peers-reference-blas.json';
const BENCH = 'docs/results/bench/results.json';
const BENCH_SEEDS = 'docs/results/bench-seeds/results.json';
const SPEED = 'docs/results/speed.json';
const FASHION = ['docs/results/fashion-mnist/two-layer-net.json', 'docs/results/fashion-mnist/prelu-mlp.json'];
const BROWSER = 'docs/browser.json';
const SIZES = 'docs/results/sizes.json';
const TESTS = 'docs/results/tests.json';
const BROWSER_WEBGPU = 'docs/results/browser-webgpu.json';
const INTERRUPTS = ['docs/results/interrupt-check.json', 'docs/results/interrupt-check-cnn.json'];
const YIELD_COST = 'docs/results/yield-cost.json';

const pct = (fraction: number, digits = 2): string => formatPercent(fraction, digits);
const kib = (bytes: number): string => `${formatNumber(bytes / 1024)} KiB`;
const ratio = (x: number): string => `${x.toFixed(2)}x`;
/** `46 min 03 s` */
const minSec = (seconds: number): string => `${Math.floor(Math.round(seconds) / 60)} min ${String(Math.round(seconds) % 60).padStart(2, '0')} s`;
const day = (iso: string): string => iso.slice(0, 10);
const recipe = (read: ReadRecord, id: PresetId): TrainJobResult => read<TrainJobResult>(recipeRecord(id));
const evalAt = (r: TrainJobResult, step: number) => {
  const e = r.history.evals.find((x) => x.step === step);
  if (!e) throw new Error(`${r.model}: no evaluation at step ${step} in its record`);
  return e;
};

/** What the README's recipe table says the sources report, in a few words. */
const SOURCE_SHORT: Record<PresetId, string> = {
  mlp: 'no figure',
  'deep-mlp': 'no figure',
  'tanh-mlp': 'no figure in the text',
  'mse-mlp': 'test 97%',
  'two-layer-net': 'train 94.79%, test 94.57%',
  'prelu-mlp': 'test 97.39%',
  cnn: '"98%" (one training batch, step 700)',
};

function readmeRecipes(read: ReadRecord): string {
  const runs = PRESET_IDS.map((id) => recipe(read, id));
  const rows = runs.map((r) => [`\`${r.model}\``, SOURCE_SHORT[r.model as PresetId], `test ${pct(r.testAccuracy)}, train ${pct(r.trainAccuracy)}`, formatDuration(r.seconds)]);
  const reported = runs.filter((r) => PRESETS[r.model as PresetId].reported.testAccuracy !== undefined);
  const worst = Math.max(...reported.map((r) => Math.abs(r.testAccuracy - PRESETS[r.model as PresetId].reported.testAccuracy!) * 100));
  const dates = [...new Set(runs.map((r) => day(r.date)))].join(', ');
  const cnn = runs.find((r) => r.model === 'cnn')!;
  return [
    `All seven recipes on the full MNIST, seed 1, \`wasm\` backend (${cnn.backend.replace(/^wasm \((.*)\)$/, '$1')} for the cnn, one for the MLPs), on the machine above, ${dates} (details, logs and raw JSON in`,
    '[docs/RESULTS.md](docs/RESULTS.md)):',
    '',
    markdownTable(['preset', 'source reports', 'measured here', 'wall time'], rows, ['l', 'l', 'l', 'r']),
    '',
    'Reproduce one with `npx mnist-nets train --model <id> --seed 1` (all: `scripts/reproduce-recipes.sh`).',
    `Where the source reports a test accuracy, this library lands within 1 point of it (at most ${worst.toFixed(2)} points off).`,
  ].join('\n');
}

function readmeCnn20k(read: ReadRecord): string {
  const r = read<TrainJobResult>(CNN_20K);
  return [
    `The tutorial's longer schedule, ${formatNumber(r.steps)} steps of the \`cnn\` recipe, on the same machine with ${r.backend.replace(/^wasm \((\d+) threads\)$/, '$1')} wasm`,
    `threads: **${pct(r.testAccuracy)} test accuracy** (the tutorial says about 99.2%) in **${minSec(r.seconds)}** wall time, ${minSec(r.trainSeconds)} of`,
    'it training ([docs/RESULTS.md](docs/RESULTS.md#the-tutorials-20000-step-cnn-issue-cpu-speed-second-round)):',
  ].join('\n');
}

function cnn20kTable(read: ReadRecord): string {
  const r = read<TrainJobResult>(CNN_20K);
  const end = new Date(r.date);
  const start = new Date(end.getTime() - r.seconds * 1000);
  const hm = (d: Date): string => d.toISOString().slice(11, 16);
  const curve = r.history.evals.filter((e) => e.step > 0).map((e) => formatNumber(e.testAccuracy! * 100, 1));
  return markdownTable(
    ['', ''],
    [
      ['run', `${day(r.date)}, ${hm(start)}-${hm(end)} UTC, \`${r.backend}\``],
      [`test accuracy (all ${formatNumber(r.testSamples)})`, `**${pct(r.testAccuracy)}** (the tutorial: "approximately 99.2%")`],
      ['test loss', r.testLoss.toFixed(4)],
      [`train accuracy (first ${formatNumber(r.trainAccuracySamples)} training images)`, pct(r.trainAccuracy)],
      [
        'wall time',
        `**${minSec(r.seconds)}** (training ${formatNumber(r.trainSeconds, 1)} s, ${formatNumber(r.samplesPerSec)} samples/s; evaluations and ${r.history.epochs.length} checkpoints the rest)`,
      ],
      [`test accuracy on the first 1,000 test images, every ${formatNumber(r.history.evals[1]!.step)} steps`, `${curve.join(', ')}%`],
    ],
    ['l', 'l'],
  );
}

function recipesNotes(read: ReadRecord): string {
  const tln = recipe(read, 'two-layer-net');
  const prelu = recipe(read, 'prelu-mlp');
  const mse = recipe(read, 'mse-mlp');
  const cnn = recipe(read, 'cnn');
  const deep = recipe(read, 'deep-mlp');
  const cnn20k = read<TrainJobResult>(CNN_20K);
  const [t0, tEnd] = [tln.history.evals[0]!, tln.history.evals.at(-1)!];
  const preluFirst = evalAt(prelu, prelu.history.epochs[0]!.step);
  const msePerEpoch = 60_000;
  const msePoint = mse.history.evals.find((e) => e.step >= 20_000 && e.step < msePerEpoch)!;
  const mseEpoch = evalAt(mse, msePerEpoch);
  const cnnLast = cnn.history.evals.filter((e) => e.step % 100 === 0).at(-1)!;
  return [
    `- \`two-layer-net\`: accuracy logged every ${formatNumber(tln.history.evals[1]!.step)} iterations from ${pct(t0.trainAccuracy)} / ${pct(t0.testAccuracy!)} (train / test) after the`,
    `  first update (the source: 9.87% / 9.8%) to ${pct(tEnd.trainAccuracy)} / ${pct(tEnd.testAccuracy!)} after ${formatNumber(tln.steps)} (the source: 94.79% /`,
    `  94.57%). The source's NumPy run took 82.5 s on its machine; this one ${formatNumber(tln.seconds)} s here, evaluations`,
    '  included.',
    `- \`prelu-mlp\`: test ${pct(preluFirst.testAccuracy!)} after the first epoch (the source: 92.62% after epoch 0), ${pct(prelu.testAccuracy)} after`,
    `  the ninth (97.39%); mean training loss per epoch ${prelu.history.epochs[0]!.meanLoss.toFixed(4)} -> ${prelu.history.epochs.at(-1)!.meanLoss.toFixed(4)} (the source: 0.4360 -> 0.0357).`,
    `- \`mse-mlp\`: ${pct(mse.testAccuracy)}, ${((0.97 - mse.testAccuracy) * 100).toFixed(2)} points under the source's 97% (within the 1-point goal); test accuracy`,
    `  ${pct(msePoint.testAccuracy!)} after ${formatNumber(msePoint.step)} single-sample steps, ${pct(mseEpoch.testAccuracy!)} after one epoch.`,
    '- `cnn`: the source prints the accuracy of the current 50-image training batch (0.06 at step 0,',
    `  0.98 at step 700). Logged here on a fixed 1,000-image training slice: ${pct(cnn.history.evals[0]!.trainAccuracy, 1)} at step 0, ${pct(cnnLast.trainAccuracy, 1)} at`,
    `  step ${cnnLast.step}; the whole test set after ${formatNumber(cnn.steps)} steps: ${pct(cnn.testAccuracy)}. The tutorial's ~99.2% needs 20,000`,
    `  steps: ${pct(cnn20k.testAccuracy)} here in ${minSec(cnn20k.seconds)} on ${cnn20k.backend.replace(/^wasm \((\d+) threads\)$/, '$1')} wasm threads (below).`,
    `- \`deep-mlp\` with N(0, 1) weights and biases starts from huge logits (mean loss ${formatNumber(deep.history.epochs[0]!.meanLoss, 2)} in its first`,
    `  epoch) and Adam brings it down; it overfits (train ${pct(deep.trainAccuracy)}, test ${pct(deep.testAccuracy)}), as a net of ${formatNumber(deep.params / 1e6, 1)}M`,
    '  parameters initialised this way would in the source too.',
  ].join('\n');
}

function speedFirstRound(read: ReadRecord): string {
  const s = read<SpeedResult>(SPEED);
  const row = (preset: string, backend: string) => {
    const r = s.rows.find((x) => x.preset === preset && x.backend === backend);
    if (!r) throw new Error(`${SPEED}: no row for ${preset} on ${backend}`);
    return r;
  };
  const cnnWasm = row('cnn', 'wasm');
  const tlnWasm = row('two-layer-net', 'wasm');
  const cnnCpu = row('cnn', 'cpu');
  return [
    `Then the cnn trained at ${formatNumber(cnnWasm.samplesPerSec)} samples/s on one wasm thread and two-layer-net at ${formatNumber(tlnWasm.samplesPerSec)}`,
    `(${s.date.slice(0, 10)}, [results/speed.json](results/speed.json)). Before this library's kernels the cnn could not train on wasm at`,
    "all (`Kernel 'Conv2DBackpropFilter' not registered`), and the plain `cpu` backend takes",
    `${formatNumber(cnnCpu.batchSize / cnnCpu.samplesPerSec)} s per step (${formatNumber(cnnCpu.samplesPerSec, 2)} samples/s). What bounded the 784-50-10 net then, by the first round's`,
    "profile ([PERF.md](PERF.md)): XNNPACK's three 784x100x50 products (one of them, the gradient for the",
    'input images, unused), the packing of weights that change every step, and the tape and layer overhead',
    'of many small kernel calls; the second round removed the unused product, the packing and most of the calls.',
  ].join('\n');
}

/** A peer run's row for one preset, which must be there. */
function peerRow(result: PeerResult, file: string, preset: PresetId) {
  const row = peerMedians(result).find((r) => r.preset === preset);
  if (!row) throw new Error(`${file}: no row for ${preset}`);
  return row;
}

/** The lowest and highest ratio ours / PyTorch among the presets where PyTorch is faster, and those where it is not. */
function torchSpread(result: PeerResult) {
  const rows = peerMedians(result).filter((r) => r.torch !== undefined);
  const slower = rows.filter((r) => r.ours < r.torch!).map((r) => r.ours / r.torch!);
  return { low: Math.min(...slower), high: Math.max(...slower), faster: rows.filter((r) => r.ours >= r.torch!) };
}

function readmePeers(read: ReadRecord): string {
  const two = read<PeerResult>(PEERS_TWO);
  const ref = read<PeerResult>(PEERS_REFERENCE);
  const all = read<PeerResult>(PEERS);
  const rows = peerMedians(two).map((r) => [
    `\`${r.preset}\``,
    `${formatNumber(r.ours)} samples/s`,
    r.torch === undefined ? '-' : formatNumber(r.torch),
    r.torch === undefined ? '-' : ratio(r.ours / r.torch),
    r.numpy === undefined ? '-' : formatNumber(r.numpy),
    r.numpy === undefined ? '-' : ratio(r.ours / r.numpy),
  ]);
  const refTln = peerRow(ref, PEERS_REFERENCE, 'two-layer-net');
  const refCnn = peerRow(ref, PEERS_REFERENCE, 'cnn');
  const spread = torchSpread(all);
  const faster = spread.faster.map((r) => `\`${r.preset}\` (batch ${r.batchSize}: ${ratio(r.ours / r.torch!)} ours)`).join(', ');
  const env = two.peerEnvironment ?? {};
  return [
    `Training speed beside PyTorch ${String(env['torch'] ?? '?').replace(/a0$/, '')} CPU and the source's NumPy code on the same ${two.machine.cores} cores`,
    `(one run of alternating rounds, the peers on ${/openblas/i.test(peerBlas(two)) ? 'OpenBLAS' : peerBlas(two)} at their faster of ${two.peerThreads?.join(' and ')} threads;`,
    '[docs/RESULTS.md](docs/RESULTS.md#every-preset-beside-pytorch-issue-cpu-speed-second-round)):',
    '',
    markdownTable(['preset', 'ours (wasm)', 'PyTorch CPU', 'ours / PyTorch', 'NumPy', 'ours / NumPy'], rows, ['l', 'r', 'r', 'r', 'r', 'r']),
    '',
    "Against the same PyTorch and NumPy on Debian's default reference BLAS (what `apt-get install",
    `python3-torch\` alone gives) the ratios are ${ratio(refCnn.ours / refCnn.torch!)} (cnn against PyTorch) and ${ratio(refTln.ours / refTln.torch!)} against PyTorch, ${ratio(refTln.ours / refTln.numpy!)}`,
    `against NumPy (two-layer-net). On all seven presets PyTorch on OpenBLAS is faster but for ${faster};`,
    `the rest run at ${ratio(spread.low)}-${ratio(spread.high)} of it: wasm's SIMD is 128 bits wide without fused multiply-add, OpenBLAS uses AVX2`,
    "with FMA. Before this library's kernels the cnn could not train on wasm at all.",
  ].join('\n');
}

function peersSummary(read: ReadRecord): string {
  const all = read<PeerResult>(PEERS);
  const two = read<PeerResult>(PEERS_TWO);
  const ref = read<PeerResult>(PEERS_REFERENCE);
  const runs = [
    { r: peerRow(all, PEERS, 'two-layer-net'), c: peerRow(all, PEERS, 'cnn') },
    { r: peerRow(two, PEERS_TWO, 'two-layer-net'), c: peerRow(two, PEERS_TWO, 'cnn') },
  ];
  const refTln = peerRow(ref, PEERS_REFERENCE, 'two-layer-net');
  const refCnn = peerRow(ref, PEERS_REFERENCE, 'cnn');
  const numpys = runs.map(({ r }) => r.numpy!);
  const spread = torchSpread(all);
  const faster = spread.faster.map((r) => `\`${r.preset}\` (batch ${r.batchSize}, where per-step overhead dominates and ours is ${ratio(r.ours / r.torch!)})`).join(', ');
  // Training FLOPs of a step: the forward pass and about twice that backward.
  const cnnStepFlops = 3 * recipe(read, 'cnn').flopsPerSample * PRESETS.cnn.recipe.batchSize;
  const gflops = (samplesPerSec: number): string => formatNumber((cnnStepFlops * samplesPerSec) / PRESETS.cnn.recipe.batchSize / 1e9);
  const cnnTwo = runs[1]!.c;
  return [
    "What this says, against the issue's goals:",
    '',
    `- **two-layer-net against the source's NumPy code: ${runs.map(({ r }) => ratio(r.ours / r.numpy!)).join(' and ')}** in the two runs (goal 0.7x;`,
    `  NumPy on OpenBLAS at its best thread count, ${formatNumber(Math.min(...numpys) / 1000)}k-${formatNumber(Math.max(...numpys) / 1000)}k samples/s).`,
    `  Against NumPy on the reference BLAS it is ${ratio(refTln.ours / refTln.numpy!)}.`,
    `- **cnn against PyTorch CPU: ${ratio(refCnn.ours / refCnn.torch!)} against the reference-BLAS PyTorch** of the issue's baseline`,
    `  (${formatNumber(refCnn.torch!)} samples/s here), **${runs.map(({ c }) => ratio(c.ours / c.torch!)).join(' and ')} against PyTorch on OpenBLAS**`,
    `  (${runs.map(({ c }) => formatNumber(c.torch!)).join(' and ')} samples/s). The goal of 2x is met only against the former. PyTorch`,
    `  on OpenBLAS also beats every MLP preset but ${faster}: ${ratio(spread.low)}-${ratio(spread.high)}.`,
    '- Why the gap to OpenBLAS is where it is: WebAssembly SIMD is 128 bits wide without fused',
    '  multiply-add, while OpenBLAS uses AVX2 with FMA here (8 lanes, one instruction for a multiply',
    `  and an add). The cnn step (about ${formatNumber(cnnStepFlops / 1e9, 1)} GFLOP at batch ${PRESETS.cnn.recipe.batchSize}: three times the forward pass) runs at about`,
    `  ${gflops(cnnTwo.ours)} GFLOP/s on our ${cnnTwo.run.threads} threads and ${gflops(cnnTwo.torch!)} GFLOP/s in PyTorch (the second run). What is left to gain inside`,
    '  wasm is in docs/PERF.md ("Where the time goes now"): conv1\'s filter gradient, the tape\'s copies,',
    '  and relaxed-SIMD FMA where Node enables it.',
  ].join('\n');
}

function fashion(read: ReadRecord): string {
  const runs = FASHION.map((f) => read<TrainJobResult>(f));
  const table = markdownTable(
    ['preset', 'test', 'train', 'wall time', 'train samples/s'],
    runs.map((r) => [`\`${r.model}\``, pct(r.testAccuracy), pct(r.trainAccuracy), formatDuration(r.seconds), formatNumber(r.samplesPerSec)]),
    ['l', 'r', 'r', 'r', 'r'],
  );
  const prelu = runs.find((r) => r.model === 'prelu-mlp')!;
  // Its recipe evaluates once an epoch (every 875 steps), after step 0.
  const perEpoch = prelu.history.evals.filter((e) => e.step > 0).map((e) => formatNumber(e.testAccuracy! * 100, 1));
  return [
    table,
    '',
    `MNIST's recipes do not carry over: at lr ${String((prelu.hyperparameters.optimizer as { learningRate: number }).learningRate)} the \`prelu-mlp\` run oscillates on Fashion-MNIST`,
    `(test accuracy logged per epoch: ${perEpoch.join(', ')}%).`,
  ].join('\n');
}

function readmeBrowser(read: ReadRecord): string {
  const b = read<DemoFacts>(BROWSER);
  const s = read<SizesRecord>(SIZES);
  const chrome = /HeadlessChrome\/(\d+)/.exec(b.userAgent)?.[1] ?? '?';
  const run = (id: string, batch: number) => {
    const t = b.trained[id]!;
    return `${formatNumber(t.steps)} steps in ${formatNumber((t.steps * batch) / t.samplesPerSec, 1)} s, ${formatNumber(t.samplesPerSec)} samples/s, ${pct(t.testAccuracy, 1)}`;
  };
  const sum = (rows: SizesRecord['demo']['files'], key: 'bytes' | 'gzipBytes') => rows.reduce((n, r) => n + r[key], 0);
  const atStart = s.demo.files.filter((f) => f.when === 'at start');
  const onUse = s.demo.files.filter((f) => f.when === 'on first use');
  const wasm = s.demo.files.filter((f) => f.file.endsWith('.wasm'));
  const range = (key: 'bytes' | 'gzipBytes') => `${formatNumber(Math.min(...wasm.map((w) => w[key])) / 1024)}-${kib(Math.max(...wasm.map((w) => w[key])))}`;
  const readAs = Object.entries(b.read);
  const threads = /threads yes/.test(b.backendStatus ?? '') ? 'SIMD and threads' : 'SIMD';
  return [
    `Recorded in headless Chromium ${chrome} (Debian's \`chromium\`, driven by \`playwright-core\`) on the`,
    `development machine, wasm with ${threads}, ${/60,000 train/.test(b.data ?? '') ? 'full MNIST' : 'MNIST'} over HTTP ([docs/browser.json](docs/browser.json)):`,
    `\`two-layer-net\`'s whole recipe (${run('two-layer-net', PRESETS['two-layer-net'].recipe.batchSize)} on the page's first 1,000 test images; \`cnn\``,
    `${run('cnn', PRESETS.cnn.recipe.batchSize)}; a drawn ${b.drawn} read as ${readAs.every(([, d]) => String(d) === b.drawn) ? `${b.drawn} by both` : readAs.map(([m, d]) => `${d} by ${m}`).join(', ')}.`,
    '`npm test` drives the same page (`__tests__/browser.test.ts`; where Chromium is missing it skips,',
    'saying why, and under CI that fails the run). Sizes (minified; [docs/results/sizes.json](docs/results/sizes.json),',
    `${day(s.date)}): the library entry ${kib(s.library.bytes)} (${kib(s.library.gzipBytes)} gzip) without tf.js; the`,
    `demo's start-up JavaScript with tf.js ${kib(sum(atStart, 'bytes'))} (${kib(sum(atStart, 'gzipBytes'))} gzip); WebGPU loaded on demand ${kib(sum(onUse, 'bytes'))}`,
    `(${kib(sum(onUse, 'gzipBytes'))} gzip); one wasm binary ${range('bytes')} (${range('gzipBytes')} gzip).`,
  ].join('\n');
}

function readmeBundle(read: ReadRecord): string {
  const s = read<SizesRecord>(SIZES);
  return [
    '**Air-gapped GPU machines.** `npm run bundle` builds `build/mnist-nets/`: the CLI as one file with',
    `its JS dependencies, the \`.wasm\` files, \`dawn.node\` for linux-x64, and a launcher; ${formatNumber(s.bundle.bytes / 2 ** 20, 1)} MiB without`,
    `a Node binary ([docs/results/sizes.json](docs/results/sizes.json)). [docs/GPU.md](docs/GPU.md) explains adding Node and tfjs-node-gpu to it, the WebGPU`,
    'path in detail, and every doctor message.',
  ].join('\n');
}

function readmeTests(read: ReadRecord): string {
  const t = read<TestsRecord>(TESTS);
  return [
    `On the development machine (${t.machine.cores} cores, ${day(t.date)}, load average ${t.load} at the start) \`npm test\` ran`,
    `${formatNumber(t.tests)} tests in ${formatNumber(t.suites)} files in ${minSec(t.seconds)}, ${t.skipped} skipped (${t.ci ? 'CI=true' : 'outside CI'}; [docs/results/tests.json](docs/results/tests.json),`,
    'made by `node dist/scripts/test-record.js`).',
  ].join('\n');
}

function interrupts(read: ReadRecord): string {
  const ms = (v: number): string => (v < 1000 ? `${formatNumber(v)} ms` : `${formatNumber(v / 1000, 1)} s`);
  const rows = INTERRUPTS.map((f) => {
    const r = read<InterruptCheckRecord>(f);
    // The record keeps the interrupted command as one line only: its flags are read back from it.
    const flag = (name: string): number | undefined => {
      const v = new RegExp(`--${name} (\\d+)(\\s|$)`).exec(r.run)?.[1];
      return v === undefined ? undefined : Number(v);
    };
    const model = /--model (\S+)/.exec(r.run)?.[1] ?? '?';
    const limit = flag('limit');
    return [
      `\`${model}\`, ${formatNumber(flag('steps') ?? NaN)} steps${limit ? ` on ${formatNumber(limit)} images` : ''} (${formatNumber(r.stepsPerEpoch)} an epoch)`,
      String(r.trials),
      `**${r.identical}**`,
      String(r.midEpoch),
      `${ms(r.acknowledgedAfterMs.median)}, ${ms(r.acknowledgedAfterMs.max)}`,
      `${ms(r.exitedAfterMs.median)}, ${ms(r.exitedAfterMs.max)}`,
    ];
  });
  return markdownTable(
    ['run (full MNIST, wasm, seed 1)', 'interrupted', 'resumed to the identical result', 'stopped mid-epoch', 'signal acknowledged after (median, max)', 'process exited after (median, max)'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r'],
  );
}

function yieldCost(read: ReadRecord): string {
  const y = read<YieldCostRecord>(YIELD_COST);
  const cli = y.cli;
  if (!cli) throw new Error(`${YIELD_COST}: no cli comparison (recorded without --before)`);
  const label: Record<string, string> = {
    'no turns (before)': 'no turns (the loop before issue 17)',
    'a turn after every step': 'a turn after every step (`yieldIntervalMs: 0`)',
    'a turn every 50 ms (default)': 'a turn every 50 ms (the default)',
  };
  const times = (v: number): string => (v === 1 ? '1' : v.toFixed(3));
  const rows = Object.entries(y.inProcess.summary).map(([k, v]) => [label[k] ?? k, times(v.medianWallVsNoTurns)]);
  rows.push([`the CLI, this build against the one before (\`train --model two-layer-net --steps ${y.steps}\`, samples/s)`, times(cli.medianAfterVsBefore)]);
  const share = (x: number): string => `${Number((x * 100).toPrecision(1))}%`;
  return [
    markdownTable(['loop', 'time against no turns (median of rounds)'], rows, ['l', 'r']),
    '',
    `One turn (\`await\` of \`setImmediate\`) takes ${formatNumber(y.turnMicros, 1)} µs, ${share(y.estimatedCost.everyStep)} of a ${formatNumber(y.stepMillis, 2)} ms step when taken after every`,
    `step and ${share(y.estimatedCost.every50ms)} of the time when taken every 50 ms; the rest of the differences are the machine's noise.`,
  ].join('\n');
}

/** Every generated block of the docs. Adding one: an entry here, and its markers where it goes. */
export const BLOCKS: readonly DocBlock[] = [
  { name: 'recipes', files: ['README.md'], records: RECIPE_RECORDS, render: readmeRecipes },
  { name: 'cnn-20k', files: ['README.md'], records: [CNN_20K], render: readmeCnn20k },
  { name: 'bench', files: ['README.md', 'docs/RESULTS.md'], records: [BENCH], render: (read) => benchSummary(read<BenchResult>(BENCH)) },
  { name: 'speed-vs-peers', files: ['README.md'], records: [PEERS_TWO, PEERS_REFERENCE, PEERS], render: readmePeers },
  { name: 'browser', files: ['README.md'], records: [BROWSER, SIZES], render: readmeBrowser },
  { name: 'bundle', files: ['README.md'], records: [SIZES], render: readmeBundle },
  { name: 'tests', files: ['README.md'], records: [TESTS], render: readmeTests },
  { name: 'recipes', files: ['docs/RESULTS.md'], records: RECIPE_RECORDS, render: (read) => recipesTable(PRESET_IDS.map((id) => recipe(read, id))) },
  { name: 'recipes-notes', files: ['docs/RESULTS.md'], records: [...RECIPE_RECORDS, CNN_20K], render: recipesNotes },
  { name: 'speed', files: ['docs/RESULTS.md'], records: [SPEED], render: (read) => speedTable(read<SpeedResult>(SPEED)) },
  { name: 'speed-first-round', files: ['docs/RESULTS.md'], records: [SPEED], render: speedFirstRound },
  { name: 'speed-vs-peers', files: ['docs/RESULTS.md'], records: [PEERS], render: (read) => peersTable(read<PeerResult>(PEERS)) },
  { name: 'speed-vs-peers-threads', files: ['docs/RESULTS.md'], records: [PEERS_TWO], render: (read) => peersTable(read<PeerResult>(PEERS_TWO)) },
  { name: 'speed-vs-peers-reference-blas', files: ['docs/RESULTS.md'], records: [PEERS_REFERENCE], render: (read) => peersTable(read<PeerResult>(PEERS_REFERENCE)) },
  { name: 'peers-summary', files: ['docs/RESULTS.md'], records: [PEERS, PEERS_TWO, PEERS_REFERENCE, recipeRecord('cnn')], render: peersSummary },
  { name: 'cnn-20k', files: ['docs/RESULTS.md'], records: [CNN_20K], render: cnn20kTable },
  { name: 'bench-notes', files: ['docs/RESULTS.md'], records: [BENCH], render: (read) => benchDetails(read<BenchResult>(BENCH)) },
  { name: 'bench-seeds', files: ['docs/RESULTS.md'], records: [BENCH_SEEDS], render: (read) => benchSummary(read<BenchResult>(BENCH_SEEDS)) },
  { name: 'bench-seeds-notes', files: ['docs/RESULTS.md'], records: [BENCH_SEEDS], render: (read) => benchDetails(read<BenchResult>(BENCH_SEEDS)) },
  { name: 'fashion-mnist', files: ['docs/RESULTS.md'], records: FASHION, render: fashion },
  { name: 'interrupt-check', files: ['docs/RESULTS.md'], records: INTERRUPTS, render: interrupts },
  { name: 'yield-cost', files: ['docs/RESULTS.md'], records: [YIELD_COST], render: yieldCost },
  { name: 'browser-webgpu', files: ['docs/GPU.md'], records: [BROWSER_WEBGPU], render: (read) => browserWebGPUTables(read<BrowserWebGPURecord>(BROWSER_WEBGPU)), wrap: false },
  { name: 'gpu-h200', files: ['README.md', 'docs/RESULTS.md'], records: [GPU_SUMMARY], render: gpuComparison },
  {
    name: 'gpu-h200-presets',
    files: ['docs/RESULTS.md'],
    records: [...Object.values(GPU_PRESET_RECORDS), ...RECIPE_RECORDS, CNN_20K, GPU_SUMMARY],
    render: (read) => gpuPresets(read, WASM_RECORDS),
  },
  { name: 'gpu-h200-vs-wasm', files: ['README.md'], records: [...Object.values(GPU_PRESET_RECORDS), ...RECIPE_RECORDS], render: (read) => gpuVersusWasm(read, WASM_RECORDS) },
  { name: 'gpu-h200-profile', files: ['docs/GPU.md'], records: [GPU_PROFILE, GPU_SUMMARY], render: (read) => gpuProfile(read) },
  { name: 'programs-per-step', files: ['docs/GPU.md'], records: [PROGRAMS_RECORD], render: (read) => programsTables(read<ProgramsRecord>(PROGRAMS_RECORD)), wrap: false },
];

const MARKER = /<!-- (\/?)table:([A-Za-z0-9._-]+) -->/g;

/** A block's place in a markdown text: the text between its markers. */
export interface Placed {
  name: string;
  /** Offsets of the text between the two markers. */
  start: number;
  end: number;
}

/** The blocks a markdown text marks, in order; throws naming `file` and the line of an unpaired, nested or repeated marker. */
export function placedBlocks(text: string, file: string): Placed[] {
  const out: Placed[] = [];
  let open: { name: string; start: number; line: number } | undefined;
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  for (const m of text.matchAll(MARKER)) {
    const [marker, closing, name] = m as unknown as [string, string, string];
    const at = m.index!;
    if (!closing) {
      if (open) throw new Error(`${file}:${lineOf(at)}: <!-- table:${name} --> inside table:${open.name} (opened at line ${open.line})`);
      if (out.some((p) => p.name === name)) throw new Error(`${file}:${lineOf(at)}: a second table:${name}`);
      open = { name, start: at + marker.length, line: lineOf(at) };
    } else {
      if (!open || open.name !== name) throw new Error(`${file}:${lineOf(at)}: <!-- /table:${name} --> closes ${open ? `table:${open.name}` : 'nothing'}`);
      out.push({ name, start: open.start, end: at });
      open = undefined;
    }
  }
  if (open) throw new Error(`${file}:${open.line}: table:${open.name} is never closed (<!-- /table:${open.name} -->)`);
  return out;
}

/** Reads records for one block, refusing any it does not declare. */
function recordReader(root: string, block: DocBlock): ReadRecord {
  return <T>(file: string): T => {
    if (!block.records.includes(file)) throw new Error(`table:${block.name} reads ${file}, which its entry in scripts/docs-tables.ts does not list among its records`);
    const full = path.join(root, file);
    if (!fs.existsSync(full)) throw new Error(`table:${block.name}: its record ${file} is missing`);
    return JSON.parse(fs.readFileSync(full, 'utf8')) as T;
  };
}

/** Width the prose of a block is wrapped to, as the hand-written docs are. @default 100 */
export const PROSE_WIDTH = 100;

/**
 * Paragraphs and list items re-wrapped to {@link PROSE_WIDTH} columns (continuation lines of a
 * list item indented by two), so a renderer writes sentences without minding line breaks;
 * tables (lines starting with `|`) are left as they are.
 */
export function wrapProse(markdown: string, width: number = PROSE_WIDTH): string {
  return markdown
    .split(/\n{2,}/)
    .map((para) => {
      if (para.split('\n').some((l) => l.startsWith('|'))) return para;
      const items = para.startsWith('- ') ? para.split(/\n(?=- )/) : [para];
      return items
        .map((item) => {
          const bullet = item.startsWith('- ');
          const words = (bullet ? item.slice(2) : item).split(/\s+/).filter(Boolean);
          const lines: string[] = [];
          let line = bullet ? '-' : '';
          for (const w of words) {
            const next = line === '' || line === '-' || line === '  ' ? `${line}${line === '-' ? ' ' : ''}${w}` : `${line} ${w}`;
            if (next.length > width && line.trim() !== '' && line !== '-') {
              lines.push(line);
              line = `${bullet ? '  ' : ''}${w}`;
            } else line = next;
          }
          lines.push(line);
          return lines.join('\n');
        })
        .join('\n');
    })
    .join('\n\n');
}

/** A block's markdown from its records. */
export function renderBlock(block: DocBlock, root: string = ROOT): string {
  const markdown = block.render(recordReader(root, block)).replace(/\s+$/, '');
  return block.wrap === false ? markdown : wrapProse(markdown);
}

/** One thing wrong with the docs. */
export interface DocProblem {
  file: string;
  block?: string;
  message: string;
}

/** `text` with every block of `file` rewritten from its records. */
function rewritten(text: string, file: string, blocks: readonly DocBlock[], root: string, problems: DocProblem[]): string {
  const placed = placedBlocks(text, file);
  const mine = blocks.filter((b) => b.files.includes(file));
  for (const p of placed) {
    if (!mine.some((b) => b.name === p.name)) problems.push({ file, block: p.name, message: `${file}: table:${p.name} has no entry in scripts/docs-tables.ts's BLOCKS` });
  }
  let out = '';
  let at = 0;
  for (const p of placed) {
    const block = mine.find((b) => b.name === p.name);
    if (!block) continue;
    let body: string;
    try {
      body = `\n${renderBlock(block, root)}\n`;
    } catch (err) {
      problems.push({ file, block: p.name, message: `${file}: table:${p.name} cannot be written: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (text.slice(p.start, p.end) !== body) {
      const was = text.slice(p.start, p.end).split('\n');
      const now = body.split('\n');
      const line = now.findIndex((l, i) => l !== was[i]);
      problems.push({
        file,
        block: p.name,
        message:
          `${file}: table:${p.name} differs from what its records give (${block.records.length > 3 ? `${block.records.length} records` : block.records.join(', ')}); ` +
          `first difference: ${JSON.stringify(was[line] ?? '(nothing)')} where the records give ${JSON.stringify(now[line] ?? '(nothing)')}`,
      });
    }
    out += text.slice(at, p.start) + body;
    at = p.end;
  }
  for (const b of mine) {
    if (!placed.some((p) => p.name === b.name)) problems.push({ file, block: b.name, message: `${file}: no <!-- table:${b.name} --> ... <!-- /table:${b.name} --> for the block written from ${b.records.join(', ')}` });
  }
  return out + text.slice(at);
}

function docFiles(blocks: readonly DocBlock[]): string[] {
  return [...new Set(blocks.flatMap((b) => b.files))];
}

/** Every way the docs differ from their records (empty when they agree). */
export function checkDocs(root: string = ROOT, blocks: readonly DocBlock[] = BLOCKS): DocProblem[] {
  const problems: DocProblem[] = [];
  for (const file of docFiles(blocks)) {
    try {
      rewritten(fs.readFileSync(path.join(root, file), 'utf8'), file, blocks, root, problems);
    } catch (err) {
      problems.push({ file, message: err instanceof Error ? err.message : String(err) });
    }
  }
  return problems;
}

/**
 * Rewrites every block from its records (files written atomically, only those that change);
 * returns the files changed. Throws, writing nothing, when markers are missing, unpaired or unknown.
 */
export async function writeDocs(root: string = ROOT, blocks: readonly DocBlock[] = BLOCKS): Promise<string[]> {
  const updates: Array<[string, string]> = [];
  const problems: DocProblem[] = [];
  for (const file of docFiles(blocks)) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const next = rewritten(text, file, blocks, root, problems);
    if (next !== text) updates.push([file, next]);
  }
  // A block that differs is what writing mends; anything else (markers, records) stops it.
  const fatal = problems.filter((p) => !/ differs from what its records give /.test(p.message));
  if (fatal.length > 0) throw new Error(fatal.map((p) => p.message).join('\n'));
  for (const [file, text] of updates) await writeFileAtomic(path.join(root, file), text);
  return updates.map(([file]) => file);
}

/**
 * {@link writeDocs}, saying on stderr which files it rewrote, as `who: ...`: what every script that
 * records a figure runs after writing its record (they import this module lazily, since it imports
 * their renderers).
 */
export async function rewriteDocs(who: string): Promise<string[]> {
  const changed = await writeDocs();
  process.stderr.write(changed.length ? `${who}: rewrote ${changed.join(', ')} from their records\n` : `${who}: every block of the docs already matches its records\n`);
  return changed;
}

async function main(argv: string[]): Promise<number> {
  const [mode, ...rest] = argv;
  if (rest.length > 0 || !['--check', '--write', '--list'].includes(mode ?? '')) {
    process.stderr.write('usage: node dist/scripts/docs-tables.js --check | --write | --list\n');
    return 2;
  }
  if (mode === '--list') {
    for (const b of BLOCKS) process.stdout.write(`${b.name}  in ${b.files.join(', ')}  from ${b.records.join(', ')}\n`);
    return 0;
  }
  if (mode === '--write') {
    await rewriteDocs('docs-tables');
    return 0;
  }
  const problems = checkDocs();
  for (const p of problems) process.stderr.write(`${p.message}\n`);
  if (problems.length === 0) process.stderr.write(`docs-tables: all ${BLOCKS.length} blocks match their records\n`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`docs-tables: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
