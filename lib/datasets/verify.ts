/**
 * Checking that dataset files are the published ones wherever they were found (a directory, the
 * cache, an OS package), not only when downloaded. A file is hashed on its first use; the verdict is
 * remembered in the cache root under the file's path and identity (size, mtime, ctime, inode,
 * device), so later uses cost a stat, and a file that changed in any of those is hashed again.
 */
import { createHash } from 'crypto';
import { createReadStream, promises as fsp } from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import { createGunzip } from 'zlib';
import { writeFileAtomic } from '../atomic-write';
import { DatasetError, errorMessage } from '../errors';
import { DATASET_FILE_KEYS, DatasetFile, DatasetFileKey, DatasetFileTable } from './catalog';
import { defaultCacheDir } from './locate';

/** File in the cache root holding the remembered verdicts. */
export const VERDICT_FILE = 'verified-files.json';
/** Format version of {@link VERDICT_FILE}; another version is ignored (everything is checked again). */
export const VERDICT_FORMAT = 1;

/** What identifies one state of a file; any change (a rewrite, a copy over it, touch) changes one field. */
interface FileIdentity {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  dev: string;
}

/** A file found good, and the catalog digest its bytes matched. */
interface Verdict extends FileIdentity {
  md5: string;
}

interface VerdictStore {
  format: number;
  files: Record<string, Verdict>;
}

export interface VerifyOptions {
  /** Cache root the verdicts are kept in. @default defaultCacheDir() */
  cacheDir?: string;
  /** What the user can do about a wrong file, appended to the error. @default 'Replace it with the published file.' */
  advice?: string;
  /** Where a verdict that cannot be stored is reported. @default nowhere */
  log?: (line: string) => void;
}

const GZIP_MAGIC = [0x1f, 0x8b];

async function identity(file: string): Promise<FileIdentity> {
  const st = await fsp.stat(file, { bigint: true });
  return { size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), dev: String(st.dev) };
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

function storePath(cacheDir: string | undefined): string {
  return path.join(path.resolve(cacheDir ?? defaultCacheDir()), VERDICT_FILE);
}

/** The remembered verdicts; a missing, unreadable or foreign file counts as none remembered. */
async function readStore(file: string): Promise<VerdictStore> {
  try {
    const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<VerdictStore>;
    if (parsed.format === VERDICT_FORMAT && parsed.files !== null && typeof parsed.files === 'object') return { format: VERDICT_FORMAT, files: parsed.files };
  } catch {
    // Checking again is always safe.
  }
  return { format: VERDICT_FORMAT, files: {} };
}

/**
 * Adds verdicts to the store. It is read again just before the atomic write, so concurrent
 * processes lose at most each other's newest entries (which only costs a check); entries of files
 * that no longer exist are dropped so the store does not grow with temporary directories.
 */
async function remember(cacheDir: string | undefined, verdicts: Record<string, Verdict>, log?: (line: string) => void): Promise<void> {
  const file = storePath(cacheDir);
  try {
    const store = await readStore(file);
    const files: Record<string, Verdict> = {};
    for (const [p, v] of Object.entries(store.files)) {
      if (await fsp.stat(p).then(() => true, () => false)) files[p] = v;
    }
    Object.assign(files, verdicts);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify({ format: VERDICT_FORMAT, files }, null, 1));
  } catch (err) {
    log?.(`note: could not remember the md5 check in ${file} (${errorMessage(err)}); the next load checks again`);
  }
}

/** md5 of a stream's bytes, and its first two bytes (to tell gzip). */
async function md5Of(stream: Readable): Promise<{ md5: string; head: number[] }> {
  const hash = createHash('md5');
  const head: number[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let i = 0; head.length < 2 && i < chunk.length; i++) head.push(chunk[i]);
    hash.update(chunk);
  }
  return { md5: hash.digest('hex'), head };
}

type Check = { ok: true; matched: string } | { ok: false; actual: string; what: string };

/**
 * Whether a file holds the published data: its bytes are the published .gz (`md5`) or the raw IDX
 * (`rawMd5`); else, if gzipped, its gunzipped bytes are the raw IDX. The last case is a repackaged
 * .gz (Debian's Fashion-MNIST), the only one that pays for a gunzip.
 */
async function check(file: string, expected: Pick<DatasetFile, 'md5' | 'rawMd5'>): Promise<Check> {
  const plain = await md5Of(createReadStream(file));
  if (plain.md5 === expected.md5 || plain.md5 === expected.rawMd5) return { ok: true, matched: plain.md5 };
  if (plain.head[0] !== GZIP_MAGIC[0] || plain.head[1] !== GZIP_MAGIC[1]) return { ok: false, actual: plain.md5, what: 'its md5' };
  let raw: string;
  try {
    raw = (await md5Of(createReadStream(file).pipe(createGunzip()))).md5;
  } catch (err) {
    return { ok: false, actual: plain.md5, what: `it does not gunzip (${errorMessage(err)}); its md5` };
  }
  return raw === expected.rawMd5 ? { ok: true, matched: raw } : { ok: false, actual: raw, what: 'the md5 of its gunzipped bytes' };
}

/**
 * Checks that each file holds the published data of `table`, hashing only files not already
 * remembered as good in their current state. Throws a `DatasetError` naming the first wrong file,
 * its md5 and the expected one, and what to do (`advice`).
 */
export async function verifyDatasetFiles(
  files: Readonly<Record<DatasetFileKey, string>>,
  table: DatasetFileTable,
  options: VerifyOptions = {},
): Promise<void> {
  const store = await readStore(storePath(options.cacheDir));
  const found: Record<string, Verdict> = {};
  for (const key of DATASET_FILE_KEYS) {
    const file = path.resolve(files[key]);
    const expected = table[key];
    const id = await identity(file);
    const known = store.files[file];
    if (known !== undefined && sameIdentity(known, id) && (known.md5 === expected.md5 || known.md5 === expected.rawMd5)) continue;
    const result = await check(file, expected);
    if (!result.ok) {
      throw new DatasetError(
        `${file}: not the published ${expected.name}: ${result.what} is ${result.actual}, expected ${expected.rawMd5} ` +
          `(the IDX bytes) or ${expected.md5} (the published .gz). ${options.advice ?? 'Replace it with the published file.'}`,
        [`${file}: md5 ${result.actual}`],
      );
    }
    // The identity from before the hashing: a file changed meanwhile is checked again next time.
    found[file] = { ...id, md5: result.matched };
  }
  if (Object.keys(found).length > 0) await remember(options.cacheDir, found, options.log);
}

/**
 * Records files whose md5 was checked another way (while downloading), so their first use does not
 * hash them again. `digests` maps each file to the catalog digest it matched.
 */
export async function rememberVerified(digests: Readonly<Record<string, string>>, options: Pick<VerifyOptions, 'cacheDir' | 'log'> = {}): Promise<void> {
  const verdicts: Record<string, Verdict> = {};
  for (const [file, md5] of Object.entries(digests)) {
    const abs = path.resolve(file);
    verdicts[abs] = { ...(await identity(abs)), md5 };
  }
  await remember(options.cacheDir, verdicts, options.log);
}
