/**
 * Prepares, on this machine, the folders that travel to the GPU machine with the repository
 * (docs/GPU.md, "Preparing the carried folders"). Both are git-ignored; the device tool's `carry`
 * names them:
 *
 *   .device-carry/mnist-nets.tar.gz   the offline bundle (CLI + gpu-run.cjs, wasm files, dawn.node)
 *   .device-carry/node.xz             this Node binary, stripped and xz-compressed (~21 MiB)
 *   .device-carry/node.json           its version and checksum, so a rerun can skip the slow xz
 *   .device-carry/mnist/*.gz          the four MNIST files
 *   .gl/*.deb                         Debian's Vulkan loader and GL dispatch libraries (apt-get download)
 *
 * Then it adds up what would travel (tracked and untracked-not-ignored files plus both folders)
 * and fails when that is not under the device tool's 64 MiB.
 *
 * Usage (after `npm run build`): node dist/scripts/gpu/prepare.js [--carry DIR] [--gl DIR]
 *   [--node PATH] [--mnist DIR] [--no-gl]
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleMain, mib } from '../bundle';
import { travelTotal } from './plan';

/** The packages the device tool's README carries for Vulkan and EGL. */
export const GL_PACKAGES = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];
/** The MNIST files the runs read. */
export const MNIST_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

interface PrepareOptions {
  root: string;
  carry: string;
  gl: string;
  node: string;
  mnist: string;
  downloadGl: boolean;
}

class UsageError extends Error {}

const USAGE = 'usage: node dist/scripts/gpu/prepare.js [--carry DIR] [--gl DIR] [--node PATH] [--mnist DIR] [--no-gl]';

