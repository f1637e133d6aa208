/**
 * Browser builds, with esbuild (`platform: 'browser'`, no Node polyfills):
 *
 *   dist/browser/tfjs-mnist-nets.mjs   the library's browser entry (lib/browser.ts) as one ES module,
 *                                      @tensorflow/* left as imports so the page's bundler shares one
 *                                      tf.js engine with it; package.json's `browser` export points here
 *   build/demo/                        the demo page (examples/browser/): index.html, app.js and its
 *                                      lazily loaded chunks (webgpu, wasm), the wasm binaries in wasm/
 *
 * Usage (after `npx tsc -p tsconfig.build.json`):
 *   node dist/scripts/build-browser.js [--library] [--demo] [--out DIR]   (both when neither is named)
 */
import * as fs from 'fs';
import * as path from 'path';
import { builtinModules } from 'module';
import * as zlib from 'zlib';
import * as esbuild from 'esbuild';
import { ROOT } from './repo-root';

/** @default dist/browser/tfjs-mnist-nets.mjs */
export const LIBRARY_OUT = path.join(ROOT, 'dist', 'browser', 'tfjs-mnist-nets.mjs');
/** @default build/demo */
export const DEMO_OUT = path.join(ROOT, 'build', 'demo');
/** Folder of the demo that holds tfjs-backend-wasm's binaries; the page passes it to setWasmPaths. */
export const DEMO_WASM_DIR = 'wasm';

/**
 * Given explicitly: with its default main fields esbuild resolves `require()` calls through `main`,
 * which for every tf.js package is its Node build (tf-core.node.js ...). lib/kernels requires
 * tfjs-backend-wasm, so the default would bundle a second tf.js core with its own engine.
 */
export const BROWSER_MAIN_FIELDS = ['browser', 'module', 'main'];

const COMMON: esbuild.BuildOptions = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2020',
  mainFields: BROWSER_MAIN_FIELDS,
  metafile: true,
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'silent',
};

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Every place in a bundle's import graph where Node shows through: an import of a Node builtin
 * that stayed an import, a builtin that a package's `browser` field turned into an empty module
 * but that this library's own code (lib/) imports, and tf.js's Node builds. Empty means the bundle
 * needs nothing of Node. (A builtin nobody maps away fails the build itself.)
 */
export function nodeOnlyImports(metafile: esbuild.Metafile): string[] {
  const found: string[] = [];
  for (const [file, input] of Object.entries(metafile.inputs)) {
    if (/\.node\.js$/.test(file)) found.push(`${file}: a Node build of a package`);
    for (const imp of input.imports) {
      const target = imp.path.replace(/^\(disabled\):/, '');
      const builtin = NODE_BUILTINS.has(target);
      const own = !file.startsWith('node_modules/');
      if ((builtin && imp.external) || (own && (builtin || imp.path.startsWith('(disabled):')))) {
        found.push(`${file} imports ${imp.original ?? imp.path}`);
      }
    }
  }
  return found;
}

/** Sizes of a build's output files (maps left out), in bytes. */
export function outputBytes(metafile: esbuild.Metafile): number {
  return Object.entries(metafile.outputs)
    .filter(([file]) => !file.endsWith('.map'))
    .reduce((sum, [, o]) => sum + o.bytes, 0);
}

/** One file a page downloads: raw and gzipped bytes, and when the page loads it. */
export interface SizeRow {
  /** Relative to the build's folder. */
  file: string;
  bytes: number;
  /** gzip level 9, as a server compressing it would send it. */
  gzipBytes: number;
  when: 'at start' | 'on first use' | 'one of these, with the wasm backend';
}

/**
 * Every file a page downloads from a build (JS chunks, .wasm), and whether the page loads it at
 * start or on first use. scripts/sizes.ts records these; the build prints them.
 */
export function sizeRows(metafile: esbuild.Metafile, outDir: string, entry: string): SizeRow[] {
  const entries = Object.entries(metafile.outputs).filter(([file]) => !file.endsWith('.map'));
  const eager = new Set<string>();
  const visit = (file: string): void => {
    if (eager.has(file)) return;
    eager.add(file);
    for (const imp of metafile.outputs[file]?.imports ?? []) if (imp.kind === 'import-statement') visit(imp.path);
  };
  // Dynamic-import targets are entry points too; only the page's own entry loads at start.
  for (const [file, o] of entries) if (o.entryPoint === entry) visit(file);
  const files = entries.map(([file]) => file);
  if (fs.existsSync(path.join(outDir, DEMO_WASM_DIR))) {
    for (const f of fs.readdirSync(path.join(outDir, DEMO_WASM_DIR))) files.push(path.relative(ROOT, path.join(outDir, DEMO_WASM_DIR, f)));
  }
  return files.map((file) => {
    const bytes = fs.readFileSync(path.join(ROOT, file));
    const when = file.endsWith('.wasm') ? 'one of these, with the wasm backend' : eager.has(file) ? 'at start' : 'on first use';
    return { file: path.relative(outDir, path.join(ROOT, file)), bytes: bytes.length, gzipBytes: zlib.gzipSync(bytes, { level: 9 }).length, when };
  });
}

