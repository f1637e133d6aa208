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
 *   node dist/scripts/build-browser.js [--library] [--demo]   (both when neither is named)
 *   node dist/scripts/build-browser.js --update README.md     both, and their sizes into the README's
 *                                                             sentence between the browser-sizes markers
 *                                                             and docs/results/browser-sizes.json
 */
import * as fs from 'fs';
import * as path from 'path';
import { builtinModules } from 'module';
import * as zlib from 'zlib';
import * as esbuild from 'esbuild';

/** The repository root, from the source (scripts/) or the build (dist/scripts/). */
export const ROOT = fs.existsSync(path.join(__dirname, '..', 'package.json')) ? path.resolve(__dirname, '..') : path.resolve(__dirname, '..', '..');
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

/** One file a page downloads: its size raw and gzipped (level 9, as a server compressing it would send), and when the page loads it. */
export interface FileSize {
  file: string;
  bytes: number;
  gzipBytes: number;
  when: 'at start' | 'on first use' | 'one of these, with the wasm backend';
  /** Whether it holds tfjs-backend-webgpu's code. */
  webgpu: boolean;
}

/** The files a page downloads (JS chunks, .wasm) of a build, and when it loads each. */
export function fileSizes(metafile: esbuild.Metafile, outDir: string, entry: string): FileSize[] {
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
    return {
      file: path.relative(outDir, path.join(ROOT, file)),
      bytes: bytes.length,
      gzipBytes: zlib.gzipSync(bytes, { level: 9 }).length,
      when: file.endsWith('.wasm') ? 'one of these, with the wasm backend' : eager.has(file) ? 'at start' : 'on first use',
      webgpu: Object.keys(metafile.outputs[file]?.inputs ?? {}).some((input) => input.includes('tfjs-backend-webgpu')),
    };
  });
}

/** KiB as the README and the size report print them. */
export const kib = (bytes: number): number => Math.round(bytes / 1024);

/** One line per file a page downloads, and the JS loaded at start in all. */
function sizeReport(sizes: FileSize[]): string[] {
  const col = (n: number): string => `${kib(n)} KiB`.padStart(9);
  const line = (name: string, raw: number, gzipped: number, when: string): string => `${name.padEnd(46)} ${col(raw)} ${col(gzipped)} gzipped  ${when}`;
  const atStart = sizes.filter((f) => f.when === 'at start');
  const lines = sizes.map((f) => line(f.file, f.bytes, f.gzipBytes, f.when));
  const sum = (key: 'bytes' | 'gzipBytes') => atStart.reduce((n, f) => n + f[key], 0);
  return lines.length > 1 ? [...lines, line('JS loaded at start, in all', sum('bytes'), sum('gzipBytes'), '')] : lines;
}

/** What the README says about the browser builds' sizes, measured: the record `--update` writes. */
export interface BrowserSizes {
  library: { bytes: number; gzipBytes: number };
  demo: { atStart: { bytes: number; gzipBytes: number }; webgpu: { bytes: number; gzipBytes: number }; wasm: Array<{ bytes: number; gzipBytes: number }> };
}

/** The README's sentence on sizes, from a record. */
export function sizesSentence(s: BrowserSizes): string {
  const n = (v: number) => kib(v).toLocaleString('en-US');
  const range = (values: number[]) => `${n(Math.min(...values))}-${n(Math.max(...values))}`;
  return (
    `Sizes (minified): the library entry ${n(s.library.bytes)} KiB (${n(s.library.gzipBytes)} KiB gzip) without tf.js; ` +
    `the demo's start-up JavaScript with tf.js ${n(s.demo.atStart.bytes)} KiB (${n(s.demo.atStart.gzipBytes)} KiB gzip); ` +
    `WebGPU loaded on demand ${n(s.demo.webgpu.bytes)} KiB (${n(s.demo.webgpu.gzipBytes)} KiB gzip); ` +
    `one wasm binary ${range(s.demo.wasm.map((w) => w.bytes))} KiB (${range(s.demo.wasm.map((w) => w.gzipBytes))} KiB gzip).`
  );
}

