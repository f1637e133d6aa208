/**
 * IDX bytes, on any platform: the element-type table, header and length checks, parsing and
 * encoding of plain IDX bytes, and gzip through the web platform's DecompressionStream /
 * CompressionStream (browsers, Node 18+, Deno). Nothing here imports a Node module: lib/idx.ts
 * adds what Node has (a synchronous zlib, files) on top, and the browser entry uses this alone.
 *
 * IDX (the format MNIST ships in): a 4-byte magic `00 00 <type> <rank>`, `rank` big-endian
 * uint32 dimensions, then the elements, big-endian, row-major. Gzip is told apart by its magic
 * bytes (1f 8b), never by the file name, because mirrors and users rename files.
 *
 * Every malformed input throws `IdxFormatError(file, offset, problem)`. Offsets of problems found
 * after gunzipping count in the gunzipped bytes (the problem text says so); offsets of gzip-level
 * problems count in the compressed bytes.
 */
import { IdxFormatError, InvalidArgumentError } from './errors';

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

export function typeTag(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? (value as unknown as { [Symbol.toStringTag]: string })[Symbol.toStringTag] : undefined;
}

function hex(byte: number): string {
  return '0x' + byte.toString(16).padStart(2, '0');
}

/** Whether bytes start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export interface IdxHeader {
  type: IdxType;
  dims: number[];
  headerBytes: number;
  /** Data bytes the header announces; a bigint because 255 uint32 dimensions overflow a double's integers. */
  dataBytes: bigint;
}

