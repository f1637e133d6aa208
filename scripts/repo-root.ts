/** Where the repository is, for the scripts that read or write files in it. */
import * as fs from 'fs';
import * as path from 'path';

/** The repository root, from the source (scripts/) or the build (dist/scripts/). */
export const ROOT = fs.existsSync(path.join(__dirname, '..', 'package.json')) ? path.resolve(__dirname, '..') : path.resolve(__dirname, '..', '..');
