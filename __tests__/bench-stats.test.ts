/**
 * The benchmark over seeds: the evaluation schedule, train()'s evalWhen, the comparison built from
 * runs (against hand-computed values), the report's sentence and cells, and the CLI's schema.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useBackend } from '../lib/backends';
import { compareModels } from '../lib/jobs/bench-analysis';
import { BENCH_EVALS, type BenchModelRun, type BenchResult, type BenchSeedRun, evaluationSchedule, runBench } from '../lib/jobs/bench-job';
import { benchNotes, benchTable, benchTableData, comparisonSentence, jsonWithFlatArrays, meanSd } from '../lib/jobs/bench-report';
import { benchDetails, benchSummary } from '../scripts/bench-section';
import { buildTwoLayerNet } from '../lib/models/two-layer-net';
import { PRESETS, recipeOptions } from '../lib/recipes';
import { train } from '../lib/training/train';
import { FULL_MNIST, MNIST_DIR, smallMnist } from './helpers/mnist';
import { BUILT_CLI as CLI, dataDirArgs, mnistEnv, runNode } from './helpers/run-node';
import { skipUnless } from './helpers/skips';

const run = (args: string[]) => runNode(CLI, args, { timeout: 600_000 });

describe('evaluation schedule', () => {
  const fire = (f: ReturnType<typeof evaluationSchedule>, steps: number, secondsPerStep: number) =>
    Array.from({ length: steps }, (_, i) => i + 1).filter((stepsDone) => f({ stepsDone, trainSeconds: stepsDone * secondsPerStep }));

  test('by steps: at (k/12)^2 of the run, and at steps 1, 2, 4, ... before the first of those', () => {
    // 400 steps: (1/12)^2 * 400 = 2.8 -> 3; 11.1 -> 12; 25; 44.4 -> 45; 69.4 -> 70; 100; 136.1 -> 137; 177.8 -> 178; 225; 277.8 -> 278; 336.1 -> 337; 400.
    expect(fire(evaluationSchedule(400, undefined), 400, 0.01)).toEqual([1, 2, 3, 12, 25, 45, 70, 100, 137, 178, 225, 278, 337, 400]);
    // The MLP's recipe, 10,000 steps: the first square at 69.4 -> 70, doublings before it.
    const recipe = fire(evaluationSchedule(10_000, undefined), 10_000, 0.001);
    expect(recipe.slice(0, 8)).toEqual([1, 2, 4, 8, 16, 32, 64, 70]);
    expect(recipe).toHaveLength(7 + 12);
    expect(BENCH_EVALS).toBe(12);
  });

  test('under a time budget that ends the run first: spaced by time', () => {
    // 1,000 planned steps of 0.05 s against 10 s: the budget ends it at step 200, so progress is
    // steps / 200: (1/12)^2 * 200 = 1.4 -> 2 (step 1 a doubling before it); 5.6 -> 6; 12.5 -> 13; 22.2 -> 23; 34.7 -> 35; 50; 68.1 -> 69; 88.9 -> 89; 112.5 -> 113; 138.9 -> 139; 168.1 -> 169; 200.
    expect(fire(evaluationSchedule(1000, 10), 200, 0.05)).toEqual([1, 2, 6, 13, 23, 35, 50, 69, 89, 113, 139, 169, 200]);
  });

  test('a short run still gets its evaluations: marks that share a step go to the steps after', () => {
    expect(fire(evaluationSchedule(4, undefined), 4, 1)).toEqual([1, 2, 3, 4]);
    // 30 steps: marks at 0.2, 0.8, 1.9, 3.3, 5.2, 7.5, 10.2, 13.3, 16.9, 20.8, 25.2, 30 steps: the first four on steps 1-4.
    expect(fire(evaluationSchedule(30, undefined), 30, 1)).toEqual([1, 2, 3, 4, 6, 8, 11, 14, 17, 21, 26, 30]);
  });
});

describe("train()'s evalWhen", () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  test('evaluates after the steps it names, and at the end; no tensors left', async () => {
    const data = await smallMnist('unit', 1000, 200);
    const model = buildTwoLayerNet({ seed: 1 });
    const before = tf.memory().numTensors;
    const seen: Array<{ stepsDone: number; trainSeconds: number }> = [];
    const r = await train(model, data, {
      ...recipeOptions(PRESETS['two-layer-net'], { steps: 10, seed: 1 }),
      logInterval: 0,
      evalWhen: (p) => {
        seen.push(p);
        return p.stepsDone % 4 === 0;
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expect(seen.map((p) => p.stepsDone)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.every((p, i) => i === 0 || p.trainSeconds >= seen[i - 1]!.trainSeconds)).toBe(true);
    // Evaluation entries carry the step index (steps done - 1); the run ends with one.
    expect(r.history.evals.map((e) => e.step)).toEqual([3, 7, 9]);
    expect(r.history.evals.every((e) => e.testAccuracy !== undefined)).toBe(true);
  });
});

/** A run whose numbers are given, for comparisons computed by hand. */
function seedRun(seed: number, testAccuracy: number, confusion: number[][], curve: Array<[number, number, number]>): BenchSeedRun {
  return {
    seed,
    testAccuracy,
    testLoss: 0.1,
    samplesPerSec: 1000,
    secondsToTarget: null,
    secondsToTargetResolution: null,
    steps: curve[curve.length - 1]![0] + 1,
    epochs: 1,
    trainSeconds: curve[curve.length - 1]![1],
    stopped: 'completed',
    inferenceSamplesPerSec: 1,
    epochSeconds: 1,
    epochSecondsMeasured: true,
    confusion,
    // curve: [step index, training seconds, test accuracy]
    history: { loss: [], epochs: [], evals: curve.map(([step, trainSeconds, testAccuracy]) => ({ step, epoch: 0, seconds: trainSeconds, trainSeconds, trainAccuracy: 0, testAccuracy })) },
  };
}

