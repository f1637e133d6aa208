import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { BackendStatus, WebGPUAdapterReport } from './types';
import { type DawnAttempt, type DawnProbeOptions, type DawnProbeRun, type RawAdapter, probeDawn } from './dawn-probe';
import { visibleSharedLibraries } from './native';
import { bundleDir, resolvePackageDir, runtimeRequire } from '../runtime';
import { errorMessage } from '../errors';
import { registerWebGPUTrainingKernels } from '../kernels/webgpu';
import { versionMismatch } from './versions';

/** Set to `1` to let a software (CPU) or OpenGL compatibility-mode adapter count as available. */
export const ALLOW_SOFTWARE_ENV = 'MNIST_NETS_WEBGPU_ALLOW_SOFTWARE';
/** `;`-separated options for Dawn's `create()`, e.g. `backend=vulkan;adapter=NVIDIA H100 80GB HBM3`. */
export const DAWN_OPTIONS_ENV = 'MNIST_NETS_DAWN_OPTIONS';
/** Path of a dawn.node to load instead of the one next to the bundle or in node_modules/webgpu. */
export const DAWN_NODE_ENV = 'MNIST_NETS_DAWN_NODE';

/** The adapter limits tfjs-backend-webgpu requests for its device, plus two that bound model size. */
export const KEY_LIMITS: readonly string[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
];

/** The limits tfjs-backend-webgpu's own factory passes as requiredLimits. */
const REQUIRED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
];

/** Names under which CPU implementations of Vulkan, OpenGL and D3D describe themselves. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b|software/i;

type FeatureLevel = DawnAttempt['featureLevel'];

interface AdapterRequest {
  powerPreference?: 'high-performance' | 'low-power';
  featureLevel?: FeatureLevel;
}

type DawnAdapterInfo = RawAdapter['info'];

interface DawnAdapter {
  info?: DawnAdapterInfo;
  isFallbackAdapter?: boolean;
  limits: Record<string, number | undefined>;
  features: Iterable<string> & { has(feature: string): boolean };
  requestDevice(descriptor?: unknown): Promise<unknown>;
}

interface DawnGPU {
  requestAdapter(request?: AdapterRequest): Promise<DawnAdapter | null>;
  wgslLanguageFeatures?: unknown;
}

interface DawnModule {
  create(options: string[]): DawnGPU;
  globals: Record<string, unknown>;
}

/** One way of asking Dawn for an adapter. */
export type AdapterAttempt = DawnAttempt;

/** The outcome of probing WebGPU; `attempt` is how the usable adapter was found. */
export interface WebGPUProbe {
  status: BackendStatus;
  adapter?: WebGPUAdapterReport;
  attempt?: AdapterAttempt;
  /** The child process's run (or the cached one): outcomes and what Dawn printed. Absent when there is no dawn.node. */
  dawn?: DawnProbeRun;
}

/** Whether software adapters are allowed by default, from MNIST_NETS_WEBGPU_ALLOW_SOFTWARE. */
export function softwareAllowedByEnv(): boolean {
  return process.env[ALLOW_SOFTWARE_ENV] === '1';
}

/** Dawn `create()` options from MNIST_NETS_DAWN_OPTIONS. */
export function dawnOptionsFromEnv(): string[] {
  return (process.env[DAWN_OPTIONS_ENV] ?? '')
    .split(';')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
}

/**
 * The attempts, best first. Dawn's default on Linux is Vulkan, core WebGPU. When the user named no
 * Dawn options, Linux gets a second try through OpenGL via EGL without a display (compatibility
 * mode): it is how a machine with only Mesa's llvmpipe, or a GPU with GL but no Vulkan driver, still
 * shows an adapter, which doctor reports even where auto will not use it.
 */
export function adapterAttempts(platform: string, userOptions: string[]): AdapterAttempt[] {
  const attempts: AdapterAttempt[] = [{ dawnOptions: userOptions, featureLevel: 'core' }];
  if (platform === 'linux' && userOptions.length === 0) {
    attempts.push({ dawnOptions: ['backend=opengl'], featureLevel: 'compatibility', env: { EGL_PLATFORM: 'surfaceless' } });
  }
  return attempts;
}

/** Whether an adapter is a CPU implementation, from the spec's fallback flag or its name. */
export function isSoftwareAdapter(info: DawnAdapterInfo, isFallbackAdapter = false): boolean {
  if (isFallbackAdapter || info.isFallbackAdapter === true) return true;
  return SOFTWARE_NAMES.test([info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' '));
}

