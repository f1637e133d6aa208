/**
 * The optimiser updates of update-kernels.ts as WebAssembly SIMD loops that run on the wasm
 * backend's own memory.
 *
 * A JavaScript loop over the heap was measured at 7-8x the time of tf.js's own (XNNPACK, 128-bit
 * SIMD) Add on the cnn's 3.2M-weight layer, so a fused update in JavaScript lost to ~10 separate
 * SIMD kernels. These loops are SIMD and fused: one pass reads each operand once. tf.js exposes no
 * way to add C++ kernels to its wasm binary, so this is a second, tiny module (well under 1 KB,
 * assembled below, no build step) that imports the backend's `WebAssembly.Memory` and works on
 * tensors by their byte offsets. Every operation is an IEEE float32 operation in the same order
 * as the tf.js ops of lib/training/optimizers.ts, so the results are the same bit for bit.
 *
 * Each function handles whole groups of 4 floats (`bytes` a multiple of 16); the caller finishes
 * the last 0-3 elements.
 */

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

// Value types and the few opcodes used (WebAssembly core spec 2.0, SIMD proposal as merged).
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const op = {
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Add: 0x6a,
  i32LtU: 0x49,
  i32Eqz: 0x45,
  block: 0x02,
  loop: 0x03,
  brIf: 0x0d,
  end: 0x0b,
  void: 0x40,
};
/** SIMD instructions: the 0xfd prefix and a LEB128 opcode (memory ones take align and offset). */
const simd = {
  load: [0xfd, 0x00, 0x00, 0x00],
  store: [0xfd, 0x0b, 0x00, 0x00],
  splat: [0xfd, 0x13],
  sqrt: [0xfd, 0xe3, 0x01],
  add: [0xfd, 0xe4, 0x01],
  sub: [0xfd, 0xe5, 0x01],
  mul: [0xfd, 0xe6, 0x01],
  div: [0xfd, 0xe7, 0x01],
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/**
 * One update function. `pointers` i32 params (byte offsets), then `bytes` (i32), then `scalars`
 * f32 params, each splatted once into a v128 local. `body(ctx)` emits one 16-byte group's work;
 * ctx.load(p) pushes the 4 floats at pointer param p + i, ctx.addr(p) pushes the address p + i.
 */
function updateFunction(
  pointers: number,
  scalars: number,
  vectorLocals: number,
  body: (ctx: { load(p: number): number[]; addr(p: number): number[]; scalar(k: number): number[]; local(k: number): number }) => number[],
): { type: number[]; code: number[] } {
  const bytesParam = pointers;
  const firstScalar = pointers + 1;
  const params = [...Array(pointers).fill(I32), I32, ...Array(scalars).fill(F32)];
  const iLocal = params.length;
  const splatBase = iLocal + 1;
  const vecBase = splatBase + scalars;
  const get = (k: number) => [op.localGet, ...uleb(k)];
  const ctx = {
    addr: (p: number) => [...get(p), ...get(iLocal), op.i32Add],
    load: (p: number) => [...get(p), ...get(iLocal), op.i32Add, ...simd.load],
    scalar: (k: number) => get(splatBase + k),
    local: (k: number) => vecBase + k,
  };
  const splats = Array.from({ length: scalars }, (_, k) => [...get(firstScalar + k), ...simd.splat, op.localSet, ...uleb(splatBase + k)]).flat();
  const loop = [
    op.block, op.void,
    ...get(bytesParam), op.i32Eqz, op.brIf, 0,
    op.loop, op.void,
    ...body(ctx),
    ...get(iLocal), op.i32Const, 16, op.i32Add, op.localTee, ...uleb(iLocal),
    ...get(bytesParam), op.i32LtU, op.brIf, 0,
    op.end,
    op.end,
  ];
  const locals = vec([
    [1, I32],
    [scalars + vectorLocals, V128],
  ]);
  const expr = [...locals, ...splats, ...loop, op.end];
  return { type: [0x60, ...vec(params.map((t) => [t])), 0x00], code: [...uleb(expr.length), ...expr] };
}

type Emit = (ctx: { load(p: number): number[]; addr(p: number): number[]; scalar(k: number): number[]; local(k: number): number }) => number[];

const set = (k: number) => [op.localSet, ...uleb(k)];
const tee = (k: number) => [op.localTee, ...uleb(k)];
const get = (k: number) => [op.localGet, ...uleb(k)];

// sgd(x, g, xo, bytes, lr)
const sgdBody: Emit = (c) => [...c.addr(2), ...c.load(0), ...c.load(1), ...c.scalar(0), ...simd.mul, ...simd.sub, ...simd.store];

// momentum(x, g, v, xo, vo, bytes, lr, momentum[, decay]); local 0 = next
function momentumBody(decay: boolean): Emit {
  return (c) => {
    const grad = decay ? [...c.load(1), ...c.load(0), ...c.scalar(2), ...simd.mul, ...simd.add] : c.load(1);
    return [
      ...c.load(2), ...c.scalar(1), ...simd.mul,
      ...grad, ...c.scalar(0), ...simd.mul,
      ...simd.add, ...set(c.local(0)),
      ...c.addr(4), ...get(c.local(0)), ...simd.store,
      ...c.addr(3), ...c.load(0), ...get(c.local(0)), ...simd.sub, ...simd.store,
    ];
  };
}

// adam(x, g, m, v, xo, mo, vo, bytes, lrT, c1, c2, eps); locals: 0 = g, 1 = m', 2 = v'
const adamBody: Emit = (c) => {
  const [g, m, v] = [c.local(0), c.local(1), c.local(2)];
  return [
    ...c.load(1), ...set(g),
    ...c.load(2), ...tee(m), ...get(g), ...get(m), ...simd.sub, ...c.scalar(1), ...simd.mul, ...simd.add, ...set(m),
    ...c.load(3), ...tee(v), ...get(g), ...get(g), ...simd.mul, ...get(v), ...simd.sub, ...c.scalar(2), ...simd.mul, ...simd.add, ...set(v),
    ...c.addr(5), ...get(m), ...simd.store,
    ...c.addr(6), ...get(v), ...simd.store,
    ...c.addr(4), ...c.load(0),
    ...get(m), ...c.scalar(0), ...simd.mul,
    ...get(v), ...simd.sqrt, ...c.scalar(3), ...simd.add,
    ...simd.div, ...simd.sub, ...simd.store,
  ];
};

const FUNCTIONS: Array<[keyof SimdUpdates, ReturnType<typeof updateFunction>]> = [
  ['sgd', updateFunction(3, 1, 0, sgdBody)],
  ['momentum', updateFunction(5, 2, 1, momentumBody(false))],
  ['momentumDecay', updateFunction(5, 3, 1, momentumBody(true))],
  ['adam', updateFunction(7, 4, 3, adamBody)],
];

/** The module's bytes, importing `env.memory` (shared for the threaded build, whose memory is). */
export function simdUpdateModuleBytes(sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  // Limits: flags 0x00 = min only; 0x03 = shared with a max (required), 65536 pages = 4 GiB.
  const limits = sharedMemory ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(FUNCTIONS.map(([, f]) => f.type))),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(FUNCTIONS.map((_, i) => uleb(i)))),
    ...section(7, vec(FUNCTIONS.map(([fn], i) => [...name(fn), 0x00, ...uleb(i)]))),
    ...section(10, vec(FUNCTIONS.map(([, f]) => f.code))),
  ];
  return new Uint8Array(bytes);
}

const instances = new WeakMap<WebAssembly.Memory, SimdUpdates | null>();

/**
 * The update functions working on `memory`, or null where this engine has no WebAssembly SIMD
 * (then the callers use JavaScript loops). Compiled once per memory.
 */
export function simdUpdates(memory: WebAssembly.Memory): SimdUpdates | null {
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = simdUpdateModuleBytes(shared);
  let result: SimdUpdates | null = null;
  if (WebAssembly.validate(bytes)) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    result = instance.exports as unknown as SimdUpdates;
  }
  instances.set(memory, result);
  return result;
}
