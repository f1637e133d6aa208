/**
 * Matrix products in WebAssembly SIMD on the wasm backend's memory, for products whose right-hand
 * operand changes every call: a dense layer's forward product during training (its weights are new
 * tensors after every update) and its weight gradient x^T dy.
 *
 * XNNPACK, which runs tf.js's own products, first repacks the right-hand operand into its blocked
 * layout and caches that per tensor. For weights updated every step the cache never hits: on the
 * 784x50 layer of two-layer-net the packing cost about as much as the product itself (0.45 of
 * 0.9 ms of CPU, medians, loaded machine), and x^T dy needs x transposed first. This kernel reads
 * both operands where they lie: C = op(A) B (+ bias) (then ReLU, optionally), op(A) = A or A^T,
 * B row-major, one pass over k per 4x8 tile of C, four rows of A broadcast against two 4-float
 * vectors of B: 16 multiplies and 16 adds per 6 loads. It runs on one thread; the threaded
 * build's XNNPACK splits a product across its pool, so batch-mat-mul.ts uses this on one thread.
 *
 * Each multiply and add is a float32 operation (no fused multiply-add), summed over k in order
 * starting from the bias: a plain loop's arithmetic, in another order than XNNPACK's.
 */
import { F32, FunctionBuilder, I32, V128, assembleModule, instantiateOn, op, simd } from './wasm-asm';

/** Byte offsets into the backend's memory and the product's dimensions. */
export interface SimdGemm {
  /**
   * c[m x n] = op(a)[m x k] b[k x n] + bias[n]; `bias` 0 for none. op(a)'s element (i, kk) is
   * at a + i * aRow + kk * aK (bytes): A row-major [m, k] is aRow = 4k, aK = 4; A stored as [k, m]
   * and used transposed is aRow = 4, aK = 4m.
   */
  gemm(a: number, b: number, c: number, bias: number, m: number, n: number, k: number, aRow: number, aK: number): void;
  /** The same, then max(0, .). */
  gemmRelu(a: number, b: number, c: number, bias: number, m: number, n: number, k: number, aRow: number, aK: number): void;
}

/** Rows of C per tile. */
const ROWS = 4;

const loadAt = (offset: number) => [0xfd, 0x00, 0x00, offset];
/** v128.load32_splat: one float from memory into all four lanes. */
const LOAD32_SPLAT = [0xfd, 0x09, 0x02, 0x00];
const storeAt = (offset: number) => [0xfd, 0x0b, 0x00, offset];

