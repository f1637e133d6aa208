/**
 * The one command for a GPU machine (docs/GPU.md, "The prepared GPU command"). From the offline
 * bundle it: unpacks the carried Vulkan packages, probes WebGPU cheaply (loader, driver manifest,
 * adapter, a 2x2 product) and stops with a clear message when that fails, prints `doctor --json`,
 * trains two-layer-net (10,000 steps) and cnn (1,000 steps) on webgpu, runs the PyTorch peer on
 * the same recipes, profiles a few cnn steps per kernel, then runs cnn toward the tutorial's 20,000
 * steps (torch, then webgpu with checkpoints) for what is left of the time budget. Every step has a
 * time limit; every JSON and log lands in one output folder as at most 8 files.
 *
 *   node gpu-run.cjs run --out DIR [--gl DIR] [--torch-device cuda] ...   (the orchestrator)
 *   node gpu-run.cjs probe                                                  (one WebGPU probe, JSON)
 *   node gpu-run.cjs profile [--steps N] ...                                (tf.profile of cnn steps, JSON)
 *
 * `scripts/gpu/device-run.sh` unpacks Node and the bundle and calls `run`; the bundle holds this
 * file as gpu-run.cjs next to mnist-nets.cjs (scripts/gpu/prepare.ts builds it).
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { writeFileAtomic } from '../../lib/atomic-write';
import { queryNvidiaSmi, visibleSharedLibraries } from '../../lib/backends/native';
import { PROBE_CACHE_ENV } from '../../lib/backends/dawn-probe';
import { activateWebGPU, dawnPackageVersion, probeWebGPU, webgpuBackendVersion, DAWN_OPTIONS_ENV, ALLOW_SOFTWARE_ENV } from '../../lib/backends/webgpu';
import { checkInt, checkOneOf, checkPositiveNumber, checkSeed } from '../../lib/checks';
import { FileError, InvalidArgumentError, errorMessage } from '../../lib/errors';
import { loadPresetData } from '../../lib/jobs/train-job';
import { getPreset, recipeOptions } from '../../lib/recipes';
import { bundleDir } from '../../lib/runtime';
import { train } from '../../lib/training/train';
import { profileSteps } from '../../lib/profiling/kernel-profile';
import { exitCodeFor, formatError } from '../../lib/cli/output';
import {
  Allotment,
  DEFAULT_BUDGET_SECONDS,
  DEFAULT_PLAN_STEPS,
  GRACE_SECONDS,
  COMPARISON_COLUMNS,
  ComparisonRow,
  ICD_DIRS,
  IcdManifest,
  OutputKey,
  PROFILE_WARMUP_STEPS,
  RunSettings,
  StepSpec,
  VulkanCandidate,
  allot,
  compareRuns,
  comparisonCells,
  deviceSlug,
  laterReserve,
  mappedLibraries,
  outputFileNames,
  outputProblems,
  parseIcdManifest,
  planSteps,
  runNumbers,
  selectSteps,
  soVersion,
  torchArgs,
  trainArgs,
  vulkanCandidates,
} from './plan';

/** Seconds one probe attempt may take (Dawn's instance, the device, one tiny shader). @default 60 */
export const PROBE_ATTEMPT_SECONDS = 60;
/** Where the PyTorch peer lives, relative to the repository root the command runs in. */
export const DEFAULT_PEER = 'scripts/peers/torch_recipes.py';
/** Where the device machine's NVIDIA driver libraries live (a read-only mount, not in ld.so.conf everywhere). */
const NVIDIA_LIBRARY_DIRS = ['/usr/local/nvidia/lib64', '/usr/local/nvidia/lib'];
/** Loader and driver libraries worth naming in the probe's report. */
const VULKAN_LIBRARIES = /libvulkan|_icd|nvidia|lvp|swiftshader|libEGL|libGLX/i;

// ---------------------------------------------------------------------------------------------
// Children: the CLI, this script's probe/profile, the PyTorch peer.

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  /** Got SIGINT at its time limit. */
  timedOut: boolean;
  /** Still running GRACE_SECONDS after that, and got SIGKILL. */
  killed: boolean;
  stdout: string;
}

/** How this script and the CLI are started: from the bundle, or from the tsc output. */
function launchers(): { cli: string[]; self: string[] } {
  const here = bundleDir();
  const self = [process.execPath, process.argv[1]];
  if (here !== undefined) return { cli: [process.execPath, path.join(here, 'mnist-nets.cjs')], self };
  return { cli: [process.execPath, path.resolve(__dirname, '../../lib/cli/main.js')], self };
}

/**
 * Runs a command with a time limit: SIGINT when it is up (`train` then stops after its step,
 * saves, evaluates and prints its JSON), SIGKILL `graceSeconds` later. stdout is kept; stderr goes
 * to `logFile`.
 */
