import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendStatus, NvidiaGpu } from './types';
import { installedVersion, resolvePackageDir, runtimeRequire } from '../runtime';
import { errorMessage } from '../errors';

/** The GPU build of TensorFlow for Node: libtensorflow 2.9.1 linked against CUDA 11.2 / cuDNN 8.1. */
export const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
/** The CPU build of TensorFlow for Node; registers the same `tensorflow` backend. */
export const TFJS_NODE = '@tensorflow/tfjs-node';

/**
 * The section of docs/GPU.md with what upstream says about tfjs-node-gpu and CUDA (exact versions,
 * the failing libtensorflow download, Node 22), each with its source.
 */
export const CUDA_DOCS_LINK = 'docs/GPU.md#cuda-through-tfjs-node-gpu-what-upstream-supports';

/** What tfjs-node-gpu 4.22 was built against; printed wherever a user has to install it. */
export const TFJS_NODE_GPU_NEEDS =
  'tfjs-node-gpu 4.22 needs libtensorflow 2.9.1 (fetched by its install script), exactly CUDA 11.2 and cuDNN 8.1 ' +
  `(not CUDA 12) on the library path, and an NVIDIA driver >= 450.80.02; see ${CUDA_DOCS_LINK}`;
/** The commands that show whether those are there. */
export const CUDA_CHECK_COMMANDS = "check with `ldconfig -p | grep -E 'libcudart|libcudnn'` and `nvidia-smi`";

/**
 * The shared libraries libtensorflow 2.9.1 opens (dlopen) to register a GPU. TensorFlow does not
 * fail when one is missing: it logs "Could not load dynamic library" and runs on the CPU, so the
 * only visible symptom is a slow run. Listing them lets doctor name the missing ones.
 */
export const CUDA_LIBRARIES: readonly string[] = [
  'libcuda.so.1',
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
];

/** What went wrong when a native TensorFlow package would not load. */
export type NativeLoadErrorKind =
  | 'addon-missing'
  | 'libtensorflow'
  | 'cuda-driver'
  | 'cuda-runtime'
  | 'cudnn'
  | 'glibc'
  | 'node-abi'
  | 'unknown';

/** The classification of a native load error and the reason to show for it. */
export interface NativeLoadExplanation {
  kind: NativeLoadErrorKind;
  /** Shared objects named in the message (`libcudart.so.11.0`), in order of appearance. */
  missing: string[];
  /** `failed to load: <message>; <what it means and what to do>`. */
  reason: string;
}

const SONAME = /\b(lib(?:cudart|cublasLt|cublas|cufft|curand|cusolver|cusparse|cudnn[a-z_]*|cuda|nvrtc|tensorflow_framework|tensorflow)\.so(?:\.\d+)*)/g;

/**
 * Classifies the message of an error thrown while loading tfjs-node-gpu or tfjs-node (or a
 * TensorFlow log line such as "Could not load dynamic library 'libcudnn.so.8'") and says what the
 * user must install. Pure: the same message always gives the same explanation.
 */
