/**
 * Downloading dataset files into the cache: mirrors tried in order, md5 checked while streaming,
 * and a file appears under its final name only once complete, verified and flushed to disk
 * (withAtomicFile: temp file in the same directory, fsync, rename), so an interrupted download
 * never leaves something that looks cached.
 *
 * Requests use node:http(s) rather than the global fetch: Node 18 (which package.json supports)
 * prints an ExperimentalWarning for fetch on stderr; redirects are followed by hand either way, to
 * cap them and refuse https -> http; and fetch has no per-request socket inactivity timeout (its
 * undici dispatcher is not reachable from Node without the undici package), so the timers below
 * would be written again around it.
 */
import { createHash } from 'crypto';
import { promises as fsp } from 'fs';
import * as http from 'http';
import * as https from 'https';
import type { IncomingMessage } from 'http';
import * as path from 'path';
import { withAtomicFile } from '../atomic-write';
import { checkFunction, checkPositiveNumber } from '../checks';
import { DatasetError, InvalidArgumentError, errorMessage } from '../errors';
import { DATASET_FILE_KEYS, DatasetFile, DatasetFileKey, DatasetFileTable, DatasetName, datasetInfo } from './catalog';
import { LocatedDataset, datasetCacheDir, scanDirectory } from './locate';
import { rememberVerified } from './verify';

export type LogFn = (line: string) => void;

/** Where progress and warnings go unless a `log` option says otherwise: stderr, keeping stdout for results. */
export const writeToStderr: LogFn = (line) => {
  process.stderr.write(line + '\n');
};

/** Socket inactivity allowed before a mirror is given up on. @default 30000 */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30_000;
/**
 * Longest one mirror may take to deliver a file, redirects included, however steadily bytes
 * arrive: a server that trickles never trips the inactivity timeout. Ten minutes is 45 KB/s for
 * the largest file (Fashion-MNIST's 26 MB training images). @default 600000
 */
export const DEFAULT_DOWNLOAD_DEADLINE_MS = 600_000;
/** Redirects followed per request (GitHub's raw links redirect once or twice). @default 5 */
export const MAX_REDIRECTS = 5;
/** Least time between two progress lines for one file. @default 1000 */
export const PROGRESS_INTERVAL_MS = 1000;

export interface DownloadFileOptions {
  /** Base URLs tried in order; the file name is appended. */
  mirrors: readonly string[];
  /** Socket inactivity timeout per request, in ms. @default DEFAULT_DOWNLOAD_TIMEOUT_MS */
  timeoutMs?: number;
  /** Time one mirror may take for the whole file, in ms. @default DEFAULT_DOWNLOAD_DEADLINE_MS */
  deadlineMs?: number;
  /** Progress and failure lines. @default writeToStderr */
  log?: LogFn;
  /**
   * The clock, in milliseconds, that spaces progress lines (one per {@link PROGRESS_INTERVAL_MS}
   * at most). Tests pass one driven by the bytes received, so the lines do not depend on load.
   * @default Date.now
   */
  now?: () => number;
}

