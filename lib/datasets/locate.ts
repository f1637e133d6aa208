/**
 * Finding dataset files already on disk: an explicit directory, the dataset's environment
 * variable, the cache, then OS package directories. Downloading is a separate step (download.ts)
 * so that a caller can tell "not here" from "not reachable".
 */
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DatasetError, InvalidArgumentError } from '../errors';
import { DATASET_FILE_KEYS, DatasetFileKey, DatasetFileTable, DatasetName, datasetInfo, fileNameVariants } from './catalog';
import type { DatasetSource } from './dataset';

export interface LocateOptions {
  /** Directory holding the files; if given, nothing else is searched. */
  dataDir?: string;
  /** How messages name `dataDir` (the CLI passes '--data-dir'). @default 'dataDir' */
  dataDirName?: string;
  /** Cache root; files are looked for under `<cacheDir>/<dataset>/`. @default defaultCacheDir() */
  cacheDir?: string;
}

export interface LocatedDataset {
  source: DatasetSource;
  /** Path of each of the four files (whichever accepted name was found). */
  files: Readonly<Record<DatasetFileKey, string>>;
}

export interface LocateResult {
  found: LocatedDataset | null;
  /** One line per place searched and why it did not do, for error messages. */
  searched: string[];
}

/** Environment variable overriding the cache root. */
export const CACHE_ENV_VAR = 'MNIST_NETS_CACHE';
/** Directory under `$XDG_CACHE_HOME` or `~/.cache`. */
export const CACHE_DIR_NAME = 'tfjs-mnist-nets';

