/**
 * tf.js backends in a browser page: which of webgpu, webgl, wasm and cpu this browser has, with
 * the reason for each it lacks, and switching to one. The Node side (tfjs-node-gpu, Dawn, doctor)
 * is select.ts; nothing here imports a Node module.
 *
 * WebGPU and WASM come from their own packages, loaded on first use so that a page that never
 * picks them does not initialise them (importing tfjs-backend-webgpu or -wasm registers a backend
 * that outranks webgl). WASM also gets this library's training kernels (lib/kernels), without
 * which the CNN cannot train on it.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, errorMessage } from '../errors';
import { checkOneOf } from '../checks';
import { registerWasmTrainingKernels } from '../kernels';
import { registerWebGPUTrainingKernels } from '../kernels/webgpu';

export type BrowserBackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Fastest first, as a page should offer them. */
export const BROWSER_BACKENDS: readonly BrowserBackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** What a page can know about one backend before switching to it. */
export interface BrowserBackendStatus {
  name: BrowserBackendName;
  available: boolean;
  /** Why not, or what it runs on (a GPU's name, "software renderer", SIMD and threads). */
  reason: string;
  /** A CPU implementation of a GPU API (SwiftShader, llvmpipe, WARP): it works, slowly. */
  software?: boolean;
}

/** Options of {@link probeBrowserBackends} and {@link useBrowserBackend}. */
export interface BrowserBackendOptions {
  /**
   * URL of the folder that serves tfjs-backend-wasm's .wasm files (tfjs-backend-wasm.wasm,
   * -simd.wasm, -threaded-simd.wasm), with a trailing slash. A page's bundle does not carry them.
   * @default the package's own guess (next to the script), which a bundled page rarely matches
   */
  wasmPaths?: string;
}

/** Renderer names of CPU implementations of GPU APIs. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp|basic render/i;

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}
interface NavigatorGpuLike {
  gpu?: { requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null> };
}

function adapterName(adapter: GpuAdapterLike): string {
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.description || info.device].filter((s) => s).join(' ') || 'unnamed adapter';
}

async function probeWebGPU(): Promise<BrowserBackendStatus> {
  const name = 'webgpu' as const;
  const gpu = (globalThis.navigator as NavigatorGpuLike | undefined)?.gpu;
  if (gpu === undefined) {
    const insecure = (globalThis as { isSecureContext?: boolean }).isSecureContext === false;
    return {
      name,
      available: false,
      reason: insecure
        ? 'navigator.gpu is missing: WebGPU needs a secure context (https, or http://localhost / 127.0.0.1)'
        : 'navigator.gpu is missing: this browser has no WebGPU, or it is turned off (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows)',
    };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { name, available: false, reason: `requestAdapter failed: ${errorMessage(err)}` };
  }
  if (adapter === null) {
    return {
      name,
      available: false,
      reason:
        'no adapter: requestAdapter returned null (no supported GPU, or the GPU is blocklisted; see chrome://gpu). ' +
        'Chromium on a machine without one offers its software adapter (SwiftShader) only when started with --enable-unsafe-webgpu',
    };
  }
  const label = adapterName(adapter);
  const software = adapter.isFallbackAdapter === true || SOFTWARE_RENDERER.test(label);
  return { name, available: true, software, reason: software ? `software adapter (${label}): works, slowly` : label };
}

function probeWebGL(): BrowserBackendStatus {
  const name = 'webgl' as const;
  if (typeof document === 'undefined') return { name, available: false, reason: 'no document to make a canvas in (not a page)' };
  const canvas = document.createElement('canvas');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (gl === null) return { name, available: false, reason: 'no WebGL context: the browser has WebGL off or no GPU driver it accepts (see chrome://gpu)' };
  const version = typeof WebGL2RenderingContext !== 'undefined' && gl instanceof WebGL2RenderingContext ? 'WebGL 2' : 'WebGL 1';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  const software = SOFTWARE_RENDERER.test(renderer);
  return { name, available: true, software, reason: `${version}, ${software ? `software renderer (${renderer}): works, slowly` : renderer}` };
}

async function probeWasm(): Promise<BrowserBackendStatus> {
  const name = 'wasm' as const;
  if (typeof WebAssembly !== 'object') return { name, available: false, reason: 'this browser has no WebAssembly' };
  const [simd, threads] = await Promise.all([
    tf.env().getAsync('WASM_HAS_SIMD_SUPPORT').catch(() => false),
    tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT').catch(() => false),
  ]);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threadsText = threads ? 'yes' : `no${isolated ? '' : ' (the page is not cross-origin isolated: its server must send COOP and COEP headers)'}`;
  return { name, available: true, reason: `CPU, SIMD ${simd ? 'yes' : 'no'}, threads ${threadsText}` };
}

/** Loads tfjs-backend-wasm's flags and backend without initialising it: the SIMD and threads probes need the flags. */
async function loadWasmPackage(options: BrowserBackendOptions): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (options.wasmPaths !== undefined && tf.engine().registry.wasm === undefined) wasm.setWasmPaths(options.wasmPaths);
}

