/**
 * IDX files (the format MNIST ships in): a 4-byte magic `00 00 <type> <rank>`, `rank` big-endian
 * uint32 dimensions, then the elements, big-endian, row-major. Files may be gzipped; gzip is told
 * apart by its magic bytes (1f 8b), never by the file name, because mirrors and users rename files.
 *
 * Every malformed input throws `IdxFormatError(file, offset, problem)`. Offsets of problems found
 * after gunzipping count in the gunzipped bytes (the problem text says so); offsets of gzip-level
 * problems count in the compressed bytes.
 */
import { promises as fsp } from 'fs';
import * as zlib from 'zlib';
import { constants as bufferConstants } from 'buffer';
import { writeFileAtomic } from './atomic-write';
import { FileError, IdxFormatError, InvalidArgumentError } from './errors';

export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  /** Dimensions, outermost first; any rank from 1 to 255, a 0 makes an empty array. */
  dims: number[];
  /**
   * Elements in native byte order, row-major; length is the product of `dims`. Parsed data may be
   * a view into a larger buffer it owns alone (mind `byteOffset` when using `data.buffer`).
   */
  data: IdxData;
}

export interface IdxEncodeOptions {
  /** Gzip the encoded bytes. @default false */
  gzip?: boolean;
}

/** File name used in errors when `parseIdx` is not told one. @default '<buffer>' */
export const DEFAULT_IDX_FILE_NAME = '<buffer>';
/** The IDX header stores the rank in one byte. */
export const MAX_IDX_RANK = 255;
/** Each dimension is a big-endian uint32. */
export const MAX_IDX_DIM = 0xffffffff;

interface TypeInfo {
  code: number;
  size: number;
  /** `Symbol.toStringTag` of the typed array; compared by name so arrays from another realm (jest vm contexts) pass. */
  tag: string;
  create(length: number): IdxData;
  /** Big-endian element at a byte offset: DataView swaps bytes into native order on any host. */
  get(view: DataView, byteOffset: number): number;
  set(view: DataView, byteOffset: number, value: number): void;
}

/** The one table of IDX element types: code byte, size, array class and big-endian accessors. */
const TYPES: Readonly<Record<IdxType, TypeInfo>> = {
  u8: { code: 0x08, size: 1, tag: 'Uint8Array', create: (n) => new Uint8Array(n), get: (v, o) => v.getUint8(o), set: (v, o, x) => v.setUint8(o, x) },
  i8: { code: 0x09, size: 1, tag: 'Int8Array', create: (n) => new Int8Array(n), get: (v, o) => v.getInt8(o), set: (v, o, x) => v.setInt8(o, x) },
  i16: { code: 0x0b, size: 2, tag: 'Int16Array', create: (n) => new Int16Array(n), get: (v, o) => v.getInt16(o, false), set: (v, o, x) => v.setInt16(o, x, false) },
  i32: { code: 0x0c, size: 4, tag: 'Int32Array', create: (n) => new Int32Array(n), get: (v, o) => v.getInt32(o, false), set: (v, o, x) => v.setInt32(o, x, false) },
  f32: { code: 0x0d, size: 4, tag: 'Float32Array', create: (n) => new Float32Array(n), get: (v, o) => v.getFloat32(o, false), set: (v, o, x) => v.setFloat32(o, x, false) },
  f64: { code: 0x0e, size: 8, tag: 'Float64Array', create: (n) => new Float64Array(n), get: (v, o) => v.getFloat64(o, false), set: (v, o, x) => v.setFloat64(o, x, false) },
};

/** "0x08 u8, 0x09 i8, ...", for errors about an unknown code. */
const TYPE_CODES_TEXT = Object.entries(TYPES)
  .map(([type, info]) => `0x${info.code.toString(16).padStart(2, '0')} ${type}`)
  .join(', ');

export const IDX_TYPES: readonly IdxType[] = Object.keys(TYPES) as IdxType[];

/** The IDX type byte for an element type (0x08 for 'u8' ... 0x0E for 'f64'). */
export function idxTypeCode(type: IdxType): number {
  const info = TYPES[type];
  if (info === undefined) throw new InvalidArgumentError('type', `unknown IDX element type ${JSON.stringify(type)}; expected one of ${IDX_TYPES.join(', ')}`);
  return info.code;
}

/** The element type for an IDX type byte, or `undefined` for a code IDX does not define. */
export function idxTypeFromCode(code: number): IdxType | undefined {
  for (const type of IDX_TYPES) if (TYPES[type].code === code) return type;
  return undefined;
}

