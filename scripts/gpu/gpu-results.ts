/**
 * The GPU runs' records in docs/results/gpu/ (what scripts/gpu/device-run.sh and
 * device-presets.sh brought back from the device tool's NVIDIA H200), and the docs' tables made
 * from them by scripts/docs-tables.ts. Nothing here runs anything.
 */
import type { TrainJobResult } from '../../lib/jobs/train-job';
import { PRESET_IDS, PresetId } from '../../lib/recipes';
import { formatDuration, formatNumber, formatPercent, markdownTable } from '../../lib/report';
import type { KernelSummary } from '../../lib/profiling/kernel-profile';
import { COMPARISON_COLUMNS, ComparisonRow, comparisonCells } from './plan';

/** Where the GPU records live, and the label of the GPU they ran on (deviceSlug of `nvidia-smi`'s name). */
export const GPU_DIR = 'docs/results/gpu';
export const GPU_LABEL = 'h200';

/** A record of the GPU run: `h200-summary.json`, `h200-webgpu-cnn-profile.json`, ... */
export const gpuRecord = (name: string): string => `${GPU_DIR}/${GPU_LABEL}-${name}.json`;
export const GPU_SUMMARY = gpuRecord('summary');
export const GPU_PROFILE = gpuRecord('webgpu-cnn-profile');
/** Every preset's full recipe on webgpu: two-layer-net and cnn from device-run.sh, the rest from device-presets.sh. */
export const GPU_PRESET_RECORDS: Readonly<Record<PresetId, string>> = Object.fromEntries(PRESET_IDS.map((id) => [id, gpuRecord(`webgpu-${id}`)])) as Record<PresetId, string>;
/** The records the GPU runs are compared with: each recipe on wasm, seed 1, and the cnn's 20,000 steps there. */
export interface WasmRecords {
  recipe: (id: PresetId) => string;
  cnn20k: string;
}

/** The parts of `h200-summary.json` (gpu-run.ts's summary) the docs read. */
export interface GpuSummary {
  date: string;
  device: string;
  versions: {
    node: string;
    tfjs: string;
    'tfjs-backend-webgpu': string;
    'webgpu (dawn.node)': string;
    nvidiaDriver?: string;
    vulkanLoader?: string;
    torch?: { torch: string; cuda: string; cudnn: number; tf32?: boolean };
  };
  table: ComparisonRow[];
  seconds: number;
}

/** The parts of `h200-webgpu-cnn-profile.json` the docs read. */
export interface GpuProfile {
  model: string;
  batchSize: number;
  steps: number;
  timestampQuery: boolean;
  profiledKernelMs: number;
  programsPerStep: number;
  dispatchesPerStep: number;
  kernelCallsPerStep: number;
  kernels: KernelSummary[];
}

type Read = <T = unknown>(file: string) => T;

const pct = (fraction: number): string => formatPercent(fraction, 2);
const points = (a: number, b: number): string => `${(a - b) * 100 >= 0 ? '+' : ''}${((a - b) * 100).toFixed(2)} pp`;
const cudnn = (v: number): string => `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`;

function row(s: GpuSummary, framework: 'webgpu' | 'torch', recipe: string): ComparisonRow {
  const r = s.table.find((x) => x.recipe === recipe && (framework === 'webgpu' ? x.framework.startsWith('tf.js') : x.framework.startsWith('PyTorch')));
  if (!r) throw new Error(`${GPU_SUMMARY}: no ${framework} row for ${recipe} in its table`);
  return r;
}

/** tf.js WebGPU against PyTorch CUDA on the same GPU: the summary's table, the epoch ratios, the versions. */
export function gpuComparison(read: Read): string {
  const s = read<GpuSummary>(GPU_SUMMARY);
  const v = s.versions;
  const recipes = [...new Set(s.table.map((r) => r.recipe))];
  const ratios = recipes.map((recipe) => {
    const w = row(s, 'webgpu', recipe);
    const t = row(s, 'torch', recipe);
    return `${recipe} ${(w.epochSeconds! / t.epochSeconds!).toFixed(2)}x`;
  });
  const torch = v.torch ? `PyTorch ${v.torch.torch} (CUDA ${v.torch.cuda}, cuDNN ${cudnn(v.torch.cudnn)}${v.torch.tf32 === false ? ', TF32 off' : ''})` : 'PyTorch';
  return [
    markdownTable([...COMPARISON_COLUMNS], comparisonCells(s.table), ['l', 'l', 'r', 'r', 'r', 'r', 'r']),
    '',
    `${s.device}, driver ${v.nvidiaDriver ?? '?'}, ${s.date.slice(0, 10)}, seed 1, each recipe's own batch. tf.js ${v.tfjs} with tfjs-backend-webgpu ${v['tfjs-backend-webgpu']} on Dawn (npm \`webgpu\` ${v['webgpu (dawn.node)']}, Vulkan loader ${v.vulkanLoader ?? '?'}), Node ${v.node}; ${torch}.`,
    `Epoch time (60,000 images at the measured rate) of tf.js WebGPU against PyTorch CUDA: ${ratios.join(', ')}.`,
    `The whole command took ${Math.round(s.seconds)} s.`,
  ].join('\n');
}

