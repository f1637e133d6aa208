/**
 * The optimiser updates of update-kernels.ts as WebAssembly SIMD loops that run on the wasm
 * backend's own memory.
 *
 * A JavaScript loop over the heap was measured at 7-8x the time of tf.js's own (XNNPACK, 128-bit
 * SIMD) Add on the cnn's 3.2M-weight layer, so a fused update in JavaScript lost to ~10 separate
 * SIMD kernels. These loops are SIMD and fused: one pass reads each operand once. tf.js exposes no
 * way to add C++ kernels to its wasm binary, so this is a second, tiny module (well under 1 KB,
 * assembled below with wasm-asm.ts, no build step) that imports the backend's `WebAssembly.Memory`
 * and works on tensors by their byte offsets. Every operation is an IEEE float32 operation in the same order
 * as the tf.js ops of lib/training/optimizers.ts, so the results are the same bit for bit.
 *
 * Each function handles whole groups of 4 floats (`bytes` a multiple of 16); the caller finishes
 * the last 0-3 elements.
 */

import { F32, FunctionBuilder, I32, V128, assembleModule, instantiateOn, op, simd } from './wasm-asm';

/** Byte offsets into the backend's memory and scalars of one update. */
export interface SimdUpdates {
  /** xo = x - g * lr */
  sgd(x: number, g: number, xo: number, bytes: number, lr: number): void;
  /** next = v * momentum + g * lr; vo = next; xo = x - next */
  momentum(x: number, g: number, v: number, xo: number, vo: number, bytes: number, lr: number, momentum: number): void;
  /** The same with g replaced by g + x * decay (Caffe's weight decay). */
  momentumDecay(x: number, g: number, v: number, xo: number, vo: number, bytes: number, lr: number, momentum: number, decay: number): void;
  /** mo = m + (g - m) c1; vo = v + (g g - v) c2; xo = x - (mo lrT) / (sqrt(vo) + eps) */
  adam(x: number, g: number, m: number, v: number, xo: number, mo: number, vo: number, bytes: number, lrT: number, c1: number, c2: number, eps: number): void;
}

/**
 * One update function: pointer params `ptrs` (byte offsets), then `bytes`, then f32 `scalars`,
 * each splatted once into a v128 local `S<name>`. `body(f)` emits one 16-byte group's work, with
 * `load(f, p)` pushing the 4 floats at pointer p + i and `addr(f, p)` the address p + i.
 */
function updateFunction(ptrs: string[], scalars: string[], body: (f: FunctionBuilder) => void): FunctionBuilder {
  const f = new FunctionBuilder([...ptrs.map((p) => [p, I32] as const), ['bytes', I32], ...scalars.map((n) => [n, F32] as const)]);
  f.local('i', I32);
  for (const n of scalars) {
    f.local(`S${n}`, V128);
    f.get(n).emit(...simd.splat).set(`S${n}`);
  }
  f.block(() => {
    f.get('bytes').emit(op.i32Eqz).brIf(0);
    f.loop(() => {
      body(f);
      f.get('i').i32(16).emit(op.i32Add).tee('i').get('bytes').emit(op.i32LtU).brIf(0);
    });
  });
  return f;
}

const addr = (f: FunctionBuilder, p: string) => f.get(p).get('i').emit(op.i32Add);
const load = (f: FunctionBuilder, p: string) => addr(f, p).emit(...simd.load);

// xo = x - g * lr
const sgd = updateFunction(['x', 'g', 'xo'], ['lr'], (f) => {
  addr(f, 'xo');
  load(f, 'x');
  load(f, 'g').get('Slr').emit(...simd.mul, ...simd.sub, ...simd.store);
});

// next = v * momentum + grad * lr, grad = g (+ x * decay); vo = next; xo = x - next
function momentumFunction(decay: boolean): FunctionBuilder {
  return updateFunction(['x', 'g', 'v', 'xo', 'vo'], decay ? ['lr', 'momentum', 'decay'] : ['lr', 'momentum'], (f) => {
    f.local('next', V128);
    load(f, 'v').get('Smomentum').emit(...simd.mul);
    load(f, 'g');
    if (decay) load(f, 'x').get('Sdecay').emit(...simd.mul, ...simd.add);
    f.get('Slr').emit(...simd.mul, ...simd.add).set('next');
    addr(f, 'vo').get('next').emit(...simd.store);
    addr(f, 'xo');
    load(f, 'x').get('next').emit(...simd.sub, ...simd.store);
  });
}

// mo = m + (g - m) c1; vo = v + (g g - v) c2; xo = x - (mo lrT) / (sqrt(vo) + eps)
const adam = updateFunction(['x', 'g', 'm', 'v', 'xo', 'mo', 'vo'], ['lrT', 'c1', 'c2', 'eps'], (f) => {
  for (const n of ['G', 'M', 'V']) f.local(n, V128);
  load(f, 'g').set('G');
  load(f, 'm').tee('M').get('G').get('M').emit(...simd.sub).get('Sc1').emit(...simd.mul, ...simd.add).set('M');
  load(f, 'v').tee('V').get('G').get('G').emit(...simd.mul).get('V').emit(...simd.sub).get('Sc2').emit(...simd.mul, ...simd.add).set('V');
  addr(f, 'mo').get('M').emit(...simd.store);
  addr(f, 'vo').get('V').emit(...simd.store);
  addr(f, 'xo');
  load(f, 'x');
  f.get('M').get('SlrT').emit(...simd.mul);
  f.get('V').emit(...simd.sqrt).get('Seps').emit(...simd.add);
  f.emit(...simd.div, ...simd.sub, ...simd.store);
});

const FUNCTIONS: ReadonlyArray<readonly [keyof SimdUpdates, FunctionBuilder]> = [
  ['sgd', sgd],
  ['momentum', momentumFunction(false)],
  ['momentumDecay', momentumFunction(true)],
  ['adam', adam],
];

/** The module's bytes, importing `env.memory` (shared for the threaded build, whose memory is). */
export function simdUpdateModuleBytes(sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  return assembleModule(FUNCTIONS, sharedMemory);
}

const instances = new WeakMap<WebAssembly.Memory, SimdUpdates | null>();

/**
 * The update functions working on `memory`, or null where this engine has no WebAssembly SIMD
 * (then the callers use JavaScript loops). Compiled once per memory.
 */
export function simdUpdates(memory: WebAssembly.Memory): SimdUpdates | null {
  return instantiateOn(instances, memory, simdUpdateModuleBytes);
}