function envValue(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** `$MNIST_NETS_CACHE`, else `$XDG_CACHE_HOME/tfjs-mnist-nets`, else `~/.cache/tfjs-mnist-nets`. */
export function defaultCacheDir(): string {
  const explicit = envValue(CACHE_ENV_VAR);
  if (explicit !== undefined) return path.resolve(explicit);
  const xdg = envValue('XDG_CACHE_HOME');
  if (xdg !== undefined) return path.resolve(xdg, CACHE_DIR_NAME);
  return path.join(os.homedir(), '.cache', CACHE_DIR_NAME);
}

/** The directory a dataset is cached in: `<cacheDir>/<name>/`. */
export function datasetCacheDir(name: DatasetName, cacheDir?: string): string {
  datasetInfo(name);
  if (cacheDir !== undefined && (typeof cacheDir !== 'string' || cacheDir === '')) {
    throw new InvalidArgumentError('cacheDir', 'must be a non-empty string');
  }
  return path.resolve(cacheDir ?? defaultCacheDir(), name);
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export interface DirectoryScan {
  exists: boolean;
  /** The path exists but is a file, not a directory. */
  isFile?: boolean;
  files: Partial<Record<DatasetFileKey, string>>;
  /** Canonical names of the files not found under any accepted name. */
  missing: string[];
}

/** Looks for each file of `table` in `dir`, under any accepted name. */
export async function scanDirectory(dir: string, table: DatasetFileTable): Promise<DirectoryScan> {
  const exists = await isDirectory(dir);
  const fileInstead = !exists && (await isFile(dir));
  const files: Partial<Record<DatasetFileKey, string>> = {};
  const missing: string[] = [];
  for (const key of DATASET_FILE_KEYS) {
    let found: string | undefined;
    if (exists) {
      for (const candidate of fileNameVariants(table[key].name)) {
        const p = path.join(dir, candidate);
        if (await isFile(p)) {
          found = p;
          break;
        }
      }
    }
    if (found === undefined) missing.push(table[key].name);
    else files[key] = found;
  }
  return { exists, files, missing, ...(fileInstead ? { isFile: true } : {}) };
}

const NO_DIRECTORY = 'directory does not exist';
const FILE_NOT_DIRECTORY = 'is a file, not a directory (give the directory holding the four IDX files)';

/**
 * Why `dir` cannot be a data directory (it does not exist, or is a file), in the words the
 * loader's own errors use; undefined for a directory. For checking a flag before any work.
 */
export function dataDirProblem(dir: string): string | undefined {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) return NO_DIRECTORY;
  return stat.isDirectory() ? undefined : FILE_NOT_DIRECTORY;
}

function describeMiss(scan: DirectoryScan): string {
  if (scan.isFile) return FILE_NOT_DIRECTORY;
  if (!scan.exists) return NO_DIRECTORY;
  return `missing ${scan.missing.join(', ')}`;
}

function acceptedNamesHint(table: DatasetFileTable): string {
  const variants = fileNameVariants(table.trainImages.name);
  return `each file may be named like ${variants.join(', ')}`;
}

/**
 * Searches, in order: `dataDir`; the dataset's environment variable (MNIST_DIR,
 * FASHION_MNIST_DIR); `<cacheDir>/<dataset>/`; OS package directories. An explicit `dataDir` or a
 * set environment variable that lacks files is an error, not a reason to look elsewhere: the user
 * said where the data is, and quietly using other data would hide the mistake.
 */
export async function locateDataset(name: DatasetName, options: LocateOptions = {}): Promise<LocateResult> {
  const info = datasetInfo(name);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'must be an object');
  if (options.dataDir !== undefined && (typeof options.dataDir !== 'string' || options.dataDir === '')) {
    throw new InvalidArgumentError('dataDir', 'must be a non-empty string');
  }
  const table = info.files;
  const searched: string[] = [];
  const complete = (scan: DirectoryScan): Record<DatasetFileKey, string> | null =>
    scan.missing.length === 0 ? (scan.files as Record<DatasetFileKey, string>) : null;

  if (options.dataDir !== undefined) {
    const dir = path.resolve(options.dataDir);
    const name = options.dataDirName ?? 'dataDir';
    const scan = await scanDirectory(dir, table);
    const files = complete(scan);
    if (files === null) {
      throw new DatasetError(`${name} ${dir}: ${describeMiss(scan)}${scan.isFile ? '' : ` (${acceptedNamesHint(table)})`}`, [`${name} ${dir}: ${describeMiss(scan)}`]);
    }
    return { found: { source: { kind: 'dir', path: dir, description: `${info.title} from ${dir} (${name})` }, files }, searched };
  }

  const envDir = envValue(info.envVar);
  if (envDir !== undefined) {
    const dir = path.resolve(envDir);
    const scan = await scanDirectory(dir, table);
    const files = complete(scan);
    if (files === null) {
      throw new DatasetError(`${info.envVar}=${dir}: ${describeMiss(scan)} (${acceptedNamesHint(table)}; unset ${info.envVar} to use the cache or download)`, [
        `${info.envVar} ${dir}: ${describeMiss(scan)}`,
      ]);
    }
    return { found: { source: { kind: 'env', path: dir, description: `${info.title} from ${dir} (${info.envVar})` }, files }, searched };
  }
  searched.push(`${info.envVar}: not set`);

  const cacheDir = datasetCacheDir(name, options.cacheDir);
  const cacheScan = await scanDirectory(cacheDir, table);
  const cached = complete(cacheScan);
  if (cached !== null) {
    return { found: { source: { kind: 'cache', path: cacheDir, description: `${info.title} from the cache ${cacheDir}` }, files: cached }, searched };
  }
  searched.push(`cache ${cacheDir}: ${describeMiss(cacheScan)}`);

  for (const dir of info.systemDirs) {
    const scan = await scanDirectory(dir, table);
    const files = complete(scan);
    if (files !== null) {
      return { found: { source: { kind: 'system', path: dir, description: `${info.title} from ${dir} (installed by an OS package)` }, files }, searched };
    }
    searched.push(`${dir}: ${describeMiss(scan)}`);
  }
  return { found: null, searched };
}