function runChild(command: string[], options: { env: NodeJS.ProcessEnv; timeoutSeconds: number; logFile: string; graceSeconds?: number; cwd?: string }): Promise<ChildResult> {
  const grace = options.graceSeconds ?? GRACE_SECONDS;
  return new Promise((resolve) => {
    const log = fs.createWriteStream(options.logFile, { flags: 'a' });
    log.write(`$ ${command.map((c) => (/[\s']/.test(c) ? `'${c}'` : c)).join(' ')}\n`);
    const started = performance.now();
    const chunks: Buffer[] = [];
    let timedOut = false;
    let killed = false;
    const child = spawn(command[0], command.slice(1), { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.pipe(log, { end: false });
    const sigint = setTimeout(() => {
      timedOut = true;
      log.write(`\n[gpu-run] time limit of ${options.timeoutSeconds} s reached: SIGINT\n`);
      child.kill('SIGINT');
    }, options.timeoutSeconds * 1000);
    const sigkill = setTimeout(() => {
      killed = true;
      log.write(`\n[gpu-run] still running ${grace} s after SIGINT: SIGKILL\n`);
      child.kill('SIGKILL');
    }, (options.timeoutSeconds + grace) * 1000);
    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      clearTimeout(sigint);
      clearTimeout(sigkill);
      if (error) log.write(`[gpu-run] could not start: ${error.message}\n`);
      log.end(() =>
        resolve({ code, signal, seconds: (performance.now() - started) / 1000, timedOut, killed, stdout: Buffer.concat(chunks).toString('utf8') }),
      );
    };
    child.on('error', (err) => finish(127, null, err));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The last lines of a log, for a failure message. */
function tail(file: string, lines = 6): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// Vulkan: the carried packages, the driver manifests, the environment each attempt gets.

interface VulkanSetup {
  root: string;
  debs: string[];
  /** Why the packages were not unpacked. */
  skipped?: string;
  ldconfig?: string;
  libraryDirs: string[];
  manifests: IcdManifest[];
}

/**
 * Unpacks the carried .debs (Debian's Vulkan loader and GL dispatch libraries) into `root`:
 * `/` on the device machine, followed by ldconfig, as its README says, but only where no Vulkan
 * loader is installed (the packages are older than a system's own would be); a private folder in
 * a rehearsal, whose library folders then go on LD_LIBRARY_PATH.
 */
function setUpVulkan(glDir: string | undefined, root: string, workDir: string): VulkanSetup {
  const system = path.resolve(root) === '/';
  let debs = glDir ? fs.readdirSync(glDir).filter((f) => f.endsWith('.deb')).sort() : [];
  let skipped: string | undefined;
  if (system && debs.length > 0 && visibleSharedLibraries().has('libvulkan.so.1')) {
    skipped = 'libvulkan.so.1 is already installed';
    debs = [];
  }
  for (const deb of debs) {
    try {
      execFileSync('dpkg', ['-x', path.join(glDir as string, deb), root], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new FileError(path.join(glDir as string, deb), `dpkg -x into ${root} failed: ${errorMessage((err as { stderr?: Buffer }).stderr?.toString() || err)}`);
    }
  }
  let ldconfig: string | undefined;
  if (system && debs.length > 0) {
    try {
      execFileSync('ldconfig', [], { stdio: 'ignore' });
      ldconfig = 'ran';
    } catch (err) {
      ldconfig = `failed: ${errorMessage(err)}`;
    }
  }
  const libraryDirs = system ? [] : ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'].map((d) => path.join(root, d)).filter((d) => fs.existsSync(d));
  const dirs = system ? ICD_DIRS : ['etc/vulkan/icd.d', 'usr/share/vulkan/icd.d'].map((d) => path.join(root, d));
  const manifests: IcdManifest[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      let m = parseIcdManifest(file, fs.readFileSync(file, 'utf8'));
      if (!m) continue;
      // A manifest unpacked into a private root names its library by its path under `/`.
      if (!system && path.isAbsolute(m.libraryPath) && !fs.existsSync(m.libraryPath)) {
        const moved = path.join(root, m.libraryPath);
        const copy = path.join(workDir, `icd-${name}`);
        fs.writeFileSync(copy, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: moved, api_version: m.apiVersion } }, null, 2));
        m = { ...m, file: copy, libraryPath: moved };
      }
      manifests.push(m);
    }
  }
  return { root, debs, ...(skipped ? { skipped } : {}), ...(ldconfig ? { ldconfig } : {}), libraryDirs, manifests };
}

function eglVendorFile(): string | undefined {
  return ['/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json', '/usr/share/glvnd/egl_vendor.d/10_nvidia.json'].find((f) => fs.existsSync(f));
}

// ---------------------------------------------------------------------------------------------
// `probe` and `profile`: children that run on webgpu in the environment the orchestrator chose.

/** Selects webgpu as the CLI would (probe, device, 2x2 product), keeping the probe's adapter facts. */
async function startWebGPU() {
  const probe = await probeWebGPU();
  if (!probe.status.available) throw new Error(probe.status.reason);
  await activateWebGPU(probe);
  return probe;
}

function vulkanFacts(): Record<string, unknown> {
  let maps = '';
  try {
    maps = fs.readFileSync('/proc/self/maps', 'utf8');
  } catch {
    // Not Linux: nothing to say about which libraries were loaded.
  }
  const loaded = mappedLibraries(maps, VULKAN_LIBRARIES);
  const loader = loaded.find((f) => /libvulkan\.so/.test(f));
  let loaderFile = loader;
  try {
    if (loader) loaderFile = fs.realpathSync(loader);
  } catch {
    // Keep the mapped name.
  }
  const driverFiles = (process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean);
  const manifests = driverFiles.map((f) => {
    try {
      return parseIcdManifest(f, fs.readFileSync(f, 'utf8')) ?? { file: f, error: 'not an ICD manifest' };
    } catch (err) {
      return { file: f, error: errorMessage(err) };
    }
  });
  return {
    loader: loaderFile ? { file: loaderFile, version: soVersion(loaderFile) } : undefined,
    loadedLibraries: loaded,
    driverManifests: manifests,
    env: Object.fromEntries(
      ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', '__EGL_VENDOR_LIBRARY_FILENAMES', 'LD_LIBRARY_PATH', DAWN_OPTIONS_ENV, ALLOW_SOFTWARE_ENV, PROBE_CACHE_ENV]
        .filter((k) => process.env[k] !== undefined)
        .map((k) => [k, process.env[k]]),
    ),
  };
}

async function probeCommand(): Promise<number> {
  const started = performance.now();
  const base = { dawn: dawnPackageVersion(), tfjsBackendWebgpu: webgpuBackendVersion(), node: process.versions.node };
  // What Dawn printed while looking for adapters (it writes from native code; the probe child captures it).
  const probe = await probeWebGPU();
  const dawnOutput = probe.dawn?.output ?? [];
  try {
    if (!probe.status.available) throw new Error(probe.status.reason);
    await activateWebGPU(probe);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, reason: errorMessage(err), adapter: probe.adapter, ...base, vulkan: vulkanFacts(), dawnOutput }, null, 2)}\n`);
    return 1;
  }
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])));
  const values = Array.from(await product.data());
  product.dispose();
  const ok = values.join(',') === '19,22,43,50';
  const report = {
    ok,
    reason: ok ? probe.status.reason : `a 2x2 matMul gave [${values.join(', ')}], not [19, 22, 43, 50]`,
    adapter: probe.adapter,
    device: probe.status.device,
    product: values,
    ...base,
    vulkan: vulkanFacts(),
    dawnOutput,
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return ok ? 0 : 1;
}

interface ProfileArgs {
  model: string;
  steps: number;
  warmup: number;
  seed: number;
  'data-dir'?: string;
  limit?: number;
  'batch-size'?: number;
}

/**
 * Trains `warmup` steps (shader compilation), times `steps` plain steps, then records `steps` more
 * under tf.profile: per kernel its GPU time (timestamp queries, when the adapter has them), calls,
 * bytes and programs, slowest first. What a GPU session reads to choose kernels to rewrite.
 */
async function profileCommand(args: ProfileArgs): Promise<number> {
  const probe = await startWebGPU();
  const preset = getPreset(args.model);
  const data = await loadPresetData(preset, { load: { dataDir: args['data-dir'] }, limit: args.limit });
  const startTensors = tf.memory().numTensors;
  const model = preset.build({ seed: args.seed });
  try {
    const options = (steps: number) => recipeOptions(preset, { steps, seed: args.seed, logInterval: 0, batchSize: args['batch-size'] });
    await train(model, data, options(args.warmup));
    const t0 = performance.now();
    const plain = await train(model, data, options(args.steps));
    const plainSeconds = (performance.now() - t0) / 1000;
    const summary = await profileSteps(args.steps, () => train(model, data, options(args.steps)));
    const timestampQuery = probe.adapter?.features.includes('timestamp-query') ?? false;
    const report = {
      model: preset.id,
      backend: tf.getBackend(),
      device: probe.status.device,
      adapter: probe.adapter,
      batchSize: args['batch-size'] ?? preset.recipe.batchSize,
      warmupSteps: args.warmup,
      steps: args.steps,
      seed: args.seed,
      // A whole train() call: what it does once (optimiser slots made, the losses read back at its
      // end) weighs on a few steps, so this is no step time; the training runs' samples/s are one
      // (on the H200, 36 ms a step here against 5.5 ms in the 1,000-step run).
      unprofiledCall: { steps: args.steps, seconds: plainSeconds, samplesPerSec: plain.samplesPerSec },
      timestampQuery,
      note: summary.totalMs > 0
        ? 'kernel times are GPU times from timestamp queries, each kernel in its own compute pass (so they add up to more than an unprofiled step)'
        : 'the adapter gave no timestamp-query feature: kernel times are 0; only calls, bytes and the unprofiled step time are measured',
      profiledKernelMs: summary.totalMs,
      kernelCalls: summary.calls,
      kernelCallsPerStep: summary.kernelCallsPerStep,
      programsPerStep: summary.programsPerStep,
      dispatchesPerStep: summary.dispatchesPerStep,
      newBytes: summary.newBytes,
      peakBytes: summary.peakBytes,
      kernels: summary.kernels,
      date: new Date().toISOString(),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    model.dispose();
  }
  const leaked = tf.memory().numTensors - startTensors;
  if (leaked !== 0) process.stderr.write(`gpu-run profile: ${leaked} tensors left after profiling\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// `run`: the orchestrator.

