/**
 * A very small WebAssembly assembler: enough to write SIMD loops that run on the wasm backend's own
 * memory (simd-update.ts, simd-gemm.ts) without a compiler toolchain or a build step.
 *
 * tf.js offers no way to add kernels to its wasm binary; a second module that imports the backend's
 * `WebAssembly.Memory` can work on its tensors by byte offset. The modules built here are a few
 * hundred bytes to a few KB and are compiled synchronously, once per memory.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

/**
 * One function: named parameters and locals, and emitters for the instructions the kernels use.
 * Every emitter appends to `code` and returns the builder, so bodies read as instruction lists.
 */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly params: ValType[] = [];
  private readonly locals: ValType[] = [];
  private readonly index = new Map<string, number>();

  constructor(params: ReadonlyArray<readonly [string, ValType]>) {
    for (const [n, t] of params) {
      this.index.set(n, this.params.length);
      this.params.push(t);
    }
  }

  /** Declares a local (once) and returns its index. */
  local(n: string, type: ValType): number {
    const existing = this.index.get(n);
    if (existing !== undefined) return existing;
    const i = this.params.length + this.locals.length;
    this.index.set(n, i);
    this.locals.push(type);
    return i;
  }

  private at(n: string): number {
    const i = this.index.get(n);
    if (i === undefined) throw new Error(`wasm-asm: unknown local ${n}`);
    return i;
  }

  emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(n: string): this {
    return this.emit(0x20, ...uleb(this.at(n)));
  }

  set(n: string): this {
    return this.emit(0x21, ...uleb(this.at(n)));
  }

  tee(n: string): this {
    return this.emit(0x22, ...uleb(this.at(n)));
  }

  i32(n: number): this {
    return this.emit(0x41, ...sleb(n));
  }

  f32(x: number): this {
    const bytes = new Uint8Array(new Float32Array([x]).buffer);
    return this.emit(0x43, ...bytes);
  }

  /** `block ... end`; inside, `br 0`/`br_if 0` leave the block. */
  block(body: () => void): this {
    this.emit(0x02, 0x40);
    body();
    return this.emit(0x0b);
  }

  /** `loop ... end`; inside, `br_if 0` jumps back to the start. */
  loop(body: () => void): this {
    this.emit(0x03, 0x40);
    body();
    return this.emit(0x0b);
  }

  /** `if ... end` on the i32 on the stack. */
  if(body: () => void): this {
    this.emit(0x04, 0x40);
    body();
    return this.emit(0x0b);
  }

  brIf(depth: number): this {
    return this.emit(0x0d, ...uleb(depth));
  }

  br(depth: number): this {
    return this.emit(0x0c, ...uleb(depth));
  }

  /** The function's type and body, as the type and code sections hold them. */
  encode(): { type: number[]; code: number[] } {
    const groups: number[][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]!++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([count, t]) => [...uleb(count!), t!])), ...this.code, 0x0b];
    return { type: [0x60, ...vec(this.params.map((t) => [t])), 0x00], code: [...uleb(body.length), ...body] };
  }
}

/** Instruction bytes, for FunctionBuilder.emit. Memory instructions carry align 0 and offset 0. */
export const op = {
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32LeS: 0x4c,
  i32GeS: 0x4e,
  i32Eqz: 0x45,
  select: 0x1b,
  f32Load: [0x2a, 0x02, 0x00],
  f32Store: [0x38, 0x02, 0x00],
  f32Add: 0x92,
  f32Mul: 0x94,
  f32Max: 0x97,
} as const;

/** SIMD instructions: the 0xfd prefix and a LEB128 opcode. */
export const simd = {
  load: [0xfd, 0x00, 0x00, 0x00],
  store: [0xfd, 0x0b, 0x00, 0x00],
  splat: [0xfd, 0x13],
  /** Followed by the lane index. */
  extractLane: [0xfd, 0x1f],
  sqrt: [0xfd, 0xe3, 0x01],
  add: [0xfd, 0xe4, 0x01],
  sub: [0xfd, 0xe5, 0x01],
  mul: [0xfd, 0xe6, 0x01],
  div: [0xfd, 0xe7, 0x01],
  max: [0xfd, 0xe9, 0x01],
} as const;

/**
 * A module of `functions`, exported under their names, importing `env.memory` (shared for the
 * threaded wasm build, whose memory is).
 */
export function assembleModule(functions: ReadonlyArray<readonly [string, FunctionBuilder]>, sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  const encoded = functions.map(([, f]) => f.encode());
  // Limits: 0x00 = a minimum only; 0x03 = shared, with the maximum it requires (65536 pages, 4 GiB).
  const limits = sharedMemory ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(encoded.map((f) => f.type))),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(encoded.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map(([n], i) => [...name(n), 0x00, ...uleb(i)]))),
    ...section(10, vec(encoded.map((f) => f.code))),
  ]);
}

/**
 * Instantiates `bytes` against `memory`, once per memory and module; null where the engine
 * rejects the module (no WebAssembly SIMD), so that callers fall back to other code.
 */
export function instantiateOn<T>(cache: WeakMap<WebAssembly.Memory, T | null>, memory: WebAssembly.Memory, build: (shared: boolean) => Uint8Array<ArrayBuffer>): T | null {
  const cached = cache.get(memory);
  if (cached !== undefined) return cached;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = build(shared);
  let result: T | null = null;
  if (WebAssembly.validate(bytes)) {
    result = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as T;
  }
  cache.set(memory, result);
  return result;
}