function parseArgs(argv: string[], root: string): PrepareOptions {
  const o: PrepareOptions = {
    root,
    carry: path.join(root, '.device-carry'),
    gl: path.join(root, '.gl'),
    node: fs.realpathSync(process.execPath),
    mnist: process.env.MNIST_DIR ?? path.join(root, '..', 'shared', 'datasets', 'mnist'),
    downloadGl: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${arg}: needs a value`);
      return path.resolve(v);
    };
    switch (arg) {
      case '--carry': o.carry = value(); break;
      case '--gl': o.gl = value(); break;
      case '--node': o.node = value(); break;
      case '--mnist': o.mnist = value(); break;
      case '--no-gl': o.downloadGl = false; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new UsageError(`unknown argument '${arg}'`);
    }
  }
  for (const f of MNIST_FILES) {
    if (!fs.existsSync(path.join(o.mnist, f))) throw new UsageError(`--mnist: ${path.join(o.mnist, f)} does not exist (set MNIST_DIR or pass --mnist DIR)`);
  }
  if (!fs.existsSync(o.node)) throw new UsageError(`--node: ${o.node} does not exist`);
  return o;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every file under `dir` with its size. */
function filesUnder(dir: string, base: string): Array<{ path: string; bytes: number }> {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(full, base);
    return e.isFile() ? [{ path: path.relative(base, full), bytes: fs.statSync(full).size }] : [];
  });
}

/**
 * The stripped binary is 82 MiB, 21 MiB as xz (-9, about two minutes on two cores), so it is
 * only redone when the Node binary changed.
 */
function prepareNode(o: PrepareOptions): void {
  const meta = path.join(o.carry, 'node.json');
  const xz = path.join(o.carry, 'node.xz');
  const version = execFileSync(o.node, ['--version'], { encoding: 'utf8' }).trim();
  const source = sha256(o.node);
  if (fs.existsSync(xz) && fs.existsSync(meta)) {
    const old = JSON.parse(fs.readFileSync(meta, 'utf8')) as { sourceSha256?: string };
    if (old.sourceSha256 === source) {
      process.stdout.write(`node: ${xz} is already Node ${version} from ${o.node}\n`);
      return;
    }
  }
  // Private names: two prepares at once must not write the same files; a failure leaves none.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-node-'));
  const stripped = path.join(tmp, 'node');
  try {
    try {
      execFileSync('strip', ['-o', stripped, o.node], { stdio: 'inherit' });
    } catch {
      process.stderr.write('note: strip failed or is missing; compressing the unstripped binary\n');
      fs.copyFileSync(o.node, stripped);
    }
    process.stdout.write(`node: compressing Node ${version} (${mib(fs.statSync(stripped).size)} stripped) with xz -9; this takes a few minutes\n`);
    const packed = path.join(tmp, 'node.xz');
    fs.writeFileSync(packed, execFileSync('xz', ['-9', '-T0', '-c', stripped], { maxBuffer: 256 * 2 ** 20 }));
    const info = { version, source: o.node, sourceSha256: source, strippedSha256: sha256(stripped), xzSha256: sha256(packed) };
    fs.copyFileSync(packed, `${xz}.partial`);
    fs.renameSync(`${xz}.partial`, xz);
    fs.writeFileSync(meta, `${JSON.stringify(info, null, 2)}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function prepareGl(o: PrepareOptions): void {
  fs.mkdirSync(o.gl, { recursive: true });
  const have = fs.readdirSync(o.gl).filter((f) => f.endsWith('.deb'));
  const missing = GL_PACKAGES.filter((p) => !have.some((f) => f.startsWith(`${p}_`)));
  if (missing.length === 0) {
    process.stdout.write(`gl: ${o.gl} has ${have.length} packages\n`);
    return;
  }
  if (!o.downloadGl) throw new UsageError(`--no-gl: ${o.gl} lacks ${missing.join(', ')}`);
  process.stdout.write(`gl: apt-get download ${missing.join(' ')}\n`);
  try {
    execFileSync('apt-get', ['-oAPT::Architecture=amd64', 'download', ...missing], { cwd: o.gl, stdio: 'inherit' });
  } catch (err) {
    throw new Error(
      `apt-get download failed (${(err as Error).message}); on a machine that is not Debian/Ubuntu amd64, use the device README's command ` +
        "(apt-get with -oAPT::Architecture=amd64 and a private Dir::State::Lists), then rerun with --no-gl",
    );
  }
}

/** What the device tool would send: the repository's tracked and untracked-not-ignored files, plus the carried folders. */
function travel(o: PrepareOptions): number {
  const listed = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: o.root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    .split('\0')
    .filter(Boolean)
    .filter((f) => fs.existsSync(path.join(o.root, f)))
    .map((f) => ({ path: f, bytes: fs.statSync(path.join(o.root, f)).size }));
  const carried = [...filesUnder(o.carry, o.root), ...filesUnder(o.gl, o.root)];
  const total = travelTotal([...listed, ...carried]);
  process.stdout.write(`what travels: ${listed.length} repository files (${mib(listed.reduce((s, f) => s + f.bytes, 0))}) + ${carried.length} carried (${mib(carried.reduce((s, f) => s + f.bytes, 0))}) = ${mib(total.bytes)}\n`);
  for (const f of total.largest) process.stdout.write(`  ${mib(f.bytes).padStart(10)}  ${f.path}\n`);
  if (!total.fits) {
    process.stderr.write(`prepare: ${mib(total.bytes)} would travel, not under 64 MiB\n`);
    return 1;
  }
  return 0;
}

export async function prepareMain(argv: string[], root = path.resolve(__dirname, '../../..')): Promise<number> {
  let o: PrepareOptions;
  try {
    o = parseArgs(argv, root);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`prepare: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  fs.mkdirSync(path.join(o.carry, 'mnist'), { recursive: true });
  const gpuRun = path.join(root, 'dist', 'scripts', 'gpu', 'gpu-run.js');
  const bundleOut = path.join(root, 'build', 'mnist-nets');
  const built = await bundleMain(['--out', bundleOut, '--extra-entry', gpuRun, '--archive']);
  if (built !== 0) return built;
  fs.copyFileSync(`${bundleOut}.tar.gz`, path.join(o.carry, 'mnist-nets.tar.gz'));
  for (const f of MNIST_FILES) {
    const to = path.join(o.carry, 'mnist', f);
    // The shared copies are read-only; a copy keeps that mode, which would stop the next prepare.
    fs.rmSync(to, { force: true });
    fs.copyFileSync(path.join(o.mnist, f), to);
    fs.chmodSync(to, 0o644);
  }
  prepareNode(o);
  prepareGl(o);
  return travel(o);
}

if (require.main === module) {
  prepareMain(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`prepare: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
