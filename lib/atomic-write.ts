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
  const dir = path.dirname(filePath);
  // Same directory, so the rename never crosses a file system; dot-prefixed so globs and the
  // dataset scans skip it; pid and random bytes so concurrent writers never share one.
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
