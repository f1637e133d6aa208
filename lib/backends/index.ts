/**
 * Backend detection and selection for tf.js under Node: tfjs-node-gpu (CUDA), WebGPU through
 * Dawn, tfjs-node, wasm and cpu, with the reasons each one can or cannot be had.
 */
export type {
  BackendChoice,
  BackendName,
  BackendSelection,
  BackendStatus,
  DoctorReport,
  GpuFacts,
  NvidiaGpu,
  UseBackendOptions,
  WebGPUAdapterReport,
} from './types';
export { BACKEND_CHOICES, wasmWorkloadOf, type WasmWorkload } from './types';
export { DEFAULT_BACKEND_CHOICE, probeBackends, useBackend } from './select';
export { doctor, formatDoctor } from './doctor';
export {
  CUDA_LIBRARIES,
  TFJS_NODE_GPU_NEEDS,
  checkCudaLibraries,
  explainNativeLoadError,
  parseLdconfig,
  parseNvidiaSmi,
  type NativeLoadErrorKind,
  type NativeLoadExplanation,
} from './native';
export { ALLOW_SOFTWARE_ENV, DAWN_NODE_ENV, DAWN_OPTIONS_ENV, adapterAttempts, isSoftwareAdapter } from './webgpu';
export { WASM_DIR_ENV, recommendedWasmThreads } from './wasm';