export interface RunArgs {
  out: string;
  work?: string;
  'data-dir'?: string;
  gl?: string;
  'gl-root': string;
  peer: string;
  python: string;
  'torch-device': string;
  seed: number;
  budget: number;
  'two-layer-net-steps': number;
  'cnn-steps': number;
  'cnn-long-steps': number;
  'profile-steps': number;
  'profile-warmup': number;
  'time-scale': number;
  limit?: number;
  'batch-size'?: number;
  label?: string;
  'allow-software': boolean;
  'reference-backend'?: string;
  only?: string;
  skip?: string;
}

interface StepRecord {
  id: string;
  status: 'ok' | 'failed' | 'skipped' | 'time-limit';
  reason?: string;
  seconds?: number;
  timeoutSeconds?: number;
  maxSeconds?: number;
  exitCode?: number | null;
  log?: string;
}

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));

function checkRunArgs(a: RunArgs): void {
  checkSeed('--seed', a.seed);
  checkPositiveNumber('--budget', a.budget);
  for (const k of ['two-layer-net-steps', 'cnn-steps', 'cnn-long-steps', 'profile-steps', 'profile-warmup'] as const) checkInt(`--${k}`, a[k]);
  checkPositiveNumber('--time-scale', a['time-scale']);
  if (a.limit !== undefined) checkInt('--limit', a.limit);
  if (a['batch-size'] !== undefined) checkInt('--batch-size', a['batch-size']);
  checkOneOf('--torch-device', a['torch-device'], ['cuda', 'cpu']);
  if (a['reference-backend'] !== undefined) checkOneOf('--reference-backend', a['reference-backend'], ['wasm', 'cpu']);
  if (a.label !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(a.label)) throw new InvalidArgumentError('--label', `must be lower-case letters, digits, '-' and '_', got '${a.label}'`);
  if (a.gl !== undefined && !fs.existsSync(a.gl)) throw new InvalidArgumentError('--gl', `${a.gl} does not exist`);
  if (a['data-dir'] !== undefined && !fs.existsSync(a['data-dir'])) throw new InvalidArgumentError('--data-dir', `${a['data-dir']} does not exist`);
  if (fs.existsSync(a.out) && fs.readdirSync(a.out).length > 0) throw new InvalidArgumentError('--out', `${a.out} is not empty (each run writes a fresh folder)`);
}

