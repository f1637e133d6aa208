/** Writing files so that a reader never sees a half-written one. */

import { promises as fsp } from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';

/**
 * Fills a file through `fill` and makes it appear under `filePath` only once it is complete: a
 * temporary file in the same directory is created, handed to `fill`, flushed to disk (fsync),
 * closed and renamed over the target, which is atomic on POSIX file systems (and replaces the
 * target on Windows too). A concurrent reader sees the old file or the new one, never a prefix. If
 * `fill` throws (a download that failed its md5, say) or any later step fails, the target is left as
 * it was, the temporary file is removed and the error is rethrown. The parent directory must exist.
 * `fill` writes through the handle and leaves closing it to this function.
 */
export async function withAtomicFile<T>(filePath: string, fill: (handle: fsp.FileHandle) => Promise<T>): Promise<T> {
  const tmp = tempSibling(filePath);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    const result = await fill(handle);
    // Without the flush a crash right after the rename can leave an empty file under the new name.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, filePath);
    return result;
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Writes `data` to `filePath` atomically: see {@link withAtomicFile}. A failure at any step leaves
 * the target as it was and removes the temporary file.
 */
export async function writeFileAtomic(filePath: string, data: string | Uint8Array): Promise<void> {
  await withAtomicFile(filePath, (handle) => handle.writeFile(data));
}

/** What a temporary sibling's name ends with: `.<pid>.<12 hex digits>.<kind>`. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{12}\.(tmp|saving)$/;

/**
 * A temporary path beside `target` (same directory, so a rename never crosses a file system):
 * dot-prefixed so globs and the dataset scans skip it; the writer's pid, so that a later writer can
 * tell one left by a process that died ({@link removeAbandonedTemps}); random bytes, so concurrent
 * writers never share one. `kind`: `tmp` for a file, `saving` for a folder being filled.
 */
export function tempSibling(target: string, kind: 'tmp' | 'saving' = 'tmp'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.${kind}`);
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files and folders ({@link tempSibling}) in `dir` that a process which no
 * longer runs left behind (killed mid-write: a rename that never happened). Those of running
 * processes, this one included, may be writes in flight and stay. Returns the names removed.
 */
export async function removeAbandonedTemps(dir: string): Promise<string[]> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || processRuns(Number(m[1]))) continue;
    await fsp.rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
