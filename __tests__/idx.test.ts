import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { IdxFormatError, InvalidArgumentError } from '../lib/errors';
import {
  IDX_TYPES,
  IdxArray,
  IdxData,
  IdxType,
  encodeIdx,
  idxElementSize,
  idxTypeCode,
  idxTypeFromCode,
  encodeIdxAsync,
  parseIdx,
  parseIdxAsync,
  readIdxFile,
  writeIdxFile,
} from '../lib/idx';

import { MNIST_DIR } from './helpers/mnist-dir';
import { itWithMnist } from './helpers/needs-mnist';

// zlib's functions cannot be spied on in place (Node defines them non-configurable): the module the
// library gets is zlib itself with gunzipSync wrapped in a recorder that calls through.
jest.mock('zlib', () => {
  const actual = jest.requireActual<typeof import('zlib')>('zlib');
  return { ...actual, gunzipSync: jest.fn(actual.gunzipSync) };
});

/**
 * What zlib was asked to gunzip while `fn` ran: each call's output cap and the bytes it produced
 * (or its error code). Work measured in bytes, not milliseconds: the same on a loaded machine.
 */
function gunzipWork(fn: () => void): Array<{ maxOutputLength?: number; produced?: number; error?: string }> {
  const gunzip = zlib.gunzipSync as unknown as jest.Mock<Buffer, [Uint8Array, zlib.ZlibOptions?]>;
  gunzip.mockClear();
  fn();
  return gunzip.mock.calls.map(([, options], i) => {
    const r = gunzip.mock.results[i]!;
    return r.type === 'return'
      ? { maxOutputLength: options?.maxOutputLength, produced: (r.value as Buffer).length }
      : { maxOutputLength: options?.maxOutputLength, error: (r.value as { code?: string }).code ?? String(r.value) };
  });
}

const CTORS: Record<IdxType, new (n: number) => IdxData> = {
  u8: Uint8Array,
  i8: Int8Array,
  i16: Int16Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
};

/** Values that exercise sign, byte order and float specials for each type. */
function sampleData(type: IdxType, n: number): IdxData {
  const data = new CTORS[type](n);
  const specials: Record<IdxType, number[]> = {
    u8: [0, 1, 127, 128, 255],
    i8: [-128, -1, 0, 1, 127],
    i16: [-32768, -1, 0, 0x0102, 32767],
    i32: [-2147483648, -1, 0, 0x01020304, 2147483647],
    f32: [-0, NaN, Infinity, -Infinity, 1.5, Math.fround(3.14159), -Math.fround(1e-30)],
    f64: [-0, NaN, Infinity, -Infinity, Math.PI, -1e-300, 1e300],
  };
  const s = specials[type];
  for (let i = 0; i < n; i++) data[i] = i < s.length ? s[i] : type.startsWith('f') ? (i * 7919) / 13 - 300 : (i * 7919) % 100;
  return data;
}

function expectIdxError(fn: () => unknown, expected: { file?: string; offset: number; problem: RegExp }): IdxFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(IdxFormatError);
  const err = caught as IdxFormatError;
  expect(err.file).toBe(expected.file ?? '<buffer>');
  expect(err.offset).toBe(expected.offset);
  expect(err.problem).toMatch(expected.problem);
  expect(err.message).toBe(`${err.file}: at byte ${err.offset}: ${err.problem}`);
  return err;
}

async function expectAsyncIdxError(promise: Promise<unknown>, expected: { file?: string; offset: number; problem: RegExp }): Promise<IdxFormatError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  return expectIdxError(() => {
    throw caught ?? new Error('resolved, expected an IdxFormatError');
  }, expected);
}

/** Header bytes: magic 00 00 type rank, then big-endian dims. */
function header(code: number, dims: number[]): number[] {
  const out = [0, 0, code, dims.length];
  for (const d of dims) out.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return out;
}

