import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { type BenchResult, benchNotes, benchTableData } from '../lib/jobs/bench-job';

import { BUILT_CLI as CLI, dataDirArgs, mnistEnv } from './helpers/run-node';
import { skipIf } from './helpers/skips';
import { DEFAULT_CHROMIUM, browserUnavailable } from '../scripts/demo-driver';

/** Headless Chromium ($CHROMIUM_PATH, else Debian's or Ubuntu's package), as the demo tests drive it. */
const CHROMIUM = DEFAULT_CHROMIUM;
const chromium = skipIf(browserUnavailable(CHROMIUM));

/**
 * One real benchmark for every test here: two presets on real MNIST, cnn among them because its
 * recipe measures intermediate accuracy on a test subset. --limit 1200 keeps it short and makes
 * that subset (1,000 images) smaller than the test set, so the report has to say so.
 */
let out: string;
let bench: BenchResult;
let stderr: string;
beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-report-'));
  const r = spawnSync(
    process.execPath,
    [CLI, 'bench', '--models', 'two-layer-net,cnn', '--steps', '4', '--limit', '1200', '--backend', 'wasm', ...dataDirArgs(), '--out', out, '--json'],
    { encoding: 'utf8', env: { ...process.env, ...mnistEnv() }, timeout: 300_000, maxBuffer: 64 * 2 ** 20 },
  );
  stderr = r.stderr;
  if (r.status !== 0) throw new Error(`bench failed (${r.status}): ${r.stderr}`);
  bench = JSON.parse(r.stdout) as BenchResult;
});

describe('bench --out', () => {
  test('the report says what the runs did: the budget, the warm-up, which test images the curves used', () => {
    expect(bench.budget).toEqual({ steps: 4 });
    expect(bench.results.map((r) => [r.model, r.intermediateTestExamples])).toEqual([
      ['two-layer-net', 1200],
      ['cnn', 1000],
    ]);
    const notes = benchNotes(bench);
    expect(notes).toEqual([
      'Each model trained for 4 steps.',
      `Samples/s and time to accuracy count training steps only (evaluations excluded), after ${bench.warmupSteps} untimed warm-up steps.`,
      'Intermediate test accuracy (the curves) uses all 1,200 test images for two-layer-net and the first 1,000 test images for cnn; the final figures use all 1,200.',
    ]);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const n of notes) expect(md).toContain(n);
    expect(stderr).toMatch(/report written to .*report\.html/);
  });

  test('loss and accuracy plots: each model smoothed with its raw curve faint, against time and samples seen', () => {
    const loss = fs.readFileSync(path.join(out, 'loss.svg'), 'utf8');
    expect(loss).toContain('Training loss against training time (wasm)');
    expect(loss).toContain('Training loss against samples seen (wasm)');
    // Per panel and model: one faint raw path and one smoothed path.
    expect((loss.match(/<path class="line faint"/g) ?? []).length).toBe(4);
    expect((loss.match(/<path class="line"/g) ?? []).length).toBe(4);
    const accuracy = fs.readFileSync(path.join(out, 'accuracy.svg'), 'utf8');
    expect(accuracy).toContain('Test accuracy against training time (wasm)');
    expect(accuracy).toContain('Test accuracy against samples seen (wasm)');
  });
});

chromium.describe('report.html in headless Chromium', () => {
  test('opens offline, shows the table, machine, backend, command and every plot; screenshot', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      const file = path.join(out, 'report.html');
      await page.goto(`file://${file}`);

      // Self-contained: the page itself is the only thing loaded.
      expect(requests).toEqual([`file://${file}`]);

      const { headers, rows } = benchTableData(bench);
      const table = await page.$$eval('table tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
      expect(table).toEqual([headers, ...rows]);

      const text = await page.innerText('body');
      expect(text).toContain(`backend\n${bench.backend}`);
      expect(text).toContain(`${bench.machine.cpu}, ${bench.machine.cores} cores`);
      expect(text).toContain('npx mnist-nets bench --models two-layer-net,cnn --steps 4');
      for (const n of benchNotes(bench)) expect(text).toContain(n);

      // Loss, accuracy and a confusion matrix per model, each laid out with a real size.
      const sizes = await page.$$eval('figure > svg', (svgs) => svgs.map((s) => s.getBoundingClientRect()).map((r) => [r.width, r.height]));
      expect(sizes).toHaveLength(2 + bench.results.length);
      for (const [w, h] of sizes) {
        expect(w).toBeGreaterThan(300);
        expect(h).toBeGreaterThan(200);
      }

      // REPORT_SCREENSHOT=file.png keeps the screenshot for a person to look at.
      const shot = process.env.REPORT_SCREENSHOT ?? path.join(out, 'report-screenshot.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = PNG.sync.read(fs.readFileSync(shot));
      expect(png.width).toBe(1280);
      expect(png.height).toBeGreaterThan(1500);
    } finally {
      await context.close();
    }
  });
});
