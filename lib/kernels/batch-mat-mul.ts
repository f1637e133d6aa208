/**
 * Matrix products for the wasm backend, arranged so that XNNPACK does the arithmetic and the
 * data movement around it stays small.
 *
 * Two properties of tfjs-backend-wasm 4.22 make a dense layer's training step slow:
 * - A product reaches XNNPACK's fully-connected operator only when neither operand is
 *   transposed (and there is one batch); otherwise it runs a blocked scalar loop at about 1/10
 *   of the speed (0.8 vs 9.5 GFLOP/s measured for the dense layer's weight gradient). The
 *   backward pass of every dense layer asks for exactly those products (dW = x^T dy,
 *   dx = dy W^T).
 * - XNNPACK repacks its right-hand operand ("weights", K x N) with a strided transposing copy,
 *   ~8 ns per element here, and caches the packing per tensor. A weight matrix updated by the
 *   optimizer is a new tensor every step, so the forward product x W pays the packing every
 *   step: 27 ms of the 41 ms the 3136x1024 layer's forward product took, against ~1.3 ns per
 *   element for an explicit Transpose.
 * Every product can be written two ways, out = op(a) op(b) or out^T = op(b)^T op(a)^T; the
 * planner below picks the one that moves and packs fewer bytes, counting a packing as free
 * when XNNPACK has it cached.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors';
import { Scratch, callWasmKernel, originalKernels, requireInput, swapLastTwo } from './compose';
import { WasmBackendLike, wasmMemoryOf } from './host-memory';
import { SimdGemm, simdGemm } from './simd-gemm';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** XNNPACK's transposing weight packing, per element (measured, 3136x1024, one core). */
const PACK_NS = 8;
/** tfjs-backend-wasm's Transpose of a matrix, per element (measured, 3136x1024). */
const TRANSPOSE_NS = 1.3;
/** Fixed cost of one more kernel call (allocation, bookkeeping), measured on small matrices. */
const CALL_NS = 30_000;

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** What the planner needs to know about operand packing done by earlier calls. */
export interface PackingState {
  /** XNNPACK already holds a packing of `a` / `b` (it was the right-hand operand before). */
  aPacked: boolean;
  bPacked: boolean;
  /** `b` was the plain right-hand operand of an earlier product: it is being reused. */
  bReused: boolean;
}

const NOTHING_PACKED: PackingState = { aPacked: false, bPacked: false, bReused: false };

/**
 * Chooses how to compute op(a) op(b) with plain row-major products:
 *   direct:   out   = op(a) op(b)       transposes a if transposeA, b if transposeB;
 *                                       XNNPACK packs op(b)
 *   swapped:  out^T = op(b)^T op(a)^T   transposes b if !transposeB, a if !transposeA;
 *                                       XNNPACK packs op(a)^T; the M x N result is transposed
 * The arithmetic is the same; the estimate counts transposes, packings and extra calls. A `b`
 * seen before as a plain right-hand operand is taken to be reused (inference on fixed weights):
 * packing it once and letting XNNPACK's cache serve the later calls beats transposing it on
 * every call.
 */
export function planProduct(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
  packing: PackingState = NOTHING_PACKED,
): 'direct' | 'swapped' {
  const m = transposeA ? aShape[aShape.length - 1]! : aShape[aShape.length - 2]!;
  const n = transposeB ? bShape[bShape.length - 2]! : bShape[bShape.length - 1]!;
  const aSize = size(aShape);
  const bSize = size(bShape);
  const transposeCost = (elements: number): number => TRANSPOSE_NS * elements + CALL_NS;
  if (!transposeB && (packing.bPacked || packing.bReused)) return 'direct';
  const direct =
    (transposeA ? transposeCost(aSize) : 0) +
    (transposeB ? transposeCost(bSize) : 0) +
    (!transposeB && packing.bPacked ? 0 : PACK_NS * bSize);
  const swapped =
    (transposeB ? 0 : transposeCost(bSize)) +
    (transposeA ? 0 : transposeCost(aSize)) +
    (transposeA && packing.aPacked ? 0 : PACK_NS * aSize) +
    transposeCost(m * n);
  return swapped < direct ? 'swapped' : 'direct';
}

/**
 * Data ids XNNPACK has packed as a right-hand operand (its cache lives until the tensor is
 * disposed, and a disposed tensor's data id is never reused), and data ids seen as a plain
 * right-hand operand. Weak, so they follow the tensors' lifetimes.
 */
const packedOperands = new WeakSet<object>();
const plainRightOperands = new WeakSet<object>();

function batchOf(shape: number[]): number {
  return size(shape.slice(0, -2));
}

