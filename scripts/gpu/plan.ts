/**
 * The GPU command's plan, without I/O: which steps run in which order, how one device command's
 * time is shared between them, the command lines they get, what their output files are called,
 * which Vulkan driver manifests to try, and how a kernel profile and two runs are summarised.
 * gpu-run.ts does the I/O; this file is what the tests check.
 */
import { InvalidArgumentError } from '../../lib/errors';

/** One device command may run 600 s; unpacking Node, the bundle and the Vulkan packages, and the final tar, take the rest. @default 540 */
export const DEFAULT_BUDGET_SECONDS = 540;
/** two-layer-net's recipe (sources 003/004): 10,000 iterations. @default 10000 */
export const TWO_LAYER_NET_STEPS = 10_000;
/** The cnn preset's recipe: the TensorFlow tutorial's 1,000 logged steps. @default 1000 */
export const CNN_STEPS = 1_000;
/** The TensorFlow tutorial's full cnn run (about 99.2% test accuracy). @default 20000 */
export const CNN_LONG_STEPS = 20_000;
/** cnn training steps recorded under tf.profile (after the warm-up). @default 5 */
export const PROFILE_STEPS = 5;
/** cnn steps run before profiling, so shader compilation is not in the profile. @default 3 */
export const PROFILE_WARMUP_STEPS = 3;
/** After a step's time is up it gets SIGINT (train saves, evaluates and prints its JSON); this long later, SIGKILL. @default 45 */
export const GRACE_SECONDS = 45;
/** The most files the device tool brings back from $OUT. @default 8 */
export const MAX_OUTPUT_FILES = 8;
/** The largest file the device tool brings back. @default 16 MiB */
export const MAX_OUTPUT_FILE_BYTES = 16 * 1024 * 1024;
/** What may travel to the device machine: tracked and untracked-not-ignored files plus carried paths. @default 64 MiB */
export const MAX_TRAVEL_BYTES = 64 * 1024 * 1024;
/** A step is skipped rather than started with less time than this. @default 10 */
export const MIN_STEP_SECONDS = 10;

export type StepId =
  | 'probe'
  | 'doctor'
  | 'webgpu-two-layer-net'
  | 'webgpu-cnn'
  | 'reference-two-layer-net'
  | 'reference-cnn'
  | 'torch-two-layer-net'
  | 'torch-cnn'
  | 'webgpu-cnn-profile'
  | 'torch-cnn-long'
  | 'webgpu-cnn-long';

export type StepKind = 'probe' | 'doctor' | 'train' | 'profile' | 'torch';
export type RecipeId = 'two-layer-net' | 'cnn';

/** One step of the GPU command. */
export interface StepSpec {
  id: StepId;
  kind: StepKind;
  model?: RecipeId;
  steps?: number;
  /** The tf.js backend a training step runs on. @default 'webgpu' */
  backend?: string;
  /** The most seconds this step may run before SIGINT; Infinity: what is left of the budget. */
  capSeconds: number;
  /** Seconds held back for this step while the steps before it run. */
  reserveSeconds: number;
  /** Gets a --max-seconds from its allotment: a run toward a long recipe, cut by the budget. */
  timeBounded: boolean;
  /** Trains with --save, so a cut run leaves a checkpoint. */
  checkpoint: boolean;
  /** Where its stdout JSON goes in the output folder: the key of {@link outputFileNames}. */
  output: OutputKey;
}

/** Step counts the command uses; the defaults are the recipes'. */
export interface PlanSteps {
  /** @default {@link TWO_LAYER_NET_STEPS} */
  twoLayerNet: number;
  /** @default {@link CNN_STEPS} */
  cnn: number;
  /** @default {@link CNN_LONG_STEPS} */
  cnnLong: number;
  /** @default {@link PROFILE_STEPS} */
  profile: number;
}

export const DEFAULT_PLAN_STEPS: PlanSteps = {
  twoLayerNet: TWO_LAYER_NET_STEPS,
  cnn: CNN_STEPS,
  cnnLong: CNN_LONG_STEPS,
  profile: PROFILE_STEPS,
};

