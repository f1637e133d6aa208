/**
 * MaxPoolGrad for non-overlapping windows (stride = window, no padding: the cnn's 2x2/2 pools) as
 * WebAssembly SIMD over 4 channels at a time, on the wasm backend's memory. Per window and channel
 * it finds the first maximum (strictly greater, starting from -Infinity, so NaN windows pass no
 * gradient), as max-pool-grad.ts's JavaScript loop and tf.js's reference do, and writes dy there and
 * 0 at the window's other positions. Windows do not overlap, so every dx element is written once.
 */
import { FunctionBuilder, I32, V128, assembleModule, instantiateOn, op, simd } from './wasm-asm';

export interface SimdPool {
  /**
   * Byte offsets x, dy, dx; NHWC dims; window kh x kw with the same strides; channels a multiple
   * of 4; outH * kh <= inH and outW * kw <= inW. Positions outside every window are not written.
   */
  maxPoolGrad(x: number, dy: number, dx: number, batch: number, inH: number, inW: number, channels: number, outH: number, outW: number, kh: number, kw: number): void;
}

const F32X4_GT = [0xfd, 0x44];
const I32X4_EQ = [0xfd, 0x37];
const I32X4_SPLAT = [0xfd, 0x11];
const BITSELECT = [0xfd, 0x52];
const V128_AND = [0xfd, 0x4e];

function maxPoolGradFunction(): FunctionBuilder {
  const f = new FunctionBuilder(
    ['x', 'dy', 'dx', 'batch', 'inH', 'inW', 'channels', 'outH', 'outW', 'kh', 'kw'].map((n) => [n, I32] as const),
  );
  for (const n of ['b', 'yr', 'yc', 'ch', 'wr', 'wc', 'k', 'origin', 'pos', 'rowBytes', 'pixelBytes', 'dyAt']) f.local(n, I32);
  for (const n of ['max', 'idx', 'v', 'gt', 'd', 'negInf']) f.local(n, V128);
  f.f32(-Infinity).emit(...simd.splat).set('negInf');
  f.get('channels').i32(2).emit(op.i32Shl).set('pixelBytes');
  f.get('inW').get('pixelBytes').emit(op.i32Mul).set('rowBytes');
  /** for (name = 0; name < limit; name++) body */
  const count = (name: string, limit: () => void, body: () => void, step = 1) => {
    f.i32(0).set(name);
    f.block(() => {
      f.loop(() => {
        f.get(name);
        limit();
        f.emit(op.i32GeS).brIf(1);
        body();
        f.get(name).i32(step).emit(op.i32Add).set(name);
        f.br(0);
      });
    });
  };
  /** Pushes the byte offset (within x or dx) of window position (wr, wc) at channel ch. */
  const positionOffset = () => f.get('origin').get('wr').get('rowBytes').emit(op.i32Mul, op.i32Add).get('wc').get('pixelBytes').emit(op.i32Mul, op.i32Add).get('ch').emit(op.i32Add);

  f.i32(0).set('dyAt');
  count('b', () => f.get('batch'), () => {
    count('yr', () => f.get('outH'), () => {
      count('yc', () => f.get('outW'), () => {
        // The window's top-left pixel: ((b * inH + yr * kh) * inW + yc * kw) * channels floats.
        f.get('b').get('inH').emit(op.i32Mul).get('yr').get('kh').emit(op.i32Mul, op.i32Add).get('rowBytes').emit(op.i32Mul);
        f.get('yc').get('kw').emit(op.i32Mul).get('pixelBytes').emit(op.i32Mul, op.i32Add).set('origin');
        count('ch', () => f.get('pixelBytes'), () => {
          f.get('negInf').set('max');
          f.i32(-1).emit(...I32X4_SPLAT).set('idx');
          f.i32(0).set('k');
          count('wr', () => f.get('kh'), () => {
            count('wc', () => f.get('kw'), () => {
              f.get('x');
              positionOffset();
              f.emit(op.i32Add).emit(...simd.load).set('v');
              f.get('v').get('max').emit(...F32X4_GT).set('gt');
              f.get('v').get('max').get('gt').emit(...BITSELECT).set('max');
              f.get('k').emit(...I32X4_SPLAT).get('idx').get('gt').emit(...BITSELECT).set('idx');
              f.get('k').i32(1).emit(op.i32Add).set('k');
            });
          });
          f.get('dy').get('dyAt').emit(op.i32Add).get('ch').emit(op.i32Add).emit(...simd.load).set('d');
          f.i32(0).set('k');
          count('wr', () => f.get('kh'), () => {
            count('wc', () => f.get('kw'), () => {
              f.get('dx');
              positionOffset();
              f.emit(op.i32Add);
              f.get('d').get('idx').get('k').emit(...I32X4_SPLAT).emit(...I32X4_EQ).emit(...V128_AND);
              f.emit(...simd.store);
              f.get('k').i32(1).emit(op.i32Add).set('k');
            });
          });
        }, 16);
        f.get('dyAt').get('pixelBytes').emit(op.i32Add).set('dyAt');
      });
    });
  });
  return f;
}

export function simdPoolModuleBytes(sharedMemory: boolean): Uint8Array<ArrayBuffer> {
  return assembleModule([['maxPoolGrad', maxPoolGradFunction()]], sharedMemory);
}

const instances = new WeakMap<WebAssembly.Memory, SimdPool | null>();

export function simdPool(memory: WebAssembly.Memory): SimdPool | null {
  return instantiateOn(instances, memory, simdPoolModuleBytes);
}