function makeProductKernel(kernelName: string): tf.KernelFunc {
  return (args: KernelArgs): tf.TensorInfo => {
    const original = originalKernels.get(kernelName);
    if (original == null) {
      throw new KernelError(kernelName, "the wasm backend's own kernel was not captured before replacing it");
    }
    const { inputs, backend } = args;
    const attrs = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs & Record<string, unknown>;
    const a = requireInput(kernelName, inputs, 'a');
    const b = requireInput(kernelName, inputs, 'b');
    const transposeA = Boolean(attrs.transposeA);
    const transposeB = Boolean(attrs.transposeB);
    // Batched products never reach XNNPACK in this backend, transposed or not.
    if (batchOf(a.shape) !== 1 || batchOf(b.shape) !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return original.kernelFunc(args) as tf.TensorInfo;
    }
    // A bias or PReLU weights on the fused kernel are laid out for the direct orientation.
    const fusedExtras = inputs.bias != null || inputs.preluActivationWeights != null;
    const bReused = !transposeB && plainRightOperands.has(b.dataId);
    if (!transposeB) plainRightOperands.add(b.dataId);
    const gemm = simdProductsEnabled ? simdGemmFor(backend) : null;
    if (
      gemm &&
      !bReused &&
      !packedOperands.has(b.dataId) &&
      useSimdProduct(a.shape, b.shape, transposeA, transposeB) &&
      SIMD_ACTIVATIONS.includes(String(attrs['activation'] ?? 'linear')) &&
      inputs.preluActivationWeights == null &&
      (inputs.bias == null || (inputs.bias.shape.length === 1 && inputs.bias.shape[0] === b.shape[b.shape.length - 1] && inputs.bias.dtype === 'float32'))
    ) {
      return simdProduct(gemm, backend, a, b, inputs.bias, transposeA, String(attrs['activation'] ?? 'linear'));
    }
    const plan = fusedExtras
      ? 'direct'
      : planProduct(a.shape, b.shape, transposeA, transposeB, {
          aPacked: packedOperands.has(a.dataId),
          bPacked: packedOperands.has(b.dataId),
          bReused,
        });
    if (plan === 'direct' && !transposeA && !transposeB) {
      packedOperands.add(b.dataId);
      return original.kernelFunc(args) as tf.TensorInfo;
    }
    const scratch = new Scratch(backend);
    try {
      const plain = { ...attrs, transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap;
      if (plan === 'direct') {
        const a2 = transposeA ? scratch.transpose(a, swapLastTwo(a.shape.length)) : a;
        const b2 = transposeB ? scratch.transpose(b, swapLastTwo(b.shape.length)) : b;
        if (!transposeB) packedOperands.add(b.dataId);
        return scratch.final(kernelName, { ...inputs, a: a2, b: b2 }, plain);
      }
      // The fused activation, if any, is elementwise: it commutes with the final transpose.
      const left = transposeB ? b : scratch.transpose(b, swapLastTwo(b.shape.length));
      const right = transposeA ? a : scratch.transpose(a, swapLastTwo(a.shape.length));
      if (transposeA) packedOperands.add(a.dataId);
      const outT = scratch.run(kernelName, { ...inputs, a: left, b: right }, plain);
      return scratch.final('Transpose', { x: outT }, { perm: swapLastTwo(outT.shape.length) });
    } finally {
      scratch.release();
    }
  };
}

/**
 * Largest right-hand operand (elements) the SIMD product takes: its rows are read with a stride of
 * a row per k, which stays cheap while the operand fits in cache. Measured (one thread, CPU-time
 * medians): up to 1000x300 and 784x500 it beat XNNPACK with a fresh operand 1.6-1.7x (no packing);
 * the cnn's 3136x1024 ran at 2.9 GFLOP/s against XNNPACK's transposed plan. @default 524288
 */
export const SIMD_MAX_RIGHT_OPERAND = 512 * 1024;
/** Below this k, x^T dy is left to XNNPACK: per-tile overhead outweighs the saved transpose (batch 1). @default 16 */
export const SIMD_MIN_K_TRANSPOSED = 16;
/** Activations the SIMD product applies (sigmoid through the backend's own kernel afterwards). */
const SIMD_ACTIVATIONS: readonly string[] = ['linear', 'relu', 'sigmoid'];

/** Whether op(a) b goes to the SIMD product (see simd-gemm.ts): one thread, b plain and cache-sized. */
export function useSimdProduct(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): boolean {
  if (transposeB || size(bShape) > SIMD_MAX_RIGHT_OPERAND) return false;
  const k = transposeA ? aShape[aShape.length - 2]! : aShape[aShape.length - 1]!;
  return !transposeA || k >= SIMD_MIN_K_TRANSPOSED;
}

const gemmByBackend = new WeakMap<object, SimdGemm | null>();
let simdProductsEnabled = true;

/** Turns the SIMD products on or off (on by default), for measuring what they buy. */
export function setSimdProducts(enabled: boolean): void {
  simdProductsEnabled = enabled;
}

/** The SIMD product for `backend`, or null on the threaded build (XNNPACK splits products across its pool there). */
function simdGemmFor(backend: KernelArgs['backend']): SimdGemm | null {
  const cached = gemmByBackend.get(backend);
  if (cached !== undefined) return cached;
  const memory = wasmMemoryOf(backend);
  const gemm = memory && (backend as unknown as WasmBackendLike).wasm.tfjs.getThreadsCount() <= 1 ? simdGemm(memory) : null;
  gemmByBackend.set(backend, gemm);
  return gemm;
}

function simdProduct(
  gemm: SimdGemm,
  backend: KernelArgs['backend'],
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  transposeA: boolean,
  activation: string,
): tf.TensorInfo {
  const wasm = backend as unknown as WasmBackendLike;
  const [r, c] = a.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [c, r] : [r, c];
  const n = b.shape[b.shape.length - 1]!;
  const outer = (a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2);
  const out = wasm.makeOutput([...outer, m, n], 'float32');
  const at = (t: tf.TensorInfo) => wasm.getMemoryOffset(t.dataId);
  const run = activation === 'relu' ? gemm.gemmRelu : gemm.gemm;
  run(at(a), at(b), at(out), bias ? at(bias) : 0, m, n, k, transposeA ? 4 : 4 * k, transposeA ? 4 * m : 4);
  if (activation !== 'sigmoid') return out;
  try {
    return callWasmKernel('Sigmoid', backend, { x: out });
  } finally {
    wasm.disposeData(out.dataId);
  }
}

/** BatchMatMul with transposed operands and freshly updated weights routed well to XNNPACK. */
export const batchMatMulWasm = makeProductKernel(tf.BatchMatMul);

/** _FusedMatMul likewise (without a bias or PReLU weights, which pin the direct plan). */
export const fusedMatMulWasm = makeProductKernel(tf._FusedMatMul);