/** Reads and checks the magic and dimensions; `where` is appended to problems found in gunzipped bytes. */
export function parseIdxHeader(bytes: Uint8Array, file: string, where: string): IdxHeader {
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

export function describeShape(h: IdxHeader): string {
  return `${h.dims.join(' x ')} ${h.type}`;
}

/** Checks the data length against the header; every check runs before anything is allocated. */
export function checkIdxDataLength(h: IdxHeader, available: number, file: string, where: string, atLeast = false): void {
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
export function parsePlainIdx(bytes: Uint8Array, file: string, where: string, owned = false): IdxArray {
  const h = parseIdxHeader(bytes, file, where);
  checkIdxDataLength(h, bytes.length, file, where);
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

function checkIdxArray(arr: IdxArray): TypeInfo {
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


/** Checks `parseIdx`-style arguments: a Uint8Array (or Buffer) and a file name for errors. */
export function checkIdxInput(bytes: unknown, file: unknown): void {
  if (typeTag(bytes) !== 'Uint8Array') throw new InvalidArgumentError('bytes', 'must be a Uint8Array or Buffer');
  if (typeof file !== 'string') throw new InvalidArgumentError('file', 'must be a string');
}

/** Encodes an array as plain IDX bytes (big-endian). */
export function encodeIdxPlain(arr: IdxArray): Uint8Array {
  const info = checkIdxArray(arr);
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
  return out;
}

/** Appended to problems found in gunzipped bytes, whose offsets count in those bytes. */
export const GUNZIPPED_WHERE = ' (in the gunzipped data)';

/**
 * Deflate cannot expand input by more than about 1032:1 (a 258-byte match costs at least 2 bits),
 * so a gzip file announcing more than this ratio allows is short, whatever its bytes are.
 */
export const MAX_DEFLATE_RATIO = 1040;
/**
 * How far past the announced size decompression may run, so that a slightly long file still gets
 * an exact byte count in its error while a gzip bomb stops after this many extra bytes.
 */
export const GZIP_OVERRUN_SLACK = 1 << 20;

/** Refuses, before any gunzipping of the data, a header announcing more than `compressedBytes` of deflate can hold. */
export function checkGzipCeiling(h: IdxHeader, compressedBytes: number, file: string): bigint {
  const expectedTotal = BigInt(h.headerBytes) + h.dataBytes;
  const ceiling = BigInt(compressedBytes) * BigInt(MAX_DEFLATE_RATIO);
  if (expectedTotal > ceiling) {
    throw new IdxFormatError(
      file,
      compressedBytes,
      `header announces ${h.dataBytes} data bytes (${describeShape(h)}) but ${compressedBytes} gzipped bytes cannot hold more than ${ceiling}${GUNZIPPED_WHERE}`,
    );
  }
  return expectedTotal;
}

/** A gzip-level problem found while gunzipping `compressedBytes` bytes: a stream cut short, or corrupt data. */
export function gzipProblem(truncated: boolean, detail: string, compressedBytes: number): { offset: number; problem: string } {
  return truncated
    ? { offset: compressedBytes, problem: `truncated gzip stream: it ends after ${compressedBytes} bytes (${detail})` }
    : { offset: 0, problem: `corrupt gzip stream (${detail})` };
}

/**
 * Compressed bytes handed to DecompressionStream at a time. The output is read as it comes, so a
 * gzip bomb is stopped within one chunk's worth of output (at most ~16 MiB) past the slack.
 */
const WEB_GUNZIP_CHUNK = 1 << 14;

/** The decompressor's own message without the browser's "Failed to execute 'close' on ...: " prefix. */
function streamErrorText(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return (typeof message === 'string' ? message : String(err)).replace(/^Failed to execute '[^']*' on '[^']*': /, '');
}

function isTruncation(err: unknown): boolean {
  // Node reports zlib's code; browsers only a message ("Compressed input was truncated." in Chromium).
  return (err as { code?: unknown } | null)?.code === 'Z_BUF_ERROR' || /truncated|unexpected end/i.test(streamErrorText(err));
}

function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/**
 * Gunzips through DecompressionStream, reading the IDX header from the first output and then
 * holding the decoded bytes in one buffer of exactly the announced size. Input is written a chunk
 * at a time while the output is drained, and everything stops once the output passes the announced
 * size by {@link GZIP_OVERRUN_SLACK}.
 */
async function parseGzipStream(bytes: Uint8Array, file: string): Promise<IdxArray> {
  if (typeof DecompressionStream !== 'function') {
    throw new IdxFormatError(file, 0, 'gzipped IDX data, but this platform has no DecompressionStream to gunzip it; gunzip the file first');
  }
  const where = GUNZIPPED_WHERE;
  const stream = new DecompressionStream('gzip');
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let stopped = false;
  const feeding = (async () => {
    for (let i = 0; i < bytes.length && !stopped; i += WEB_GUNZIP_CHUNK) {
      await writer.write(bytes.subarray(i, i + WEB_GUNZIP_CHUNK) as Uint8Array<ArrayBuffer>);
    }
    if (!stopped) await writer.close();
  })();
  // The reader sees every failure of the stream; the writer's copy of it needs no second report.
  feeding.catch(() => undefined);

  const head: Uint8Array[] = [];
  let total = 0;
  let header: IdxHeader | undefined;
  let out: Uint8Array | undefined;
  let limit = Infinity;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        const { offset, problem } = gzipProblem(isTruncation(err), `DecompressionStream: ${streamErrorText(err)}`, bytes.length);
        throw new IdxFormatError(file, offset, problem, { cause: err });
      }
      if (chunk.done) break;
      const value = chunk.value;
      if (out === undefined) {
        head.push(value);
        const first = concatBytes(head, total + value.length);
        if (first.length >= 4 && first.length >= 4 + 4 * first[3]) {
          header = parseIdxHeader(first, file, where);
          const expectedTotal = checkGzipCeiling(header, bytes.length, file);
          try {
            out = new Uint8Array(Number(expectedTotal));
          } catch (err) {
            throw new IdxFormatError(file, 0, `header announces ${header.dataBytes} data bytes (${describeShape(header)}), more than one buffer can hold${where}`, { cause: err });
          }
          limit = Number(expectedTotal) + GZIP_OVERRUN_SLACK;
          out.set(first.subarray(0, Math.min(first.length, out.length)));
          head.length = 0;
        }
      } else if (total < out.length) {
        out.set(value.subarray(0, out.length - total), total);
      }
      total += value.length;
      if (header !== undefined && total > limit) checkIdxDataLength(header, limit, file, where, true);
    }
  } catch (err) {
    stopped = true;
    await reader.cancel(err).catch(() => undefined);
    throw err;
  }
  await feeding.catch(() => undefined);
  if (header === undefined || out === undefined) {
    // The whole stream decoded to less than a header: the header check says what is missing.
    return parsePlainIdx(concatBytes(head, total), file, where, true);
  }
  checkIdxDataLength(header, total, file, where);
  return parsePlainIdx(out, file, where, true);
}

/**
 * Decodes IDX bytes, plain or gzipped (sniffed from the bytes), on any platform: gzip goes through
 * DecompressionStream. The result owns its data. Under Node, `parseIdx` does the same synchronously.
 * @param file name used in errors. @default '<buffer>'
 */
export async function parseIdxAsync(bytes: Uint8Array, file: string = DEFAULT_IDX_FILE_NAME): Promise<IdxArray> {
  checkIdxInput(bytes, file);
  return isGzip(bytes) ? parseGzipStream(bytes, file) : parsePlainIdx(bytes, file, '');
}

/** Encodes an array as IDX bytes, gzipped through CompressionStream when `options.gzip` says so. */
export async function encodeIdxAsync(arr: IdxArray, options: IdxEncodeOptions = {}): Promise<Uint8Array> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const plain = encodeIdxPlain(arr);
  if (options.gzip !== true) return plain;
  const gzipped = new Blob([plain as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(gzipped).arrayBuffer());
}
