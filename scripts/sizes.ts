/**
 * What this package ships, by size, recorded for README.md (whose sentences about sizes are
 * written from the record by scripts/docs-tables.ts):
 * - the library's browser entry, dist/browser/tfjs-mnist-nets.mjs (tf.js left out), raw and gzipped;
 * - the demo page: the JavaScript loaded at start (tf.js included), what loads on first use (the
 *   WebGPU backend), and the wasm binaries, one of which a page loads;
 * - the offline bundle of `npm run bundle` (build/mnist-nets), without a Node binary.
 *
 *   npm run build && node dist/scripts/sizes.js --out docs/results/sizes.json
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { DEMO_WASM_DIR, LIBRARY_OUT, SizeRow, buildBrowserLibrary, buildDemo, sizeRows } from './build-browser';
import { ROOT } from './repo-root';
import { bundleMain, listFiles } from './bundle';
import { writeFileAtomic } from '../lib/atomic-write';
import { machineFacts } from '../lib/jobs/machine';
import { parseOrUsage } from './usage';

/** The record: bytes as built, so the docs can round them as they like. */
export interface SizesRecord {
  date: string;
  machine: ReturnType<typeof machineFacts>;
  command: string;
  library: SizeRow;
  demo: { files: SizeRow[] };
  bundle: { bytes: number; files: number; note: string };
}

async function main(argv: string[]): Promise<number> {
  const args = await parseOrUsage(yargs(argv).option('out', { type: 'string' }), 'usage: node dist/scripts/sizes.js [--out FILE]', ['out']);
  if (!args) return 2;
  const { out } = args;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-sizes-'));
  try {
    const library = sizeRows(await buildBrowserLibrary(), path.dirname(LIBRARY_OUT), 'lib/browser.ts');
    const demoDir = path.join(work, 'demo');
    const demo = sizeRows(await buildDemo(demoDir), demoDir, 'examples/browser/main.ts');
    if (!demo.some((r) => r.file.startsWith(`${DEMO_WASM_DIR}/`))) throw new Error(`no wasm binaries in ${demoDir}/${DEMO_WASM_DIR}`);
    const bundleDir = path.join(work, 'mnist-nets');
    const code = await bundleMain(['--out', bundleDir, '--no-check']);
    if (code !== 0) throw new Error(`npm run bundle's build failed (exit ${code})`);
    const files = listFiles(bundleDir);
    const record: SizesRecord = {
      date: new Date().toISOString(),
      machine: machineFacts(),
      command: 'npm run build && node dist/scripts/sizes.js --out docs/results/sizes.json',
      library: library[0]!,
      demo: { files: demo },
      bundle: { bytes: files.reduce((n, f) => n + fs.statSync(path.join(bundleDir, f)).size, 0), files: files.length, note: 'npm run bundle (build/mnist-nets) without --node: no Node binary' },
    };
    const json = `${JSON.stringify(record, null, 2)}\n`;
    if (out) await writeFileAtomic(path.resolve(ROOT, out), json);
    else process.stdout.write(json);
    return 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`sizes: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