/** A short name for an adapter: its device, with the description when that adds something. */
export function adapterName(report: Pick<WebGPUAdapterReport, 'vendor' | 'device' | 'description'>): string {
  const device = report.device || report.vendor || 'unnamed adapter';
  return report.description && report.description !== device ? `${device} (${report.description})` : device;
}

/** Where a dawn.node for this platform is, or why there is none. */
export function locateDawnNode(): { file: string; version?: string } | { reason: string } {
  const fromEnv = process.env[DAWN_NODE_ENV];
  if (fromEnv) return fs.existsSync(fromEnv) ? { file: fromEnv } : { reason: `${DAWN_NODE_ENV}=${fromEnv} does not exist` };
  const here = bundleDir();
  if (here !== undefined && fs.existsSync(path.join(here, 'dawn.node'))) return { file: path.join(here, 'dawn.node'), version: dawnPackageVersion() };
  const dir = resolvePackageDir('webgpu');
  if (dir === undefined) return { reason: 'not installed (npm i webgpu)' };
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  const file = path.join(dir, 'dist', `${process.platform}-${arch}`, 'dawn.node');
  if (!fs.existsSync(file)) return { reason: `the webgpu package has no dawn.node for ${process.platform}-${arch}` };
  return { file, version: dawnPackageVersion() };
}

