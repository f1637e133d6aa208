import * as tf from '@tensorflow/tfjs';
import { checkPositiveInt } from '../checks';
import { BackendUnavailableError, InvalidArgumentError } from '../errors';
import { probeTensorflowCpu, probeTensorflowExplicit, probeTensorflowGpu, TFJS_NODE, TFJS_NODE_GPU } from './native';
import { errorMessage } from '../errors';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendName,
  type BackendSelection,
  type BackendStatus,
  type UseBackendOptions,
} from './types';
import { activateWasm, probeWasm } from './wasm';
import { activateWebGPU, describeDawnProbe, probeWebGPU, softwareAllowedByEnv, type ProbeWebGPUOptions, type WebGPUProbe } from './webgpu';

/** The choice `useBackend` makes when given none. */
export const DEFAULT_BACKEND_CHOICE: BackendChoice = 'auto';

/** How a status is named in log lines: the backend, and its package where two share a name. */
export function statusLabel(s: BackendStatus): string {
  return s.name === 'tensorflow' && s.package ? `tensorflow (${s.package})` : s.name;
}

/** Runs a probe; one that throws becomes an unavailable status instead of breaking selection. */
async function guarded(name: BackendName, pkg: string | undefined, probe: () => Promise<BackendStatus>): Promise<BackendStatus> {
  try {
    return await probe();
  } catch (err) {
    return { name, package: pkg, available: false, reason: `probe failed: ${errorMessage(err)}` };
  }
}

/**
 * The WebGPU probe, which runs Dawn in a child process (or reads its cached verdict), and says in
 * `log` what Dawn printed there, so `--verbose` shows it without Dawn writing to our stderr.
 */
async function guardedWebGPU(allowSoftware: boolean, cache: ProbeWebGPUOptions['cache'], log: (line: string) => void): Promise<WebGPUProbe> {
  let probe: WebGPUProbe;
  try {
    probe = await probeWebGPU(cache === 'use' ? { allowSoftware } : { allowSoftware, cache });
  } catch (err) {
    probe = { status: { name: 'webgpu', available: false, reason: `probe failed: ${errorMessage(err)}` } };
  }
  for (const line of describeDawnProbe(probe)) log(`webgpu probe: ${line}`);
  return probe;
}

function cpuStatus(): BackendStatus {
  return {
    name: 'cpu',
    package: '@tensorflow/tfjs-backend-cpu',
    version: tf.version['tfjs-backend-cpu'],
    available: true,
    reason: 'plain JavaScript, always available (the slowest)',
    device: 'CPU',
  };
}

/**
 * Makes `name` current via `run`. When that fails after switching (a WebGPU device that came up
 * but failed its test product), the backend that was current before is restored, or, if there was
 * none, the broken one is removed, so a failure never leaves tf.js computing on it.
 */
async function activate(name: BackendName, run: () => Promise<void>): Promise<string | undefined> {
  const previous = tf.engine().backendName as string | null;
  try {
    await run();
    return undefined;
  } catch (err) {
    if (tf.engine().backendName === name && previous !== name) {
      if (previous) await tf.setBackend(previous);
      else tf.removeBackend(name);
    }
    return errorMessage(err);
  }
}

async function setTensorflow(): Promise<void> {
  if (!(await tf.setBackend('tensorflow'))) throw new Error('failed to initialise: tf.setBackend returned false');
}

async function setCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('failed to initialise: tf.setBackend returned false');
  // tfjs-backend-cpu console.warns a banner recommending tfjs-node on its first tensor under Node.
  // Whoever selects cpu here already has the selection line, and doctor, saying what is faster.
  const backend = tf.backend() as { firstUse?: boolean };
  if (backend.firstUse === true) backend.firstUse = false;
}

async function setWasm(status: BackendStatus, options: UseBackendOptions): Promise<void> {
  const { threads, threadsReason } = await activateWasm({ threads: options.wasmThreads, threadsFallback: options.wasmThreadsFallback });
  status.details = { ...status.details, trainingKernels: true, runningThreads: threads, ...(threadsReason ? { threadsReason } : {}) };
}

/** One backend in `auto`'s order: how to find out whether it can run, and how to make it current. */
interface Tier {
  probe(): Promise<BackendStatus>;
  run(status: BackendStatus): Promise<void>;
}

/**
 * The `auto` order, written once for both selection and doctor: tensorflow with CUDA
 * (tfjs-node-gpu), webgpu, tensorflow on the CPU (tfjs-node), wasm, cpu. `webgpu()` returns the
 * WebGPU probe once its tier has been probed.
 */
function autoTiers(
  allowSoftware: boolean,
  cache: ProbeWebGPUOptions['cache'],
  log: (line: string) => void,
  options: UseBackendOptions = {},
): { tiers: Tier[]; webgpu: () => WebGPUProbe | undefined } {
  let webgpu: WebGPUProbe | undefined;
  const tiers: Tier[] = [
    { probe: () => guarded('tensorflow', TFJS_NODE_GPU, probeTensorflowGpu), run: setTensorflow },
    {
      probe: async () => {
        webgpu = await guardedWebGPU(allowSoftware, cache, log);
        return webgpu.status;
      },
      run: () => activateWebGPU(webgpu as WebGPUProbe),
    },
    { probe: () => guarded('tensorflow', TFJS_NODE, probeTensorflowCpu), run: setTensorflow },
    { probe: () => guarded('wasm', '@tensorflow/tfjs-backend-wasm', probeWasm), run: (s) => setWasm(s, options) },
    { probe: async () => cpuStatus(), run: setCpu },
  ];
  return { tiers, webgpu: () => webgpu };
}