/** Every preset's recipe on the GPU's WebGPU beside the same recipe and seed on wasm. */
export function gpuPresets(read: Read, wasm: WasmRecords): string {
  const rows = PRESET_IDS.map((id) => {
    const g = read<TrainJobResult>(GPU_PRESET_RECORDS[id]);
    const w = read<TrainJobResult>(wasm.recipe(id));
    const length = g.steps === w.steps ? `${formatNumber(g.steps)} (whole recipe)` : `${formatNumber(g.steps)} of ${formatNumber(w.steps)} (${g.stopped})`;
    return [`\`${id}\``, length, pct(g.testAccuracy), pct(w.testAccuracy), g.steps === w.steps ? points(g.testAccuracy, w.testAccuracy) : '-', formatNumber(g.samplesPerSec), formatNumber(w.samplesPerSec), `${g.seconds.toFixed(1)} s`];
  });
  const wasm20k = read<TrainJobResult>(wasm.cnn20k);
  const s = read<GpuSummary>(GPU_SUMMARY);
  const long = row(s, 'webgpu', 'cnn (long)');
  return [
    markdownTable(
      ['preset', 'steps on the GPU', 'test acc, webgpu (H200)', 'test acc, wasm', 'difference', 'train samples/s, webgpu', 'train samples/s, wasm', 'wall time, webgpu'],
      rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `The cnn's 20,000 steps (the TF tutorial's length): ${pct(long.testAccuracy!)} on webgpu in ${Math.round(long.seconds!)} s, against ${pct(wasm20k.testAccuracy)} on wasm (${formatDuration(wasm20k.seconds)} on this project's 2 vCPUs).`,
  ].join('\n');
}

/** One sentence for README: which presets the GPU speeds up against wasm, and which it slows down. */
export function gpuVersusWasm(read: Read, wasm: WasmRecords): string {
  const ratios = PRESET_IDS.map((id) => ({ id, x: read<TrainJobResult>(GPU_PRESET_RECORDS[id]).samplesPerSec / read<TrainJobResult>(wasm.recipe(id)).samplesPerSec }));
  const list = (xs: typeof ratios): string => xs.sort((a, b) => b.x - a.x).map((r) => `${r.id} ${r.x >= 10 ? r.x.toFixed(0) : r.x.toFixed(1)}x`).join(', ');
  const faster = ratios.filter((r) => r.x >= 1.1);
  const slower = ratios.filter((r) => r.x < 0.9);
  const even = ratios.filter((r) => r.x >= 0.9 && r.x < 1.1);
  return [
    `Training samples/s on the H200's WebGPU against wasm on this project's 2 vCPUs: ${list(faster)} faster${even.length ? `; ${list(even)} about even` : ''}; ${list(slower)}, so slower:`,
    'a step of these small nets is little arithmetic, and on the GPU it costs its dispatches\' latency and the host\'s work around them',
    '([docs/RESULTS.md](docs/RESULTS.md#every-preset-on-the-h200)).',
  ].join(' ');
}

/**
 * The cnn step's kernels on the GPU, by GPU time (timestamp queries), per training step, beside the
 * step's wall time in the summary's 1,000-step run: their difference is the host's share.
 */
export function gpuProfile(read: Read, top = 10): string {
  const p = read<GpuProfile>(GPU_PROFILE);
  if (!p.timestampQuery) throw new Error(`${GPU_PROFILE}: recorded without timestamp queries, so it has no kernel times`);
  const run = row(read<GpuSummary>(GPU_SUMMARY), 'webgpu', p.model);
  const stepMs = (p.batchSize / run.samplesPerSec!) * 1000;
  const perStep = (x: number): number => x / p.steps;
  const rows = p.kernels
    .filter((k) => k.totalMs > 0)
    .slice(0, top)
    .map((k) => [`\`${k.kernel}\``, formatNumber(perStep(k.calls), 1), formatNumber(perStep(k.dispatches), 1), perStep(k.totalMs).toFixed(3), formatPercent(k.share, 0), k.programs.join(', ')]);
  return [
    markdownTable(['kernel', 'calls per step', 'GPU programs per step', 'GPU ms per step', 'share', 'programs'], rows, ['l', 'r', 'r', 'r', 'r', 'l']),
    '',
    `${p.model}, batch ${p.batchSize}, ${p.steps} profiled steps: ${perStep(p.profiledKernelMs).toFixed(2)} ms of GPU kernel time per step (each kernel timed in its own compute pass, so`,
    `if anything more than unprofiled), ${formatNumber(p.programsPerStep, 1)} kernel calls running a GPU program and ${formatNumber(p.dispatchesPerStep, 1)} programs dispatched. The`,
    `${formatNumber(run.steps!)}-step run trained at ${formatNumber(run.samplesPerSec!)} samples/s, ${stepMs.toFixed(2)} ms per step: ${formatPercent(perStep(p.profiledKernelMs) / stepMs, 0)} of the step is GPU kernel time; the rest is spent outside the`,
    `kernels (the host's JavaScript, encoding and submitting the work, gaps between submissions).`,
  ].join('\n');
}
