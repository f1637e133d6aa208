/**
 * Builds one folder that runs the mnist-nets CLI on an offline Linux x64 machine:
 *
 *   mnist-nets            launcher: runs mnist-nets.cjs with ./node if present, else the system node
 *   mnist-nets.cjs        the CLI and its JS dependencies (tfjs, wasm + webgpu backends, yargs), one file
 *   NAME.cjs              one more such file per --extra-entry (scripts/gpu/gpu-run.js: the GPU command)
 *   *.wasm                tfjs-backend-wasm's binaries, read from next to mnist-nets.cjs
 *   dawn.node             WebGPU for Node (Dawn), linux-x64 only
 *   node                  a Node binary, with --node PATH
 *   node_modules/         files read from disk at run time: the threaded-wasm loader, resvg's
 *                         renderer, the `mnist` sample (--with-mnist); tfjs-node-gpu goes here too
 *   SHA256SUMS            checksums for `sha256sum -c SHA256SUMS` after copying
 *
 * With --archive (implied by --node) it also writes DIR.tar.gz, which is then what must travel.
 *
 * Usage (after `npx tsc -p tsconfig.build.json`):
 *   node dist/scripts/bundle.js --out DIR [--entry dist/lib/cli/main.js] [--extra-entry FILE]...
 *        [--node PATH] [--with-mnist] [--archive] [--no-minify] [--no-check]
 *
 * Each entry module must export `main(argv: string[]): Promise<number | void>` and must not run it
 * on import when bundled (a `require.main === module` guard is false inside the bundle).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';

/** What may travel to the target machine in one piece (the device transfer limit). */
export const MAX_TRAVEL_BYTES = 64 * 1024 * 1024;

/**
 * Native packages, and files read from disk at run time (found with require.resolve from
 * node_modules next to mnist-nets.cjs), so they stay out of it.
 */
const EXTERNAL = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@resvg/resvg-js', 'mnist', '@tensorflow/tfjs-backend-wasm/package.json'];

interface BundleOptions {
  out: string;
  entry: string;
  /** More entries, each bundled the same way into `<its base name>.cjs` beside mnist-nets.cjs. */
  extraEntries: string[];
  node?: string;
  withMnist: boolean;
  archive: boolean;
  minify: boolean;
  check: boolean;
}

class UsageError extends Error {}

const USAGE =
  'usage: node dist/scripts/bundle.js --out DIR [--entry FILE] [--extra-entry FILE]... [--node PATH] [--with-mnist] [--archive] [--no-minify] [--no-check]';

function parseArgs(argv: string[], root: string): BundleOptions {
  const opts: Partial<BundleOptions> = { withMnist: false, archive: false, minify: true, check: true, extraEntries: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg}: needs a value`);
      return v;
    };
    switch (arg) {
      case '--out': opts.out = path.resolve(value()); break;
      case '--entry': opts.entry = path.resolve(value()); break;
      case '--extra-entry': (opts.extraEntries as string[]).push(path.resolve(value())); break;
      case '--node': opts.node = path.resolve(value()); break;
      case '--with-mnist': opts.withMnist = true; break;
      case '--archive': opts.archive = true; break;
      case '--no-minify': opts.minify = false; break;
      case '--no-check': opts.check = false; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new UsageError(`unknown argument '${arg}'`);
    }
  }
  if (!opts.out) throw new UsageError('--out: required');
  const entry = opts.entry ?? path.join(root, 'dist', 'lib', 'cli', 'main.js');
  if (!fs.existsSync(entry)) {
    throw new UsageError(`--entry: ${entry} does not exist (build the CLI first: npx tsc -p tsconfig.build.json)`);
  }
  for (const extra of opts.extraEntries as string[]) {
    if (!fs.existsSync(extra)) throw new UsageError(`--extra-entry: ${extra} does not exist (build first: npx tsc -p tsconfig.build.json)`);
    if (bundledName(extra) === 'mnist-nets.cjs') throw new UsageError(`--extra-entry: ${extra} would overwrite mnist-nets.cjs`);
  }
  if (opts.node !== undefined) {
    checkNodeBinary(opts.node);
    // A Node binary alone is about 95 MiB: only the gzipped folder fits the limit.
    opts.archive = true;
  }
  return { ...(opts as BundleOptions), entry };
}

/** `dist/scripts/gpu/gpu-run.js` -> `gpu-run.cjs`. */
function bundledName(entry: string): string {
  return `${path.basename(entry).replace(/\.[cm]?js$/, '')}.cjs`;
}

/** The repository root: the nearest folder above this script with this project's package.json. */
function findRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tfjs-mnist-nets') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no tfjs-mnist-nets package.json above ${__dirname}`);
  }
}

