/** Writing report files so that a reader never sees a half-written one. */

import { promises as fsp } from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';

/**
 * Writes `data` to `filePath` through a temporary file in the same directory followed by a rename,
 * which is atomic on POSIX file systems (and replaces the target on Windows too). A concurrent reader
 * sees the old file or the new one, never a prefix, and a failure at any step leaves the target as it
 * was and removes the temporary file. The parent directory must exist.
 */
export async function writeFileAtomic(filePath: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(filePath);
  // Same directory, so the rename never crosses a file system; dot-prefixed so globs skip it.
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    await handle.writeFile(data);
    // Without the flush a crash right after the rename can leave an empty file under the new name.
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, filePath);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