function bytes(...parts: (number[] | Uint8Array)[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

let tmp: string;
beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'idx-test-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

describe('type codes', () => {
  it('maps every IDX element type to its code and back', () => {
    const codes = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };
    for (const type of IDX_TYPES) {
      expect(idxTypeCode(type)).toBe(codes[type]);
      expect(idxTypeFromCode(codes[type])).toBe(type);
    }
    expect(idxTypeFromCode(0x0a)).toBeUndefined();
    expect(idxElementSize('f64')).toBe(8);
    expect(() => idxTypeCode('u16' as IdxType)).toThrow(InvalidArgumentError);
  });
});

describe('encodeIdx / parseIdx round trip', () => {
  const shapes: number[][] = [[7], [3, 5], [2, 3, 4], [2, 1, 3, 2], [0], [4, 0, 3], [1, 1, 1, 1, 1, 1]];
  for (const type of IDX_TYPES) {
    for (const dims of shapes) {
      for (const gzip of [false, true]) {
        it(`${type} [${dims.join(',')}] ${gzip ? 'gzip' : 'plain'}`, () => {
          const n = dims.reduce((a, b) => a * b, 1);
          const arr: IdxArray = { type, dims, data: sampleData(type, n) };
          const encoded = encodeIdx(arr, { gzip });
          expect(encoded[0] === 0x1f && encoded[1] === 0x8b).toBe(gzip);
          const back = parseIdx(encoded);
          expect(back.type).toBe(type);
          expect(back.dims).toEqual(dims);
          expect(back.data).toBeInstanceOf(CTORS[type]);
          // toEqual treats NaN as equal to NaN and tells -0 from 0, which is what a bit-exact round trip needs.
          expect(Array.from(back.data)).toEqual(Array.from(arr.data));
        });
      }
    }
  }

  it('writes big-endian bytes with the documented header', () => {
    const enc = encodeIdx({ type: 'i16', dims: [2, 1], data: Int16Array.from([0x0102, -2]) });
    expect(Array.from(enc)).toEqual([0, 0, 0x0b, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0x01, 0x02, 0xff, 0xfe]);
    const f = encodeIdx({ type: 'f32', dims: [1], data: Float32Array.from([1]) });
    expect(Array.from(f.subarray(8))).toEqual([0x3f, 0x80, 0, 0]);
  });

  it('returns data that does not alias the input buffer', () => {
    const enc = encodeIdx({ type: 'u8', dims: [3], data: Uint8Array.from([1, 2, 3]) });
    const arr = parseIdx(enc);
    enc[8] = 99;
    expect(Array.from(arr.data)).toEqual([1, 2, 3]);
  });

  it('never hands out a slice of a shared buffer pool', () => {
    // Small gunzip outputs come from Node's shared pool, so their data must be copied out.
    const small = parseIdx(encodeIdx({ type: 'u8', dims: [10], data: sampleData('u8', 10) }, { gzip: true }));
    expect(small.data.buffer.byteLength).toBe(10);
    // Large ones are zlib's own allocation of exactly the gunzipped size, viewed in place.
    const big = parseIdx(encodeIdx({ type: 'u8', dims: [300, 300], data: sampleData('u8', 90000) }, { gzip: true }));
    expect(big.data.buffer.byteLength).toBe(90000 + 12);
    expect(big.data.byteOffset).toBe(12);
    expect(Array.from(big.data.subarray(0, 5))).toEqual([0, 1, 127, 128, 255]);
  });

  it('parses an unaligned view of a larger buffer', () => {
    const enc = encodeIdx({ type: 'f64', dims: [2], data: Float64Array.from([1.25, -2]) });
    const big = new Uint8Array(enc.length + 3);
    big.set(enc, 3);
    expect(Array.from(parseIdx(big.subarray(3)).data)).toEqual([1.25, -2]);
  });

  it('rejects arrays it cannot encode, naming the argument', () => {
    const bad: [IdxArray, string][] = [
      [{ type: 'u8', dims: [], data: new Uint8Array(0) }, 'arr.dims'],
      [{ type: 'u8', dims: [2, -1], data: new Uint8Array(0) }, 'arr.dims'],
      [{ type: 'u8', dims: [1.5], data: new Uint8Array(1) }, 'arr.dims'],
      [{ type: 'u8', dims: [3], data: new Uint8Array(2) }, 'arr.data'],
      [{ type: 'f32', dims: [2], data: new Float64Array(2) }, 'arr.data'],
      [{ type: 'u16' as IdxType, dims: [2], data: new Uint16Array(2) as unknown as Uint8Array }, 'arr.type'],
    ];
    for (const [arr, argument] of bad) {
      expect(() => encodeIdx(arr)).toThrow(InvalidArgumentError);
      try {
        encodeIdx(arr);
      } catch (err) {
        expect((err as InvalidArgumentError).argument).toBe(argument);
      }
    }
    expect(() => parseIdx([0, 0, 8, 1] as unknown as Uint8Array)).toThrow(InvalidArgumentError);
  });
});

describe('malformed input', () => {
  it('empty file', () => {
    expectIdxError(() => parseIdx(new Uint8Array(0)), { offset: 0, problem: /^empty file: an IDX header needs at least 4 bytes$/ });
  });

  it('fewer than 4 header bytes', () => {
    expectIdxError(() => parseIdx(bytes([0, 0, 8])), { offset: 3, problem: /file is only 3 bytes: an IDX header needs at least 4 bytes/ });
  });

  it('non-zero first two bytes', () => {
    expectIdxError(() => parseIdx(bytes([1, 0, 8, 1, 0, 0, 0, 0]), 'a.idx'), { file: 'a.idx', offset: 0, problem: /two zero bytes, found 0x01 0x00/ });
    expectIdxError(() => parseIdx(bytes([0, 0x1f, 8, 1, 0, 0, 0, 0])), { offset: 1, problem: /two zero bytes, found 0x00 0x1f/ });
  });

  it('unknown type code', () => {
    expectIdxError(() => parseIdx(bytes(header(0x0a, [1]), [0])), { offset: 2, problem: /unknown element type code 0x0a/ });
  });

  it('rank 0', () => {
    expectIdxError(() => parseIdx(bytes([0, 0, 8, 0])), { offset: 3, problem: /rank 0/ });
  });

  it('header shorter than 4 + 4 * rank', () => {
    expectIdxError(() => parseIdx(bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0])), {
      offset: 10,
      problem: /header of rank 3 needs 16 bytes but the file is only 10 bytes/,
    });
  });

  it('data shorter than the header says, with both numbers', () => {
    expectIdxError(() => parseIdx(bytes(header(0x08, [2, 5]), [1, 2, 3, 4, 5, 6, 7]), 'x'), {
      file: 'x',
      offset: 19,
      problem: /^header announces 10 data bytes \(2 x 5 u8\) but the file holds 7$/,
    });
  });

  it('data longer than the header says, with both numbers', () => {
    expectIdxError(() => parseIdx(bytes(header(0x08, [3]), [1, 2, 3, 4, 5])), {
      offset: 11,
      problem: /^file holds 5 data bytes but the header announces 3 \(3 u8\)$/,
    });
  });

  it('multi-byte data whose length is not a multiple of the element size', () => {
    expectIdxError(() => parseIdx(bytes(header(0x0c, [2]), [0, 0, 0, 1, 0, 0, 0])), {
      offset: 12,
      problem: /data is 7 bytes, not a multiple of the 4-byte i32 element size/,
    });
    expectIdxError(() => parseIdx(bytes(header(0x0e, [1]), new Uint8Array(9))), { offset: 16, problem: /not a multiple of the 8-byte f64/ });
    expectIdxError(() => parseIdx(bytes(header(0x0b, [1]), [1, 2, 3])), { offset: 10, problem: /not a multiple of the 2-byte i16/ });
  });

  it('a 0 dimension with data is too long, and without it is a valid empty array', () => {
    expect(parseIdx(bytes(header(0x0d, [5, 0]))).data).toHaveLength(0);
    expectIdxError(() => parseIdx(bytes(header(0x08, [5, 0]), [1])), { offset: 12, problem: /holds 1 data bytes but the header announces 0/ });
  });

  it('problems inside gzipped data say so, with offsets in the gunzipped bytes', () => {
    const gz = zlib.gzipSync(bytes(header(0x08, [2, 5]), [1, 2, 3]));
    expectIdxError(() => parseIdx(gz), { offset: 15, problem: /announces 10 data bytes \(2 x 5 u8\) but the file holds 3 \(in the gunzipped data\)$/ });
    expectIdxError(() => parseIdx(zlib.gzipSync(bytes([0, 0, 8]))), { offset: 3, problem: /only 3 bytes.*\(in the gunzipped data\)/ });
    expectIdxError(() => parseIdx(zlib.gzipSync(bytes([0, 0, 0x42, 1, 0, 0, 0, 0]))), { offset: 2, problem: /unknown element type code 0x42/ });
    expectIdxError(() => parseIdx(zlib.gzipSync(new Uint8Array(0))), { offset: 0, problem: /empty file/ });
  });

  it('corrupt gzip', () => {
    const gz = Buffer.from(encodeIdx({ type: 'u8', dims: [4000], data: sampleData('u8', 4000) }, { gzip: true }));
    for (let i = 12; i < gz.length - 8; i++) gz[i] ^= 0x5a;
    expectIdxError(() => parseIdx(gz, 'bad.gz'), { file: 'bad.gz', offset: 0, problem: /^corrupt gzip stream \(zlib: .+\)$/ });
    // A gzip magic followed by garbage is a corrupt gzip, not a plain IDX file.
    expectIdxError(() => parseIdx(bytes([0x1f, 0x8b, 1, 2, 3])), { offset: 0, problem: /corrupt gzip stream/ });
  });

  it('corrupt gzip checksum', () => {
    const gz = Buffer.from(encodeIdx({ type: 'u8', dims: [100], data: sampleData('u8', 100) }, { gzip: true }));
    gz[gz.length - 6] ^= 1;
    expectIdxError(() => parseIdx(gz), { offset: 0, problem: /corrupt gzip stream \(zlib: incorrect data check\)/ });
  });

  it('truncated gzip', () => {
    const gz = encodeIdx({ type: 'i32', dims: [1000], data: sampleData('i32', 1000) }, { gzip: true });
    const cut = gz.subarray(0, gz.length - 20);
    expectIdxError(() => parseIdx(cut), { offset: cut.length, problem: /^truncated gzip stream: it ends after \d+ bytes/ });
  });

  it('a header announcing far more data than the file holds fails without allocating it or gunzipping the data', () => {
    const before = process.memoryUsage().arrayBuffers;
    const plain = gunzipWork(() => {
      expectIdxError(() => parseIdx(bytes(header(0x08, [1e9]), [1, 2, 3])), {
        offset: 11,
        problem: /^header announces 1000000000 data bytes \(1000000000 u8\) but the file holds 3$/,
      });
      expectIdxError(() => parseIdx(bytes(header(0x0e, [4e9, 4e9, 4e9]), new Uint8Array(8))), {
        offset: 24,
        problem: /^header announces 512000000000000000000000000000 data bytes \(4000000000 x 4000000000 x 4000000000 f64\) but the file holds 8$/,
      });
    });
    expect(plain).toEqual([]);
    // Gzipped: 1e9 bytes cannot come out of a few dozen compressed bytes, so it is refused after
    // gunzipping only enough for the header, each try capped far below the announced size.
    const gz = zlib.gzipSync(bytes(header(0x08, [1e9]), [1, 2, 3]));
    const calls = gunzipWork(() =>
      expectIdxError(() => parseIdx(gz), {
        offset: gz.length,
        problem: /^header announces 1000000000 data bytes \(1000000000 u8\) but \d+ gzipped bytes cannot hold more than \d+ \(in the gunzipped data\)$/,
      }),
    );
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c.maxOutputLength).toBeLessThanOrEqual(2 ** 20);
    expect(calls.reduce((n, c) => n + (c.produced ?? 0), 0)).toBeLessThan(100);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50e6);
  });

  it('a gzip stream that hides its header behind empty deflate blocks is refused, unless they are few', () => {
    const content = encodeIdx({ type: 'u8', dims: [3], data: Uint8Array.from([1, 2, 3]) });
    // Empty non-final stored blocks (00 0000 ffff) are valid deflate that decode to nothing.
    const padded = (blocks: number): Buffer => {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(zlib.crc32(content), 0);
      trailer.writeUInt32LE(content.length, 4);
      const empty = Buffer.alloc(5 * blocks);
      for (let i = 0; i < blocks; i++) empty.writeUInt16LE(0xffff, 5 * i + 3);
      return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), empty, zlib.deflateRawSync(content), trailer]);
    };
    expect(Array.from(parseIdx(padded(1000)).data)).toEqual([1, 2, 3]);
    expectIdxError(() => parseIdx(padded(20000)), { offset: 65536, problem: /^implausible gzip stream: its first 65536 bytes decode to only 0 bytes/ });
  });

  it('a gzip bomb stops soon after the announced size', () => {
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from(header(0x08, [16])), Buffer.alloc(64 * 1024 * 1024)]));
    expect(bomb.length).toBeLessThan(100_000);
    const calls = gunzipWork(() =>
      expectIdxError(() => parseIdx(bomb, 'bomb.gz'), {
        file: 'bomb.gz',
        offset: 24,
        problem: /^file holds more than \d+ data bytes but the header announces 16 \(16 u8\) \(in the gunzipped data\)$/,
      }),
    );
    // Every gunzip was capped near the announced 16 bytes (plus the slack of GZIP_OVERRUN_SLACK,
    // 1 MiB), and the one that reached the cap stopped there: 64 MiB were never produced.
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c.maxOutputLength).toBeLessThanOrEqual(2 * 2 ** 20);
    expect(calls.at(-1)).toMatchObject({ error: 'ERR_BUFFER_TOO_LARGE' });
    expect(calls.reduce((n, c) => n + (c.produced ?? 0), 0)).toBeLessThan(4 * 2 ** 20);
  });

});

