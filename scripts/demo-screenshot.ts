/**
 * Records the demo page after a real training run: builds and serves it, trains two-layer-net and
 * cnn side by side in headless Chromium, draws a digit with the mouse, writes a screenshot (what
 * docs/browser.png is) and prints the run's numbers as JSON on stdout.
 *
 * Usage (after `npx tsc -p tsconfig.build.json`; needs Chromium, e.g. Debian's `chromium`):
 *   node dist/scripts/demo-screenshot.js [--out docs/browser.png] [--backend wasm] [--seconds 60] [--limit 60000]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { errorMessage } from '../lib/errors';
import { buildDemo } from './build-browser';
import { ROOT } from './repo-root';
import { DEFAULT_CHROMIUM, browserUnavailable, callDemo, drawStrokes, launchChromium, openDemo } from './demo-driver';
import { startDemoServer } from './demo-server';

/** A "3" in two strokes, as fractions of the pad. */
const THREE: ReadonlyArray<ReadonlyArray<readonly [number, number]>> = [
  [[0.3, 0.24], [0.42, 0.16], [0.58, 0.16], [0.66, 0.26], [0.6, 0.4], [0.46, 0.47]],
  [[0.46, 0.47], [0.62, 0.53], [0.68, 0.66], [0.6, 0.8], [0.44, 0.84], [0.3, 0.76]],
];

/** Per model, the fields of what the page's train() returns (examples/browser/main.ts) that the docs read. */
export interface DemoTrained {
  steps: number;
  samplesPerSec: number;
  testAccuracy: number;
}

/** What this script prints, kept as docs/browser.json, from which scripts/docs-tables.ts writes the README's browser paragraph. */
export interface DemoFacts {
  backend: string;
  /** The page's data and backend status lines, as shown (null where the page has none). */
  data: string | null;
  backendStatus: string | null;
  userAgent: string;
  trained: Record<string, DemoTrained>;
  /** The digit drawn, and what each model read it as. */
  drawn: string;
  read: Record<string, number>;
  screenshot: string;
}

async function main(argv: string[]): Promise<number> {
  const args = await yargs(argv)
    .option('out', { type: 'string', default: path.join(ROOT, 'docs', 'browser.png'), describe: 'PNG to write' })
    .option('backend', { choices: ['webgpu', 'webgl', 'wasm', 'cpu'] as const, default: 'wasm' as const })
    .option('seconds', { type: 'number', default: 60, describe: 'Training-time budget per model' })
    .option('limit', { type: 'number', default: 60000, describe: 'Training examples' })
    .option('chromium', { type: 'string', default: DEFAULT_CHROMIUM })
    .strict()
    .fail((message, err) => {
      process.stderr.write(`demo-screenshot: ${message ?? errorMessage(err)}\n`);
      process.exit(2);
    })
    .parseAsync();
  const unavailable = browserUnavailable(args.chromium);
  if (unavailable !== undefined) throw new Error(`--chromium: ${unavailable}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-screenshot-'));
  const demoDir = path.join(work, 'demo');
  await buildDemo(demoDir);
  const server = await startDemoServer({ port: 0, root: demoDir });
  const browser = await launchChromium(path.join(work, 'profile'), { executablePath: args.chromium, height: 1000 });
  try {
    const page = await openDemo(browser, `${server.url}?backend=${args.backend}&limit=${args.limit}`);
    const trained = await callDemo<DemoFacts['trained']>(page, 'train', ['two-layer-net', 'cnn'], { seconds: args.seconds });
    await drawStrokes(page, THREE);
    const read = await callDemo<{ predictions: Record<string, { digit: number }> }>(page, 'predict');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: args.out, fullPage: true });
    const facts: DemoFacts = {
      backend: args.backend,
      data: await page.textContent('#data-status'),
      backendStatus: await page.textContent('#backend-status'),
      userAgent: await page.evaluate(() => navigator.userAgent),
      trained,
      drawn: '3',
      read: Object.fromEntries(Object.entries(read.predictions).map(([id, p]) => [id, p.digit])),
      screenshot: path.relative(process.cwd(), args.out),
    };
    process.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`demo-screenshot: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