function modelRun(model: string, batchSize: number, seeds: BenchSeedRun[], predictions: number[][]): BenchModelRun {
  const none = { mean: null, sd: null, min: null, max: null, n: 0 };
  return {
    result: {
      model,
      family: model,
      backend: 'wasm',
      params: 1,
      flopsPerSample: 1,
      trainFlopsPerSample: 3,
      batchSize,
      intermediateTestExamples: 6,
      peakRssBytes: 1,
      peakTensorBytes: 1,
      seeds,
      summary: { testAccuracy: none, testLoss: none, samplesPerSec: none, secondsToTarget: none, secondsToTargetResolution: none, inferenceSamplesPerSec: none, epochSeconds: none, steps: none },
    },
    predictions: predictions.map((p) => Uint8Array.from(p)),
  };
}

describe('comparing two models from their runs', () => {
  // Six test images of two classes: labels 0 0 0 1 1 1.
  const labels = Uint8Array.from([0, 0, 0, 1, 1, 1]);
  const images = { labels, pixels: (i: number) => new Uint8Array(4).fill(i) };
  // a wrong on images 1 and 4 in both runs, and on 2 in one; b wrong on 5 in both runs.
  const a = modelRun(
    'mlp',
    100,
    [
      seedRun(1, 0.6, [[2, 1], [1, 2]], [[0, 0.1, 0.2], [9, 1, 0.6], [19, 2, 0.8]]),
      seedRun(2, 0.5, [[1, 2], [1, 2]], [[0, 0.1, 0.3], [9, 1.5, 0.5], [29, 3, 0.7]]),
    ],
    [
      [0, 1, 0, 1, 0, 1],
      [0, 1, 1, 1, 0, 1],
    ],
  );
  const b = modelRun(
    'cnn',
    50,
    [
      seedRun(1, 0.8, [[3, 0], [1, 2]], [[0, 0.5, 0.1], [4, 2.5, 0.9]]),
      seedRun(2, 0.9, [[3, 0], [1, 2]], [[0, 0.5, 0.2], [4, 2, 0.8]]),
      seedRun(3, 0.7, [[3, 0], [1, 2]], [[0, 0.5, 0.3], [4, 3, 0.7]]),
    ],
    [
      [0, 0, 0, 1, 1, 0],
      [0, 0, 0, 1, 1, 0],
      [0, 0, 0, 1, 1, 0],
    ],
  );
  const c = compareModels('wasm', a, b, images, { interval: 'welch' });

  test('the difference of mean accuracies and its Welch interval', () => {
    // a: 0.6, 0.5 (mean 0.55, var 0.005); b: 0.8, 0.9, 0.7 (mean 0.8, var 0.01).
    // se^2 = 0.005/2 + 0.01/3 = 0.0058333; df = 0.0058333^2 / (0.0025^2/1 + 0.0033333^2/2) = 2.0417.
    const t = c.testAccuracy;
    expect(t.models).toEqual(['mlp', 'cnn']);
    expect(t.difference).toBeCloseTo(-0.25, 12);
    expect(t.n).toEqual([2, 3]);
    expect(t.se).toBeCloseTo(Math.sqrt(0.005 / 2 + 0.01 / 3), 12);
    expect(t.df).toBeCloseTo(0.0058333333333 ** 2 / (0.0025 ** 2 + 0.0033333333333 ** 2 / 2), 6);
    expect(t.ci95![0]).toBeLessThan(t.difference);
    expect(t.ci95![1]).toBeGreaterThan(t.difference);
    expect(t.ci95![1] - t.difference).toBeCloseTo(t.t! * t.se!, 12);
  });

  test('per digit: accuracies from the confusion rows, gain of the second model', () => {
    // Class 0: a 2/3 and 1/3 (mean 0.5), b 3/3 each: gain 0.5. Class 1: a 2/3 twice, b 2/3: gain 0.
    expect(c.perClass.map((p) => [p.digit, p.accuracy[0].mean, p.accuracy[1].mean])).toEqual([
      [0, expect.closeTo(0.5, 12), 1],
      [1, expect.closeTo(2 / 3, 12), expect.closeTo(2 / 3, 12)],
    ]);
    expect(c.perClass[0]!.gain).toBeCloseTo(0.5, 12);
    expect(c.perClass[1]!.gain).toBeCloseTo(0, 12);
  });

  test('digits one model gets wrong in every run and the other right in every run', () => {
    // a wrong in both runs: 1, 3? (label 1, a says 1: right), 4 (label 1, a says 0), 5? (a says 1: right) -> 1 and 4.
    // b right in all runs on 1 (0) and 4 (1): both count. Image 2: a wrong in one run only.
    expect(c.digits.aWrongBRight.count).toBe(2);
    expect(c.digits.aWrongBRight.shown.map((d) => [d.index, d.label, d.predicted])).toEqual([
      [1, 0, [[1, 1], [0, 0, 0]]],
      [4, 1, [[0, 0], [1, 1, 1]]],
    ]);
    expect(Buffer.from(c.digits.aWrongBRight.shown[1]!.pixels, 'base64')).toEqual(Buffer.from([4, 4, 4, 4]));
    // b wrong on 5 (label 1, says 0) in every run; a right there in both.
    expect(c.digits.bWrongARight.shown.map((d) => [d.index, d.predicted])).toEqual([[5, [[1, 1], [0, 0, 0]]]]);
  });

  test('equal budgets: read off every curve where every run has reached', () => {
    // Common training time: the shortest run ends at 2 s (a's seed 1, b's seed 2): at 0.5, 1 and 2 s.
    // a seed 1 at 2 s: 0.8; a seed 2: 0.5 + (0.2) * (0.5/1.5) = 0.5667; b: 0.9, 0.8, 0.1 + ... -> read by interpolation.
    expect(c.equalTime.map((p) => p.at)).toEqual([0.5, 1, 2]);
    const at2 = c.equalTime[2]!;
    expect(at2.accuracy[0].mean).toBeCloseTo((0.8 + (0.5 + (0.2 * 0.5) / 1.5)) / 2, 12);
    // b at 2 s: seed 1 0.1 + 0.8 * 1.5/2 = 0.7; seed 2 0.8; seed 3 0.3 + 0.4 * 1.5/2.5 = 0.54.
    expect(at2.accuracy[1].mean).toBeCloseTo((0.7 + 0.8 + 0.54) / 3, 12);
    expect(at2.accuracy[1].min).toBeCloseTo(0.54, 12);
    // Samples: b's runs end at 5 steps x 50 = 250, a's at 2,000 and 3,000: 250, 25 and 2.5 (2 left out: before the first evaluations at 50 and 100 samples).
    expect(c.equalSamples.map((p) => p.at)).toEqual([250]);
    // a at 250 samples: seed 1 between (100, 0.2) and (1000, 0.6): 0.2 + 0.4 * 150/900.
    expect(c.equalSamples[0]!.accuracy[0].min).toBeCloseTo(0.2 + (0.4 * 150) / 900, 12);
  });

  test('the sentence says which is better, by how much, with the interval turned the same way', () => {
    const s = comparisonSentence(c);
    const [lo, hi] = [-c.testAccuracy.ci95![1] * 100, -c.testAccuracy.ci95![0] * 100];
    expect(s).toBe(
      `On wasm, cnn is 25.00 percentage points more accurate on the test set than mlp (mean of 2 and 3 runs); the 95% interval of the difference is ` +
        `${lo < 0 ? '-' : ''}${Math.abs(lo).toFixed(2)} to ${hi.toFixed(2)} points (Welch's t, ${c.testAccuracy.df!.toFixed(1)} degrees of freedom): ` +
        (lo > 0 ? 'larger than the spread between seeds explains.' : 'an interval that includes zero, so these runs cannot tell the two apart.'),
    );
    const one = { ...c, testAccuracy: { ...c.testAccuracy, ci95: null, n: [1, 1] as [number, number], difference: 0.02 } };
    expect(comparisonSentence(one)).toBe(
      'On wasm, mlp is 2.00 percentage points more accurate on the test set than cnn (one run each); with fewer than two runs of a model there is no interval, so this may be noise (run with --seeds 3 or more).',
    );
  });

  test('results.json: indented, with arrays of numbers on one line, and the same document', () => {
    const value = { loss: [1, 2.5, -3e-7, null], confusion: [[1, 2], [3, 4]], evals: [{ step: [1] }], text: '[ 1, 2 ]', empty: [] };
    const text = jsonWithFlatArrays(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('"loss": [1,2.5,-3e-7,null]');
    expect(text).toContain('    [1,2],\n    [3,4]');
    expect(text).toContain('"text": "[ 1, 2 ]"');
  });

  test('mean ± sd cells', () => {
    expect(meanSd({ mean: 0.5, sd: 0.25, min: 0, max: 1, n: 3 }, (x) => x.toFixed(2))).toBe('0.50 ± 0.25');
    expect(meanSd({ mean: 0.5, sd: null, min: 0.5, max: 0.5, n: 1 }, (x) => x.toFixed(2), '%')).toBe('0.50%');
    expect(meanSd({ mean: null, sd: null, min: null, max: null, n: 0 }, (x) => x.toFixed(2))).toBe('-');
  });
});

describe('runBench in one process (the library entry)', () => {
  test('seeds, summaries and the comparison, on a small subset; no tensors left', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const bench = await runBench({ models: ['two-layer-net', 'mlp'], seeds: [3, 4], steps: 30, limit: 600, backend: 'wasm', load: FULL_MNIST ? { dataDir: MNIST_DIR } : { cacheDir: '/nonexistent/tfjs-mnist-nets-tests', download: false } });
    expect(tf.memory().numTensors).toBe(before);
    expect(bench.seeds).toEqual([3, 4]);
    expect(bench.results.map((r) => [r.model, r.seeds.map((s) => s.seed)])).toEqual([
      ['two-layer-net', [3, 4]],
      ['mlp', [3, 4]],
    ]);
    for (const r of bench.results) {
      const acc = r.seeds.map((s) => s.testAccuracy);
      expect(r.summary.testAccuracy).toEqual({ mean: expect.closeTo((acc[0]! + acc[1]!) / 2, 12), sd: expect.closeTo(Math.abs(acc[0]! - acc[1]!) / Math.SQRT2, 12), min: Math.min(...acc), max: Math.max(...acc), n: 2 });
      // 30 steps: 12 evaluations (see the schedule's test).
      for (const s of r.seeds) expect(s.history.evals.length).toBeGreaterThanOrEqual(12);
    }
    expect(bench.comparison?.testAccuracy.difference).toBeCloseTo(bench.results[0]!.summary.testAccuracy.mean! - bench.results[1]!.summary.testAccuracy.mean!, 12);
    const { rows } = benchTableData(bench);
    expect(rows[0]![8]).toMatch(/^\d+\.\d\d ± \d+\.\d\d%$/);

    // The docs' blocks are written from this document alone.
    const summary = benchSummary(bench);
    expect(summary).toContain(benchTable(bench));
    expect(summary).toContain(`**${comparisonSentence(bench.comparison!)}**`);
    const details = benchDetails(bench);
    for (const n of benchNotes(bench)) expect(details).toContain(`- ${n}`);
    expect(details).toContain(`${bench.comparison!.testAccuracy.description}.`);
    expect(details).toMatch(/Per digit \(wasm\), mlp's test accuracy minus two-layer-net's in points, largest first: (\d: [+-]\d+\.\d\d, ){9}\d: [+-]\d+\.\d\d\./);
  });
});