/** The target is Linux x64: a Node binary for anything else would only fail there. */
function checkNodeBinary(file: string): void {
  if (!fs.existsSync(file)) throw new UsageError(`--node: ${file} does not exist`);
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  const elf = header.readUInt32BE(0) === 0x7f454c46;
  if (!elf || header[4] !== 2 || header[5] !== 1 || header.readUInt16LE(18) !== 0x3e) {
    throw new UsageError(`--node: ${file} is not a Linux x86-64 executable`);
  }
  if (process.platform === 'linux' && process.arch === 'x64') {
    const version = execFileSync(file, ['--version'], { encoding: 'utf8' }).trim();
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (!(major >= 18)) throw new UsageError(`--node: ${file} is Node ${version}; tfjs-mnist-nets needs Node 18 or later`);
  }
}

function copyFile(from: string, to: string, mode?: number): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  if (mode !== undefined) fs.chmodSync(to, mode);
}

function copyTree(from: string, to: string, keep: (rel: string) => boolean = () => true, rel = ''): void {
  for (const entry of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) copyTree(from, to, keep, child);
    else if (entry.isFile() && keep(child)) copyFile(path.join(from, child), path.join(to, child));
  }
}

/** Every file under `dir`, relative to it, sorted. */
export function listFiles(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The stdin entry: calls the entry's main(). A CLI guarded by `require.main === module` does not
 * run itself inside the bundle (its `module` is esbuild's wrapper), so this is the one call. Like
 * the CLI's own guard, it exits once stdout and stderr are drained: Dawn's device and wasm worker
 * threads can keep the event loop alive after the work is done.
 */
function entrySource(entry: string): string {
  return `
const cli = require(${JSON.stringify(entry)});
const main = typeof cli.main === 'function' ? cli.main : cli.default && cli.default.main;
if (typeof main !== 'function') {
  process.stderr.write('mnist-nets: the bundled entry exports no main(argv)\\n');
  process.exit(70);
}
const drained = (stream) => new Promise((resolve) => stream.write('', () => resolve()));
Promise.resolve(main(process.argv.slice(2))).then(
  (code) => (typeof code === 'number' ? code : 0),
  (err) => { process.stderr.write(String((err && err.stack) || err) + '\\n'); return 1; },
).then(async (code) => {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
});
`;
}

const LAUNCHER = `#!/bin/sh
# Runs the bundled mnist-nets CLI with the Node binary shipped next to it, else the one on PATH.
self=$(readlink -f -- "$0" 2>/dev/null || printf '%s' "$0")
here=$(cd -- "$(dirname -- "$self")" && pwd -P) || exit 1
if [ -x "$here/node" ]; then
  node_bin="$here/node"
elif node_bin=$(command -v node); then
  :
else
  echo "mnist-nets: no node binary in $here and none on PATH (rebuild the bundle with --node PATH)" >&2
  exit 127
fi
exec "$node_bin" "$here/mnist-nets.cjs" "$@"
`;

const README = `mnist-nets, single-folder build for Linux x64 (no network needed)

  ./mnist-nets doctor          which backend runs here, and why not the others
  ./mnist-nets --help

Uses ./node when present, else the node on PATH (Node 18 or later).
Verify a copy with: sha256sum -c SHA256SUMS

CUDA: install @tensorflow/tfjs-node-gpu@4.22.0 into ./node_modules (copy a complete
install made on an online Linux x64 machine; it needs libtensorflow 2.9.1, CUDA 11.2,
cuDNN 8.1). WebGPU: dawn.node needs libvulkan.so.1 and the GPU's Vulkan driver.
Set MNIST_NETS_WEBGPU_ALLOW_SOFTWARE=1 to let a software adapter (llvmpipe) run, for tests.
See docs/GPU.md in the source repository.
`;

async function build(opts: BundleOptions, root: string): Promise<void> {
  const nm = path.join(root, 'node_modules');
  const parent = path.dirname(opts.out);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(opts.out)}.partial-`));
  try {
    for (const [entry, name] of [[opts.entry, 'mnist-nets.cjs'], ...opts.extraEntries.map((e) => [e, bundledName(e)])]) {
      const result = await esbuild.build({
        stdin: { contents: entrySource(entry), resolveDir: path.dirname(entry), sourcefile: `${name}-entry.js`, loader: 'js' },
        bundle: true,
        platform: 'node',
        target: 'node18',
        format: 'cjs',
        outfile: path.join(staging, name),
        external: EXTERNAL,
        // An entry outside the repository (a test entry in a temp dir) still finds the packages.
        nodePaths: [nm],
        minify: opts.minify,
        keepNames: true,
        legalComments: 'eof',
        logLevel: 'warning',
      });
      if (result.errors.length > 0) throw new Error(`esbuild failed on ${entry}`);
    }

    const wasmDist = path.join(nm, '@tensorflow', 'tfjs-backend-wasm', 'dist');
    for (const f of fs.readdirSync(wasmDist).filter((f) => f.endsWith('.wasm'))) copyFile(path.join(wasmDist, f), path.join(staging, f));
    // lib/kernels/threads.ts finds the threaded build through require.resolve, so it needs the
    // package's files, not the bundle's copies.
    const wasmPkg = path.join(nm, '@tensorflow', 'tfjs-backend-wasm');
    const wasmKeep = ['package.json', 'dist/tfjs-backend-wasm-threaded-simd.wasm', 'wasm-out/tfjs-backend-wasm-threaded-simd.js', 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js'];
    for (const f of wasmKeep) copyFile(path.join(wasmPkg, f), path.join(staging, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', f));

    const dawn = path.join(nm, 'webgpu', 'dist', 'linux-x64', 'dawn.node');
    if (fs.existsSync(dawn)) copyFile(dawn, path.join(staging, 'dawn.node'), 0o755);
    else process.stderr.write('note: node_modules/webgpu has no linux-x64 dawn.node; the bundle will have no WebGPU\n');

    for (const pkg of ['@resvg/resvg-js', '@resvg/resvg-js-linux-x64-gnu']) {
      const dir = path.join(nm, pkg);
      if (fs.existsSync(dir)) copyTree(dir, path.join(staging, 'node_modules', pkg), (rel) => !rel.endsWith('.md'));
    }
    if (opts.withMnist) {
      copyTree(path.join(nm, 'mnist'), path.join(staging, 'node_modules', 'mnist'), (rel) => rel === 'package.json' || rel === 'LICENSE' || rel.startsWith('src'));
    }
    if (opts.node) copyFile(opts.node, path.join(staging, 'node'), 0o755);

    fs.writeFileSync(path.join(staging, 'mnist-nets'), LAUNCHER, { mode: 0o755 });
    fs.writeFileSync(path.join(staging, 'README.txt'), README);
    const sums = listFiles(staging).map((f) => `${crypto.createHash('sha256').update(fs.readFileSync(path.join(staging, f))).digest('hex')}  ${f}`);
    fs.writeFileSync(path.join(staging, 'SHA256SUMS'), `${sums.join('\n')}\n`);

    // mkdtemp made it private; the folder is meant to be copied and run by others.
    fs.chmodSync(staging, 0o755);
    if (fs.existsSync(opts.out)) {
      const old = `${staging}.old`;
      fs.renameSync(opts.out, old);
      fs.renameSync(staging, opts.out);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(staging, opts.out);
    }
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

function writeArchive(out: string): string {
  const archive = `${out}.tar.gz`;
  const tmp = `${archive}.partial-${process.pid}`;
  try {
    execFileSync('tar', ['-C', path.dirname(out), '-czf', tmp, path.basename(out)], { stdio: ['ignore', 'inherit', 'inherit'] });
    fs.renameSync(tmp, archive);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return archive;
}

function report(opts: BundleOptions): number {
  const files = listFiles(opts.out).map((f) => ({ f, bytes: fs.statSync(path.join(opts.out, f)).size }));
  const total = files.reduce((s, x) => s + x.bytes, 0);
  const top = files.filter((x) => !x.f.startsWith('node_modules')).sort((a, b) => b.bytes - a.bytes);
  const inModules = total - top.reduce((s, x) => s + x.bytes, 0);
  process.stdout.write(`built ${opts.out}\n`);
  for (const x of top) process.stdout.write(`  ${mib(x.bytes).padStart(10)}  ${x.f}\n`);
  if (inModules > 0) process.stdout.write(`  ${mib(inModules).padStart(10)}  node_modules/\n`);
  process.stdout.write(`  ${mib(total).padStart(10)}  total, ${files.length} files\n`);

  let travel = total;
  let what = 'the folder';
  if (opts.archive) {
    const archive = writeArchive(opts.out);
    travel = fs.statSync(archive).size;
    what = archive;
    process.stdout.write(`  ${mib(travel).padStart(10)}  ${archive}\n`);
  }
  if (travel >= MAX_TRAVEL_BYTES) {
    const hint = opts.archive ? 'leave out --with-mnist or the Node binary' : 'add --archive (a Node binary alone is about 95 MiB, 35 MiB gzipped)';
    process.stderr.write(`error: ${what} is ${mib(travel)}, not under ${mib(MAX_TRAVEL_BYTES)}; ${hint}\n`);
    return 1;
  }
  process.stdout.write(`what travels (${what}${opts.node ? ', Node binary included' : ''}): ${mib(travel)}, under ${mib(MAX_TRAVEL_BYTES)}\n`);
  return 0;
}

/** Runs the built CLI's `doctor --json` and summarises it: the bundle starts, finds wasm and dawn.node. */
function check(out: string): number {
  const run = spawnSync(path.join(out, 'mnist-nets'), ['doctor', '--json'], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) {
    process.stderr.write(`check failed: mnist-nets doctor --json exited ${run.status ?? run.signal}\n${run.stderr}\n`);
    return 1;
  }
  let doctorReport: { selected?: string; backends?: Array<{ name: string; package?: string; available: boolean; reason: string }>; platform?: { bundled?: boolean } };
  try {
    doctorReport = JSON.parse(run.stdout) as typeof doctorReport;
  } catch {
    process.stderr.write(`check failed: mnist-nets doctor --json printed no JSON:\n${run.stdout.slice(0, 2000)}\n`);
    return 1;
  }
  process.stdout.write(`check: mnist-nets doctor --json selects ${doctorReport.selected ?? '?'}${doctorReport.platform?.bundled ? ' (running from the bundle)' : ''}\n`);
  for (const s of doctorReport.backends ?? []) {
    const label = s.package && s.name === 'tensorflow' ? `tensorflow (${s.package})` : s.name;
    process.stdout.write(`  ${s.available ? '[ok]' : '[--]'} ${label}: ${s.reason.length > 160 ? `${s.reason.slice(0, 157)}...` : s.reason}\n`);
  }
  if (doctorReport.platform?.bundled !== true) {
    process.stderr.write('check failed: doctor does not see itself running from the bundle (mnist-nets.cjs next to it)\n');
    return 1;
  }
  return 0;
}

export async function bundleMain(argv: string[]): Promise<number> {
  const root = findRoot();
  let opts: BundleOptions;
  try {
    opts = parseArgs(argv, root);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bundle: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  await build(opts, root);
  const sized = report(opts);
  if (sized !== 0) return sized;
  return opts.check ? check(opts.out) : 0;
}

if (require.main === module) {
  bundleMain(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bundle: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
