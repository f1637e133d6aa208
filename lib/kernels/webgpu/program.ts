/**
 * How this library's WebGPU kernels run a GPU program: on tfjs-backend-webgpu's own machinery
 * (its buffer manager, pipeline cache, command encoder, deferred submission, uniform buffers and
 * the profiler's timestamp queries), with one difference: a program may write several outputs.
 *
 * Upstream's `runWebGPUProgram` binds exactly one output (`result`, binding 0) and generates the
 * rest of the shader around the program's `getUserCode()`. An optimiser update writes the new
 * variable and its new moments; a loss writes the loss, dL/dz and the bias gradient. As single-
 * output programs that is three programs where one suffices, each re-reading the same inputs. So
 * a program here is a complete WGSL module over flat `array<f32>` buffers, compiled into
 * upstream's pipeline cache, and recorded by upstream's `recordAndSubmit`, which binds `[output,
 * ...inputs, uniforms]` in that order and so serves several outputs when the extra outputs travel
 * as its "inputs". Every buffer is passed as a rank-1 view, which makes upstream's uniform block a
 * run of 4-byte scalars: NAN, INFINITY, then each buffer's length and stride (1), then this
 * program's own scalars.
 *
 * The one place that knows tfjs-backend-webgpu's internals (4.22, pinned), as host-memory.ts is
 * for the CPU backends.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../../errors';

type KernelBackend = Parameters<tf.KernelFunc>[0]['backend'];

/** A scalar uniform: its WGSL type and value. */
export interface Uniform {
  name: string;
  type: 'f32' | 'i32';
  value: number;
}

interface GpuPipeline {
  getBindGroupLayout(index: number): unknown;
}

interface GpuDevice {
  limits: Record<string, number>;
  createShaderModule(descriptor: { code: string; label?: string }): unknown;
  createComputePipeline(descriptor: { layout: unknown; compute: { module: unknown; entryPoint: string }; label?: string }): GpuPipeline;
  createBindGroupLayout(descriptor: { entries: { binding: number; visibility: number; buffer: { type: string } }[] }): unknown;
  createPipelineLayout(descriptor: { bindGroupLayouts: unknown[] }): unknown;
  pushErrorScope?(filter: 'validation'): void;
  popErrorScope?(): Promise<{ message: string } | null>;
}

/** The parts of tfjs-backend-webgpu 4.22's WebGPUBackend this module uses. */
interface WebGPUBackendLike {
  device: GpuDevice;
  pipelineCache: Record<string, GpuPipeline | Promise<GpuPipeline>>;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  recordAndSubmit(program: RecordedProgram, output: tf.TensorInfo, inputs: tf.TensorInfo[], uniforms: { type: string; data: number[] }[]): void;
  tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
}

/** What recordAndSubmit reads from a program. */
interface RecordedProgram {
  pipeline: GpuPipeline;
  dispatch: [number, number, number];
  outputShape: number[];
  size?: boolean;
  pixelsOpType?: undefined;
}

/** The device's limit on workgroups per dispatch dimension (WebGPU's default 65535). */
function maxWorkgroups(device: GpuDevice): number {
  return device.limits['maxComputeWorkgroupsPerDimension'] ?? 65535;
}

/** Storage buffers one program may bind (WebGPU's default 8). */
export function maxStorageBuffers(backend: KernelBackend): number {
  return webgpuBackend('webgpu', backend).device.limits['maxStorageBuffersPerShaderStage'] ?? 8;
}

export function webgpuBackend(kernel: string, backend: KernelBackend): WebGPUBackendLike {
  const b = backend as unknown as Partial<WebGPUBackendLike>;
  if (typeof b.recordAndSubmit !== 'function' || typeof b.uploadToGPU !== 'function' || b.device == null || b.pipelineCache == null) {
    throw new KernelError(kernel, 'expected the webgpu backend of @tensorflow/tfjs-backend-webgpu 4.22');
  }
  return b as WebGPUBackendLike;
}

