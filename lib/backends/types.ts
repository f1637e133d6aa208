/** The tf.js backends this library knows how to find, in no particular order. */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** A backend asked for by name, or `auto` for the best one this machine can run. */
export type BackendChoice = 'auto' | BackendName;

/** Every value `useBackend` accepts, for CLI `choices` and argument checks. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** What dominates a training step: convolutions (the cnn), or small dense products (the MLPs). */
export type WasmWorkload = 'conv' | 'dense';

/**
 * The workload of a preset's family (`Preset.family`): the cnn's step is its convolutions, the
 * MLPs' their dense products. Here, beside the type, because this module loads nothing: scripts
 * that drive another build's backends (ab-speed.ts) can take it without loading tf.js twice.
 */
export function wasmWorkloadOf(family: string): WasmWorkload {
  return family === 'cnn' ? 'conv' : 'dense';
}

/** What is known about one backend on this machine, and why it can or cannot be used. */
export interface BackendStatus {
  name: BackendName;
  available: boolean;
  /**
   * Why it is available, or why not: `not installed (npm i @tensorflow/tfjs-node-gpu)`,
   * `failed to load: <message>; <what to do>`, `no adapter: ...`.
   */
  reason: string;
  /** The npm package that provides it, where that is not tfjs itself. */
  package?: string;
  /** That package's version, where it could be read. */
  version?: string;
  /** Where the work runs: a GPU name, `CPU`, or the WebGPU adapter. */
  device?: string;
  /** Facts worth a line in `doctor` (SIMD, libtensorflow version, adapter limits). */
  details?: Record<string, string | number | boolean>;
}

/** The outcome of `useBackend`. */
export interface BackendSelection {
  selected: BackendName;
  /** The selected backend's status, preceded by one for each better one and why it was skipped. */
  statuses: BackendStatus[];
}

/** Options of `useBackend`. */
export interface UseBackendOptions {
  /** Receives one line per decision (skipped, selected); e.g. `(l) => process.stderr.write(l + '\n')`. @default no logging */
  log?: (line: string) => void;
  /**
   * Receives what the WebGPU probe saw, which `log` leaves out: whether the verdict was cached or
   * probed, and each line Dawn printed in the probe's child process. @default not shown
   */
  probeLog?: (line: string) => void;
  /**
   * Whether a software (CPU-type) WebGPU adapter, such as Mesa's llvmpipe, counts as available.
   * It computes correctly but slower than wasm, so it is for testing the WebGPU path only.
   * @default process.env.MNIST_NETS_WEBGPU_ALLOW_SOFTWARE === '1'
   */
  allowSoftwareWebGPU?: boolean;
  /**
   * Threads for the wasm backend in Node, if wasm is selected: more than 1 runs tfjs-backend-wasm's
   * threaded build (`recommendedWasmThreads` says what pays for a workload). It must be chosen
   * before wasm is first initialised; the selected status's `details.runningThreads` says what runs.
   * @default 1
   */
  wasmThreads?: number;
  /** Run one thread, and say why in `details.threadsReason`, when the threaded build cannot start, instead of failing. @default false */
  wasmThreadsFallback?: boolean;
}

/** A WebGPU adapter as `doctor` shows it. */
export interface WebGPUAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** `compatibility` adapters (OpenGL ES / GL) are a reduced WebGPU profile. */
  featureLevel: 'core' | 'compatibility';
  /** A CPU (software) implementation: llvmpipe, lavapipe, SwiftShader, WARP. */
  software: boolean;
  /** The options passed to Dawn's `create()` that found it, e.g. `backend=opengl`. */
  dawnOptions: string[];
  /** The limits tfjs-backend-webgpu asks for, as the adapter reports them. */
  limits: Record<string, number>;
  features: string[];
}

/** One NVIDIA GPU as `nvidia-smi` lists it. */
export interface NvidiaGpu {
  name: string;
  driver: string;
  memory?: string;
}

/** GPU facts gathered by `doctor`. */
export interface GpuFacts {
  /** The WebGPU adapter, when Dawn found one. */
  webgpuAdapter?: WebGPUAdapterReport;
  /** The WebGPU backend's status reason (why there is no usable adapter, or which one). */
  webgpu: string;
  /**
   * What Dawn printed while the probe (a child process, so none of it reaches the user's stderr)
   * asked it for adapters, line by line, and how long that took. Absent when there is no dawn.node.
   */
  dawn?: { output: string[]; seconds: number; date: string };
  /** GPUs listed by `nvidia-smi`, or why none could be listed. */
  nvidia: { gpus: NvidiaGpu[] } | { reason: string };
  /** Whether the Vulkan loader `libvulkan.so.1` is on the library path (Dawn needs it on Linux). */
  vulkanLoader: boolean;
  /** CUDA 11.2 / cuDNN 8.1 libraries tfjs-node-gpu 4.22 loads, found or missing on the library path. */
  cudaLibraries?: { found: string[]; missing: string[] };
}

/** Everything `doctor` reports; `--json` prints it as is. */
export interface DoctorReport {
  /** What `useBackend('auto')` would pick. */
  selected: BackendName;
  /** The backend tf.js is using now, or null before any was set. */
  current: string | null;
  /** Every backend in `auto` order; `tensorflow` appears twice, for its GPU and CPU tiers. */
  backends: BackendStatus[];
  /** node, tfjs, tfjs-core, tfjs-backend-wasm, tfjs-backend-webgpu, webgpu (Dawn), tfjs-node(-gpu), libtensorflow. */
  versions: Record<string, string>;
  cpu: { model: string; cores: number; simd: boolean; threads: boolean };
  gpu: GpuFacts;
  platform: { os: string; arch: string; release: string; glibc?: string; bundled: boolean };
}