export function explainNativeLoadError(message: string): NativeLoadExplanation {
  // The first line says what failed; the rest of a loader message is advice that is replaced here.
  const firstLine = message.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  const shown = errorMessage(firstLine, 300);
  const missing = [...new Set([...message.matchAll(SONAME)].map((m) => m[1]))];
  const fail = (kind: NativeLoadErrorKind, what: string): NativeLoadExplanation => ({
    kind,
    missing,
    reason: `failed to load: ${shown}; ${what}`,
  });
  const cudaSuffix = `${TFJS_NODE_GPU_NEEDS}; ${CUDA_CHECK_COMMANDS}`;

  if (/tfjs_binding\.node\)? can ?not be found|tfjs_binding\.node.*(no such file|cannot find)/i.test(message)) {
    return fail(
      'addon-missing',
      'the native addon was never installed: the package install script downloads it and libtensorflow 2.9.1, ' +
        'and it failed or was skipped (no internet?). Run `npm rebuild @tensorflow/tfjs-node-gpu` ' +
        '(or tfjs-node) on a machine with internet and copy that node_modules over; ' +
        TFJS_NODE_GPU_NEEDS,
    );
  }
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/i.test(message)) {
    return fail('node-abi', 'the native addon was built for another Node.js; run `npm rebuild` with this node');
  }
  const glibc = /(GLIBC(?:XX)?_[\d.]+|CXXABI_[\d.]+)'? not found/.exec(message);
  if (glibc) {
    return fail(
      'glibc',
      `this system's C/C++ runtime is older than libtensorflow 2.9.1 was built for (needs ${glibc[1]}); ` +
        'use a newer Linux (e.g. Ubuntu 20.04 or later)',
    );
  }
  if (missing.some((l) => l.startsWith('libtensorflow'))) {
    return fail(
      'libtensorflow',
      'libtensorflow 2.9.1 is not where the addon looks (node_modules/@tensorflow/tfjs-node-gpu/deps/lib or ' +
        'lib/napi-v8); its install script downloads it, so reinstall with internet or copy a complete install; ' +
        TFJS_NODE_GPU_NEEDS,
    );
  }
  if (/CUDA driver version is insufficient|no CUDA-capable device|CUDA_ERROR_NO_DEVICE/i.test(message) ||
      missing.some((l) => l.startsWith('libcuda.so'))) {
    return fail(
      'cuda-driver',
      'the NVIDIA driver is missing or too old (libcuda.so.1 comes with the driver, not the CUDA toolkit); ' +
        cudaSuffix,
    );
  }
  const runtime = missing.filter((l) => !l.startsWith('libcudnn') && !l.startsWith('libcuda.so'));
  if (runtime.length > 0) {
    return fail(
      'cuda-runtime',
      `the CUDA 11.2 runtime libraries are not on the library path (${runtime.join(', ')}); install CUDA 11.2 ` +
        'and add its lib64 to LD_LIBRARY_PATH or ldconfig; ' +
        cudaSuffix,
    );
  }
  if (missing.some((l) => l.startsWith('libcudnn'))) {
    return fail(
      'cudnn',
      'cuDNN 8.1 for CUDA 11.2 is not on the library path (libcudnn.so.8); install it next to CUDA ' +
        '(e.g. /usr/local/cuda/lib64) and run ldconfig; ' +
        cudaSuffix,
    );
  }
  return { kind: 'unknown', missing, reason: `failed to load: ${shown}` };
}

/** Parses `nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader`. */
export function parseNvidiaSmi(csv: string): NvidiaGpu[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [name = '', driver = '', memory] = line.split(',').map((f) => f.trim());
      return memory ? { name, driver, memory } : { name, driver };
    })
    .filter((gpu) => gpu.name.length > 0);
}

