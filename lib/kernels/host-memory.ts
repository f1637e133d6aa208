/**
 * How kernels written in JavaScript and in this library's WebAssembly modules reach a CPU
 * backend's tensors: the wasm backend's heap (typed-array views, byte offsets, its
 * `WebAssembly.Memory`) or the cpu backend's arrays. The one place that knows these backends'
 * internals (tfjs-backend-wasm and tfjs-backend-cpu 4.22, both pinned).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors';

type KernelBackend = Parameters<tf.KernelFunc>[0]['backend'];

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  getMemoryOffset(dataId: object): number;
  disposeData(dataId: object): boolean;
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory }; tfjs: { getThreadsCount(): number } };
}

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/**
 * The wasm backend's memory: exported by the single-threaded build, imported (shared) by the
 * threaded one. Undefined if neither is where tfjs-backend-wasm 4.22 keeps it.
 */
export function wasmMemoryOf(backend: KernelBackend): WebAssembly.Memory | undefined {
  const wasm = (backend as unknown as WasmBackendLike).wasm;
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** Float32 tensors of a CPU backend as arrays; on wasm also as byte offsets into its memory. */
export interface HostMemory {
  /** Allocates a float32 output; call all of these before {@link view}: an allocation can move the wasm heap. */
  allocate(shape: number[]): tf.TensorInfo;
  view(t: tf.TensorInfo): Float32Array;
  /** wasm only. */
  offset?(t: tf.TensorInfo): number;
  /** wasm only. */
  memory?: WebAssembly.Memory;
}

/** Memory access for a kernel registered for `backendName` ('wasm' or 'cpu'). */
export function hostMemory(kernel: string, backendName: string, backend: KernelBackend): HostMemory {
  if (backendName === 'wasm') {
    const wasm = backend as unknown as WasmBackendLike;
    return {
      allocate: (shape) => wasm.makeOutput(shape, 'float32'),
      view: (t) => wasm.typedArrayFromHeap(t) as Float32Array,
      offset: (t) => wasm.getMemoryOffset(t.dataId),
      memory: wasmMemoryOf(backend),
    };
  }
  const cpu = backend as unknown as CpuBackendLike;
  return {
    allocate: (shape) => cpu.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, b) => a * b, 1))),
    view: (t) => {
      const values = cpu.data.get(t.dataId).values;
      if (!(values instanceof Float32Array)) throw new KernelError(kernel, 'expected float32 values on the cpu backend');
      return values;
    },
  };
}