async function runCommand(a: RunArgs): Promise<number> {
  checkRunArgs(a);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const remaining = () => a.budget - elapsed();
  fs.mkdirSync(a.out, { recursive: true });
  const work = a.work ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-gpu-'));
  const logs = path.join(work, 'logs');
  const results = path.join(work, 'results');
  fs.mkdirSync(logs, { recursive: true });
  fs.mkdirSync(results, { recursive: true });
  const consoleLines: string[] = [];
  const say = (line: string) => {
    const stamped = `[${elapsed().toFixed(0).padStart(3)} s] ${line}`;
    consoleLines.push(stamped);
    process.stdout.write(`${stamped}\n`);
  };
  const { cli, self } = launchers();
  const settings: RunSettings = { seed: a.seed, dataDir: a['data-dir'] ?? process.env.MNIST_DIR ?? '', limit: a.limit, batchSize: a['batch-size'] };
  if (!settings.dataDir) throw new InvalidArgumentError('--data-dir', 'give the folder with the four MNIST .gz files (or set MNIST_DIR)');

  const steps = selectSteps(
    planSteps({ twoLayerNet: a['two-layer-net-steps'], cnn: a['cnn-steps'], cnnLong: a['cnn-long-steps'], profile: a['profile-steps'] }, a['reference-backend'], a['time-scale']),
    list(a.only),
    list(a.skip),
  );
  const summary: Record<string, unknown> = {
    date: new Date().toISOString(),
    command: process.argv.slice(2),
    budgetSeconds: a.budget,
    seed: a.seed,
    ...(a.limit !== undefined ? { limit: a.limit } : {}),
  };
  const records: StepRecord[] = [];
  const outputs = new Map<OutputKey, unknown>();
  const torchRuns: Record<string, unknown> = {};

  // Facts that need no GPU code: the NVIDIA driver, and the Vulkan packages unpacked.
  const reserved = steps.reduce((sum, st) => sum + st.reserveSeconds, 0) + GRACE_SECONDS;
  if (reserved > a.budget) say(`note: the steps hold back ${reserved} s together, more than the ${a.budget} s budget: late steps may be skipped`);
  const smi = queryNvidiaSmi();
  summary.nvidia = smi;
  say(`nvidia-smi: ${'gpus' in smi ? smi.gpus.map((g) => `${g.name}, driver ${g.driver}`).join('; ') : smi.reason}`);
  let vulkan: VulkanSetup;
  try {
    vulkan = setUpVulkan(a.gl, a['gl-root'], work);
  } catch (err) {
    // A machine without dpkg may still have a loader: the probe says whether it does.
    say(`Vulkan packages: could not unpack: ${errorMessage(err)}`);
    vulkan = { ...setUpVulkan(undefined, a['gl-root'], work), skipped: `unpacking failed: ${errorMessage(err)}` };
  }
  summary.vulkanSetup = vulkan;
  say(`Vulkan packages: ${vulkan.skipped ? `not unpacked (${vulkan.skipped})` : `${vulkan.debs.length} unpacked into ${vulkan.root}`}${vulkan.ldconfig ? ` (ldconfig ${vulkan.ldconfig})` : ''}; driver manifests found: ${vulkan.manifests.map((m) => `${m.file} -> ${m.libraryPath}`).join(', ') || 'none'}`);

  const baseEnv: NodeJS.ProcessEnv = { ...process.env, MNIST_DIR: settings.dataDir };
  if (vulkan.libraryDirs.length > 0) baseEnv.LD_LIBRARY_PATH = [...vulkan.libraryDirs, ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)].join(':');
  const gpuEnv: NodeJS.ProcessEnv = { ...baseEnv };
  // The device machine mounts the driver under /usr/local/nvidia; its Vulkan manifest names
  // libGLX_nvidia.so.0 without a path, which the loader must then find.
  const driverDirs = NVIDIA_LIBRARY_DIRS.filter((d) => fs.existsSync(d) && !(gpuEnv.LD_LIBRARY_PATH ?? '').split(':').includes(d));
  if (driverDirs.length > 0) gpuEnv.LD_LIBRARY_PATH = [...(gpuEnv.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...driverDirs].join(':');
  // Vulkan only: the OpenGL fallback would find a GL adapter and hide a Vulkan failure.
  if (!gpuEnv[DAWN_OPTIONS_ENV]) gpuEnv[DAWN_OPTIONS_ENV] = 'backend=vulkan';
  if (a['allow-software']) gpuEnv[ALLOW_SOFTWARE_ENV] = '1';
  // Every probe here is a measurement of this machine now, not a verdict remembered from another run.
  gpuEnv[PROBE_CACHE_ENV] = '0';

  // 1. The probe: each driver setup in turn until one gives a usable adapter and a right product.
  const candidates: VulkanCandidate[] = vulkanCandidates(vulkan.manifests, process.env, { workDir: work, eglVendorFile: eglVendorFile() });
  const attempts: Array<Record<string, unknown>> = [];
  let chosen: { candidate: VulkanCandidate; probe: Record<string, unknown> } | undefined;
  const probeLog = path.join(logs, 'probe.log');
  for (const candidate of candidates) {
    // The probe comes first and decides whether anything else runs: it is not held to the reserves.
    const time = Math.floor(Math.min(PROBE_ATTEMPT_SECONDS, remaining()));
    if (time < 5) break;
    if (candidate.write) fs.writeFileSync(candidate.write.file, candidate.write.text);
    fs.appendFileSync(probeLog, `\n== ${candidate.name}\n`);
    const r = await runChild([...self, 'probe'], { env: { ...gpuEnv, ...candidate.env }, timeoutSeconds: time, logFile: probeLog, graceSeconds: 10 });
    const json = (parseJson(r.stdout) ?? {}) as Record<string, unknown>;
    const ok = r.code === 0 && json.ok === true;
    const reason = (json.reason as string | undefined) ?? (r.timedOut ? `no answer within ${time} s` : `exit ${r.code ?? r.signal}`);
    attempts.push({ candidate: candidate.name, env: candidate.env, ok, seconds: r.seconds, reason, result: json });
    say(`probe with ${candidate.name}: ${ok ? 'ok' : 'failed'}: ${reason}`);
    if (ok) {
      chosen = { candidate, probe: json };
      break;
    }
  }
  summary.probe = { chosen: chosen?.candidate.name, attempts };
  records.push({ id: 'probe', status: chosen ? 'ok' : 'failed', seconds: elapsed(), log: 'logs/probe.log', ...(chosen ? {} : { reason: 'no driver setup gave a usable WebGPU adapter' }) });
  const adapter = (chosen?.probe.adapter ?? {}) as { device?: string; description?: string; vendor?: string };
  const deviceName = 'gpus' in smi ? smi.gpus[0].name : (chosen?.probe.device as string | undefined) ?? 'unknown device';
  const label = a.label ?? deviceSlug(deviceName);
  const files = outputFileNames(label, a['torch-device']);
  summary.label = label;
  summary.device = deviceName;
  const vk = (chosen?.probe.vulkan ?? {}) as { loader?: { file: string; version?: string }; driverManifests?: Array<{ libraryPath?: string; apiVersion?: string }>; loadedLibraries?: string[] };
  summary.versions = {
    node: process.versions.node,
    tfjs: tf.version.tfjs,
    'tfjs-backend-webgpu': webgpuBackendVersion(),
    'webgpu (dawn.node)': dawnPackageVersion(),
    nvidiaDriver: 'gpus' in smi ? smi.gpus[0].driver : undefined,
    adapter: adapter.device ? `${adapter.vendor ?? ''} ${adapter.device} (${adapter.description ?? ''})`.trim() : undefined,
    vulkanLoader: vk.loader?.version,
    vulkanDriverApi: vk.driverManifests?.[0]?.apiVersion,
    vulkanDriverLibrary: vk.driverManifests?.[0]?.libraryPath ?? vk.loadedLibraries?.find((l) => !/libvulkan\.so/.test(l)),
  };

  /**
   * Writes the output folder as it stands: one JSON per result, the torch runs together, the
   * summary (with the comparison table) and the logs as one archive. Called after every step, so
   * a command cut off by the device tool still brings back what was done.
   */
  const flush = async () => {
    const table: ComparisonRow[] = [];
    const add = (framework: string, recipe: string, json: unknown) => {
      if (json !== undefined) table.push({ framework, recipe, ...runNumbers(json) });
    };
    const torchName = `PyTorch ${a['torch-device']}`;
    add('tf.js webgpu', 'two-layer-net', outputs.get('webgpu-two-layer-net'));
    add(torchName, 'two-layer-net', torchRuns['torch-two-layer-net']);
    add('tf.js webgpu', 'cnn', outputs.get('webgpu-cnn'));
    add(torchName, 'cnn', torchRuns['torch-cnn']);
    add('tf.js webgpu', 'cnn (long)', outputs.get('webgpu-cnn-long'));
    add(torchName, 'cnn (long)', torchRuns['torch-cnn-long']);
    summary.table = table;
    const torchFirst = Object.values(torchRuns)[0] as Record<string, unknown> | undefined;
    if (torchFirst) (summary.versions as Record<string, unknown>).torch = pickVersions(torchFirst);

    // webgpu against the reference backend, same recipe and seed.
    const comparison: Record<string, unknown> = {};
    for (const model of ['two-layer-net', 'cnn'] as const) {
      const run = outputs.get(`webgpu-${model}` as OutputKey) as Parameters<typeof compareRuns>[0] | undefined;
      const refFile = path.join(results, `reference-${model}.json`);
      if (!run || !fs.existsSync(refFile)) continue;
      const ref = parseJson(fs.readFileSync(refFile, 'utf8')) as Parameters<typeof compareRuns>[1] | undefined;
      if (ref) comparison[model] = { reference: a['reference-backend'], ...compareRuns(run, ref) };
    }
    if (Object.keys(comparison).length > 0) summary.comparison = comparison;
    summary.steps = records;
    summary.seconds = elapsed();

    const written: string[] = [];
    const write = async (key: OutputKey, value: unknown) => {
      await writeFileAtomic(path.join(a.out, files[key]), `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
      written.push(files[key]);
    };
    for (const [key, value] of outputs) await write(key, value);
    if (Object.keys(torchRuns).length > 0) await write('torch', { device: a['torch-device'], runs: torchRuns });
    summary.files = [...written, files.summary, files.logs].sort();
    await write('summary', summary);
    fs.copyFileSync(path.join(a.out, files.summary), path.join(logs, 'summary.json'));
    fs.writeFileSync(path.join(logs, 'console.log'), `${consoleLines.join('\n')}\n`);
    const archive = path.join(a.out, files.logs);
    execFileSync('tar', ['-czf', `${archive}.partial`, '-C', work, 'logs', 'results'], { stdio: 'inherit' });
    fs.renameSync(`${archive}.partial`, archive);
    return { table, comparison };
  };

  if (!chosen) {
    say(`STOP: WebGPU has no usable adapter here, so no training ran. ${attempts.length > 0 ? 'Each attempt and its reason:' : `No attempt was made: the ${a.budget} s budget was used up.`}`);
    for (const at of attempts) {
      say(`  ${at.candidate as string}: ${at.reason as string}`);
      const said = ((at.result as { dawnOutput?: string[] }).dawnOutput ?? []).slice(0, 4);
      for (const line of said) say(`      Dawn: ${line.length > 200 ? `${line.slice(0, 197)}...` : line}`);
    }
    say('  logs/probe.log in the logs archive has Dawn\'s own messages. Common causes: libvulkan.so.1 missing (carry .gl, see docs/GPU.md),');
    say('  no NVIDIA Vulkan manifest (set VK_DRIVER_FILES to the driver\'s nvidia_icd.json), or glibc older than 2.34 (dawn.node needs it).');
  } else {
    const env = { ...gpuEnv, ...chosen.candidate.env };
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (step.kind === 'probe') continue;
      const record = await runStep(step, i, env);
      records.push(record);
      say(`${step.id}: ${record.status}${record.reason ? ` (${record.reason})` : ''}${record.seconds !== undefined ? `, ${record.seconds.toFixed(0)} s` : ''}`);
      await flush();
    }
  }
  const { table, comparison } = await flush();

  async function runStep(step: StepSpec, i: number, env: NodeJS.ProcessEnv): Promise<StepRecord> {
    const allotment: Allotment | undefined = allot(step, remaining(), laterReserve(steps, i));
    if (!allotment) return { id: step.id, status: 'skipped', reason: `not enough of the ${a.budget} s budget left` };
    const logName = `${step.id}.log`;
    const logFile = path.join(logs, logName);
    let command: string[];
    let childEnv = env;
    switch (step.kind) {
      case 'doctor':
        command = [...cli, 'doctor', '--json'];
        break;
      case 'train':
        command = [...cli, ...trainArgs(step, settings, step.backend ?? 'webgpu', allotment, step.checkpoint ? path.join(work, `${step.id}-checkpoint`) : undefined)];
        if (step.backend && step.backend !== 'webgpu') childEnv = baseEnv;
        break;
      case 'profile':
        command = [...self, 'profile', '--model', step.model as string, '--steps', String(step.steps), '--warmup', String(a['profile-warmup']), '--seed', String(a.seed), '--data-dir', settings.dataDir];
        if (a.limit !== undefined) command.push('--limit', String(a.limit));
        if (a['batch-size'] !== undefined) command.push('--batch-size', String(a['batch-size']));
        break;
      case 'torch': {
        if (!fs.existsSync(a.peer)) return { id: step.id, status: 'skipped', reason: `${a.peer} not found (the PyTorch peer; see docs/GPU.md)` };
        command = [a.python, a.peer, ...torchArgs(step, settings, a['torch-device'], allotment)];
        childEnv = { ...baseEnv, PYTHONUNBUFFERED: '1' };
        break;
      }
      default:
        return { id: step.id, status: 'skipped', reason: `no runner for ${step.kind}` };
    }
    const r = await runChild(command, { env: childEnv, timeoutSeconds: allotment.timeoutSeconds, logFile });
    const json = parseJson(r.stdout);
    const base: StepRecord = {
      id: step.id,
      status: 'ok',
      seconds: r.seconds,
      timeoutSeconds: allotment.timeoutSeconds,
      ...(allotment.maxSeconds !== undefined ? { maxSeconds: allotment.maxSeconds } : {}),
      exitCode: r.code,
      log: `logs/${logName}`,
    };
    if (json !== undefined) {
      if (step.kind === 'torch') torchRuns[step.id] = json;
      else if (step.output === 'logs') fs.writeFileSync(path.join(results, `${step.id}.json`), r.stdout);
      else outputs.set(step.output, json);
    } else if (r.stdout.trim()) {
      fs.writeFileSync(path.join(logs, `${step.id}.stdout.txt`), r.stdout);
    }
    const stopped = runNumbers(json).stopped;
    if (json !== undefined && (r.code === 0 || (r.timedOut && r.code === 130))) {
      return stopped === 'time-limit' || r.timedOut ? { ...base, status: 'time-limit', reason: r.timedOut ? 'stopped at its time limit' : `--max-seconds ${allotment.maxSeconds}` } : base;
    }
    const why = r.killed ? 'killed after its time limit' : r.timedOut ? 'stopped at its time limit without output' : `exit ${r.code ?? r.signal}`;
    process.stdout.write(`${tail(logFile)}\n`);
    return { ...base, status: 'failed', reason: why };
  }

  const outFiles = fs.readdirSync(a.out).map((name) => ({ name, bytes: fs.statSync(path.join(a.out, name)).size }));
  say(`output in ${a.out}:`);
  for (const f of outFiles.sort((x, y) => x.name.localeCompare(y.name))) say(`  ${(f.bytes / 1024).toFixed(1).padStart(9)} KiB  ${f.name}`);
  const problems = outputProblems(outFiles);
  for (const p of problems) say(`WARNING: ${p}`);
  printTable(table, say);
  for (const [model, c] of Object.entries(comparison)) {
    const x = c as ReturnType<typeof compareRuns> & { reference: string };
    const steps = x.sameSteps ? `${x.steps.run} steps` : `NOT COMPARABLE: ${x.steps.run} vs ${x.steps.reference} steps`;
    say(`${model}: webgpu vs ${x.reference}, ${steps}: test accuracy ${(x.testAccuracy.run * 100).toFixed(2)}% vs ${(x.testAccuracy.reference * 100).toFixed(2)}% (${x.testAccuracy.differencePoints.toFixed(2)} pp), largest loss difference ${x.maxLossDifference.toExponential(2)}, loss fell: ${x.lossFell.run}/${x.lossFell.reference}`);
  }
  const failed = records.filter((r) => r.status === 'failed');
  say(chosen ? `done: ${records.length} steps, ${failed.length} failed, ${elapsed().toFixed(0)} s` : 'done: stopped after the probe');
  return !chosen ? 3 : failed.length > 0 || problems.length > 0 ? 1 : 0;
}

/** The versions the PyTorch peer reports in its `environment`. */
function pickVersions(json: Record<string, unknown>): Record<string, unknown> {
  const env = (json.environment ?? {}) as Record<string, unknown>;
  const keys = ['torch', 'cuda', 'cudnn', 'device_name', 'gpu_memory_mib', 'python', 'numpy', 'tf32'];
  return Object.fromEntries(keys.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
}

function printTable(rows: readonly ComparisonRow[], say: (line: string) => void): void {
  if (rows.length === 0) return;
  const lines = [[...COMPARISON_COLUMNS], ...comparisonCells(rows)];
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  for (const l of lines) say(l.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}

// ---------------------------------------------------------------------------------------------

export function buildGpuRunCli(argv: string[]) {
  return yargs(argv)
    .scriptName('gpu-run')
    .usage('$0 <command> [options]\n\nThe prepared GPU command: WebGPU and PyTorch on the same recipes, one output folder (docs/GPU.md).')
    .command<RunArgs>(
      'run',
      'Probe, doctor, train two-layer-net and cnn on webgpu and PyTorch, profile, long cnn run; write the output folder',
      (y) =>
        y
          .option('out', { type: 'string', demandOption: true, describe: 'Output folder (created; must be empty): at most 8 files' })
          .option('work', { type: 'string', describe: 'Scratch folder for logs and checkpoints (default: a new one in the temp folder)' })
          .option('data-dir', { type: 'string', describe: 'Folder with the four MNIST .gz files (default $MNIST_DIR)' })
          .option('gl', { type: 'string', describe: 'Folder of Vulkan/GL .deb files to unpack first (the device README\'s .gl)' })
          .option('gl-root', { type: 'string', default: '/', describe: 'Where to unpack them: / on the device machine (then ldconfig), a private folder in a rehearsal' })
          .option('peer', { type: 'string', default: DEFAULT_PEER, describe: 'The PyTorch peer script' })
          .option('python', { type: 'string', default: 'python3', describe: 'Python with torch' })
          .option('torch-device', { type: 'string', default: 'cuda', describe: 'cuda, or cpu in a rehearsal' })
          .option('seed', { type: 'number', default: 1, describe: 'Seed of every run' })
          .option('budget', { type: 'number', default: DEFAULT_BUDGET_SECONDS, describe: 'Seconds for all steps together' })
          .option('two-layer-net-steps', { type: 'number', default: DEFAULT_PLAN_STEPS.twoLayerNet })
          .option('cnn-steps', { type: 'number', default: DEFAULT_PLAN_STEPS.cnn })
          .option('cnn-long-steps', { type: 'number', default: DEFAULT_PLAN_STEPS.cnnLong, describe: 'Steps the long cnn runs aim at; the budget may cut them' })
          .option('profile-steps', { type: 'number', default: DEFAULT_PLAN_STEPS.profile })
          .option('profile-warmup', { type: 'number', default: PROFILE_WARMUP_STEPS, describe: 'cnn steps before the profile (shader compilation)' })
          .option('time-scale', { type: 'number', default: 1, describe: 'Multiply every step\'s time cap and reserve: for software adapters' })
          .option('limit', { type: 'number', describe: 'First N training (and test) examples only: for software adapters' })
          .option('batch-size', { type: 'number', describe: 'Examples per step instead of the recipes\' (webgpu and reference runs): for software adapters only' })
          .option('label', { type: 'string', describe: 'File name prefix (default: the GPU model, e.g. h100)' })
          .option('allow-software', { type: 'boolean', default: false, describe: 'Let a software adapter (lavapipe) count: for rehearsals' })
          .option('reference-backend', { type: 'string', describe: 'Also train two-layer-net and cnn on this backend (wasm) and compare' })
          .option('only', { type: 'string', describe: 'Comma-separated steps to run (the probe always runs)' })
          .option('skip', { type: 'string', describe: 'Comma-separated steps to leave out' }) as never,
      async (args) => {
        process.exitCode = await runCommand(args);
      },
    )
    .command('probe', 'One WebGPU probe in this environment: adapter, 2x2 product, loaded Vulkan libraries (JSON)', (y) => y, async () => {
      process.exitCode = await probeCommand();
    })
    .command('label', 'The label `run` names its files with, from nvidia-smi\'s first GPU (exit 1 when it finds none)', (y) => y, () => {
      const smi = queryNvidiaSmi();
      if ('gpus' in smi) process.stdout.write(`${deviceSlug(smi.gpus[0].name)}\n`);
      else {
        process.stderr.write(`gpu-run label: ${smi.reason}\n`);
        process.exitCode = 1;
      }
    })
    .command<ProfileArgs>(
      'profile',
      'tf.profile of a few training steps on webgpu, per kernel (JSON)',
      (y) =>
        y
          .option('model', { type: 'string', default: 'cnn', choices: ['cnn', 'two-layer-net'] })
          .option('steps', { type: 'number', default: DEFAULT_PLAN_STEPS.profile })
          .option('warmup', { type: 'number', default: PROFILE_WARMUP_STEPS })
          .option('seed', { type: 'number', default: 1 })
          .option('data-dir', { type: 'string' })
          .option('limit', { type: 'number' })
          .option('batch-size', { type: 'number' }) as never,
      async (args) => {
        checkInt('--steps', args.steps);
        checkInt('--warmup', args.warmup);
        if (args.limit !== undefined) checkInt('--limit', args.limit);
        if (args['batch-size'] !== undefined) checkInt('--batch-size', args['batch-size']);
        process.exitCode = await profileCommand(args);
      },
    )
    .demandCommand(1, 'Name a command: run, probe, profile or label')
    .strict()
    .help()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`gpu-run: ${msg}\nRun 'gpu-run --help' for usage.\n`);
      process.exit(2);
    });
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildGpuRunCli(argv).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    process.stderr.write(`${formatError(err).replace(/^mnist-nets:/, 'gpu-run:')}\n`);
    return exitCodeFor(err);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
