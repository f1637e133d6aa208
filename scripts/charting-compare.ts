/**
 * Should vega-lite + vega draw the bench plots instead of lib/report? Measures, on a bench
 * results.json: what vega adds to node_modules (bytes on disk and packages), the time to require it
 * against lib/report, and the time to draw the loss chart (every step of every model, raw and
 * smoothed, log y) and the accuracy chart, the two libraries alternating in one process so that a
 * busy machine slows both alike (ratios are what to read). Writes both libraries' PNGs to look at.
 *
 *   mkdir -p /tmp/vega && (cd /tmp/vega && npm init -y && npm install vega@5 vega-lite@5)
 *   npm run build && node dist/scripts/charting-compare.js --vega /tmp/vega/node_modules \
 *     --results docs/results/bench/results.json --out /tmp/charting
 *
 * vega 6 is an ES module only, which this CommonJS package could load with import() alone; 5 is the
 * line tfjs-vis uses. The decision and the numbers of a run are in docs/REPORTS.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Series } from '../lib/report';
import type { BenchResult } from '../lib/jobs/bench-job';

interface Args {
  vega: string;
  results: string;
  out: string;
  rounds: number;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string, fallback?: string) => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? argv[i + 1] : fallback;
    if (v === undefined) throw new Error(`${flag} is required (see the header of scripts/charting-compare.ts)`);
    return v;
  };
  const rounds = Number(get('--rounds', '7'));
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`--rounds must be a positive integer, got ${rounds}`);
  return { vega: get('--vega'), results: get('--results', 'docs/results/bench/results.json'), out: get('--out', 'charting-compare'), rounds };
}

/** Bytes on disk (4 KiB blocks, as du counts them) and the number of packages under a node_modules folder. */
function footprint(dir: string): { bytes: number; packages: number } {
  let bytes = 0;
  let packages = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        const inNodeModules = path.basename(d) === 'node_modules' || (path.basename(d).startsWith('@') && path.basename(path.dirname(d)) === 'node_modules');
        if (inNodeModules && !e.name.startsWith('@') && fs.existsSync(path.join(p, 'package.json'))) packages++;
        walk(p);
      } else if (e.isFile()) bytes += Math.ceil(fs.statSync(p).size / 4096) * 4096;
    }
  };
  walk(dir);
  return { bytes, packages };
}

interface BenchLike {
  backend: string;
  results: Array<{ model: string; trainSeconds: number; history: { loss: number[]; evals: Array<{ trainSeconds: number; testAccuracy?: number }> } }>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // The first run of each model on the first backend (bench records one per seed and backend).
  const recorded = JSON.parse(fs.readFileSync(args.results, 'utf8')) as BenchResult;
  const bench: BenchLike = {
    backend: recorded.backends[0]!,
    results: recorded.results
      .filter((r, i, all) => all.findIndex((x) => x.model === r.model) === i)
      .map((r) => ({ model: r.model, trainSeconds: r.seeds[0]!.trainSeconds, history: r.seeds[0]!.history })),
  };
  fs.mkdirSync(args.out, { recursive: true });