export interface DownloadOptions {
  /** Cache root; files go to `<cacheDir>/<dataset>/`. @default defaultCacheDir() */
  cacheDir?: string;
  /** Base URLs tried in order. @default the dataset's public mirrors (MNIST_MIRRORS, FASHION_MNIST_MIRRORS) */
  mirrors?: readonly string[];
  /** File names and md5s to fetch. @default the dataset's table (MNIST_FILES, FASHION_MNIST_FILES) */
  files?: DatasetFileTable;
  /** Socket inactivity timeout per request, in ms. @default DEFAULT_DOWNLOAD_TIMEOUT_MS */
  timeoutMs?: number;
  /** Time one mirror may take for the whole file, in ms. @default DEFAULT_DOWNLOAD_DEADLINE_MS */
  deadlineMs?: number;
  /** Progress and failure lines. @default writeToStderr */
  log?: LogFn;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Checks a mirror list early so a typo fails before any request, naming the argument. */
export function checkMirrors(mirrors: unknown, argument = 'mirrors'): readonly string[] {
  if (!Array.isArray(mirrors) || mirrors.length === 0) throw new InvalidArgumentError(argument, 'must be a non-empty array of http(s) URLs');
  for (const m of mirrors) {
    let url: URL;
    try {
      url = new URL(String(m));
    } catch {
      throw new InvalidArgumentError(argument, `${JSON.stringify(m)} is not a URL`);
    }
    if (typeof m !== 'string' || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new InvalidArgumentError(argument, `${JSON.stringify(m)} is not an http(s) URL`);
    }
  }
  return mirrors as string[];
}

/** Both time limits of a download, checked. */
interface Limits {
  timeoutMs: number;
  deadlineMs: number;
}

function checkLimits(options: { timeoutMs?: unknown; deadlineMs?: unknown }): Limits {
  return {
    timeoutMs: options.timeoutMs === undefined ? DEFAULT_DOWNLOAD_TIMEOUT_MS : checkPositiveNumber('timeoutMs', options.timeoutMs),
    deadlineMs: options.deadlineMs === undefined ? DEFAULT_DOWNLOAD_DEADLINE_MS : checkPositiveNumber('deadlineMs', options.deadlineMs),
  };
}

function checkLog(log: unknown): LogFn {
  return checkFunction('log', log, writeToStderr, '(line: string) => void');
}

/** Joins a mirror base and a file name whether or not the base ends in '/'. */
export function mirrorUrl(mirror: string, name: string): string {
  return mirror.endsWith('/') ? mirror + name : `${mirror}/${name}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}


/**
 * Where a redirect from `from` to `location` leads, or an error saying why it is not followed:
 * only http(s) targets, and never from https down to http, which would hand the rest of the
 * transfer to anyone on the path (the md5 still guards the bytes, but not what else is learnt).
 */
export function redirectTarget(from: URL, location: string): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new Error(`redirect to an invalid Location ${JSON.stringify(location)}`);
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') throw new Error(`refused a redirect from ${from.href} to ${to.href}: not http(s)`);
  if (from.protocol === 'https:' && to.protocol !== 'https:') throw new Error(`refused a redirect from ${from.href} to ${to.href}: it would drop https`);
  return to;
}

interface Response {
  res: IncomingMessage;
  timedOut: () => boolean;
}

function get(url: URL, timeoutMs: number, signal: AbortSignal): Promise<Response> {
  const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (mod === undefined) return Promise.reject(new Error(`unsupported protocol ${url.protocol}`));
  return new Promise((resolve, reject) => {
    let timedOut = false;
    // agent: false gives a one-off connection that closes afterwards; Node 20's keep-alive global
    // agent would otherwise hold sockets open and keep short-lived processes from exiting.
    const req = mod.get(
      url,
      { agent: false, timeout: timeoutMs, signal, headers: { 'user-agent': 'tfjs-mnist-nets', 'accept-encoding': 'identity' } },
      (res) => resolve({ res, timedOut: () => timedOut }),
    );
    req.on('timeout', () => {
      timedOut = true;
      req.destroy(new Error(`no data for ${timeoutMs} ms`));
    });
    req.on('error', reject);
  });
}

/** Writes all of `chunk`, however many calls the file system takes. */
async function writeAll(handle: fsp.FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
  }
}

/**
 * Streams one URL (following redirects) into `handle`, hashing as it goes, within the inactivity
 * timeout and the deadline; resolves with the byte count once the md5 matches.
 */
async function fetchInto(url: string, handle: fsp.FileHandle, file: Pick<DatasetFile, 'name' | 'md5'>, limits: Limits, log: LogFn, now: () => number): Promise<number> {
  const controller = new AbortController();
  let pastDeadline = false;
  const deadline = setTimeout(() => {
    pastDeadline = true;
    controller.abort();
  }, limits.deadlineMs);
  let received = 0;
  let total: number | undefined;
  const at = (): string => `after ${received}${total !== undefined ? ` of ${total}` : ''} bytes`;
  try {
    let current = new URL(url);
    for (let redirects = 0; ; redirects++) {
      const { res, timedOut } = await get(current, limits.timeoutMs, controller.signal);
      const status = res.statusCode ?? 0;
      if (REDIRECT_STATUSES.has(status)) {
        res.resume();
        const location = res.headers.location;
        if (location === undefined) throw new Error(`HTTP ${status} redirect without a Location header`);
        if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects (last to ${location})`);
        current = redirectTarget(current, location);
        continue;
      }
      if (status !== 200) {
        res.resume();
        throw new Error(`HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}`);
      }
      const lengthHeader = res.headers['content-length'];
      total = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
      const hash = createHash('md5');
      let lastLog = now();
      try {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          hash.update(chunk);
          received += chunk.length;
          await writeAll(handle, chunk);
          const t = now();
          if (t - lastLog >= PROGRESS_INTERVAL_MS) {
            lastLog = t;
            const pct = total ? ` (${((100 * received) / total).toFixed(0)}%)` : '';
            log(`  ${file.name}: ${formatBytes(received)}${total !== undefined ? ' / ' + formatBytes(total) : ''}${pct}`);
          }
        }
      } catch (err) {
        if (timedOut()) throw new Error(`no data for ${limits.timeoutMs} ms ${at()}`, { cause: err });
        const e = err as { code?: string; message?: string };
        if (!pastDeadline && (e.code === 'ECONNRESET' || e.message === 'aborted')) throw new Error(`connection closed ${at()} (${errorMessage(err)})`, { cause: err });
        throw new Error(`transfer failed ${at()}: ${errorMessage(err)}`, { cause: err });
      }
      if (total !== undefined && received !== total) {
        throw new Error(`connection closed after ${received} of ${total} bytes`);
      }
      const got = hash.digest('hex');
      if (got !== file.md5) throw new Error(`md5 mismatch: got ${got}, expected ${file.md5} (${received} bytes)`);
      return received;
    }
  } catch (err) {
    if (pastDeadline) throw new Error(`took longer than ${limits.deadlineMs} ms (deadline) ${at()}`, { cause: err });
    throw err;
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * Downloads one file into `destDir`, trying each mirror in turn until one serves bytes with the
 * right md5. Resolves with the file's path; rejects with a `DatasetError` naming every mirror and
 * why it failed. Nothing is left in `destDir` on failure.
 */
export async function downloadFile(file: Pick<DatasetFile, 'name' | 'md5'>, destDir: string, options: DownloadFileOptions): Promise<string> {
  if (file === null || typeof file !== 'object' || typeof file.name !== 'string' || file.name === '' || file.name.includes('/') || file.name.includes('\\')) {
    throw new InvalidArgumentError('file.name', 'must be a plain file name');
  }
  if (typeof file.md5 !== 'string' || !/^[0-9a-f]{32}$/.test(file.md5)) throw new InvalidArgumentError('file.md5', 'must be 32 lower-case hex digits');
  if (typeof destDir !== 'string' || destDir === '') throw new InvalidArgumentError('destDir', 'must be a non-empty string');
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const mirrors = checkMirrors(options.mirrors, 'mirrors');
  const limits = checkLimits(options);
  const log = checkLog(options.log);
  const now = checkFunction('now', options.now, Date.now, '() => number (milliseconds)');

  try {
    await fsp.mkdir(destDir, { recursive: true });
  } catch (err) {
    throw new DatasetError(`cannot create the download directory ${destDir}: ${errorMessage(err)}`, [], { cause: err });
  }
  const dest = path.join(destDir, file.name);
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const url = mirrorUrl(mirror, file.name);
    log(`downloading ${url}`);
    try {
      const bytes = await withAtomicFile(dest, (handle) => fetchInto(url, handle, file, limits, log, now));
      log(`  ${file.name}: ${formatBytes(bytes)}, md5 ok`);
      return dest;
    } catch (err) {
      const why = errorMessage(err);
      failures.push(`${url}: ${why}`);
      log(`  ${url} failed: ${why}`);
    }
  }
  throw new DatasetError(`could not download ${file.name} into ${destDir}; every mirror failed:\n  ${failures.join('\n  ')}`, failures);
}