/** The output folder's files: at most {@link MAX_OUTPUT_FILES}, each named for what it holds. */
export type OutputKey = 'summary' | 'doctor' | 'webgpu-two-layer-net' | 'webgpu-cnn' | 'webgpu-cnn-long' | 'webgpu-cnn-profile' | 'torch' | 'logs';

/**
 * The steps in the order they run: first what the comparison table needs (probe, doctor, both
 * recipes on webgpu and on torch), then the profile, then the long runs, the webgpu one last
 * because it takes whatever time is left. With a `referenceBackend` (wasm), each short webgpu
 * run is followed by the same run on it, for a correctness comparison; its JSON goes into the logs.
 * `timeScale` multiplies every cap and reserve: the defaults are sized for a data-centre GPU, and a
 * rehearsal on a software adapter needs several times longer for the same few steps.
 */
export function planSteps(steps: PlanSteps = DEFAULT_PLAN_STEPS, referenceBackend?: string, timeScale = 1): StepSpec[] {
  const s = (id: StepId, kind: StepKind, capSeconds: number, reserveSeconds: number, output: OutputKey, extra: Partial<StepSpec> = {}): StepSpec => ({
    id,
    kind,
    capSeconds: capSeconds * timeScale,
    reserveSeconds: reserveSeconds * timeScale,
    timeBounded: false,
    checkpoint: false,
    output,
    ...extra,
  });
  const reference = (id: StepId, model: RecipeId, n: number): StepSpec[] =>
    referenceBackend ? [s(id, 'train', 300, 60, 'logs', { model, steps: n, backend: referenceBackend })] : [];
  return [
    s('probe', 'probe', 120, 30, 'summary'),
    s('doctor', 'doctor', 60, 20, 'doctor'),
    s('webgpu-two-layer-net', 'train', 150, 60, 'webgpu-two-layer-net', { model: 'two-layer-net', steps: steps.twoLayerNet }),
    ...reference('reference-two-layer-net', 'two-layer-net', steps.twoLayerNet),
    s('webgpu-cnn', 'train', 150, 60, 'webgpu-cnn', { model: 'cnn', steps: steps.cnn }),
    ...reference('reference-cnn', 'cnn', steps.cnn),
    s('torch-two-layer-net', 'torch', 90, 30, 'torch', { model: 'two-layer-net', steps: steps.twoLayerNet }),
    s('torch-cnn', 'torch', 90, 30, 'torch', { model: 'cnn', steps: steps.cnn }),
    s('webgpu-cnn-profile', 'profile', 90, 30, 'webgpu-cnn-profile', { model: 'cnn', steps: steps.profile }),
    s('torch-cnn-long', 'torch', 150, 60, 'torch', { model: 'cnn', steps: steps.cnnLong, timeBounded: true }),
    s('webgpu-cnn-long', 'train', Infinity, 90, 'webgpu-cnn-long', { model: 'cnn', steps: steps.cnnLong, timeBounded: true, checkpoint: true }),
  ];
}

/** The step ids, for `--only` and `--skip`. */
export const STEP_IDS: readonly StepId[] = planSteps(DEFAULT_PLAN_STEPS, 'wasm').map((s) => s.id);

/** Keeps the steps named in `only` (all when undefined) minus those in `skip`; the probe always runs. */
export function selectSteps(all: StepSpec[], only?: readonly string[], skip: readonly string[] = []): StepSpec[] {
  for (const [flag, ids] of [['--only', only ?? []], ['--skip', skip]] as const) {
    const unknown = ids.filter((id) => !STEP_IDS.includes(id as StepId));
    if (unknown.length > 0) throw new InvalidArgumentError(flag, `unknown step ${unknown.join(', ')}; steps: ${STEP_IDS.join(', ')}`);
  }
  return all.filter((s) => s.id === 'probe' || ((only === undefined || only.includes(s.id)) && !skip.includes(s.id)));
}

