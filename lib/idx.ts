/**
 * IDX under Node: everything of lib/idx-core.ts (the platform-neutral parsing and encoding), plus
 * a synchronous gzip through zlib and file reading and writing (atomic). The browser entry uses
 * lib/idx-core.ts alone; its `parseIdxAsync` gunzips through DecompressionStream instead.
 *
 * Every malformed input throws `IdxFormatError(file, offset, problem)`; see lib/idx-core.ts.
 */
import { promises as fsp } from 'fs';
import * as zlib from 'zlib';
import { constants as bufferConstants } from 'buffer';
import { writeFileAtomic } from './atomic-write';
import { FileError, IdxFormatError, InvalidArgumentError } from './errors';
import {
  DEFAULT_IDX_FILE_NAME,
  GUNZIPPED_WHERE,
  GZIP_OVERRUN_SLACK,
  IdxArray,
  IdxEncodeOptions,
  checkGzipCeiling,
  checkIdxDataLength,
  checkIdxInput,
  describeShape,
  encodeIdxPlain,
  gzipProblem,
  isGzip,
  parseIdxHeader,
  parsePlainIdx,
} from './idx-core';

export {
  DEFAULT_IDX_FILE_NAME,
  IDX_TYPES,
  MAX_IDX_DIM,
  MAX_IDX_RANK,
  encodeIdxAsync,
  idxElementSize,
  idxTypeCode,
  idxTypeFromCode,
  parseIdxAsync,
} from './idx-core';
export type { IdxArray, IdxData, IdxEncodeOptions, IdxType } from './idx-core';

function zlibProblem(err: unknown, compressedBytes: number): { offset: number; problem: string } {
  const e = err as { code?: string; message?: string };
  return gzipProblem(e.code === 'Z_BUF_ERROR', `zlib: ${e.message ?? String(err)}`, compressedBytes);
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
  const where = GUNZIPPED_WHERE;
  const h = parseIdxHeader(gunzipHeaderBytes(bytes, file), file, where);
  const expectedTotal = checkGzipCeiling(h, bytes.length, file);
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
      checkIdxDataLength(h, limit, file, where, true);
    }
    const { offset, problem } = zlibProblem(err, bytes.length);
    throw new IdxFormatError(file, offset, problem, { cause: err });
  }
  // zlib's output is a fresh allocation unless small enough to come from Node's shared buffer
  // pool; a buffer spanning its whole ArrayBuffer is not a pool slice, so nobody else can see it.
  const owned = plain.byteOffset === 0 && plain.buffer.byteLength === plain.length;
  return parsePlainIdx(plain, file, where, owned);
}

/**
 * Decodes IDX bytes, plain or gzipped (sniffed from the bytes), synchronously. The result owns
 * its data.
 * @param file name used in errors. @default '<buffer>'
 */
export function parseIdx(bytes: Uint8Array, file: string = DEFAULT_IDX_FILE_NAME): IdxArray {
  checkIdxInput(bytes, file);
  return isGzip(bytes) ? parseGzip(bytes, file) : parsePlainIdx(bytes, file, '');
}

/** Encodes an array as IDX bytes (big-endian), optionally gzipped. */
export function encodeIdx(arr: IdxArray, options: IdxEncodeOptions = {}): Uint8Array {
  const out = encodeIdxPlain(arr);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
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