/** A GPU program of this library: WGSL built from its buffers and scalars, several outputs allowed. */
export interface ProgramSpec {
  /**
   * The program's name in profiles (tf.profile's `extraInfo` lists the programs a kernel ran by
   * this name, as upstream's list their class names).
   */
  name: string;
  /** Everything the WGSL depends on besides buffer lengths and uniform values: the pipeline's cache key. */
  variant: string;
  /** Float32 outputs (already allocated with {@link allocate}), bound as `out0..`. */
  outputs: tf.TensorInfo[];
  /** Float32 inputs, bound read-only as `in0..`. */
  inputs: tf.TensorInfo[];
  /** Scalars, read in WGSL as `uniforms.NAME`; each buffer's length is also there as `uniforms.lenOut0`, `uniforms.lenIn0`, ... */
  uniforms?: Uniform[];
  /** Invocations per workgroup (x only). */
  workgroupSize: number;
  /**
   * Workgroups to run. A count above the device's per-dimension limit is laid out in two
   * dimensions; WGSL reads the flat workgroup number as `workgroupIndex()` and the flat invocation
   * as `globalIndex()`.
   */
  workgroups: number;
  /**
   * The module's own code: at least `fn run(index : i32, local : i32)` (called once per
   * invocation with `globalIndex()` and the invocation's index in its workgroup), plus any
   * module-scope declarations it needs (`var<workgroup>` arrays, helper functions). A function
   * is called only when the pipeline is compiled, once per variant (the pipeline cache's key), so
   * a code built from the variant's parts is not rebuilt on every dispatch.
   */
  code: string | (() => string);
}

/** GPUShaderStage.COMPUTE, spelled out: the module must load where Dawn's globals are not installed. */
const COMPUTE_STAGE = 4;

function wgslModule(spec: ProgramSpec): string {
  // recordAndSubmit's order: its inputs (here outputs 1.. then the inputs), then its output (out0).
  const fields = ['NAN : f32', 'INFINITY : f32'];
  const lengths = (name: string) => fields.push(`len${name} : i32`, `stride${name} : i32`);
  spec.outputs.slice(1).forEach((_, i) => lengths(`Out${i + 1}`));
  spec.inputs.forEach((_, i) => lengths(`In${i}`));
  lengths('Out0');
  for (const u of spec.uniforms ?? []) fields.push(`${u.name} : ${u.type}`);
  const bindings = [
    ...spec.outputs.map((_, i) => `@group(0) @binding(${i}) var<storage, read_write> out${i} : array<f32>;`),
    ...spec.inputs.map((_, i) => `@group(0) @binding(${spec.outputs.length + i}) var<storage, read> in${i} : array<f32>;`),
    `@group(0) @binding(${spec.outputs.length + spec.inputs.length}) var<uniform> uniforms : Uniforms;`,
  ];
  return `
struct Uniforms { ${fields.join(', ')} };
${bindings.join('\n')}
var<private> workgroupFlat : i32;
var<private> invocationFlat : i32;
fn workgroupIndex() -> i32 { return workgroupFlat; }
fn globalIndex() -> i32 { return invocationFlat; }
${typeof spec.code === 'function' ? spec.code() : spec.code}
@compute @workgroup_size(${spec.workgroupSize}, 1, 1)
fn _start(@builtin(local_invocation_index) local : u32, @builtin(workgroup_id) group : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  workgroupFlat = i32(group.y * groups.x + group.x);
  invocationFlat = workgroupFlat * ${spec.workgroupSize} + i32(local);
  run(invocationFlat, i32(local));
}
`;
}

/**
 * Programs whose shader or pipeline Dawn rejected. Dawn reports that asynchronously and otherwise
 * only logs it, and a rejected program then silently does nothing (the weights would stop
 * changing); so the verdict is collected here and the next program run throws it.
 */
const rejected: { name: string; message: string }[] = [];

function throwIfRejected(): void {
  const first = rejected[0];
  if (first) throw new KernelError(first.name, `the GPU rejected this program's shader or pipeline: ${first.message}`);
}

