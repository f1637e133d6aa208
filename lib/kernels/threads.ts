/**
 * Opt-in multithreaded wasm backend for Node.
 *
 * tfjs-backend-wasm 4.22 ships the threaded SIMD build (tfjs-backend-wasm-threaded-simd.wasm and
 * its Emscripten loader, which knows Node's worker_threads), but its flag
 * WASM_HAS_MULTITHREAD_SUPPORT answers false whenever IS_NODE (tensorflow/tfjs#3830), and its
 * loader could not start the threads in Node anyway: it hands Emscripten the pthread worker as
 * a `blob:` URL and the main script as a `Blob`, and Node's `Worker` loads neither. What this
 * module does instead is what the backend's own `init()` does, with file paths in place of the
 * blobs: it writes the worker script (shipped as a string in wasm-out/) to a temporary file,
 * points Emscripten at the loader file for the workers' `importScripts`, and registers the
 * resulting module as the 'wasm' backend, so every wasm kernel (and those of
 * lib/kernels/index.ts) runs on it unchanged.
 *
 * Why it is safe in Node 20: shared WebAssembly memory and Atomics are always on; the main thread
 * may block on a futex (Emscripten skips its browser-only "blocking on the main thread" check
 * when ENVIRONMENT_IS_NODE); idle workers are `unref()`ed by the loader and the pool's running
 * ones here, so they do not keep the process alive. What it costs: Emscripten pre-spawns its
 * pool of 8 workers (PTHREAD_POOL_SIZE) of which XNNPACK's thread pool uses `threads - 1`, about
 * 10 MB each; pool threads spin for a while between kernels, taking cores from other processes.
 *
 * When it pays: for convolution-sized kernels on otherwise idle cores (the cnn recipe's step
 * went from 287 to 198 ms on 2 cores). Small nets get slower (784-50-10: 2.5 -> 5.1 ms/step,
 * waking the pool costs more than its kernels take). With another process keeping a core busy
 * there is one core's worth of CPU for the two threads, and nothing is gained. docs/PERF.md has
 * the measurements.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, InvalidArgumentError } from '../errors';
import { resolvePackageDir } from '../runtime';
import { WASM_BACKEND, wasmBackendPackage } from './compose';

/** Priority tfjs-backend-wasm registers 'wasm' with; kept so backend auto-selection is unchanged. */
const WASM_PRIORITY = 2;

/** The Emscripten module as tfjs-backend-wasm's BackendWasm expects it (the parts set here). */
interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
  PThread?: { runningWorkers: Array<{ unref?: () => void }> };
}

type WasmImports = Record<string, Record<string, unknown>>;

type EmscriptenFactory = (config: {
  locateFile: (file: string, prefix: string) => string;
  mainScriptUrlOrBlob: string;
  instantiateWasm: (
    imports: WasmImports,
    receiveInstance: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ) => Record<string, never>;
}) => Promise<EmscriptenModule>;

let enabledThreads = 0;

function packageDir(): string {
  const dir = resolvePackageDir('@tensorflow/tfjs-backend-wasm');
  if (dir === undefined) throw new BackendUnavailableError('wasm (threaded)', '@tensorflow/tfjs-backend-wasm is not installed');
  return dir;
}

/** Writes the pthread worker script where Node's `Worker` can load it from; removed at exit. */
function writeWorkerScript(contents: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-wasm-threads-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  // .cjs: the worker uses require(), whatever "type" a package.json above tmpdir declares.
  const file = path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, contents);
  fs.renameSync(tmp, file);
  return file;
}