/** Version of the npm package `webgpu` (Dawn), read at build time into the bundle. */
export function dawnPackageVersion(): string | undefined {
  try {
    // A literal path, so esbuild inlines this small JSON; dawn.node itself stays a file.
    return (require('webgpu/package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Version of @tensorflow/tfjs-backend-webgpu, without importing the backend. */
export function webgpuBackendVersion(): string | undefined {
  try {
    return (require('@tensorflow/tfjs-backend-webgpu/package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

let dawn: { module: DawnModule; file: string; version?: string } | { reason: string } | undefined;
const instances = new Map<string, DawnGPU>();

/**
 * Loads dawn.node once. The package's index.js is an ES module, which jest and the CommonJS build
 * cannot require; the addon itself is what it wraps, so it is loaded directly. The package's
 * patch that unmaps buffers on GPUDevice.destroy() is not applied; tf.js never destroys its device.
 */
function loadDawn(): { module: DawnModule; file: string; version?: string } | { reason: string } {
  if (dawn) return dawn;
  const found = locateDawnNode();
  if ('reason' in found) return (dawn = found);
  try {
    const module = runtimeRequire(found.file) as DawnModule;
    if (typeof module.create !== 'function') return (dawn = { reason: `failed to load: ${found.file} has no create()` });
    return (dawn = { module, file: found.file, version: found.version });
  } catch (err) {
    return (dawn = { reason: `failed to load: ${errorMessage(err)} (${found.file})` });
  }
}

function dawnInstance(module: DawnModule, attempt: AdapterAttempt): DawnGPU {
  const key = attempt.dawnOptions.join(';');
  let gpu = instances.get(key);
  if (!gpu) {
    // EGL reads EGL_PLATFORM when Dawn opens its display; it is left set because the device that
    // tf.js later creates on this adapter opens the same display.
    for (const [k, v] of Object.entries(attempt.env ?? {})) if (process.env[k] === undefined) process.env[k] = v;
    gpu = module.create(attempt.dawnOptions);
    instances.set(key, gpu);
  }
  return gpu;
}

function describeAdapter(adapter: RawAdapter, attempt: AdapterAttempt): WebGPUAdapterReport {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const key of KEY_LIMITS) {
    const v = adapter.limits[key];
    if (typeof v === 'number') limits[key] = v;
  }
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    featureLevel: attempt.featureLevel,
    software: isSoftwareAdapter(info, adapter.isFallbackAdapter),
    dawnOptions: attempt.dawnOptions,
    limits,
    features: [...adapter.features].sort(),
  };
}

function noAdapterHint(): string {
  if (process.platform !== 'linux') return '';
  if (!visibleSharedLibraries().has('libvulkan.so.1')) {
    return ' (the Vulkan loader libvulkan.so.1 is not installed: install libvulkan1 and the GPU vendor\'s Vulkan driver)';
  }
  return ' (libvulkan.so.1 is present but Dawn accepted no Vulkan device; `vulkaninfo --summary` lists what the loader sees)';
}

/** Options of `probeWebGPU`. */
export interface ProbeWebGPUOptions extends Pick<DawnProbeOptions, 'cache' | 'timeoutSeconds' | 'cacheDir'> {
  /** @default process.env.MNIST_NETS_WEBGPU_ALLOW_SOFTWARE === '1' */
  allowSoftware?: boolean;
}

/**
 * Looks for a WebGPU adapter in a child process (Dawn's own stderr lines stay there, in
 * `probe.dawn.output`), or takes the cached answer for this machine and environment; does not load
 * dawn.node here, create a device or import tfjs-backend-webgpu. Never throws: a broken dawn.node,
 * a crash or a Dawn error becomes the reason.
 */
export async function probeWebGPU(options: ProbeWebGPUOptions = {}): Promise<WebGPUProbe> {
  const allowSoftware = options.allowSoftware ?? softwareAllowedByEnv();
  const base = { name: 'webgpu' as const, package: '@tensorflow/tfjs-backend-webgpu', version: webgpuBackendVersion() };
  const mismatch = versionMismatch(base.package, base.version);
  if (mismatch) return { status: { ...base, available: false, reason: mismatch } };
  const found = locateDawnNode();
  if ('reason' in found) {
    const reason = found.reason.startsWith('not installed') ? found.reason : `no Dawn: ${found.reason}`;
    return { status: { ...base, available: false, reason } };
  }
  const attempts = adapterAttempts(process.platform, dawnOptionsFromEnv());
  const run = await probeDawn(found.file, found.version, attempts, KEY_LIMITS, options);
  const probe = interpretDawnProbe(run, attempts, allowSoftware, found.version);
  return { ...probe, status: { ...base, ...probe.status } };
}

/** Turns what the child saw into a status: which adapter, and whether `auto` may use it. */
function interpretDawnProbe(run: DawnProbeRun, attempts: AdapterAttempt[], allowSoftware: boolean, version: string | undefined): WebGPUProbe {
  const status = { name: 'webgpu' as const };
  if (run.failure) return { status: { ...status, available: false, reason: run.failure }, dawn: run };
  const dawnDetail = { dawn: `webgpu ${version ?? '(version unknown)'}` };
  const failures: string[] = [];
  let coreMissing = false;
  for (const [i, outcome] of run.outcomes.entries()) {
    const attempt = attempts[i]!;
    if ('error' in outcome) {
      failures.push(`${attempt.dawnOptions.join(' ') || 'default'}: ${outcome.error}`);
      continue;
    }
    if (!outcome.adapter) {
      if (attempt.featureLevel === 'core') coreMissing = true;
      continue;
    }
    const report = describeAdapter(outcome.adapter, attempt);
    const name = adapterName(report);
    const details = { ...dawnDetail, featureLevel: report.featureLevel, software: report.software, ...report.limits };
    const prefix = coreMissing ? `no adapter: requestAdapter returned null${noAdapterHint()}; the only adapter is ` : '';
    const how = report.featureLevel === 'compatibility' ? ` via ${report.dawnOptions.join(' ')} in compatibility mode` : '';
    const found = { adapter: report, attempt, dawn: run };
    if (report.software && !allowSoftware) {
      return {
        status: { ...status, available: false, device: name, details, reason: `${prefix}${prefix ? 'a' : 'adapter is a'} CPU (software) device: ${name}${how}; ${ALLOW_SOFTWARE_ENV}=1 allows it for testing` },
        ...found,
      };
    }
    if (report.featureLevel === 'compatibility' && !allowSoftware) {
      return {
        status: { ...status, available: false, device: name, details, reason: `${prefix}${name}${how}, a reduced WebGPU that tfjs-backend-webgpu does not target; ${ALLOW_SOFTWARE_ENV}=1 allows it` },
        ...found,
      };
    }
    const note = report.software ? `, a CPU (software) device allowed by ${ALLOW_SOFTWARE_ENV}` : '';
    return { status: { ...status, available: true, device: name, details, reason: `adapter: ${name}${how}${note}` }, ...found };
  }
  const why = failures.length > 0 ? `; ${failures.join('; ')}` : '';
  return { status: { ...status, available: false, details: dawnDetail, reason: `no adapter: requestAdapter returned null${noAdapterHint()}${why}` }, dawn: run };
}

/**
 * What the probe saw, for `doctor` and `--verbose`: where the verdict came from and every line Dawn
 * printed while it was asked for adapters.
 */
export function describeDawnProbe(probe: WebGPUProbe): string[] {
  const run = probe.dawn;
  if (!run) return [];
  const when = run.cachedIn
    ? `cached verdict of ${run.date} (${run.cachedIn}; \`mnist-nets doctor\` probes again)`
    : `probed in a child process in ${run.seconds.toFixed(1)} s`;
  const said = run.output.length > 0 ? `; Dawn printed ${run.output.length} line${run.output.length === 1 ? '' : 's'}:` : '; Dawn printed nothing';
  return [`${when}${said}`, ...run.output.map((l) => `  ${l}`)];
}

interface WebGPUBackendModule {
  WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
}

let lastInitError: string | undefined;

/**
 * Exposes the probed adapter as navigator.gpu, imports tfjs-backend-webgpu (only now, because it
 * registers its backend at import when navigator.gpu exists, and there is nothing to register on a
 * machine without an adapter) and makes `webgpu` the current backend. Throws an Error whose message
 * is the reason when any step fails.
 */
export async function activateWebGPU(probe: WebGPUProbe): Promise<void> {
  const loaded = loadDawn();
  if ('reason' in loaded || !probe.attempt || !probe.status.available) throw new Error(probe.status.reason);
  const attempt = probe.attempt;
  const gpu = dawnInstance(loaded.module, attempt);
  installNavigatorGpu(loaded.module.globals, gpu, attempt.featureLevel);

  let backendModule: WebGPUBackendModule;
  try {
    backendModule = require('@tensorflow/tfjs-backend-webgpu') as WebGPUBackendModule;
  } catch (err) {
    throw new Error(`failed to load @tensorflow/tfjs-backend-webgpu: ${errorMessage(err)}`);
  }
  // After the import, which registers upstream's kernels: some of ours replace them.
  registerWebGPUTrainingKernels();
  if (tf.engine().registry.webgpu === undefined) {
    // The package registered a factory of its own at import, which asks for whichever adapter
    // Dawn returns first; ours asks the same way the probe did, so the adapter doctor showed is
    // the one used, and keeps the error tf.js would only log.
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => createBackend(gpu, attempt, backendModule), 3);
  }
  lastInitError = undefined;
  if (!(await tf.setBackend('webgpu'))) throw new Error(`failed to initialise: ${lastInitError ?? 'tf.setBackend returned false'}`);
  await smokeTest();
}

async function createBackend(gpu: DawnGPU, attempt: AdapterAttempt, mod: WebGPUBackendModule): Promise<tf.KernelBackend> {
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: attempt.featureLevel });
    if (!adapter) throw new Error('requestAdapter returned null when creating the device');
    const requiredLimits: Record<string, number> = {};
    for (const key of REQUIRED_LIMITS) {
      const v = adapter.limits[key];
      if (typeof v === 'number') requiredLimits[key] = v;
    }
    const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
    return new mod.WebGPUBackend(device, adapter.info);
  } catch (err) {
    lastInitError = errorMessage(err);
    throw err;
  }
}

/** Dawn's GPU* constants (GPUBufferUsage, ...) and navigator.gpu, as a browser would have them. */
function installNavigatorGpu(globals: Record<string, unknown>, gpu: DawnGPU, featureLevel: FeatureLevel): void {
  const g = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(globals)) {
    if (!(key in g)) Object.defineProperty(g, key, { value, writable: true, configurable: true });
  }
  // tfjs-backend-webgpu asks for a core adapter; on a compatibility-mode adapter that returns null,
  // so the level the probe used is added to every request.
  const exposed =
    featureLevel === 'core'
      ? gpu
      : {
          requestAdapter: (request?: AdapterRequest) => gpu.requestAdapter({ ...request, featureLevel }),
          getPreferredCanvasFormat: () => 'rgba8unorm',
          wgslLanguageFeatures: gpu.wgslLanguageFeatures,
        };
  const nav = g.navigator as Record<string, unknown> | undefined;
  if (nav && typeof nav === 'object') {
    Object.defineProperty(nav, 'gpu', { value: exposed, writable: true, configurable: true });
  } else {
    Object.defineProperty(g, 'navigator', { value: { gpu: exposed }, writable: true, configurable: true });
  }
}

/**
 * A device can come up and still fail to compile or run a shader (compatibility mode, old
 * drivers); one small product catches that before training starts.
 */
async function smokeTest(): Promise<void> {
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])));
  try {
    const values = Array.from(await product.data());
    if (values.join(',') !== '19,22,43,50') throw new Error(`a 2x2 matMul on the adapter gave [${values.join(', ')}], not [19, 22, 43, 50]`);
  } finally {
    product.dispose();
  }
}