/** Every backend's status in `auto` order, and the WebGPU probe behind its status. */
async function probeAll(allowSoftware: boolean, cache: ProbeWebGPUOptions['cache']): Promise<{ statuses: BackendStatus[]; webgpu: WebGPUProbe }> {
  const { tiers, webgpu } = autoTiers(allowSoftware, cache, () => undefined);
  const statuses: BackendStatus[] = [];
  for (const tier of tiers) statuses.push(await tier.probe());
  return { statuses, webgpu: webgpu() as WebGPUProbe };
}

/**
 * The status of every backend, in `auto` order: tensorflow with CUDA (tfjs-node-gpu), webgpu,
 * tensorflow on the CPU (tfjs-node), wasm, cpu. Does not switch backends, with one exception
 * tfjs-node(-gpu) imposes: when it loads before any backend was set, its import makes `tensorflow`
 * current. Loading it cannot be undone, so its kernels stay registered.
 */
export async function probeBackends(options: Pick<UseBackendOptions, 'allowSoftwareWebGPU'> = {}): Promise<BackendStatus[]> {
  return (await probeAll(options.allowSoftwareWebGPU ?? softwareAllowedByEnv(), 'use')).statuses;
}

/** Internal to doctor: the statuses plus the WebGPU adapter facts, from a fresh WebGPU probe (which refreshes the cache). */
export async function probeForDoctor(allowSoftware: boolean): Promise<{ statuses: BackendStatus[]; webgpu: WebGPUProbe }> {
  return probeAll(allowSoftware, 'refresh');
}

/**
 * Makes a tf.js backend current and says why.
 *
 * `auto` takes the first that works of: tensorflow with CUDA (tfjs-node-gpu), webgpu (Dawn, a
 * hardware adapter), tensorflow on the CPU (tfjs-node), wasm, cpu; each skipped one is in
 * `statuses` with its reason. An explicit choice that cannot be had throws
 * `BackendUnavailableError` with the reason; it never falls back to another backend. After wasm is
 * selected, the training kernels of lib/kernels are registered on it.
 *
 * @param choice @default 'auto'
 */
export async function useBackend(choice: BackendChoice = DEFAULT_BACKEND_CHOICE, options: UseBackendOptions = {}): Promise<BackendSelection> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new InvalidArgumentError('backend', `must be one of ${BACKEND_CHOICES.join(', ')}; got '${String(choice)}'`);
  }
  const log = options.log ?? (() => undefined);
  const probeLog = options.probeLog ?? (() => undefined);
  const allowSoftware = options.allowSoftwareWebGPU ?? softwareAllowedByEnv();
  if (options.wasmThreads !== undefined) checkPositiveInt('wasmThreads', options.wasmThreads);
  return choice === 'auto' ? selectAuto(allowSoftware, log, probeLog, options) : selectExplicit(choice, allowSoftware, log, probeLog, options);
}

async function selectAuto(
  allowSoftware: boolean,
  log: (line: string) => void,
  probeLog: (line: string) => void,
  options: UseBackendOptions,
): Promise<BackendSelection> {
  const statuses: BackendStatus[] = [];
  for (const tier of autoTiers(allowSoftware, 'use', probeLog, options).tiers) {
    const status = await tier.probe();
    statuses.push(status);
    if (status.available) {
      const failure = await activate(status.name, () => tier.run(status));
      if (failure === undefined) {
        log(`backend: ${statusLabel(status)} selected (${status.reason})`);
        return { selected: status.name, statuses };
      }
      status.available = false;
      status.reason = failure.startsWith('failed') ? failure : `failed to initialise: ${failure}`;
    }
    log(`backend: ${statusLabel(status)} skipped: ${status.reason}`);
  }
  throw new BackendUnavailableError('auto', statuses.map((s) => `${statusLabel(s)}: ${s.reason}`).join('; '));
}

async function selectExplicit(
  name: BackendName,
  allowSoftware: boolean,
  log: (line: string) => void,
  probeLog: (line: string) => void,
  options: UseBackendOptions,
): Promise<BackendSelection> {
  let status: BackendStatus;
  let run: (s: BackendStatus) => Promise<void>;
  switch (name) {
    case 'tensorflow':
      status = await guarded('tensorflow', undefined, probeTensorflowExplicit);
      run = setTensorflow;
      break;
    case 'webgpu': {
      const probe = await guardedWebGPU(allowSoftware, 'use', probeLog);
      status = probe.status;
      run = () => activateWebGPU(probe);
      break;
    }
    case 'wasm':
      status = await guarded('wasm', '@tensorflow/tfjs-backend-wasm', probeWasm);
      run = (s) => setWasm(s, options);
      break;
    case 'cpu':
      status = cpuStatus();
      run = setCpu;
      break;
  }
  if (!status.available) throw new BackendUnavailableError(name, status.reason);
  const failure = await activate(name, () => run(status));
  if (failure !== undefined) {
    throw new BackendUnavailableError(name, failure.startsWith('failed') ? failure : `failed to initialise: ${failure}`);
  }
  if (status.name === 'tensorflow' && status.device === 'CPU' && status.package === TFJS_NODE_GPU) {
    log(`backend: tensorflow (${TFJS_NODE_GPU}) runs on the CPU: ${status.reason}`);
  }
  log(`backend: ${statusLabel(status)} selected (${status.reason})`);
  return { selected: name, statuses: [status] };
}