/**
 * Downloads whatever files of a dataset its cache directory lacks, and returns where they are.
 * Files already there are kept (loadDataset checks every file's md5 on first use); the ones
 * fetched are remembered as verified, so that first use does not hash them again.
 */
export async function downloadDataset(name: DatasetName, options: DownloadOptions = {}): Promise<LocatedDataset> {
  const info = datasetInfo(name);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  const mirrors = checkMirrors(options.mirrors ?? info.mirrors, 'mirrors');
  const limits = checkLimits(options);
  const log = checkLog(options.log);
  const table = options.files ?? info.files;
  if (table === null || typeof table !== 'object' || DATASET_FILE_KEYS.some((k) => table[k] === undefined)) {
    throw new InvalidArgumentError('files', `must give each of ${DATASET_FILE_KEYS.join(', ')}`);
  }
  const dir = datasetCacheDir(name, options.cacheDir);
  const present = await scanDirectory(dir, table);
  const files: Partial<Record<DatasetFileKey, string>> = { ...present.files };
  const fetched: string[] = [];
  const digests: Record<string, string> = {};
  for (const key of DATASET_FILE_KEYS) {
    if (files[key] !== undefined) continue;
    const file = await downloadFile(table[key], dir, { mirrors, ...limits, log });
    files[key] = file;
    fetched.push(table[key].name);
    digests[file] = table[key].md5;
  }
  if (fetched.length > 0) await rememberVerified(digests, { cacheDir: options.cacheDir, log });
  return {
    source: {
      kind: 'download',
      path: dir,
      description: `${info.title} downloaded into ${dir}` + (fetched.length < DATASET_FILE_KEYS.length ? ` (${fetched.length} files fetched, the rest already cached)` : ''),
    },
    files: files as Record<DatasetFileKey, string>,
  };
}