function pipelineFor(backend: WebGPUBackendLike, spec: ProgramSpec): GpuPipeline {
  const key = `mnistNets:${spec.name}:${spec.variant}:${spec.outputs.length}:${spec.inputs.length}:${spec.workgroupSize}:${(spec.uniforms ?? []).map((u) => `${u.name}/${u.type}`).join(',')}`;
  const cached = backend.pipelineCache[key];
  if (cached != null && !(cached instanceof Promise)) return cached;
  const device = backend.device;
  // An explicit layout: every buffer is bound whether or not the shader reads it ('auto' would drop
  // unread bindings, and the bind group recordAndSubmit builds would then fail validation).
  const entries = [
    ...spec.outputs.map((_, i) => ({ binding: i, visibility: COMPUTE_STAGE, buffer: { type: 'storage' } })),
    ...spec.inputs.map((_, i) => ({ binding: spec.outputs.length + i, visibility: COMPUTE_STAGE, buffer: { type: 'read-only-storage' } })),
    { binding: spec.outputs.length + spec.inputs.length, visibility: COMPUTE_STAGE, buffer: { type: 'uniform' } },
  ];
  const layout = device.createPipelineLayout({ bindGroupLayouts: [device.createBindGroupLayout({ entries })] });
  const scoped = typeof device.pushErrorScope === 'function' && typeof device.popErrorScope === 'function';
  if (scoped) device.pushErrorScope!('validation');
  const module = device.createShaderModule({ code: wgslModule(spec), label: spec.name });
  const pipeline = device.createComputePipeline({ layout, compute: { module, entryPoint: '_start' }, label: spec.name });
  if (scoped) {
    device.popErrorScope!().then(
      (error) => {
        if (error) rejected.push({ name: spec.name, message: error.message });
      },
      () => undefined, // a lost device is reported by tf.js's own reads
    );
  }
  backend.pipelineCache[key] = pipeline;
  return pipeline;
}

/** A float32 tensor of `shape` on the webgpu backend, its buffer allocated when a program first writes it. */
export function allocate(backend: KernelBackend, shape: number[]): tf.TensorInfo {
  return webgpuBackend('webgpu', backend).makeTensorInfo(shape, 'float32');
}

function flat(t: tf.TensorInfo): tf.TensorInfo {
  return { dataId: t.dataId, shape: [Math.max(1, tf.util.sizeFromShape(t.shape))], dtype: t.dtype };
}

/**
 * Records `spec` on the backend's command encoder (submitted with upstream's own batching) and
 * returns its outputs. Named classes give the profiler its program names, as upstream's do.
 */
export function runProgram(backend: KernelBackend, spec: ProgramSpec): tf.TensorInfo[] {
  throwIfRejected();
  const gpu = webgpuBackend(spec.name, backend);
  if (spec.outputs.length === 0) throw new KernelError(spec.name, 'a program needs an output');
  const buffers = [...spec.inputs, ...spec.outputs];
  for (const t of buffers) {
    if (t.dtype !== 'float32') throw new KernelError(spec.name, `every buffer must be float32, got ${t.dtype} [${t.shape}]`);
  }
  for (const t of buffers) gpu.uploadToGPU(t.dataId);
  const limit = maxWorkgroups(gpu.device);
  const count = Math.max(1, spec.workgroups);
  const dispatch: [number, number, number] = count <= limit ? [count, 1, 1] : [limit, Math.ceil(count / limit), 1];
  if (dispatch[1] > limit) throw new KernelError(spec.name, `${count} workgroups exceed the device's ${limit} x ${limit}`);
  const program = namedProgram(spec.name, { pipeline: pipelineFor(gpu, spec), dispatch, outputShape: flat(spec.outputs[0]!).shape });
  const views = [...spec.outputs, ...spec.inputs].map(flat);
  gpu.recordAndSubmit(
    program,
    views[0]!,
    views.slice(1),
    (spec.uniforms ?? []).map((u) => ({ type: u.type === 'f32' ? 'float32' : 'int32', data: [u.value] })),
  );
  return spec.outputs;
}

const programClasses = new Map<string, new (fields: RecordedProgram) => RecordedProgram>();

/** An object whose constructor is named `name`: upstream's profiler records `program.constructor.name`. */
function namedProgram(name: string, fields: RecordedProgram): RecordedProgram {
  let cls = programClasses.get(name);
  if (!cls) {
    const made = {
      [name]: class {
        constructor(f: RecordedProgram) {
          Object.assign(this, f);
        }
      },
    }[name]! as unknown as new (fields: RecordedProgram) => RecordedProgram;
    programClasses.set(name, made);
    cls = made;
  }
  return new cls(fields);
}

/** Workgroups for `n` invocations of `size` each. */
export function workgroupsFor(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size));
}