/** README markers around the generated sentence. */
export const SIZES_START = '<!-- browser-sizes:start -->';
export const SIZES_END = '<!-- browser-sizes:end -->';
/** Where `--update` keeps the measured record. @default docs/results/browser-sizes.json */
export const SIZES_RECORD = path.join(ROOT, 'docs', 'results', 'browser-sizes.json');

/** Puts `sentence` between the markers of `text`, wrapped at 100 columns as the README is. */
export function withSizes(text: string, sentence: string): string {
  const start = text.indexOf(SIZES_START);
  const end = text.indexOf(SIZES_END);
  if (start < 0 || end < start) throw new Error(`the markers ${SIZES_START} ... ${SIZES_END} are missing`);
  const lines: string[] = [];
  for (const word of sentence.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + word.length <= 100) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return `${text.slice(0, start + SIZES_START.length)}\n${lines.join('\n')}\n${text.slice(end)}`;
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
  const updateAt = argv.indexOf('--update');
  const update = updateAt >= 0 ? argv[updateAt + 1] : undefined;
  const rest = updateAt >= 0 ? argv.filter((_, i) => i !== updateAt && i !== updateAt + 1) : argv;
  const bad = rest.filter((a) => !known.has(a));
  if (bad.length > 0 || (updateAt >= 0 && update === undefined)) {
    process.stderr.write(`build-browser: ${bad.length > 0 ? `unknown argument ${bad[0]}` : '--update needs a file'}\nusage: node dist/scripts/build-browser.js [--library] [--demo] [--update README.md]\n`);
    return 2;
  }
  const both = rest.length === 0;
  const builds: Array<[string, string, string, () => Promise<esbuild.Metafile>]> = [];
  if (both || rest.includes('--library')) builds.push([path.relative(ROOT, LIBRARY_OUT), path.dirname(LIBRARY_OUT), 'lib/browser.ts', () => buildBrowserLibrary()]);
  if (both || rest.includes('--demo')) builds.push([path.relative(ROOT, DEMO_OUT), DEMO_OUT, 'examples/browser/main.ts', () => buildDemo()]);
  const measured: Record<string, FileSize[]> = {};
  for (const [name, dir, entry, build] of builds) {
    const metafile = await build();
    const leaks = nodeOnlyImports(metafile);
    if (leaks.length > 0) {
      process.stderr.write(`build-browser: ${name} reaches Node-only code:\n  ${leaks.join('\n  ')}\n`);
      return 1;
    }
    measured[entry] = fileSizes(metafile, dir, entry);
    process.stderr.write(`build-browser: ${name}:\n  ${sizeReport(measured[entry]!).join('\n  ')}\n`);
  }
  if (update !== undefined) {
    const library = measured['lib/browser.ts'];
    const demo = measured['examples/browser/main.ts'];
    if (!library || !demo) {
      process.stderr.write('build-browser: --update needs both builds (leave out --library and --demo)\n');
      return 2;
    }
    const total = (files: FileSize[]) => ({ bytes: files.reduce((n, f) => n + f.bytes, 0), gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0) });
    const sizes: BrowserSizes = {
      library: total(library),
      demo: {
        atStart: total(demo.filter((f) => f.when === 'at start')),
        webgpu: total(demo.filter((f) => f.when === 'on first use' && f.webgpu)),
        wasm: demo.filter((f) => f.file.endsWith('.wasm')).map(({ bytes, gzipBytes }) => ({ bytes, gzipBytes })),
      },
    };
    const record = { command: 'npm run build && node dist/scripts/build-browser.js --update README.md', date: new Date().toISOString(), sizes, files: measured };
    fs.writeFileSync(SIZES_RECORD, `${JSON.stringify(record, null, 2)}\n`);
    fs.writeFileSync(update, withSizes(fs.readFileSync(update, 'utf8'), sizesSentence(sizes)));
    process.stderr.write(`build-browser: ${sizesSentence(sizes)}\n  written to ${update} and ${path.relative(ROOT, SIZES_RECORD)}\n`);
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