/** How long one step may run, and the --max-seconds a time-bounded run gets. */
export interface Allotment {
  /** Seconds until SIGINT. */
  timeoutSeconds: number;
  /** For time-bounded runs: the training-time budget passed to the run. */
  maxSeconds?: number;
}

/**
 * Shares what is left of the budget: a step may use up to its cap, but never the time held back
 * for the steps after it, nor the grace period it may need after SIGINT. Undefined when less than
 * {@link MIN_STEP_SECONDS} would be left for it (the step is skipped, and says so).
 *
 * A time-bounded run's --max-seconds counts training alone; data loading, backend start, shader
 * compilation, evaluations and the final test pass come on top, so it gets 20 s plus 15% less.
 */
export function allot(step: StepSpec, remainingSeconds: number, laterReserveSeconds: number, graceSeconds = GRACE_SECONDS): Allotment | undefined {
  const available = remainingSeconds - laterReserveSeconds - graceSeconds;
  const timeoutSeconds = Math.floor(Math.min(step.capSeconds, available));
  if (!(timeoutSeconds >= MIN_STEP_SECONDS)) return undefined;
  if (!step.timeBounded) return { timeoutSeconds };
  const maxSeconds = Math.floor(timeoutSeconds - 20 - 0.15 * timeoutSeconds);
  return maxSeconds >= 1 ? { timeoutSeconds, maxSeconds } : undefined;
}

/** The reserve of every step after index `i`. */
export function laterReserve(steps: StepSpec[], i: number): number {
  return steps.slice(i + 1).reduce((sum, s) => sum + s.reserveSeconds, 0);
}

/** Options every training command line shares. */
export interface RunSettings {
  seed: number;
  dataDir: string;
  /** Use only the first N training (and test) examples: for rehearsals on a software adapter. */
  limit?: number;
  /** Examples per step instead of the recipe's: for rehearsals on a software adapter only. */
  batchSize?: number;
}

/** `mnist-nets train` arguments for a webgpu (or reference) run of a step. */
export function trainArgs(step: StepSpec, settings: RunSettings, backend: string, allotment: Allotment, saveDir?: string): string[] {
  if (step.kind !== 'train' || !step.model || step.steps === undefined) throw new Error(`step ${step.id} is not a training step`);
  const args = ['train', '--model', step.model, '--steps', String(step.steps), '--seed', String(settings.seed), '--backend', backend, '--data-dir', settings.dataDir, '--json'];
  if (allotment.maxSeconds !== undefined) args.push('--max-seconds', String(allotment.maxSeconds));
  if (settings.limit !== undefined) args.push('--limit', String(settings.limit));
  if (settings.batchSize !== undefined) args.push('--batch-size', String(settings.batchSize));
  if (saveDir !== undefined) args.push('--save', saveDir);
  return args;
}

/** The PyTorch peer's arguments (scripts/peers/torch_recipes.py) for a torch step. */
export function torchArgs(step: StepSpec, settings: RunSettings, device: string, allotment: Allotment): string[] {
  if (step.kind !== 'torch' || !step.model || step.steps === undefined) throw new Error(`step ${step.id} is not a torch step`);
  const args = ['--recipe', step.model, '--device', device, '--steps', String(step.steps), '--seed', String(settings.seed), '--data-dir', settings.dataDir, '--json'];
  if (allotment.maxSeconds !== undefined) args.push('--max-seconds', String(allotment.maxSeconds));
  if (settings.limit !== undefined) args.push('--limit', String(settings.limit));
  return args;
}

/**
 * A short lower-case name for a device, for file names: the model number of a GPU
 * (`NVIDIA H100 80GB HBM3` -> `h100`), else the first word that is not a vendor
 * (`llvmpipe-llvm-15-0-6-256-bits-` -> `llvmpipe`).
 */