  // Both loaded here, first use in this process, lib/report first so neither finds the other's modules cached.
  let t = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { lineChartSvg, smoothSeries, svgToPng } = require('../lib/report') as typeof import('../lib/report');
  const requireOwn = performance.now() - t;
  t = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vega = require(path.join(args.vega, 'vega'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vl = require(path.join(args.vega, 'vega-lite'));
  const requireVega = performance.now() - t;

  // Time per step from the run's average, enough for a drawing benchmark.
  const lossPoints = bench.results.map((r) => r.history.loss.map((l, i) => [((i + 1) / r.history.loss.length) * r.trainSeconds, l] as [number, number]));
  const span = Math.max(...bench.results.map((r) => r.trainSeconds));
  const rows = bench.results.flatMap((r, k) => lossPoints[k]!.map(([x, y]) => ({ model: r.model, t: x, loss: y })));
  const acc = bench.results.flatMap((r) => r.history.evals.map((e) => ({ model: r.model, t: e.trainSeconds, acc: e.testAccuracy })));
  const y = (field: string, log = false) => ({ field, type: 'quantitative', ...(log ? { scale: { type: 'log' } } : {}) });
  const lossSpec = {
    width: 560,
    height: 340,
    title: `Training loss (${bench.backend})`,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', opacity: 0.25, strokeWidth: 1 }, encoding: { x: y('t'), y: y('loss', true), color: { field: 'model' } } },
      {
        // vega's window is counted in rows, not along x: the nearest it has to lib/report's smoothing.
        transform: [{ window: [{ op: 'mean', field: 'loss', as: 'smooth' }], frame: [-50, 50], groupby: ['model'], sort: [{ field: 't' }] }],
        mark: { type: 'line', strokeWidth: 2 },
        encoding: { x: y('t'), y: y('smooth', true), color: { field: 'model' } },
      },
    ],
  };
  const accSpec = { width: 560, height: 340, title: `Test accuracy (${bench.backend})`, data: { values: acc }, mark: { type: 'line', point: true }, encoding: { x: y('t'), y: y('acc'), color: { field: 'model' } } };
  const vegaSvg = (spec: unknown): Promise<string> => new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' }).toSVG();
  const ownLoss = () =>
    lineChartSvg(
      bench.results.flatMap((r, k): Series[] => [
        { name: `${r.model}, every step`, points: lossPoints[k]!, faint: true, colorIndex: k },
        { name: r.model, points: smoothSeries(lossPoints[k]!, 0.02 * span, { logY: true }), colorIndex: k },
      ]),
      { title: `Training loss (${bench.backend})`, xLabel: 'training time (s)', yLabel: 'loss', logY: true },
    );
  const ownAcc = () =>
    lineChartSvg(
      bench.results.map((r) => ({ name: r.model, points: r.history.evals.map((e) => [e.trainSeconds, e.testAccuracy ?? NaN] as [number, number]) })),
      { title: `Test accuracy (${bench.backend})`, xLabel: 'training time (s)', yLabel: 'test accuracy', yMin: 0, yMax: 1 },
    );

  const ratios: number[] = [];
  let svgs: Record<string, string> = {};
  for (let k = 0; k < args.rounds; k++) {
    let t0 = performance.now();
    const vLoss = await vegaSvg(lossSpec);
    const vAcc = await vegaSvg(accSpec);
    const v = performance.now() - t0;
    t0 = performance.now();
    const oLoss = ownLoss();
    const oAcc = ownAcc();
    const o = performance.now() - t0;
    ratios.push(v / o);
    svgs = { 'vega-loss': vLoss, 'vega-accuracy': vAcc, 'lib-report-loss': oLoss, 'lib-report-accuracy': oAcc };
  }
  for (const [name, svg] of Object.entries(svgs)) {
    fs.writeFileSync(path.join(args.out, `${name}.svg`), svg);
    const png = await svgToPng(svg);
    if (png) fs.writeFileSync(path.join(args.out, `${name}.png`), png);
  }
  const { bytes, packages } = footprint(args.vega);
  const points = bench.results.map((r) => `${r.model} ${r.history.loss.length}`).join(', ');
  console.log(`vega + vega-lite in ${args.vega}: ${(bytes / 2 ** 20).toFixed(1)} MiB on disk, ${packages} packages`);
  console.log(`require: vega + vega-lite take ${(requireVega / requireOwn).toFixed(1)}x the time of lib/report`);
  console.log(
    `draw loss (${points} points, raw and smoothed) + accuracy: vega takes ${median(ratios).toFixed(0)}x the time of lib/report ` +
      `(median of ${args.rounds} alternating rounds; range ${Math.min(...ratios).toFixed(0)}-${Math.max(...ratios).toFixed(0)}x)`,
  );
  console.log(`SVG and PNG of both in ${path.resolve(args.out)}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
