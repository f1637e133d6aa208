import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../kernels';
import { enableWasmThreads } from '../kernels/threads';
import { wasmBackendPackage } from '../kernels/compose';
import type { BackendStatus, WasmWorkload } from './types';
import { bundleDir, resolvePackageDir } from '../runtime';
import { errorMessage } from '../errors';
import { versionMismatch } from './versions';

/** Folder holding tfjs-backend-wasm's .wasm files, overriding where they are looked for. */
export const WASM_DIR_ENV = 'MNIST_NETS_WASM_DIR';

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
// Under Node the threaded build is never chosen (no threads), so these two are the ones read.
const WASM_BINARY = 'tfjs-backend-wasm.wasm';
const WASM_SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';

interface WasmModule {
  setWasmPaths(prefixOrFileMap: string, usePlatformFetch?: boolean): void;
  version_wasm: string;
}

let wasmModule: WasmModule | { reason: string } | undefined;
let lastInitError: string | undefined;

/**
 * Imports tfjs-backend-wasm once and points it at its .wasm files. Under tsc output and jest the
 * package finds them itself, next to its own dist; in the single-file bundle its code runs from
 * mnist-nets.cjs, so the files are copied next to that and setWasmPaths names the folder.
 */
function loadWasm(): WasmModule | { reason: string } {
  if (wasmModule) return wasmModule;
  // Checked before the import, which would load the other version's tf.js.
  const mismatch = versionMismatch(WASM_PACKAGE);
  if (mismatch) return (wasmModule = { reason: mismatch });
  let mod: WasmModule;
  try {
    mod = wasmBackendPackage() as unknown as WasmModule;
  } catch (err) {
    return (wasmModule = { reason: `failed to load: ${errorMessage(err)}` });
  }
  const dir = wasmDir();
  if (dir !== undefined && tf.engine().registry.wasm === undefined) mod.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
  wrapFactory();
  return (wasmModule = mod);
}

/** The folder setWasmPaths should name, or undefined to let the package use its own dist. */
export function wasmDir(): string | undefined {
  const fromEnv = process.env[WASM_DIR_ENV];
  if (fromEnv) return fromEnv;
  return bundleDir();
}

/** Where the .wasm binary the backend will read should be, to report a missing file before init. */
function expectedBinary(simd: boolean): string | undefined {
  let dir = wasmDir();
  if (dir === undefined) {
    const pkg = resolvePackageDir(WASM_PACKAGE);
    if (pkg === undefined) return undefined;
    dir = path.join(pkg, 'dist');
  }
  return path.join(dir, simd ? WASM_SIMD_BINARY : WASM_BINARY);
}

/** tf.js logs a failed backend init and returns false; the wrapper keeps the message for the reason. */
function wrapFactory(): void {
  const factory = tf.findBackendFactory('wasm');
  if (!factory || tf.engine().registry.wasm !== undefined) return;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        return await factory();
      } catch (err) {
        lastInitError = errorMessage(err);
        throw err;
      }
    },
    2,
  );
}

/** SIMD and threads as tfjs-backend-wasm detects them; false when the package did not load. */
export async function wasmFeatures(): Promise<{ simd: boolean; threads: boolean }> {
  if ('reason' in loadWasm()) return { simd: false, threads: false };
  const [simd, threads] = await Promise.all([
    tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
  ]);
  return { simd: simd === true, threads: threads === true };
}

/** Status of the wasm backend, without initialising it. */
export async function probeWasm(): Promise<BackendStatus> {
  const loaded = loadWasm();
  const base = { name: 'wasm' as const, package: WASM_PACKAGE };
  if ('reason' in loaded) return { ...base, available: false, reason: loaded.reason };
  const { simd, threads } = await wasmFeatures();
  const details = { simd, threads };
  const binary = expectedBinary(simd);
  if (binary !== undefined && !fs.existsSync(binary)) {
    return { ...base, version: loaded.version_wasm, details, available: false, reason: `${path.basename(binary)} is missing from ${path.dirname(binary)}` };
  }
  // tfjs-backend-wasm turns threads off under Node (tensorflow/tfjs#3830), so 'no' is expected here.
  const reason = `SIMD ${simd ? 'yes' : 'no'}, threads ${threads ? 'yes' : 'no (tfjs-backend-wasm turns them off under Node; this library starts its threaded build for conv nets, `--threads N` chooses, see docs/PERF.md)'}`;
  return { ...base, version: loaded.version_wasm, details, device: 'CPU', available: true, reason };
}

/**
 * Threads the wasm backend should run for `workload` on a machine with `cores` cores, from
 * measurements on 2 cores (docs/PERF.md): the cnn's step went from 287 to 198 ms with 2 threads,
 * while 784-50-10 went from 2.5 to 5.1 ms (waking the pool costs more than its small kernels).
 * More than 2 was not measured, so this never asks for more.
 */
export function recommendedWasmThreads(workload: WasmWorkload, cores: number = os.availableParallelism()): number {
  return workload === 'conv' && cores >= 2 ? 2 : 1;
}

/** Options of {@link activateWasm}. */
export interface WasmActivation {
  /** More than 1 starts tfjs-backend-wasm's threaded build (lib/kernels/threads.ts). @default 1 */
  threads?: number;
  /**
   * When the threaded build cannot start (wasm already initialised single-threaded, a bundle
   * without the threaded files), run one thread and return why, instead of throwing.
   * @default false
   */
  threadsFallback?: boolean;
}

/**
 * Makes wasm the current backend, with the training kernels lib/kernels adds to it (conv backprop
 * and faster matMuls, which CNN training on wasm needs); throws an Error whose message is the
 * reason when it cannot. Returns the threads it runs, and why it runs fewer than asked for.
 */
export async function activateWasm(options: WasmActivation = {}): Promise<{ threads: number; threadsReason?: string }> {
  const loaded = loadWasm();
  if ('reason' in loaded) throw new Error(loaded.reason);
  const wanted = options.threads ?? 1;
  let threads = 1;
  let threadsReason: string | undefined;
  if (wanted > 1) {
    try {
      threads = await enableWasmThreads(wanted);
    } catch (err) {
      if (!options.threadsFallback) throw err;
      threadsReason = errorMessage(err);
    }
  }
  lastInitError = undefined;
  if (!(await tf.setBackend('wasm'))) throw new Error(`failed to initialise: ${lastInitError ?? 'tf.setBackend returned false'}`);
  registerWasmTrainingKernels();
  return { threads, threadsReason };
}