describe('parseIdxAsync / encodeIdxAsync (DecompressionStream, CompressionStream: the browser path)', () => {
  it('round-trips every type, plain and gzipped, and agrees with the zlib path both ways', async () => {
    for (const type of IDX_TYPES) {
      for (const dims of [[7], [2, 3, 4], [0], [40, 40]]) {
        const n = dims.reduce((a, b) => a * b, 1);
        const arr: IdxArray = { type, dims, data: sampleData(type, n) };
        for (const gzip of [false, true]) {
          const webEncoded = await encodeIdxAsync(arr, { gzip });
          expect(webEncoded[0] === 0x1f && webEncoded[1] === 0x8b).toBe(gzip);
          for (const encoded of [webEncoded, encodeIdx(arr, { gzip })]) {
            const viaWeb = await parseIdxAsync(encoded);
            const viaZlib = parseIdx(encoded);
            for (const back of [viaWeb, viaZlib]) {
              expect(back.type).toBe(type);
              expect(back.dims).toEqual(dims);
              expect(back.data).toBeInstanceOf(CTORS[type]);
              expect(Array.from(back.data)).toEqual(Array.from(arr.data));
            }
          }
        }
      }
    }
  });

  itWithMnist('reads the official test files', 'reads the real MNIST test labels and images, gzipped', async () => {
    const labels = await parseIdxAsync(await fsp.readFile(path.join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz')), 'labels.gz');
    expect(labels.dims).toEqual([10000]);
    expect(Array.from(labels.data.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const file = path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz');
    const bytes = await fsp.readFile(file);
    const images = await parseIdxAsync(bytes, file);
    expect(images.dims).toEqual([10000, 28, 28]);
    expect(Buffer.from(images.data.buffer, images.data.byteOffset, images.data.byteLength).equals(Buffer.from(parseIdx(bytes).data))).toBe(true);
  });

  it('gives the errors of the zlib path for problems inside the gunzipped data', async () => {
    const gz = zlib.gzipSync(bytes(header(0x08, [2, 5]), [1, 2, 3]));
    await expectAsyncIdxError(parseIdxAsync(gz, 'short.gz'), {
      file: 'short.gz',
      offset: 15,
      problem: /^header announces 10 data bytes \(2 x 5 u8\) but the file holds 3 \(in the gunzipped data\)$/,
    });
    await expectAsyncIdxError(parseIdxAsync(zlib.gzipSync(bytes(header(0x08, [3]), [1, 2, 3, 4, 5]))), {
      offset: 11,
      problem: /^file holds 5 data bytes but the header announces 3 \(3 u8\) \(in the gunzipped data\)$/,
    });
    await expectAsyncIdxError(parseIdxAsync(zlib.gzipSync(bytes([0, 0, 8]))), { offset: 3, problem: /only 3 bytes.*\(in the gunzipped data\)/ });
    await expectAsyncIdxError(parseIdxAsync(zlib.gzipSync(bytes([0, 0, 0x42, 1, 0, 0, 0, 0]))), { offset: 2, problem: /unknown element type code 0x42/ });
    await expectAsyncIdxError(parseIdxAsync(zlib.gzipSync(new Uint8Array(0))), { offset: 0, problem: /empty file/ });
    await expectAsyncIdxError(parseIdxAsync(bytes([1, 0, 8, 1]), 'plain.idx'), { file: 'plain.idx', offset: 0, problem: /two zero bytes/ });
  });

  it('names the file and the problem for a truncated or corrupt gzip stream', async () => {
    const gz = encodeIdx({ type: 'i32', dims: [1000], data: sampleData('i32', 1000) }, { gzip: true });
    const cut = gz.subarray(0, gz.length - 20);
    await expectAsyncIdxError(parseIdxAsync(cut, 'cut.gz'), {
      file: 'cut.gz',
      offset: cut.length,
      problem: new RegExp(`^truncated gzip stream: it ends after ${cut.length} bytes \\(DecompressionStream: .+\\)$`),
    });
    // Cut inside the header's own deflate block: nothing decodes, and it is still a truncation.
    await expectAsyncIdxError(parseIdxAsync(gz.subarray(0, 12), 'cut-early.gz'), { file: 'cut-early.gz', offset: 12, problem: /^truncated gzip stream/ });
    const bad = Buffer.from(encodeIdx({ type: 'u8', dims: [4000], data: sampleData('u8', 4000) }, { gzip: true }));
    for (let i = 12; i < bad.length - 8; i++) bad[i] ^= 0x5a;
    await expectAsyncIdxError(parseIdxAsync(bad, 'bad.gz'), { file: 'bad.gz', offset: 0, problem: /^corrupt gzip stream \(DecompressionStream: .+\)$/ });
    const crc = Buffer.from(encodeIdx({ type: 'u8', dims: [100], data: sampleData('u8', 100) }, { gzip: true }));
    crc[crc.length - 6] ^= 1;
    await expectAsyncIdxError(parseIdxAsync(crc), { offset: 0, problem: /corrupt gzip stream \(DecompressionStream: incorrect data check\)/ });
  });

  it('refuses an impossible header before gunzipping and stops a gzip bomb soon after the announced size', async () => {
    const gz = zlib.gzipSync(bytes(header(0x08, [1e9]), [1, 2, 3]));
    await expectAsyncIdxError(parseIdxAsync(gz), {
      offset: gz.length,
      problem: /^header announces 1000000000 data bytes \(1000000000 u8\) but \d+ gzipped bytes cannot hold more than \d+ \(in the gunzipped data\)$/,
    });
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from(header(0x08, [16])), Buffer.alloc(64 * 1024 * 1024)]));
    const before = process.memoryUsage().arrayBuffers;
    await expectAsyncIdxError(parseIdxAsync(bomb, 'bomb.gz'), {
      file: 'bomb.gz',
      offset: 24,
      problem: /^file holds more than \d+ data bytes but the header announces 16 \(16 u8\) \(in the gunzipped data\)$/,
    });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(40e6);
  });

  it('checks its arguments', async () => {
    await expect(parseIdxAsync([0, 0, 8, 1] as unknown as Uint8Array)).rejects.toThrow(InvalidArgumentError);
    await expect(encodeIdxAsync({ type: 'u8', dims: [3], data: new Uint8Array(2) })).rejects.toMatchObject({ argument: 'arr.data' });
  });
});

describe('files', () => {
  itWithMnist('reads the official test labels file', 'reads a real MNIST labels file', async () => {
    const labels = await readIdxFile(path.join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
    expect(labels.type).toBe('u8');
    expect(labels.dims).toEqual([10000]);
    expect(Array.from(labels.data.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it('tells gzip from plain by the bytes, not the name', async () => {
    const arr: IdxArray = { type: 'i16', dims: [2, 2], data: Int16Array.from([1, -2, 300, -400]) };
    const gzNamedPlain = path.join(tmp, 'looks-plain.idx');
    const plainNamedGz = path.join(tmp, 'looks-gzipped.idx.gz');
    await writeIdxFile(gzNamedPlain, arr, { gzip: true });
    await writeIdxFile(plainNamedGz, arr);
    expect((await fsp.readFile(gzNamedPlain))[0]).toBe(0x1f);
    expect((await fsp.readFile(plainNamedGz))[0]).toBe(0);
    expect(Array.from((await readIdxFile(gzNamedPlain)).data)).toEqual([1, -2, 300, -400]);
    expect(Array.from((await readIdxFile(plainNamedGz)).data)).toEqual([1, -2, 300, -400]);
  });

  it('names the file in format errors', async () => {
    const file = path.join(tmp, 'broken.idx');
    await fsp.writeFile(file, bytes([0, 0, 8, 1, 0, 0, 0, 9, 1]));
    await expect(readIdxFile(file)).rejects.toMatchObject({ name: 'IdxFormatError', file, offset: 9, problem: expect.stringMatching(/announces 9 data bytes/) });
  });

  it('writes atomically: replaces an existing file and leaves no temp file', async () => {
    const dir = await fsp.mkdtemp(path.join(tmp, 'atomic-'));
    const file = path.join(dir, 'a.idx');
    await writeIdxFile(file, { type: 'u8', dims: [1], data: Uint8Array.from([1]) });
    await writeIdxFile(file, { type: 'f64', dims: [1], data: Float64Array.from([2.5]) });
    expect(await fsp.readdir(dir)).toEqual(['a.idx']);
    expect(Array.from((await readIdxFile(file)).data)).toEqual([2.5]);
  });

  it('a failed write leaves nothing behind', async () => {
    const dir = await fsp.mkdtemp(path.join(tmp, 'fail-'));
    await expect(writeIdxFile(path.join(dir, 'missing-subdir', 'a.idx'), { type: 'u8', dims: [1], data: new Uint8Array(1) })).rejects.toThrow(/ENOENT/);
    await expect(writeIdxFile(path.join(dir, 'a.idx'), { type: 'u8', dims: [2], data: new Uint8Array(1) })).rejects.toThrow(InvalidArgumentError);
    expect(await fsp.readdir(dir)).toEqual([]);
  });
});