function gemmFunction(relu: boolean): FunctionBuilder {
  const f = new FunctionBuilder([
    ['a', I32], ['b', I32], ['c', I32], ['bias', I32], ['m', I32], ['n', I32], ['k', I32], ['aRow', I32], ['aK', I32],
  ]);
  for (const n of ['i', 'j', 'kk', 'pb', 'bRow', 'row', 'rr']) f.local(n, I32);
  for (let r = 0; r < ROWS; r++) {
    f.local(`base${r}`, I32);
    f.local(`p${r}`, I32);
    f.local(`s${r}`, F32);
  }
  for (let r = 0; r < ROWS; r++) for (let v = 0; v < 2; v++) f.local(`acc${r}${v}`, V128);
  for (const n of ['b0', 'b1', 'av', 'zero']) f.local(n, V128);
  f.local('bs', F32);
  f.local('zs', F32);

  const pushRowOfC = (r: number) =>
    // c + ((i + r) n + j) * 4
    f.get('i').i32(r).emit(op.i32Add).get('n').emit(op.i32Mul).get('j').emit(op.i32Add).i32(2).emit(op.i32Shl).get('c').emit(op.i32Add);
  const ifRowValid = (r: number, body: () => void) => f.get('i').i32(r).emit(op.i32Add).get('m').emit(op.i32LtS).if(body);
  /** k-loop around `body`, with the row pointers and pb set up at column j; nothing when k is 0. */
  const overK = (body: () => void) => {
    for (let r = 0; r < ROWS; r++) f.get(`base${r}`).set(`p${r}`);
    f.get('b').get('j').i32(2).emit(op.i32Shl, op.i32Add).set('pb');
    f.get('k').set('kk');
    f.block(() => {
      f.get('kk').emit(op.i32Eqz).brIf(0);
      f.loop(() => {
        body();
        for (let r = 0; r < ROWS; r++) f.get(`p${r}`).get('aK').emit(op.i32Add).set(`p${r}`);
        f.get('pb').get('bRow').emit(op.i32Add).set('pb');
        f.get('kk').i32(1).emit(op.i32Sub).tee('kk').brIf(0);
      });
    });
  };

  /** A tile of 4 rows by `vectors` x 4 columns at column j. */
  const vectorTile = (vectors: number) => {
    for (let v = 0; v < vectors; v++) {
      f.get('zero').set(`acc0${v}`);
      f.get('bias').if(() => {
        f.get('bias').get('j').i32(2).emit(op.i32Shl, op.i32Add).emit(...loadAt(16 * v)).set(`acc0${v}`);
      });
      for (let r = 1; r < ROWS; r++) f.get(`acc0${v}`).set(`acc${r}${v}`);
    }
    overK(() => {
      for (let v = 0; v < vectors; v++) f.get('pb').emit(...loadAt(16 * v)).set(`b${v}`);
      for (let r = 0; r < ROWS; r++) {
        f.get(`p${r}`).emit(...LOAD32_SPLAT).set('av');
        for (let v = 0; v < vectors; v++) f.get(`acc${r}${v}`).get('av').get(`b${v}`).emit(...simd.mul, ...simd.add).set(`acc${r}${v}`);
      }
    });
    for (let r = 0; r < ROWS; r++) {
      ifRowValid(r, () => {
        pushRowOfC(r).set('row');
        for (let v = 0; v < vectors; v++) {
          f.get('row').get(`acc${r}${v}`);
          if (relu) f.get('zero').emit(...simd.max);
          f.emit(...storeAt(16 * v));
        }
      });
    }
  };

  /** One column j, scalar, for the last n mod 4 columns. */
  const scalarColumn = () => {
    f.f32(0).set('zs');
    f.get('bias').if(() => {
      f.get('bias').get('j').i32(2).emit(op.i32Shl, op.i32Add).emit(...op.f32Load).set('zs');
    });
    for (let r = 0; r < ROWS; r++) f.get('zs').set(`s${r}`);
    overK(() => {
      f.get('pb').emit(...op.f32Load).set('bs');
      for (let r = 0; r < ROWS; r++) f.get(`s${r}`).get(`p${r}`).emit(...op.f32Load).get('bs').emit(op.f32Mul, op.f32Add).set(`s${r}`);
    });
    for (let r = 0; r < ROWS; r++) {
      ifRowValid(r, () => {
        pushRowOfC(r).get(`s${r}`);
        if (relu) f.f32(0).emit(op.f32Max);
        f.emit(...op.f32Store);
      });
    }
  };

  /** while (j + width <= n) { body; j += width } */
  const columns = (width: number, body: () => void, repeat: boolean) =>
    f.block(() => {
      f.loop(() => {
        f.get('j').i32(width).emit(op.i32Add).get('n').emit(op.i32GtS).brIf(1);
        body();
        f.get('j').i32(width).emit(op.i32Add).set('j');
        if (repeat) f.br(0);
      });
    });

  f.f32(0).emit(...simd.splat).set('zero');
  f.get('n').i32(4).emit(op.i32Mul).set('bRow');
  f.i32(0).set('i');
  f.block(() => {
    f.get('m').i32(0).emit(op.i32LeS).brIf(0);
    f.loop(() => {
      // Rows past the end of A repeat its last row (valid memory); their results are not stored.
      for (let r = 0; r < ROWS; r++) {
        f.get('i').i32(r).emit(op.i32Add).set('rr');
        f.get('rr').get('m').i32(1).emit(op.i32Sub).get('rr').get('m').emit(op.i32LtS).emit(op.select);
        f.get('aRow').emit(op.i32Mul).get('a').emit(op.i32Add).set(`base${r}`);
      }
      f.i32(0).set('j');
      columns(8, () => vectorTile(2), true);
      columns(4, () => vectorTile(1), false);
      columns(1, scalarColumn, true);
      f.get('i').i32(ROWS).emit(op.i32Add).tee('i').get('m').emit(op.i32LtS).brIf(0);
    });
  });
  return f;
}

const FUNCTIONS: ReadonlyArray<readonly [keyof SimdGemm, FunctionBuilder]> = [
  ['gemm', gemmFunction(false)],
  ['gemmRelu', gemmFunction(true)],
];

export function simdGemmModuleBytes(sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  return assembleModule(FUNCTIONS, sharedMemory);
}

const instances = new WeakMap<WebAssembly.Memory, SimdGemm | null>();

/** The products working on `memory`, or null without WebAssembly SIMD. Compiled once per memory. */
export function simdGemm(memory: WebAssembly.Memory): SimdGemm | null {
  return instantiateOn(instances, memory, simdGemmModuleBytes);
}