export function deviceSlug(name: string): string {
  const lower = name.toLowerCase();
  const model = /\b((?:gh|[ahlvbt])\d{2,3}[a-z]?|rtx[ -]?\w*\d{4}\w*|mi\d{3}\w*)\b/.exec(lower);
  if (model) return model[1].replace(/[^a-z0-9]+/g, '');
  const word = lower
    .split(/[^a-z0-9]+/)
    .find((w) => w.length > 1 && !['nvidia', 'amd', 'intel', 'mesa', 'corporation', 'geforce', 'tesla'].includes(w));
  return word ?? 'device';
}

/** The output folder's file names for a device label and the torch device. */
export function outputFileNames(label: string, torchDevice: string): Record<OutputKey, string> {
  return {
    summary: `${label}-summary.json`,
    doctor: `${label}-doctor.json`,
    'webgpu-two-layer-net': `${label}-webgpu-two-layer-net.json`,
    'webgpu-cnn': `${label}-webgpu-cnn.json`,
    'webgpu-cnn-long': `${label}-webgpu-cnn-long.json`,
    'webgpu-cnn-profile': `${label}-webgpu-cnn-profile.json`,
    torch: `${label}-torch-${torchDevice}.json`,
    logs: `${label}-logs.tar.gz`,
  };
}

/** A Vulkan driver manifest (ICD JSON): the library it names and the Vulkan version it claims. */
export interface IcdManifest {
  file: string;
  libraryPath: string;
  apiVersion?: string;
}

/** Reads an ICD JSON's `ICD.library_path` and `ICD.api_version`; undefined when it is not one. */
export function parseIcdManifest(file: string, text: string): IcdManifest | undefined {
  try {
    const json = JSON.parse(text) as { ICD?: { library_path?: unknown; api_version?: unknown } };
    const lib = json.ICD?.library_path;
    if (typeof lib !== 'string' || lib === '') return undefined;
    const api = json.ICD?.api_version;
    return { file, libraryPath: lib, ...(typeof api === 'string' ? { apiVersion: api } : {}) };
  } catch {
    return undefined;
  }
}

/** Folders where Vulkan loaders look for driver manifests, plus where the device machine keeps NVIDIA's. */
export const ICD_DIRS: readonly string[] = [
  '/etc/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/local/nvidia/share/vulkan/icd.d',
  '/usr/local/nvidia/icd.d',
];

/** The environment one probe attempt adds, and why it is tried. */
export interface VulkanCandidate {
  name: string;
  env: Record<string, string>;
  /** A manifest to write before the attempt (the EGL variant of NVIDIA's). */
  write?: { file: string; text: string };
}

/**
 * The driver setups to try, best first. A VK_DRIVER_FILES / VK_ICD_FILENAMES the user set is the
 * only one tried. Otherwise: the loader's own search; then each NVIDIA manifest named explicitly
 * (the device machine keeps them under /usr/local/nvidia, where the loader does not look), with
 * NVIDIA's EGL vendor file; then, for a manifest naming the GLX library, the same driver through
 * libEGL_nvidia.so.0, which headless machines sometimes need to create a Vulkan instance; then
 * any other manifest found (lavapipe in a rehearsal).
 */
export function vulkanCandidates(
  manifests: IcdManifest[],
  userEnv: Record<string, string | undefined>,
  options: { workDir: string; eglVendorFile?: string },
): VulkanCandidate[] {
  for (const key of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES'] as const) {
    const v = userEnv[key];
    if (v) return [{ name: `${key} as given (${v})`, env: {} }];
  }
  const out: VulkanCandidate[] = [{ name: 'the Vulkan loader\'s own search', env: {} }];
  const egl: Record<string, string> = options.eglVendorFile ? { __EGL_VENDOR_LIBRARY_FILENAMES: options.eglVendorFile } : {};
  const isNvidia = (m: IcdManifest) => /nvidia/i.test(m.libraryPath) || /nvidia/i.test(m.file);
  const nvidia = manifests.filter(isNvidia);
  for (const m of nvidia) out.push({ name: `NVIDIA manifest ${m.file} (${m.libraryPath})`, env: { VK_DRIVER_FILES: m.file, ...egl } });
  for (const [i, m] of nvidia.entries()) {
    if (!/libGLX_nvidia/.test(m.libraryPath)) continue;
    const file = `${options.workDir}/nvidia_icd_egl_${i}.json`;
    const text = JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: m.libraryPath.replace('libGLX_nvidia', 'libEGL_nvidia'), api_version: m.apiVersion ?? '1.3' } }, null, 2);
    out.push({ name: `NVIDIA through EGL (${m.file} with libEGL_nvidia)`, env: { VK_DRIVER_FILES: file, ...egl }, write: { file, text } });
  }
  for (const m of manifests.filter((x) => !isNvidia(x))) out.push({ name: `manifest ${m.file} (${m.libraryPath})`, env: { VK_DRIVER_FILES: m.file } });
  return out;
}