/** Every backend this page could use, fastest first, with why each is or is not available. Initialises none. */
export async function probeBrowserBackends(options: BrowserBackendOptions = {}): Promise<BrowserBackendStatus[]> {
  await loadWasmPackage(options);
  return [
    await probeWebGPU(),
    probeWebGL(),
    await probeWasm(),
    { name: 'cpu', available: true, reason: 'plain JavaScript, always available (the slowest)' },
  ];
}

/**
 * tf.setBackend logs a failed initialisation and returns false; wrapping each registered factory
 * once keeps the error, so the reason can say what went wrong.
 */
const initErrors = new Map<string, string>();
const wrapped = new Set<string>();
function keepInitErrors(name: string): void {
  const factory = tf.findBackendFactory(name);
  if (factory == null || tf.engine().registry[name] !== undefined || wrapped.has(name)) return;
  // The engine's own priority for the backend, so that tf.js's automatic choice is unchanged.
  const priority = (tf.engine() as unknown as { registryFactory: Record<string, { priority?: number }> }).registryFactory[name]?.priority ?? 1;
  tf.removeBackend(name);
  tf.registerBackend(
    name,
    async () => {
      try {
        return await factory();
      } catch (err) {
        initErrors.set(name, errorMessage(err));
        throw err;
      }
    },
    priority,
  );
  wrapped.add(name);
}

/**
 * Makes `name` the current backend; throws BackendUnavailableError with the reason when this
 * browser cannot have it (never a silent fallback to another). For wasm and webgpu it also
 * registers this library's training kernels. Returns the backend's status.
 */
export async function useBrowserBackend(name: BrowserBackendName, options: BrowserBackendOptions = {}): Promise<BrowserBackendStatus> {
  checkOneOf('backend', name, BROWSER_BACKENDS);
  let status: BrowserBackendStatus;
  if (name === 'webgpu') {
    status = await probeWebGPU();
    // Only now: its factory assumes an adapter, and importing it registers a backend above webgl.
    if (status.available) await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'webgl') {
    status = probeWebGL();
  } else if (name === 'wasm') {
    await loadWasmPackage(options);
    status = await probeWasm();
  } else {
    status = { name, available: true, reason: 'plain JavaScript' };
  }
  if (!status.available) throw new BackendUnavailableError(name, status.reason);
  keepInitErrors(name);
  if (!(await tf.setBackend(name))) {
    const why = initErrors.get(name) ?? 'tf.setBackend returned false (see the console)';
    throw new BackendUnavailableError(name, `failed to initialise: ${why}${name === 'wasm' ? ` (are the .wasm files served at ${options.wasmPaths ?? "the script's folder"}?)` : ''}`);
  }
  await tf.ready();
  if (name === 'wasm') registerWasmTrainingKernels();
  if (name === 'webgpu') registerWebGPUTrainingKernels();
  return status;
}