/** {@link sizeRows} as lines, with the total loaded at start when there is more than one file. */
function sizeReport(rows: SizeRow[]): string[] {
  const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`.padStart(9);
  const line = (name: string, raw: number, gzipped: number, when: string): string => `${name.padEnd(46)} ${kib(raw)} ${kib(gzipped)} gzipped  ${when}`;
  const atStart = rows.filter((r) => r.when === 'at start');
  const lines = rows.map((r) => line(r.file, r.bytes, r.gzipBytes, r.when));
  const sum = (key: 'bytes' | 'gzipBytes') => atStart.reduce((n, r) => n + r[key], 0);
  return lines.length > 1 ? [...lines, line('JS loaded at start, in all', sum('bytes'), sum('gzipBytes'), '')] : lines;
}

/** Bundles lib/browser.ts with tf.js left out (the page's bundler supplies it). */
export async function buildBrowserLibrary(outFile: string = LIBRARY_OUT): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(ROOT, 'lib', 'browser.ts')],
    outfile: outFile,
    external: ['@tensorflow/*'],
    absWorkingDir: ROOT,
  });
  return result.metafile as esbuild.Metafile;
}

/** Bundles lib/browser.ts with everything it imports, tf.js included: the import graph a page gets. */
export async function bundleBrowserEntry(): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(ROOT, 'lib', 'browser.ts')],
    outdir: path.join(ROOT, 'build', 'browser-check'),
    splitting: true,
    write: false,
    absWorkingDir: ROOT,
  });
  return result.metafile as esbuild.Metafile;
}

/**
 * Builds the demo page into `outDir`: index.html, app.js (+ chunks, loaded on first use of the
 * webgpu and wasm backends), and tfjs-backend-wasm's .wasm files under wasm/.
 */
export async function buildDemo(outDir: string = DEMO_OUT): Promise<esbuild.Metafile> {
  const src = path.join(ROOT, 'examples', 'browser');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, DEMO_WASM_DIR), { recursive: true });
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: { app: path.join(src, 'main.ts') },
    outdir: outDir,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    absWorkingDir: ROOT,
  });
  for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(src, file), path.join(outDir, file));
  const wasmDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of fs.readdirSync(wasmDist).filter((f) => f.endsWith('.wasm'))) {
    fs.copyFileSync(path.join(wasmDist, file), path.join(outDir, DEMO_WASM_DIR, file));
  }
  return result.metafile as esbuild.Metafile;
}

async function main(argv: string[]): Promise<number> {
  const known = new Set(['--library', '--demo']);
  const bad = argv.filter((a) => !known.has(a));
  if (bad.length > 0) {
    process.stderr.write(`build-browser: unknown argument ${bad[0]}\nusage: node dist/scripts/build-browser.js [--library] [--demo]\n`);
    return 2;
  }
  const both = argv.length === 0;
  const builds: Array<[string, string, string, () => Promise<esbuild.Metafile>]> = [];
  if (both || argv.includes('--library')) builds.push([path.relative(ROOT, LIBRARY_OUT), path.dirname(LIBRARY_OUT), 'lib/browser.ts', () => buildBrowserLibrary()]);
  if (both || argv.includes('--demo')) builds.push([path.relative(ROOT, DEMO_OUT), DEMO_OUT, 'examples/browser/main.ts', () => buildDemo()]);
  for (const [name, dir, entry, build] of builds) {
    const metafile = await build();
    const leaks = nodeOnlyImports(metafile);
    if (leaks.length > 0) {
      process.stderr.write(`build-browser: ${name} reaches Node-only code:\n  ${leaks.join('\n  ')}\n`);
      return 1;
    }
    process.stderr.write(`build-browser: ${name}:\n  ${sizeReport(sizeRows(metafile, dir, entry)).join('\n  ')}\n`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`build-browser: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