async function instantiateThreaded(threads: number): Promise<EmscriptenModule> {
  const dir = packageDir();
  const loader = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const binary = path.join(dir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm');
  for (const file of [loader, binary]) {
    if (!fs.existsSync(file)) throw new BackendUnavailableError('wasm (threaded)', `${file} is missing`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wasmWorkerContents } = require(path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The string came out of a template literal, which turned the script's "\n" escapes into real
  // line breaks inside its string literals; tfjs-backend-wasm escapes them again the same way.
  const workerFile = writeWorkerScript(wasmWorkerContents.replace(/\n/g, '\\n'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require(loader) as EmscriptenFactory;
  let failInstantiation: (reason: unknown) => void = () => undefined;
  const instantiationFailed = new Promise<never>((_, reject) => {
    failInstantiation = reject;
  });
  const module = await Promise.race([
    factory({
      locateFile: (file, prefix) => {
        if (file.endsWith('.worker.js')) return workerFile;
        if (file.endsWith('.wasm')) return binary;
        return prefix + file;
      },
      // The workers `importScripts` this (an indirect eval of the file in Node) to get the factory.
      mainScriptUrlOrBlob: loader,
      // backend.cc caps its pool at emscripten_num_logical_cores() / 2, assuming two hardware
      // threads per core; on a 2-vCPU machine that is one thread whatever setThreadsCount asks
      // for. The count is read once, by a static constructor on the main thread, so answering
      // 2 * threads there lifts the cap to what the caller asked for and nothing else.
      instantiateWasm: (imports, receiveInstance) => {
        const env = imports['env'];
        if (env == null || typeof env['emscripten_num_logical_cores'] !== 'function') {
          throw new BackendUnavailableError('wasm (threaded)', 'the loader no longer imports emscripten_num_logical_cores');
        }
        env['emscripten_num_logical_cores'] = () => 2 * threads;
        WebAssembly.instantiate(fs.readFileSync(binary), imports as WebAssembly.Imports).then(
          ({ instance, module: compiled }) => receiveInstance(instance, compiled),
          failInstantiation,
        );
        return {};
      },
    }),
    instantiationFailed,
  ]);
  // The bridge tfjs-backend-wasm's init() attaches before constructing BackendWasm.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * Replaces the 'wasm' backend with tfjs-backend-wasm's threaded SIMD build running `threads`
 * threads (the calling thread included), makes it the active backend and returns the thread
 * count XNNPACK's pool reports. Must run before anything initialises the single-threaded
 * 'wasm' backend (tensors cannot move between the two). Node only; in browsers tf.js picks the
 * threaded build itself when the page is cross-origin isolated.
 */
export async function enableWasmThreads(threads: number = os.cpus().length): Promise<number> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InvalidArgumentError('threads', `must be a positive integer, got ${JSON.stringify(threads)}`);
  }
  if (!tf.env().getBool('IS_NODE')) {
    throw new BackendUnavailableError('wasm (threaded)', 'enableWasmThreads is for Node; browsers use tf.wasm.setThreadsCount');
  }
  const wasmBackend = wasmBackendPackage();
  if (enabledThreads > 0) {
    if (threads !== enabledThreads) {
      throw new InvalidArgumentError('threads', `threaded wasm already runs ${enabledThreads} threads; it cannot be resized`);
    }
    if (!(await tf.setBackend(WASM_BACKEND))) throw new BackendUnavailableError('wasm (threaded)', 'initialisation failed');
    return wasmBackend.getThreadsCount();
  }
  if (tf.engine().registry[WASM_BACKEND] != null) {
    throw new BackendUnavailableError(
      'wasm (threaded)',
      "the single-threaded 'wasm' backend is already initialised; call enableWasmThreads before tf.setBackend('wasm')",
    );
  }
  wasmBackend.setThreadsCount(threads);
  const previousFactory = tf.findBackendFactory(WASM_BACKEND);
  tf.removeBackend(WASM_BACKEND);
  tf.registerBackend(
    WASM_BACKEND,
    async () => {
      const module = await instantiateThreaded(threads);
      const backend = new wasmBackend.BackendWasm(
        module as unknown as ConstructorParameters<typeof wasmBackend.BackendWasm>[0],
      );
      // The constructor created XNNPACK's pool, whose threads wait for work as long as the
      // process lives. Emscripten ref()s the worker of every running pthread, so without this
      // Node would never exit on its own; the pool only works while the main thread waits for
      // it, so it never needs to keep the process alive.
      for (const worker of module.PThread?.runningWorkers ?? []) worker.unref?.();
      return backend;
    },
    WASM_PRIORITY,
  );
  // Read by code that reports how wasm runs (e.g. a doctor command); tf.js itself no longer
  // consults it once the backend is registered.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  let started = false;
  try {
    started = await tf.setBackend(WASM_BACKEND);
  } finally {
    if (!started) {
      // Put the single-threaded build back, so a caller can fall back to it.
      tf.removeBackend(WASM_BACKEND);
      if (previousFactory) tf.registerBackend(WASM_BACKEND, previousFactory, WASM_PRIORITY);
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasmBackend.setThreadsCount(1);
    }
  }
  if (!started) throw new BackendUnavailableError('wasm (threaded)', 'initialisation of the threaded build failed');
  enabledThreads = threads;
  return wasmBackend.getThreadsCount();
}