describe('mnist-nets bench --seeds (CLI)', () => {
  let bench: BenchResult;
  let stderr: string;
  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
    const r = run(['bench', '--models', 'two-layer-net,mlp', '--seeds', '3', '--steps', '400', '--json']);
    stderr = r.stderr;
    if (r.code !== 0) throw new Error(`bench failed (${r.code}): ${r.stderr}`);
    bench = JSON.parse(r.stdout) as BenchResult;
  });

  test('the schema of issue 19: runs under seeds[], a summary per model, the comparison with its interval', () => {
    expect(bench.seeds).toEqual([1, 2, 3]);
    expect(bench.budget).toEqual({ steps: 400 });
    for (const r of bench.results) {
      expect(r.seeds.map((s) => s.seed)).toEqual([1, 2, 3]);
      for (const s of r.seeds) {
        expect(Object.keys(s)).toEqual(expect.arrayContaining(['seed', 'testAccuracy', 'testLoss', 'samplesPerSec', 'secondsToTarget', 'history']));
        expect(s.steps).toBe(400);
        expect(s.history.evals.length).toBeGreaterThanOrEqual(12);
        expect(s.history.loss).toHaveLength(400);
      }
      for (const key of ['testAccuracy', 'testLoss', 'samplesPerSec', 'secondsToTarget'] as const) {
        expect(Object.keys(r.summary[key]).sort()).toEqual(['max', 'mean', 'min', 'n', 'sd']);
      }
      const acc = r.summary.testAccuracy;
      expect(acc.n).toBe(3);
      expect(acc.sd).toBeGreaterThan(0);
      expect(acc.mean).toBeCloseTo(r.seeds.reduce((x, s) => x + s.testAccuracy, 0) / 3, 12);
      expect(acc.min).toBe(Math.min(...r.seeds.map((s) => s.testAccuracy)));
      // Different seeds, different runs.
      expect(new Set(r.seeds.map((s) => s.testAccuracy)).size).toBeGreaterThan(1);
    }
    const t = bench.comparison!.testAccuracy;
    expect(t.models).toEqual(['two-layer-net', 'mlp']);
    expect(t.method).toBe('welch');
    expect(t.difference).toBeCloseTo(bench.results[0]!.summary.testAccuracy.mean! - bench.results[1]!.summary.testAccuracy.mean!, 12);
    expect(t.ci95![0]).toBeLessThan(t.difference);
    expect(t.ci95![1]).toBeGreaterThan(t.difference);
    expect(t.df).toBeGreaterThan(1.99);
    expect(t.df).toBeLessThan(4.01);
    expect(bench.comparisons).toEqual([bench.comparison]);
    expect(bench.backends).toEqual(['wasm']);
  });

  test('each model ran in its own process, as train would run it', () => {
    expect(bench.results.map((r) => r.backend)).toEqual(['wasm', 'wasm']);
    expect((stderr.match(/^backend: wasm/gm) ?? []).length).toBe(2);
    expect(stderr).toMatch(/bench: mlp, seed 3 \(3 of 3\), 400 steps of batch 100/);
  });

  test('time to target, when reached, lies between two evaluations and says how far apart they were', () => {
    for (const r of bench.results) {
      for (const s of r.seeds) {
        if (s.secondsToTarget === null) continue;
        const evals = s.history.evals;
        const k = evals.findIndex((e) => (e.testAccuracy ?? 0) >= bench.targetAccuracy);
        expect(s.secondsToTarget).toBeLessThanOrEqual(evals[k]!.trainSeconds);
        if (k > 0) expect(s.secondsToTargetResolution).toBeCloseTo(evals[k]!.trainSeconds - evals[k - 1]!.trainSeconds, 12);
      }
    }
  });
});