/**
 * The shared objects a process has mapped whose path matches `pattern`, from /proc/self/maps:
 * which Vulkan loader and driver the probe really loaded, not which ones it might have.
 */
export function mappedLibraries(maps: string, pattern: RegExp): string[] {
  const found = new Set<string>();
  for (const line of maps.split('\n')) {
    const file = line.trim().split(/\s+/).slice(5).join(' ');
    if (file.startsWith('/') && pattern.test(file)) found.add(file);
  }
  return [...found];
}

/** `libvulkan.so.1.3.239` -> `1.3.239`. */
export function soVersion(file: string): string | undefined {
  return /\.so\.(\d+(?:\.\d+)*)$/.exec(file)?.[1];
}

// The profile's summary lives in the library, where the browser demo counts GPU programs too.
export { summarizeKernels } from '../../lib/profiling/kernel-profile';
export type { KernelSummary, ProfiledKernel } from '../../lib/profiling/kernel-profile';

/** The numbers of one training run that the comparison table needs, from either side's JSON. */
export interface RunNumbers {
  steps?: number;
  samplesPerSec?: number;
  /** Seconds one pass over the 60,000 training images takes at that rate. */
  epochSeconds?: number;
  testAccuracy?: number;
  finalLoss?: number;
  seconds?: number;
  /** `completed`, `time-limit` (the run's --max-seconds) or `aborted`. */
  stopped?: string;
}

const TRAIN_EXAMPLES = 60_000;

