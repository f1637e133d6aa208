/**
 * The backward pass of a dense layer's activation and its bias gradient in one WebAssembly SIMD
 * pass on the wasm backend's memory: dz = dOut * f'(y) and db = the column sums of dz, for
 * y = f(z) the layer's output. As tf.js computes them (Sigmoid_grad: dOut (y (1 - y)); Tanh_grad:
 * (1 - y^2) dOut; Relu_grad: dOut step(y); the bias: sum over the batch), in float32, in that
 * order; db sums the rows in order. Three to four kernel calls become one.
 */
import { FunctionBuilder, I32, V128, F32, assembleModule, instantiateOn, op, simd } from './wasm-asm';

export type SimdActivation = 'linear' | 'sigmoid' | 'tanh' | 'relu';
export const SIMD_ACTIVATIONS: readonly SimdActivation[] = ['linear', 'sigmoid', 'tanh', 'relu'];

/** Byte offsets into the backend's memory. `db` 0: no bias gradient. */
export type ActivationGrad = (dOut: number, y: number, dz: number, db: number, rows: number, cols: number) => void;
/**
 * `columnSums(x, 0, 0, out, rows, cols)`: out[c] = the sum over r of x[r, c], rows in order (the
 * bias gradient alone; lib/kernels/reduce-sum.ts serves tf.sum over all axes but the last with it).
 */
export type SimdActivationGrads = Record<SimdActivation | 'columnSums', ActivationGrad>;

const F32X4_GT = [0xfd, 0x44];
const V128_AND = [0xfd, 0x4e];

/**
 * dz[r, c] = g(dOut[r, c], y[r, c]) for all r, c, and db[c] = sum over r of dz[r, c] when db != 0.
 * Whole groups of 4 columns as SIMD, the last cols mod 4 as scalars.
 */
function activationGrad(kind: SimdActivation, storeDz = true): FunctionBuilder {
  const f = new FunctionBuilder([['d', I32], ['y', I32], ['dz', I32], ['db', I32], ['rows', I32], ['cols', I32]]);
  for (const n of ['r', 'c', 'off', 'vecEnd', 'rowBytes']) f.local(n, I32);
  for (const n of ['D', 'Y', 'Z', 'one', 'zero']) f.local(n, V128);
  for (const n of ['ds', 'ys', 'zs']) f.local(n, F32);
  f.f32(1).emit(...simd.splat).set('one');
  f.f32(0).emit(...simd.splat).set('zero');
  f.get('cols').i32(2).emit(op.i32Shl).set('rowBytes');
  f.get('cols').i32(-4).emit(0x71 /* i32.and */).i32(2).emit(op.i32Shl).set('vecEnd');

  /** Pushes g(D, Y) as a vector. */
  const vectorGrad = () => {
    switch (kind) {
      case 'linear':
        f.get('D');
        break;
      case 'sigmoid':
        f.get('D').get('Y').get('one').get('Y').emit(...simd.sub, ...simd.mul, ...simd.mul);
        break;
      case 'tanh':
        f.get('one').get('Y').get('Y').emit(...simd.mul, ...simd.sub).get('D').emit(...simd.mul);
        break;
      case 'relu':
        f.get('D').get('Y').get('zero').emit(...F32X4_GT).get('one').emit(...V128_AND).emit(...simd.mul);
        break;
    }
  };
  /** Pushes g(ds, ys) as a scalar. */
  const scalarGrad = () => {
    switch (kind) {
      case 'linear':
        f.get('ds');
        break;
      case 'sigmoid':
        f.get('ds').get('ys').f32(1).get('ys').emit(0x93 /* f32.sub */, op.f32Mul, op.f32Mul);
        break;
      case 'tanh':
        f.f32(1).get('ys').get('ys').emit(op.f32Mul, 0x93).get('ds').emit(op.f32Mul);
        break;
      case 'relu':
        f.get('ds').f32(1).f32(0).get('ys').f32(0).emit(0x5e /* f32.gt */, op.select, op.f32Mul);
        break;
    }
  };

  /** for (; c < end; c += step): dz = grad(d, y) at column c of row r, db[c] += dz. */
  const columns = (
    end: string,
    step: number,
    w: { load: readonly number[]; store: readonly number[]; add: readonly number[]; d: string; y: string; z: string; grad: () => void },
  ) =>
    f.block(() => {
      f.loop(() => {
        f.get('c').get(end).emit(op.i32GeS).brIf(1);
        f.get('d').get('off').emit(op.i32Add).get('c').emit(op.i32Add).emit(...w.load).set(w.d);
        if (kind !== 'linear') f.get('y').get('off').emit(op.i32Add).get('c').emit(op.i32Add).emit(...w.load).set(w.y);
        w.grad();
        f.set(w.z);
        if (storeDz) f.get('dz').get('off').emit(op.i32Add).get('c').emit(op.i32Add).get(w.z).emit(...w.store);
        f.get('db').if(() => {
          f.get('db').get('c').emit(op.i32Add);
          f.get('db').get('c').emit(op.i32Add).emit(...w.load).get(w.z).emit(...w.add);
          f.emit(...w.store);
        });
        f.get('c').i32(step).emit(op.i32Add).set('c');
        f.br(0);
      });
    });

  // db starts at zero.
  f.get('db').if(() => {
    f.i32(0).set('c');
    f.block(() => {
      f.loop(() => {
        f.get('c').get('rowBytes').emit(op.i32GeS).brIf(1);
        f.get('db').get('c').emit(op.i32Add).f32(0).emit(...op.f32Store);
        f.get('c').i32(4).emit(op.i32Add).set('c');
        f.br(0);
      });
    });
  });
  f.i32(0).set('r');
  f.block(() => {
    f.get('rows').i32(0).emit(op.i32LeS).brIf(0);
    f.loop(() => {
      f.get('r').get('rowBytes').emit(op.i32Mul).set('off');
      f.i32(0).set('c');
      // Whole vectors of 4 columns, then the last cols mod 4 one by one.
      columns('vecEnd', 16, { load: simd.load, store: simd.store, add: simd.add, d: 'D', y: 'Y', z: 'Z', grad: vectorGrad });
      columns('rowBytes', 4, { load: op.f32Load, store: op.f32Store, add: [op.f32Add], d: 'ds', y: 'ys', z: 'zs', grad: scalarGrad });
      f.get('r').i32(1).emit(op.i32Add).tee('r').get('rows').emit(op.i32LtS).brIf(0);
    });
  });
  return f;
}

export function simdActivationModuleBytes(sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  return assembleModule([...SIMD_ACTIVATIONS.map((kind) => [kind, activationGrad(kind)] as const), ['columnSums', activationGrad('linear', false)]], sharedMemory);
}

const instances = new WeakMap<WebAssembly.Memory, SimdActivationGrads | null>();

/** The activation gradients working on `memory`, or null without WebAssembly SIMD. */
export function simdActivationGrads(memory: WebAssembly.Memory): SimdActivationGrads | null {
  return instantiateOn(instances, memory, simdActivationModuleBytes);
}