/** The GPUs `nvidia-smi` lists, or why it could not list any. */
export function queryNvidiaSmi(): { gpus: NvidiaGpu[] } | { reason: string } {
  try {
    const out = execFileSync(
      'nvidia-smi',
      ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const gpus = parseNvidiaSmi(out);
    return gpus.length > 0 ? { gpus } : { reason: 'nvidia-smi lists no GPU' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') return { reason: 'nvidia-smi not found (no NVIDIA driver installed)' };
    return { reason: `nvidia-smi failed: ${errorMessage(e.stderr || e.message)}` };
  }
}

/** The sonames `ldconfig -p` lists (`\tlibcudart.so.11.0 (libc6,x86-64) => /usr/...`). */
export function parseLdconfig(output: string): Set<string> {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /^\s*(\S+\.so[^\s]*)\s+\(/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

/** Shared objects visible to the dynamic loader: the ldconfig cache plus LD_LIBRARY_PATH folders. */
export function visibleSharedLibraries(): Set<string> {
  let names = new Set<string>();
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      names = parseLdconfig(execFileSync(ldconfig, ['-p'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }));
      break;
    } catch {
      // Not on PATH under this name (it lives in /sbin on Debian); try the next.
    }
  }
  for (const dir of (process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d.length > 0)) {
    try {
      for (const f of fs.readdirSync(dir)) if (f.includes('.so')) names.add(f);
    } catch {
      // A stale entry in LD_LIBRARY_PATH is harmless to the loader, so it is to us too.
    }
  }
  return names;
}

/** Splits CUDA_LIBRARIES into those present in `visible` and those missing. */
export function checkCudaLibraries(visible: Set<string>): { found: string[]; missing: string[] } {
  const found = CUDA_LIBRARIES.filter((l) => visible.has(l));
  return { found, missing: CUDA_LIBRARIES.filter((l) => !visible.has(l)) };
}

/** One attempt at loading tfjs-node-gpu or tfjs-node into this process. */
export interface NativeLoad {
  package: string;
  installed: boolean;
  loaded: boolean;
  version?: string;
  /** Why it did not load: `not installed (...)` or explainNativeLoadError's reason. */
  reason?: string;
  /** Whether TensorFlow registered a CUDA device. */
  usingGpu?: boolean;
  /** The libtensorflow version the addon reports. */
  libtensorflow?: string;
}

interface NodeKernelBackend {
  isUsingGpuDevice?: boolean;
  binding?: { TF_Version?: string };
}

const loads = new Map<string, Promise<NativeLoad>>();

/**
 * Loads a native TensorFlow package at most once per process: a failed dlopen does not succeed on
 * a second try, and a successful one has already registered the `tensorflow` backend.
 * The package's import makes `tensorflow` the current backend; the one that was current before is
 * restored, so probing does not switch. Before any backend was set there is nothing to restore,
 * and `tensorflow` stays current, as it would after a plain `require('@tensorflow/tfjs-node-gpu')`.
 */
export function loadNativeTensorflow(pkg: string): Promise<NativeLoad> {
  let load = loads.get(pkg);
  if (!load) {
    load = loadOnce(pkg);
    loads.set(pkg, load);
  }
  return load;
}

async function loadOnce(pkg: string): Promise<NativeLoad> {
  if (resolvePackageDir(pkg) === undefined) {
    // The GPU build's install is where users go wrong (CUDA 12, Node 22, the dead download): say where that is written up.
    const hint = pkg === TFJS_NODE_GPU ? `; not installed by default; exactly CUDA 11.2 + cuDNN 8.1, see ${CUDA_DOCS_LINK}` : '';
    // The version of the tf.js this process runs: a native build of another version would register a second engine's kernels.
    return { package: pkg, installed: false, loaded: false, reason: `not installed (npm i ${pkg}@${tf.version_core}${hint})` };
  }
  const version = installedVersion(pkg);
  const previous = tf.engine().backendName as string | null;
  try {
    loadSharingTfjs(pkg);
  } catch (err) {
    const message = (err as { message?: unknown } | null)?.message;
    return { package: pkg, installed: true, loaded: false, version, reason: explainNativeLoadError(typeof message === 'string' ? message : String(err)).reason };
  }
  const backend = tf.engine().registry.tensorflow as unknown as NodeKernelBackend | undefined;
  if (previous && previous !== 'tensorflow') await tf.setBackend(previous);
  if (!backend) {
    // Its backend went to another tf.js engine: one in another global, as a test runner's sandbox has.
    return {
      package: pkg,
      installed: true,
      loaded: false,
      version,
      reason: `loaded, but its 'tensorflow' backend is not on this tf.js engine (is a second @tensorflow/tfjs of another version installed under ${pkg}?)`,
    };
  }
  return {
    package: pkg,
    installed: true,
    loaded: true,
    version,
    usingGpu: backend.isUsingGpuDevice === true,
    libtensorflow: backend.binding?.TF_Version,
  };
}

type ModuleLoad = (request: string, parent: unknown, isMain: boolean) => unknown;

/**
 * Requires a native TensorFlow package so that its `@tensorflow/tfjs` and `@tensorflow/tfjs-core`
 * are the ones this code runs on. From node_modules they are the same files anyway; from the
 * single-file bundle, the package's own copy (installed next to the bundle with it) would load a
 * second tf.js, which shares the global engine but re-registers every kernel with a warning each.
 * Only for the duration of the synchronous require.
 */
function loadSharingTfjs(pkg: string): void {
  // The module object itself: an `import * as` namespace is a copy, and patching it does nothing.
  const loader = require('module') as { _load: ModuleLoad };
  const original = loader._load;
  // The union package re-exports all of tfjs-core, which is all the package takes from core.
  const tfjs: unknown = require('@tensorflow/tfjs');
  const shared: Record<string, unknown> = { '@tensorflow/tfjs': tfjs, '@tensorflow/tfjs-core': tfjs };
  loader._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
    return request in shared ? shared[request] : original.call(this, request, parent, isMain);
  };
  try {
    runtimeRequire(pkg);
  } finally {
    loader._load = original;
  }
}

/** A one-line device description for a loaded TensorFlow: the GPU from nvidia-smi, or CPU. */
export function tensorflowDevice(load: NativeLoad): string {
  if (!load.usingGpu) return 'CPU';
  const smi = queryNvidiaSmi();
  if ('gpus' in smi) return smi.gpus.map((g) => `${g.name} (driver ${g.driver})`).join('; ');
  return 'CUDA GPU';
}

/** Why TensorFlow loaded but registered no GPU, naming the CUDA libraries it could not open. */
export function noGpuReason(): string {
  const { missing } = checkCudaLibraries(visibleSharedLibraries());
  const what = missing.length > 0 ? `missing on the library path: ${missing.join(', ')}` : 'all CUDA libraries are present, so check the driver';
  return `loaded, but TensorFlow registered no CUDA GPU and runs on the CPU (${what}); ${TFJS_NODE_GPU_NEEDS}; ${CUDA_CHECK_COMMANDS}`;
}

/** Status of the GPU tier: tfjs-node-gpu loaded with a CUDA device. */
export async function probeTensorflowGpu(): Promise<BackendStatus> {
  const load = await loadNativeTensorflow(TFJS_NODE_GPU);
  const base = { name: 'tensorflow' as const, package: TFJS_NODE_GPU, version: load.version };
  if (!load.loaded) return { ...base, available: false, reason: load.reason ?? 'not loaded' };
  const details = nativeDetails(load);
  if (!load.usingGpu) return { ...base, available: false, reason: noGpuReason(), device: 'CPU', details };
  const device = tensorflowDevice(load);
  return { ...base, available: true, reason: `${tensorflowName(load)} with CUDA on ${device}`, device, details };
}

/**
 * Status of the CPU tier: tfjs-node, or tfjs-node-gpu that loaded without a GPU (the same
 * TensorFlow, on the CPU). tfjs-node is only loaded when tfjs-node-gpu did not load, since both
 * register `tensorflow` and the first one wins.
 */
export async function probeTensorflowCpu(): Promise<BackendStatus> {
  const gpu = await loadNativeTensorflow(TFJS_NODE_GPU);
  if (gpu.loaded) {
    return {
      name: 'tensorflow',
      package: TFJS_NODE_GPU,
      version: gpu.version,
      available: true,
      reason: gpu.usingGpu
        ? `${tensorflowName(gpu)} (tfjs-node-gpu, with CUDA)`
        : `${tensorflowName(gpu)} on the CPU (tfjs-node-gpu found no GPU)`,
      device: gpu.usingGpu ? tensorflowDevice(gpu) : 'CPU',
      details: nativeDetails(gpu),
    };
  }
  const cpu = await loadNativeTensorflow(TFJS_NODE);
  const base = { name: 'tensorflow' as const, package: TFJS_NODE, version: cpu.version };
  if (!cpu.loaded) return { ...base, available: false, reason: cpu.reason ?? 'not loaded' };
  return { ...base, available: true, reason: `${tensorflowName(cpu)} on the CPU`, device: 'CPU', details: nativeDetails(cpu) };
}

function tensorflowName(load: NativeLoad): string {
  return load.libtensorflow ? `TensorFlow ${load.libtensorflow}` : 'TensorFlow';
}

function nativeDetails(load: NativeLoad): Record<string, string | number | boolean> {
  const details: Record<string, string | number | boolean> = {
    cudaDevice: load.usingGpu === true,
    isNode: tf.env().getBool('IS_NODE'),
  };
  if (load.libtensorflow) details.libtensorflow = load.libtensorflow;
  return details;
}

/**
 * Status for an explicit `tensorflow`: tfjs-node-gpu when it is installed (loaded on a GPU or, if
 * TensorFlow finds none, on the CPU), else tfjs-node. An installed tfjs-node-gpu that fails to
 * load is reported, not replaced by tfjs-node: someone who installed it expects CUDA.
 */
export async function probeTensorflowExplicit(): Promise<BackendStatus> {
  const gpu = await loadNativeTensorflow(TFJS_NODE_GPU);
  if (gpu.installed) {
    const base = { name: 'tensorflow' as const, package: TFJS_NODE_GPU, version: gpu.version };
    if (!gpu.loaded) return { ...base, available: false, reason: gpu.reason ?? 'not loaded' };
    return gpu.usingGpu
      ? { ...base, available: true, reason: `${tensorflowName(gpu)} with CUDA`, device: tensorflowDevice(gpu), details: nativeDetails(gpu) }
      : { ...base, available: true, reason: `${tensorflowName(gpu)}: ${noGpuReason()}`, device: 'CPU', details: nativeDetails(gpu) };
  }
  const cpu = await loadNativeTensorflow(TFJS_NODE);
  if (cpu.installed) return probeTensorflowCpu();
  return {
    name: 'tensorflow',
    available: false,
    reason: `not installed (npm i ${TFJS_NODE_GPU}@4.22.0 for CUDA, or ${TFJS_NODE}@4.22.0 for the CPU); for CUDA see ${CUDA_DOCS_LINK}`,
  };
}