/** Pids whose parent is `ppid`, from /proc (Linux). */
function childrenOf(ppid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // stat: pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Whether `pid` still runs: a zombie (ended, not yet reaped by whoever adopted it) does not. */
const alive = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

skipUnless(process.platform === 'linux', 'reads /proc to find the worker process: Linux only').describe('bench workers', () => {
  test('a worker whose bench process is killed stops instead of training on as an orphan', async () => {
    const parent = spawn(process.execPath, [CLI, 'bench', '--models', 'cnn', '--seed-list', '1', '--steps', '100000', '--limit', '500', '--backend', 'wasm', ...dataDirArgs()], {
      env: { ...process.env, ...mnistEnv() },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    // The worker is training once its first evaluation is logged.
    await new Promise<void>((resolve, reject) => {
      parent.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/step 0: train acc/.test(stderr)) resolve();
      });
      parent.on('exit', (code) => reject(new Error(`bench ended (${code}) before its worker trained: ${stderr}`)));
    });
    const workers = childrenOf(parent.pid!);
    expect(workers).toHaveLength(1);
    const worker = workers[0]!;
    parent.kill('SIGKILL');
    try {
      // The worker notices at its next turn of the event loop (a step at most); four minutes
      // leave a loaded machine room, and the loop ends, so a failure does not hang the run.
      for (let waited = 0; alive(worker) && waited < 240_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      expect(alive(worker)).toBe(false);
    } finally {
      if (alive(worker)) process.kill(worker, 'SIGKILL');
    }
  }, 300_000);
});

describe('bench flags (CLI)', () => {
  test('one seed, and a backend that cannot run here: the same schema, n = 1, no interval, the backend skipped with its reason', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-bench-one-'));
    const r = run(['bench', '--models', 'two-layer-net,mlp', '--seed-list', '7', '--steps', '20', '--limit', '1000', '--backends', 'wasm,tensorflow', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const bench = JSON.parse(r.stdout) as BenchResult;
    expect(bench.seeds).toEqual([7]);
    expect(bench.backends).toEqual(['wasm']);
    expect(bench.skippedBackends).toEqual([{ backend: 'tensorflow', reason: expect.stringMatching(/tfjs-node/) }]);
    expect(r.stderr).toMatch(/bench: skipping backend tensorflow: /);
    for (const m of bench.results) expect(m.summary.testAccuracy).toEqual({ mean: m.seeds[0]!.testAccuracy, sd: null, min: m.seeds[0]!.testAccuracy, max: m.seeds[0]!.testAccuracy, n: 1 });
    expect(bench.comparison!.testAccuracy.ci95).toBeNull();
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('Skipped backend tensorflow: ');
    expect(md).toContain('there is no interval');
  });

  test('--backends wasm,cpu: the same comparison per backend in one report', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-bench-backends-'));
    const r = run(['bench', '--models', 'two-layer-net,mlp', '--seeds', '2', '--steps', '6', '--limit', '500', '--backends', 'wasm,cpu', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const bench = JSON.parse(r.stdout) as BenchResult;
    expect(bench.backends).toEqual(['wasm', 'cpu']);
    expect(bench.skippedBackends).toEqual([]);
    expect(bench.results.map((m) => [m.model, m.backend])).toEqual([
      ['two-layer-net', 'wasm'],
      ['mlp', 'wasm'],
      ['two-layer-net', 'cpu'],
      ['mlp', 'cpu'],
    ]);
    expect(bench.comparisons.map((c) => [c.backend, c.models])).toEqual([
      ['wasm', ['two-layer-net', 'mlp']],
      ['cpu', ['two-layer-net', 'mlp']],
    ]);
    expect(bench.comparison).toEqual(bench.comparisons[0]);
    const files = fs.readdirSync(out);
    expect(files).toEqual(expect.arrayContaining(['accuracy.svg', 'accuracy-cpu.svg', 'loss-cpu.svg', 'digits-two-layer-net-wrong-cpu.svg', 'confusion-mlp-cpu.svg']));
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('## On wasm');
    expect(md).toContain('## On cpu');
    for (const c of bench.comparisons) expect(md).toContain(comparisonSentence(c));
  });

  test.each([
    [['--seed-list', '1,1'], "--seed-list: names '1' twice"],
    [['--seed-list', '1,x'], '--seed-list: must be an integer, got "x"'],
    [['--seeds', '0'], '--seeds: must be a positive integer, got 0'],
    [['--seeds', '2', '--seed-list', '1,2'], 'Arguments seed-list and seeds are mutually exclusive'],
    [['--backends', 'wasm,gpu'], "--backends: unknown backend 'gpu'"],
    [['--models', 'cnn,cnn'], "--models: names 'cnn' twice"],
    [['--interval', 'jackknife'], 'Invalid values'],
    [['--threads', '2', '--backends', 'cpu'], '--threads: applies to the wasm backend only'],
  ])('%j is a usage error', (flags, message) => {
    const r = run(['bench', '--steps', '2', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});
