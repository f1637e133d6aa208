import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { type BenchResult, benchNotes, benchTableData, comparisonSentence } from '../lib/jobs/bench-job';
import { DEFAULT_DIGIT_SCALE } from '../lib/report';

import { BUILT_CLI as CLI, dataDirArgs, mnistEnv } from './helpers/run-node';
import { skipIf } from './helpers/skips';
import { DEFAULT_CHROMIUM, browserUnavailable } from '../scripts/demo-driver';

/** Headless Chromium ($CHROMIUM_PATH, else Debian's or Ubuntu's package), as the demo tests drive it. */
const CHROMIUM = DEFAULT_CHROMIUM;
const chromium = skipIf(browserUnavailable(CHROMIUM));

/**
 * One real benchmark for every test here: two presets on real MNIST, two seeds each, cnn among
 * them because its recipe measures intermediate accuracy on a test subset and train gives it two
 * wasm threads. --limit 1200 keeps it short and makes that subset (1,000 images) smaller than the
 * test set, so the report has to say so.
 */
let out: string;
let bench: BenchResult;
let stderr: string;
beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-report-'));
  const r = spawnSync(
    process.execPath,
    [CLI, 'bench', '--models', 'two-layer-net,cnn', '--seeds', '2', '--steps', '4', '--limit', '1200', '--backend', 'wasm', ...dataDirArgs(), '--out', out, '--json'],
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
      'Each model ran 2 times, with seeds 1, 2, on the same data; cells read mean ± standard deviation over the runs.',
      'Each run trained for 4 steps.',
      `Samples/s and time to accuracy count training steps only (evaluations excluded), after ${bench.warmupSteps} untimed warm-up steps.`,
      // 4 steps: every step.
      `Each run was evaluated 4 times: ${bench.evaluations.spacing}.`,
      expect.stringMatching(/^Time to 90% is interpolated linearly between the two evaluations around the crossing/),
      'Intermediate test accuracy (the curves) uses all 1,200 test images for two-layer-net and the first 1,000 test images for cnn; the final figures use all 1,200.',
    ]);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const n of notes) expect(md).toContain(n);
    expect(stderr).toMatch(/report written to .*report\.html/);
  });

  test('each model as train runs it: the cnn on two wasm threads, the MLP on one', () => {
    const cnnThreads = os.availableParallelism() >= 2 ? 'wasm (2 threads)' : 'wasm';
    expect(bench.results.map((r) => [r.model, r.backend])).toEqual([
      ['two-layer-net', 'wasm'],
      ['cnn', cnnThreads],
    ]);
    expect(stderr).toContain(`backend: ${cnnThreads}`);
  });

  test('loss and accuracy plots: per model a mean line over a band of the runs, each run faint, against time and samples seen', () => {
    for (const [file, title] of [
      ['loss.svg', 'Training loss'],
      ['accuracy.svg', 'Test accuracy'],
    ]) {
      const svg = fs.readFileSync(path.join(out, file!), 'utf8');
      expect(svg).toContain(`${title} against training time (wasm)`);
      expect(svg).toContain(`${title} against samples seen (wasm)`);
      expect(svg).toContain(file === 'loss.svg' ? 'each run smoothed over 4% of the axis; line: mean of 2 runs; band: their range' : 'line: mean of 2 runs; band: their range at each point; faint: each run');
      // Per panel and model: one faint path per run, one mean line, one band.
      expect((svg.match(/<path class="line faint"/g) ?? []).length).toBe(8);
      expect((svg.match(/<path class="line"/g) ?? []).length).toBe(4);
      expect((svg.match(/<path class="band"/g) ?? []).length).toBe(4);
    }
  });

  test('the comparison: a sentence with the interval, equal budgets, digits per class, digit grids', () => {
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    const c = bench.comparison!;
    expect(md).toContain(`**${comparisonSentence(c)}**`);
    expect(md).toContain('### Equal budgets, read from the curves');
    expect(md).toContain('### Per digit: where cnn gains over two-layer-net');
    expect(md).toMatch(/\| digit +\| +two-layer-net \| +cnn \| +cnn gain \(points\) \|/);
    for (const name of ['digits-two-layer-net-wrong', 'digits-cnn-wrong']) {
      const svg = fs.readFileSync(path.join(out, `${name}.svg`), 'utf8');
      const shown = name === 'digits-cnn-wrong' ? c.digits.bWrongARight.shown : c.digits.aWrongBRight.shown;
      expect((svg.match(/<image /g) ?? []).length).toBe(shown.length);
      for (const d of shown) expect(svg).toContain(`${d.label}, test #${d.index}`);
    }
    expect(c.digits.aWrongBRight.shown.length).toBe(Math.min(24, c.digits.aWrongBRight.count));
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
      const table = await page.$$eval('.scroll table tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
      expect(table).toEqual([headers, ...rows]);

      const text = await page.innerText('body');
      expect(text).toContain(`backends\ntwo-layer-net: ${bench.results[0]!.backend}; cnn: ${bench.results[1]!.backend}`);
      expect(text).toContain(comparisonSentence(bench.comparison!));
      expect(text).toContain(`${bench.machine.cpu}, ${bench.machine.cores} cores`);
      expect(text).toContain('npx mnist-nets bench --models two-layer-net,cnn --seeds 2 --steps 4');
      for (const n of benchNotes(bench)) expect(text).toContain(n);

      // Accuracy, loss, two digit grids and a confusion matrix per model, each laid out with a real size.
      const sizes = await page.$$eval('figure > svg', (svgs) => svgs.map((s) => s.getBoundingClientRect()).map((r) => [r.width, r.height]));
      expect(sizes).toHaveLength(4 + bench.results.length);
      for (const [w, h] of sizes) {
        expect(w).toBeGreaterThan(300);
        expect(h).toBeGreaterThan(80);
      }
      // The digits are drawn: every image in the grids decoded, each 28 x 28 digit pixel a square of DEFAULT_DIGIT_SCALE.
      const digits = await page.$$eval('figure svg image', (els) => Promise.all(els.map((el) => {
        const img = new Image();
        img.src = el.getAttribute('href') ?? '';
        return img.decode().then(() => [img.naturalWidth, img.naturalHeight]);
      })));
      expect(digits.length).toBe(bench.comparison!.digits.aWrongBRight.shown.length + bench.comparison!.digits.bWrongARight.shown.length);
      for (const size of digits) expect(size).toEqual([28 * DEFAULT_DIGIT_SCALE, 28 * DEFAULT_DIGIT_SCALE]);

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