/** Size in bytes of one element of `type`. */
export function idxElementSize(type: IdxType): number {
  const info = TYPES[type];
  if (info === undefined) throw new InvalidArgumentError('type', `unknown IDX element type ${JSON.stringify(type)}`);
  return info.size;
}

function typeTag(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? (value as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : undefined;
}

function hex(byte: number): string {
  return '0x' + byte.toString(16).padStart(2, '0');
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

interface Header {
  type: IdxType;
  dims: number[];
  headerBytes: number;
  /** Data bytes the header announces; a bigint because 255 uint32 dimensions overflow a double's integers. */
  dataBytes: bigint;
}

/** Reads and checks the magic and dimensions; `where` is appended to problems found in gunzipped bytes. */
function parseHeader(bytes: Uint8Array, file: string, where: string): Header {
  if (bytes.length < 4) {
    const what = bytes.length === 0 ? 'empty file' : `file is only ${bytes.length} bytes`;
    throw new IdxFormatError(file, bytes.length, `${what}: an IDX header needs at least 4 bytes${where}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxFormatError(file, bytes[0] !== 0 ? 0 : 1, `not an IDX file: the magic must start with two zero bytes, found ${hex(bytes[0])} ${hex(bytes[1])}${where}`);
  }
  const type = idxTypeFromCode(bytes[2]);
  if (type === undefined) {
    throw new IdxFormatError(file, 2, `unknown element type code ${hex(bytes[2])}; IDX defines ${TYPE_CODES_TEXT}${where}`);
  }
  const rank = bytes[3];
  if (rank === 0) throw new IdxFormatError(file, 3, `rank 0: an IDX array needs at least one dimension${where}`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new IdxFormatError(file, bytes.length, `header of rank ${rank} needs ${headerBytes} bytes but the file is only ${bytes.length} bytes${where}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const dims: number[] = [];
  let elements = 1n;
  for (let i = 0; i < rank; i++) {
    const dim = view.getUint32(4 + 4 * i, false);
    dims.push(dim);
    elements *= BigInt(dim);
  }
  return { type, dims, headerBytes, dataBytes: elements * BigInt(TYPES[type].size) };
}

function describeShape(h: Header): string {
  return `${h.dims.join(' x ')} ${h.type}`;
}

/** Checks the data length against the header; every check runs before anything is allocated. */
function checkDataLength(h: Header, available: number, file: string, where: string, atLeast = false): void {
  const size = TYPES[h.type].size;
  const dataBytes = available - h.headerBytes;
  if (!atLeast && dataBytes % size !== 0) {
    throw new IdxFormatError(
      file,
      h.headerBytes + dataBytes - (dataBytes % size),
      `data is ${dataBytes} bytes, not a multiple of the ${size}-byte ${h.type} element size${where}`,
    );
  }
  const expected = h.dataBytes;
  if (BigInt(dataBytes) < expected) {
    throw new IdxFormatError(
      file,
      available,
      `header announces ${expected} data bytes (${describeShape(h)}) but the file holds ${dataBytes}${where}`,
    );
  }
  if (BigInt(dataBytes) > expected) {
    throw new IdxFormatError(
      file,
      h.headerBytes + Number(expected),
      `file holds ${atLeast ? 'more than ' : ''}${dataBytes} data bytes but the header announces ${expected} (${describeShape(h)})${where}`,
    );
  }
}

/**
 * Decodes plain (not gzipped) IDX bytes. Byte data is copied, so the result never aliases the
 * caller's buffer, unless `owned` says nobody else holds `bytes` (fresh gunzip output), in which
 * case it is viewed in place: for 47 MB of MNIST images that copy is a sixth of the load time.
 */
function parsePlain(bytes: Uint8Array, file: string, where: string, owned = false): IdxArray {
  const h = parseHeader(bytes, file, where);
  checkDataLength(h, bytes.length, file, where);
  const count = Number(h.dataBytes) / TYPES[h.type].size;
  const start = bytes.byteOffset + h.headerBytes;
  const info = TYPES[h.type];
  if (owned && h.type === 'u8') return { type: h.type, dims: h.dims, data: bytes.subarray(h.headerBytes, h.headerBytes + count) };
  if (owned && h.type === 'i8') return { type: h.type, dims: h.dims, data: new Int8Array(bytes.buffer, start, count) };
  const data = info.create(count);
  if (h.type === 'u8' || h.type === 'i8') {
    // Bytes need no swapping: one copy (a view of the same bytes, reinterpreted for i8).
    (data as Uint8Array).set(new Uint8Array(bytes.buffer, start, count));
  } else {
    const view = new DataView(bytes.buffer, start, count * info.size);
    for (let i = 0; i < count; i++) data[i] = info.get(view, i * info.size);
  }
  return { type: h.type, dims: h.dims, data };
}

/**
 * Deflate cannot expand input by more than about 1032:1 (a 258-byte match costs at least 2 bits),
 * so a gzip file announcing more than this ratio allows is short, whatever its bytes are.
 */
const MAX_DEFLATE_RATIO = 1040;
/**
 * How far past the announced size decompression may run, so that a slightly long file still gets
 * an exact byte count in its error while a gzip bomb stops after this many extra bytes.
 */
const GZIP_OVERRUN_SLACK = 1 << 20;

function zlibProblem(err: unknown, compressedBytes: number): { offset: number; problem: string } {
  const e = err as { code?: string; message?: string };
  if (e.code === 'Z_BUF_ERROR') {
    return { offset: compressedBytes, problem: `truncated gzip stream: it ends after ${compressedBytes} bytes (zlib: ${e.message})` };
  }
  return { offset: 0, problem: `corrupt gzip stream (zlib: ${e.message ?? String(err)})` };
}

/** Compressed bytes searched for the IDX header; any real compressor emits it within a few KiB. */
const HEADER_PROBE_MAX_INPUT = 1 << 16;
/** Output allowed while looking for the header (at most 1,024 bytes) before the stream is called implausible. */
const HEADER_PROBE_MAX_OUTPUT = 1 << 20;

/**
 * Gunzips just enough of the stream to read the IDX header. Z_SYNC_FLUSH makes zlib hand back
 * what a prefix decodes to instead of failing on the missing end; growing prefixes with a capped
 * output keep this cheap however much data the stream holds or its header claims.
 */
function gunzipHeaderBytes(bytes: Uint8Array, file: string): Uint8Array {
  for (let take = 64; ; take *= 4) {
    const n = Math.min(take, bytes.length, HEADER_PROBE_MAX_INPUT);
    let out: Uint8Array;
    try {
      out = zlib.gunzipSync(bytes.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: HEADER_PROBE_MAX_OUTPUT });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        // Only a crafted stream gets here: a few bytes that decode to under the header's size, then a flood.
        throw new IdxFormatError(file, n, `implausible gzip stream: its first ${n} bytes decode to more than ${HEADER_PROBE_MAX_OUTPUT} bytes but not to a complete IDX header`, { cause: err });
      }
      const { offset, problem } = zlibProblem(err, bytes.length);
      throw new IdxFormatError(file, offset, problem, { cause: err });
    }
    if (out.length >= 4 && out.length >= 4 + 4 * out[3]) return out;
    if (n === bytes.length) {
      // The whole stream gave no complete header: a stream cut short says so, rather than
      // passing its few decoded bytes on as an "empty" IDX file.
      try {
        zlib.gunzipSync(bytes, { maxOutputLength: HEADER_PROBE_MAX_OUTPUT });
      } catch (err) {
        const { offset, problem } = zlibProblem(err, bytes.length);
        throw new IdxFormatError(file, offset, problem, { cause: err });
      }
      return out;
    }
    if (n === HEADER_PROBE_MAX_INPUT) {
      throw new IdxFormatError(file, n, `implausible gzip stream: its first ${n} bytes decode to only ${out.length} bytes, not a complete IDX header`);
    }
  }
}

function parseGzip(bytes: Uint8Array, file: string): IdxArray {
  const where = ' (in the gunzipped data)';
  const h = parseHeader(gunzipHeaderBytes(bytes, file), file, where);
  const expectedTotal = BigInt(h.headerBytes) + h.dataBytes;
  const ceiling = BigInt(bytes.length) * BigInt(MAX_DEFLATE_RATIO);
  if (expectedTotal > ceiling) {
    throw new IdxFormatError(
      file,
      bytes.length,
      `header announces ${h.dataBytes} data bytes (${describeShape(h)}) but ${bytes.length} gzipped bytes cannot hold more than ${ceiling}${where}`,
    );
  }
  const maxLength = bufferConstants.MAX_LENGTH;
  if (expectedTotal > BigInt(maxLength)) {
    throw new IdxFormatError(file, 0, `header announces ${h.dataBytes} data bytes (${describeShape(h)}), more than one buffer can hold (${maxLength})${where}`);
  }
  const limit = Math.min(Number(expectedTotal) + GZIP_OVERRUN_SLACK, maxLength);
  let plain: Uint8Array;
  try {
    plain = zlib.gunzipSync(bytes, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      checkDataLength(h, limit, file, where, true);
    }
    const { offset, problem } = zlibProblem(err, bytes.length);
    throw new IdxFormatError(file, offset, problem, { cause: err });
  }
  // zlib's output is a fresh allocation unless small enough to come from Node's shared buffer
  // pool; a buffer spanning its whole ArrayBuffer is not a pool slice, so nobody else can see it.
  const owned = plain.byteOffset === 0 && plain.buffer.byteLength === plain.length;
  return parsePlain(plain, file, where, owned);
}

/**
 * Decodes IDX bytes, plain or gzipped (sniffed from the bytes). The result owns its data.
 * @param file name used in errors. @default '<buffer>'
 */
export function parseIdx(bytes: Uint8Array, file: string = DEFAULT_IDX_FILE_NAME): IdxArray {
  if (typeTag(bytes) !== 'Uint8Array') throw new InvalidArgumentError('bytes', 'must be a Uint8Array or Buffer');
  if (typeof file !== 'string') throw new InvalidArgumentError('file', 'must be a string');
  return isGzip(bytes) ? parseGzip(bytes, file) : parsePlain(bytes, file, '');
}

function checkArray(arr: IdxArray): TypeInfo {
  if (arr === null || typeof arr !== 'object') throw new InvalidArgumentError('arr', 'must be an IdxArray { type, dims, data }');
  const info = TYPES[arr.type];
  if (info === undefined) throw new InvalidArgumentError('arr.type', `unknown IDX element type ${JSON.stringify(arr.type)}; expected one of ${IDX_TYPES.join(', ')}`);
  if (!Array.isArray(arr.dims) || arr.dims.length < 1 || arr.dims.length > MAX_IDX_RANK) {
    throw new InvalidArgumentError('arr.dims', `must be an array of 1 to ${MAX_IDX_RANK} dimensions`);
  }
  let elements = 1;
  for (const [i, d] of arr.dims.entries()) {
    if (!Number.isInteger(d) || d < 0 || d > MAX_IDX_DIM) {
      throw new InvalidArgumentError('arr.dims', `dimension ${i} is ${d}; each must be an integer from 0 to ${MAX_IDX_DIM}`);
    }
    elements *= d;
  }
  const tag = typeTag(arr.data);
  if (tag !== info.tag) throw new InvalidArgumentError('arr.data', `type '${arr.type}' needs a ${info.tag}, got ${tag ?? typeof arr.data}`);
  if (arr.data.length !== elements) {
    throw new InvalidArgumentError('arr.data', `has ${arr.data.length} elements but dims ${arr.dims.join(' x ')} make ${elements}`);
  }
  return info;
}

/** Encodes an array as IDX bytes (big-endian), optionally gzipped. */
export function encodeIdx(arr: IdxArray, options: IdxEncodeOptions = {}): Uint8Array {
  const info = checkArray(arr);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const headerBytes = 4 + 4 * arr.dims.length;
  const count = arr.data.length;
  const out = new Uint8Array(headerBytes + count * info.size);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = arr.dims.length;
  arr.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const data = arr.data;
  if (arr.type === 'u8' || arr.type === 'i8') {
    out.set(new Uint8Array(data.buffer, data.byteOffset, count), headerBytes);
  } else {
    for (let i = 0; i < count; i++) info.set(view, headerBytes + i * info.size, data[i]);
  }
  if (options.gzip === true) {
    // Copied out because zlib may hand back a slice of Node's shared buffer pool.
    return new Uint8Array(zlib.gzipSync(out));
  }
  return out;
}

/** Reads and decodes an IDX file, plain or gzipped. */
export async function readIdxFile(file: string): Promise<IdxArray> {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('path', 'must be a non-empty string');
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    throw FileError.fromErrno(file, err);
  }
  return parseIdx(bytes, file);
}


/** Encodes and writes an IDX file atomically (temp file in the same directory, then rename). */
export async function writeIdxFile(file: string, arr: IdxArray, options: IdxEncodeOptions = {}): Promise<void> {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('path', 'must be a non-empty string');
  await writeFileAtomic(file, encodeIdx(arr, options));
}