function num(o: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

/**
 * Reads a run's numbers from `mnist-nets train --json` or the PyTorch peer's JSON
 * (scripts/peers/torch_recipes.py: snake_case, inside `results`). The epoch time is 60,000
 * images at the measured rate on both sides, else the one given.
 */
export function runNumbers(json: unknown): RunNumbers {
  if (!json || typeof json !== 'object') return {};
  // The peer wraps its runs: {environment, data, results: [run]}; one recipe per call here.
  const results = (json as { results?: unknown }).results;
  if (Array.isArray(results) && results.length === 1) return runNumbers(results[0]);
  const o = json as Record<string, unknown>;
  const history = (o.history ?? {}) as { loss?: unknown };
  const losses = Array.isArray(history.loss) ? (history.loss as unknown[]).filter((x): x is number => typeof x === 'number') : [];
  const samplesPerSec = num(o, 'samplesPerSec', 'samples_per_sec', 'train_samples_per_sec');
  // One definition for both sides (the peer divides its own, possibly --limit-ed, split size).
  const epochSeconds = samplesPerSec ? TRAIN_EXAMPLES / samplesPerSec : num(o, 'epochSeconds', 'seconds_per_epoch');
  const finalLoss = num(o, 'finalLoss', 'final_loss') ?? (losses.length > 0 ? losses[losses.length - 1] : undefined);
  const out: RunNumbers = {
    steps: num(o, 'steps'),
    samplesPerSec,
    epochSeconds,
    testAccuracy: num(o, 'testAccuracy', 'test_accuracy'),
    finalLoss,
    seconds: num(o, 'seconds', 'wall_seconds'),
    stopped: typeof o.stopped === 'string' ? o.stopped : undefined,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as RunNumbers;
}

/** A row of the comparison table: which framework ran which recipe, and its numbers. */
export interface ComparisonRow extends RunNumbers {
  framework: string;
  recipe: string;
}

/** The comparison table's columns, as the console and the docs show them. */
export const COMPARISON_COLUMNS = ['framework', 'recipe', 'steps', 'samples/s', 'epoch s', 'test acc %', 'final loss'] as const;

/** The comparison table's cells, one line per row (gpu-run's console and docs/RESULTS.md both print these). */
export function comparisonCells(rows: readonly ComparisonRow[]): string[][] {
  const f = (v: number | undefined, digits: number, scale = 1) => (v === undefined ? '-' : (v * scale).toFixed(digits));
  return rows.map((r) => [r.framework, r.recipe, f(r.steps, 0), f(r.samplesPerSec, 0), f(r.epochSeconds, 1), f(r.testAccuracy, 2, 100), f(r.finalLoss, 4)]);
}

/** How far a run on one backend is from the same seeded run on another. */
export interface RunComparison {
  /** Steps each run trained. */
  steps: { run: number; reference: number };
  /** Both trained the same number of steps, so their accuracies are comparable. */
  sameSteps: boolean;
  /** Steps whose losses both recorded (the loss difference is over these). */
  lossSteps: number;
  testAccuracy: { run: number; reference: number; differencePoints: number };
  /** Largest |loss difference| over the steps both recorded. */
  maxLossDifference: number;
  /** Mean loss of the first and last tenth of the steps, for both: the loss fell on both? */
  lossFell: { run: boolean; reference: boolean };
}

/** Compares two `train --json` results of the same recipe and seed. */
export function compareRuns(
  run: { steps: number; testAccuracy: number; history: { loss: number[] } },
  reference: { steps: number; testAccuracy: number; history: { loss: number[] } },
): RunComparison {
  const a = run.history.loss;
  const b = reference.history.loss;
  const n = Math.min(a.length, b.length);
  let maxLossDifference = 0;
  for (let i = 0; i < n; i++) maxLossDifference = Math.max(maxLossDifference, Math.abs(a[i] - b[i]));
  const fell = (l: number[]) => {
    const w = Math.max(1, Math.floor(l.length / 10));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    return l.length >= 2 && mean(l.slice(-w)) < mean(l.slice(0, w));
  };
  return {
    steps: { run: run.steps, reference: reference.steps },
    sameSteps: run.steps === reference.steps,
    lossSteps: n,
    testAccuracy: { run: run.testAccuracy, reference: reference.testAccuracy, differencePoints: (run.testAccuracy - reference.testAccuracy) * 100 },
    maxLossDifference,
    lossFell: { run: fell(a), reference: fell(b) },
  };
}

/** Files and sizes of what travels: the repository's files plus carried folders. */
export function travelTotal(files: Array<{ path: string; bytes: number }>): { bytes: number; fits: boolean; largest: Array<{ path: string; bytes: number }> } {
  const bytes = files.reduce((s, f) => s + f.bytes, 0);
  const largest = [...files].sort((x, y) => y.bytes - x.bytes).slice(0, 8);
  return { bytes, fits: bytes < MAX_TRAVEL_BYTES, largest };
}

/** What the device tool would refuse to bring back from an output folder. */
export function outputProblems(files: Array<{ name: string; bytes: number }>): string[] {
  const problems: string[] = [];
  if (files.length > MAX_OUTPUT_FILES) problems.push(`${files.length} files, more than the ${MAX_OUTPUT_FILES} that come back`);
  for (const f of files) {
    if (f.bytes > MAX_OUTPUT_FILE_BYTES) problems.push(`${f.name} is ${(f.bytes / 2 ** 20).toFixed(1)} MiB, over 16 MiB`);
    if (!/^[A-Za-z0-9._-]+$/.test(f.name)) problems.push(`${f.name}: only letters, digits, '.', '_' and '-' come back`);
  }
  return problems;
}
