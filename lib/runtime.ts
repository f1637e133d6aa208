import * as fs from 'fs';
import * as path from 'path';

/**
 * `require` held as a value, so esbuild leaves the packages loaded through it out of the bundle:
 * tfjs-node(-gpu) and dawn.node are native and must be found on disk at run time.
 */
export const runtimeRequire: NodeRequire = require;

/** Where a package is installed, or undefined when Node cannot resolve it from here. */
export function resolvePackageDir(name: string): string | undefined {
  try {
    return path.dirname(runtimeRequire.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** A package's version read from its package.json on disk, or undefined. */
export function installedVersion(name: string): string | undefined {
  const dir = resolvePackageDir(name);
  if (dir === undefined) return undefined;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The folder of the running single-file bundle when this code runs from one (it sits next to
 * `mnist-nets.cjs`, dawn.node and the .wasm files), else undefined. In the tsc output and under
 * jest, __dirname is lib/backends, which holds none of those.
 */
export function bundleDir(): string | undefined {
  return fs.existsSync(path.join(__dirname, 'mnist-nets.cjs')) ? __dirname : undefined;
}
