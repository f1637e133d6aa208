import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { BUILT_CLI as CLI, mnistEnv, runNode } from './helpers/run-node';
import { FULL_MNIST, MNIST_DIR } from './helpers/mnist';
import { itEachWithMnist, itWithMnist } from './helpers/needs-mnist';
import { RECIPE_PARAMS } from './helpers/expected';

/** The built CLI, as `npx mnist-nets` runs it (npm test builds first: see "pretest"). */

const run = (args: string[], env: Record<string, string> = {}) => runNode(CLI, args, { env });

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-cli-'));

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
});

describe('help', () => {
  it.each(['doctor', 'info', 'models', 'train', 'eval', 'bench', 'predict'])('%s --help describes the command', (cmd) => {
    const r = run([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`mnist-nets ${cmd}`);
    expect(r.stdout).toContain('--help');
  });

  it('an unknown command or flag exits 2 with one message', () => {
    const r = run(['trian']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: trian|Did you mean train/);
    const bad = run(['train', '--model', 'lenet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid values:[\s\S]*model/);
  });
});

describe('models', () => {
  it('--json lists the seven presets with the exact parameter counts of RECIPES.md', () => {
    const r = run(['models', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ id: string; family: string; params: number }>;
    expect(Object.fromEntries(rows.map((m) => [m.id, m.params]))).toEqual(RECIPE_PARAMS);
    expect(new Set(rows.map((m) => m.family))).toEqual(new Set(['mlp', 'two-layer-net', 'cnn']));
  });
});

describe('info', () => {
  itEachWithMnist('reads the four official files', [
    ['train-images-idx3-ubyte.gz', [60000, 28, 28]],
    ['train-labels-idx1-ubyte.gz', [60000]],
    ['t10k-images-idx3-ubyte.gz', [10000, 28, 28]],
    ['t10k-labels-idx1-ubyte.gz', [10000]],
  ])('%s has dims %j', (file: string, dims: number[]) => {
    const r = run(['info', path.join(MNIST_DIR, file), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'u8', dims });
  });

  it.each([
    ['empty', Buffer.alloc(0), /at byte 0: /],
    ['bad magic', Buffer.from([1, 0, 8, 1, 0, 0, 0, 0]), /magic must start with two zero bytes/],
    ['unknown type', Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), /type code/],
    ['short data', Buffer.from([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), /: at byte 10: header announces 5 data bytes \(5 u8\) but the file holds 2$/],
    ['truncated gzip', require('zlib').gzipSync(Buffer.alloc(4000, 7)).subarray(0, 20), /gzip/i],
  ])('malformed (%s): exit 2, one line naming the file, no stack', (_name, bytes, problem) => {
    const file = path.join(tmp(), 'bad.idx');
    fs.writeFileSync(file, bytes);
    const r = run(['info', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toMatch(problem);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing file exits 2 with one line', () => {
    const r = run(['info', '/nonexistent/file.idx']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('mnist-nets: /nonexistent/file.idx: file not found');
  });
});

describe('doctor', () => {
  it('--json names the selected backend and why the others are not used', () => {
    const r = run(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const names = report.backends.map((b: { name: string }) => b.name);
    // auto's order, and its rule: the first available one is selected.
    expect(names).toEqual(['tensorflow', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    expect(report.selected).toBe(report.backends.find((b: { available: boolean }) => b.available).name);
    for (const b of report.backends) {
      expect(typeof b.available).toBe('boolean');
      expect(b.reason.length).toBeGreaterThan(0);
    }
    expect(report.backends.find((b: { name: string }) => b.name === report.selected).available).toBe(true);
  });
});

describe('train, eval, predict', () => {
  const dir = tmp();
  const modelDir = path.join(dir, 'model');
  const TRAIN_ARGS = ['train', '--model', 'two-layer-net', '--steps', '300', '--limit', '3000', '--seed', '3'];
  // --limit 3000 caps both splits; the npm sample (no full MNIST here) has 2,000 test digits.
  const TEST_N = FULL_MNIST ? 3000 : 2000;
  // One trained and saved model that every test here reads and none changes, made before any of
  // them runs, so each also runs alone (-t) and in any order.
  let trained: { code: number | null; stdout: string; stderr: string; json: Record<string, any> };
  beforeAll(() => {
    const r = run([...TRAIN_ARGS, '--save', modelDir, '--json']);
    trained = { ...r, json: r.code === 0 ? JSON.parse(r.stdout) : {} };
  });

  it('train --json prints the result of the run and saves the model', () => {
    expect(trained.code).toBe(0);
    const t = trained.json;
    expect(trained.stderr).toContain(`backend: ${t.backend}`);
    expect(t).toMatchObject({
      model: 'two-layer-net',
      dataset: 'mnist',
      params: 39_760,
      // 2 x (784 x 50 + 50 x 10) multiply-adds.
      flopsPerSample: 79_400,
      seed: 3,
      steps: 300,
      // 300 steps x 100 examples over 3,000 examples.
      epochs: 10,
      stopped: 'completed',
      trainAccuracySamples: 3000,
      testSamples: TEST_N,
      hyperparameters: { optimizer: { kind: 'sgd', learningRate: 0.1 }, loss: 'cross-entropy', batchSize: 100, sampling: 'replacement', steps: 300, trainLimit: 3000 },
    });
    expect(t.seconds).toBeGreaterThanOrEqual(t.trainSeconds);
    expect(t.samplesPerSec).toBeCloseTo((300 * 100) / t.trainSeconds, 3);
    expect(t.testAccuracy).toBeGreaterThan(0.3); // chance is 0.1
    // The accuracy, per-class accuracies and confusion matrix describe the same 3,000 predictions.
    const confusion = t.confusion as number[][];
    expect(confusion.flat().reduce((a, b) => a + b, 0)).toBe(TEST_N);
    expect(t.testAccuracy).toBeCloseTo(confusion.reduce((n, row, c) => n + row[c], 0) / TEST_N, 12);
    confusion.forEach((row, c) => expect(t.perClassAccuracy[c]).toBeCloseTo(row[c] / row.reduce((a, b) => a + b, 0), 12));
    expect(Number.isFinite(t.testLoss) && t.testLoss > 0).toBe(true);
    expect(t.history.loss).toHaveLength(300);
    expect(t.history.evals.at(-1)).toMatchObject({ step: 299, testAccuracy: t.testAccuracy });
    expect(trained.stderr).toMatch(/epoch \d+\/\d+/); // progress on stderr
    const saved = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
    expect(saved.userDefinedMetadata.mnistNets).toMatchObject({ preset: 'two-layer-net', testAccuracy: t.testAccuracy, steps: 300 });
  });

  it('--seed makes train repeatable on one backend', () => {
    const r = run([...TRAIN_ARGS, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).history.loss).toEqual(trained.json.history.loss);
  });

  it('eval --json gives the same test accuracy as training ended with', () => {
    const r = run(['eval', '--model-dir', modelDir, '--limit', '3000', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.testAccuracy).toBe(trained.json.testAccuracy);
    expect(out.testLoss).toBeCloseTo(trained.json.testLoss, 5);
    expect(out.confusion).toEqual(trained.json.confusion);
  });

  itWithMnist('predicts the official 10,000-image test file and its first digit, a 7', 'predict reads a PNG (black on white, 56x56) and an IDX file', () => {
    // A test-set "7": draw it large and inverted, as a scanned digit would be.
    const idx = fs.readFileSync(path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
    const raw = require('zlib').gunzipSync(idx).subarray(16, 16 + 784) as Buffer;
    const png = new PNG({ width: 56, height: 56 });
    for (let y = 0; y < 56; y++)
      for (let x = 0; x < 56; x++) {
        const v = 255 - raw[(y >> 1) * 28 + (x >> 1)];
        png.data.set([v, v, v, 255], 4 * (y * 56 + x));
      }
    const pngFile = path.join(dir, 'seven.png');
    fs.writeFileSync(pngFile, PNG.sync.write(png));
    const r = run(['predict', '--model-dir', modelDir, pngFile, path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Array<{ file: string; digit: number }>;
    expect(out).toHaveLength(1 + 10000);
    expect(out[0].digit).toBe(7);
    expect(out[1].digit).toBe(7);
  });

  it('eval on a missing model dir is one clear error', () => {
    const r = run(['eval', '--model-dir', path.join(dir, 'nope')]);
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('mnist-nets:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/model\.json.*not found/);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.js/);
  });

  it('eval refuses a model.json whose weight path leaves the folder: exit 2, one line naming model.json and the path', () => {
    // root/a/model/model.json pointing at root/secret/w.bin, a file that would load (the right size).
    const root = tmp();
    const copy = path.join(root, 'a', 'model');
    fs.cpSync(modelDir, copy, { recursive: true });
    const modelJson = path.join(copy, 'model.json');
    const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
    fs.mkdirSync(path.join(root, 'secret'));
    fs.copyFileSync(path.join(copy, json.weightsManifest[0].paths[0]), path.join(root, 'secret', 'w.bin'));
    json.weightsManifest[0].paths = ['../../secret/w.bin'];
    fs.writeFileSync(modelJson, JSON.stringify(json));
    const r = run(['eval', '--model-dir', copy, '--limit', '100']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('mnist-nets:'))).toEqual([
      `mnist-nets: ${modelJson}: weight path "../../secret/w.bin" leaves the model's folder`,
    ]);
  });

  it('a learning rate that makes the loss NaN stops training with an error naming the step', () => {
    const r = run(['train', '--model', 'prelu-mlp', '--steps', '60', '--limit', '1000', '--lr', '1e30']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/loss became (NaN|Infinity) at step \d+/);
  });

  it('--threads runs the threaded wasm backend and the process still exits', () => {
    const r = run(['train', '--model', 'cnn', '--steps', '2', '--limit', '200', '--backend', 'wasm', '--threads', '2', '--log-interval', '0', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'wasm (2 threads)', steps: 2 });
    const misplaced = run(['train', '--model', 'cnn', '--threads', '2']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/--threads: applies to --backend wasm only/);
  });

  it('bad flag values name the flag and exit 2, before any training', () => {
    const zero = run(['train', '--model', 'cnn', '--steps', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stdout).toBe('');
    expect(zero.stderr.trim()).toBe('mnist-nets: --steps: must be a positive integer, got 0');
    const both = run(['train', '--model', 'cnn', '--steps', '5', '--epochs', '1']);
    expect(both.code).toBe(2);
    expect(both.stdout).toBe('');
    expect(both.stderr).toMatch(/epochs and steps are mutually exclusive/);
  });
});

describe('Ctrl-C during train --save', () => {
  it('stops after the step in flight, saves the last completed state, exits 130', async () => {
    const dir = path.join(tmp(), 'model');
    const child = spawn(process.execPath, [CLI, 'train', '--model', 'two-layer-net', '--steps', '1000000', '--limit', '5000', '--save', dir, '--json'], {
      env: { ...process.env, ...mnistEnv() },
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        // Interrupt once a few epochs (checkpoints) are done.
        if (/epoch 3\/\d+ done/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(stderr).toMatch(/interrupted: finishing the current step and saving/);
    expect(code).toBe(130);
    const result = JSON.parse(stdout);
    expect(result.stopped).toBe('interrupted');
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(saved.userDefinedMetadata.mnistNets).toMatchObject({ stopped: 'aborted', steps: result.steps });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // And it loads and evaluates to what the run reported.
    const r = run(['eval', '--model-dir', dir, '--limit', '5000', '--json']);
    expect(JSON.parse(r.stdout).testAccuracy).toBe(result.testAccuracy);
  });
});

describe('bench', () => {
  it('writes report.md, results.json and SVG plots with a series per model', () => {
    const out = tmp();
    const r = run(['bench', '--models', 'two-layer-net,cnn', '--seeds', '1', '--steps', '4', '--limit', '300', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const bench = JSON.parse(r.stdout);
    expect(bench).toMatchObject({ trainExamples: 300, testExamples: 300, seeds: [1] });
    for (const m of bench.results) expect(r.stderr).toContain(`backend: ${m.backend}`);
    expect(bench.results.map((m: { model: string }) => m.model)).toEqual(['two-layer-net', 'cnn']);
    // Forward multiply-adds x 2, by hand: 784-50-10; conv 5x5x1x32 on 28x28, 5x5x32x64 on 14x14, 3136-1024-10.
    const flops: Record<string, number> = {
      'two-layer-net': 2 * (784 * 50 + 50 * 10),
      cnn: 2 * (25 * 32 * 784 + 25 * 32 * 64 * 196 + 3136 * 1024 + 1024 * 10),
    };
    for (const m of bench.results) {
      expect(m.params).toBe(RECIPE_PARAMS[m.model]);
      expect(m.flopsPerSample).toBe(flops[m.model]);
      const [s] = m.seeds;
      expect(s.steps).toBe(4);
      expect(s.epochs).toBeCloseTo((4 * m.batchSize) / 300, 12);
      expect(s.samplesPerSec).toBeCloseTo((4 * m.batchSize) / s.trainSeconds, 3);
      expect(s.inferenceSamplesPerSec).toBeGreaterThan(0);
      expect(s.epochSeconds).toBeGreaterThan(0);
      expect(Math.abs(s.testAccuracy * 300 - Math.round(s.testAccuracy * 300))).toBeLessThan(1e-6);
      expect(Number.isFinite(s.testLoss) && s.testLoss > 0).toBe(true);
      expect(m.peakRssBytes).toBeGreaterThan(50 * 2 ** 20);
      // At least the float32 weights were live.
      expect(m.peakTensorBytes).toBeGreaterThanOrEqual(4 * m.params);
    }
    const files = fs.readdirSync(out);
    expect(files).toEqual(
      expect.arrayContaining(['report.md', 'results.json', 'loss.svg', 'accuracy.svg', 'confusion-two-layer-net.svg', 'confusion-cnn.svg', 'digits-two-layer-net-wrong.svg', 'digits-cnn-wrong.svg']),
    );
    const loss = fs.readFileSync(path.join(out, 'loss.svg'), 'utf8');
    expect(loss).toContain('two-layer-net');
    expect(loss).toContain('cnn');
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(/\| two-layer-net \|/);
  });
});
