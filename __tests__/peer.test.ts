import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MNIST_DIR } from './helpers/mnist-dir';
import { withMnist } from './helpers/needs-mnist';
import { RECIPE_PARAMS } from './helpers/expected';
import { allOf, skipUnless } from './helpers/skips';

/**
 * The PyTorch/NumPy peer script (scripts/peers/torch_recipes.py) on real MNIST, a few steps per
 * recipe. It needs Debian's python3-torch for /usr/bin/python3 (PEER_PYTHON overrides the
 * interpreter); without it the suite is skipped and says why.
 */
const PYTHON = process.env.PEER_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.resolve(__dirname, '../scripts/peers/torch_recipes.py');

const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 60_000 });
const torch = skipUnless(
  probe.status === 0,
  `${PYTHON} cannot import torch and numpy (${probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`)}): apt-get install python3-torch`,
);

function peer(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], {
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
    env: { ...process.env, MNIST_DIR, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface CurvePoint {
  step: number;
  loss: number;
}
interface PeerResult {
  recipe: string;
  impl: string;
  device: string;
  seed: number;
  steps: number;
  planned_steps: number;
  stopped: string;
  batch_size: number;
  epoch_size: number;
  warmup_steps: number;
  samples_per_sec: number;
  seconds_per_epoch: number;
  train_seconds: number;
  wall_seconds: number;
  test_accuracy: number;
  test_loss: number;
  test_count: number;
  params: number;
  loss_curve: CurvePoint[];
  evals: Array<{ step: number; test_accuracy: number }>;
}
interface PeerOutput {
  tool: string;
  environment: Record<string, unknown>;
  results: PeerResult[];
}

/**
 * Runs the peer with --json and parses stdout, which must hold the JSON document alone. One
 * thread: jest runs other suites beside this one, and two OpenMP threads on two busy cores stall.
 */
function peerJson(args: string[]): PeerOutput {
  const r = peer([...args, '--threads', '1', '--json']);
  if (r.code !== 0) throw new Error(`peer exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as PeerOutput;
}

function expectSaneRun(r: PeerResult, recipe: string, impl: string, steps: number, batchSize: number): void {
  expect(r).toMatchObject({ recipe, impl, device: 'cpu', seed: 1, steps, planned_steps: steps, stopped: 'completed', batch_size: batchSize });
  expect(r.samples_per_sec).toBeGreaterThan(0);
  expect(r.seconds_per_epoch).toBeCloseTo(r.epoch_size / r.samples_per_sec, 6);
  expect(r.train_seconds).toBeGreaterThan(0);
  expect(r.wall_seconds).toBeGreaterThanOrEqual(r.train_seconds);
  expect(Number.isFinite(r.test_loss)).toBe(true);
  expect(r.params).toBe(RECIPE_PARAMS[recipe]);
  expect(r.loss_curve[r.loss_curve.length - 1].step).toBe(steps);
  // Training works: the last window's mean loss is below the first's.
  expect(r.loss_curve[r.loss_curve.length - 1].loss).toBeLessThan(r.loss_curve[0].loss);
}

allOf(torch, withMnist('the peer reads the folder of the official .gz files')).describe('PyTorch peer (scripts/peers/torch_recipes.py)', () => {
  it('trains two-layer-net in torch on cpu to 70%+ in 1,000 steps, reporting speed, accuracy and the environment', () => {
    // From its 0.01-scaled start at lr 0.1 the net is slow to leave chance (2.23 after 250 steps),
    // then learns fast: about 80% on 2,000 test images after 1,000 steps.
    const out = peerJson(['--recipe', 'two-layer-net', '--steps', '1000', '--limit', '2000', '--seed', '1', '--curve-interval', '250', '--eval-interval', '250']);
    expect(out.tool).toBe('torch_recipes.py');
    const env = out.environment;
    expect(env).toMatchObject({ device: 'cpu', cuda: null });
    for (const key of ['python', 'torch', 'numpy', 'device_name', 'os']) expect(typeof env[key]).toBe('string');
    expect(env.cores).toBeGreaterThanOrEqual(1);
    expect(env.threads).toBe(1);
    expect(Array.isArray(env.blas_libraries)).toBe(true);
    const [r] = out.results;
    expectSaneRun(r, 'two-layer-net', 'torch', 1000, 100);
    expect(r.warmup_steps).toBe(5);
    expect(r.epoch_size).toBe(2000);
    expect(r.test_count).toBe(2000);
    expect(r.loss_curve.map((p) => p.step)).toEqual([250, 500, 750, 1000]);
    expect(r.evals.map((e) => e.step)).toEqual([0, 250, 500, 750]);
    // At chance at step 0, then better at every evaluation, then past 70% at the end.
    expect(r.evals[0].test_accuracy).toBeLessThan(0.2);
    for (let i = 1; i < r.evals.length; i++) expect(r.evals[i].test_accuracy).toBeGreaterThan(r.evals[i - 1].test_accuracy);
    expect(r.test_accuracy).toBeGreaterThan(0.7);
  });

  it('trains the cnn in torch (dropout, Adam) to 45%+ on 500 test images in 30 steps', () => {
    // Its truncated-normal start gives large logits: the loss falls fast (about 8 -> 4 from step 10 to 30).
    const out = peerJson(['--recipe', 'cnn', '--steps', '30', '--limit', '500', '--seed', '1', '--warmup', '2', '--curve-interval', '10']);
    const [r] = out.results;
    expectSaneRun(r, 'cnn', 'torch', 30, 50);
    expect(r.warmup_steps).toBe(2);
    expect(r.test_count).toBe(500);
    expect(r.test_accuracy).toBeGreaterThan(0.45);
  });

  it('runs source 004 two-layer-net in NumPy with the same fields, to 75%+ in 1,000 steps', () => {
    const out = peerJson(['--impl', 'numpy', '--recipe', 'two-layer-net', '--steps', '1000', '--seed', '1', '--curve-interval', '250']);
    expect(out.environment.torch).toBeNull();
    const [r] = out.results;
    expectSaneRun(r, 'two-layer-net', 'numpy', 1000, 100);
    expect(r.test_count).toBe(10000);
    expect(r.epoch_size).toBe(60000);
    expect(r.test_accuracy).toBeGreaterThan(0.75);
  });

  it('builds all seven presets with the exact parameter counts and trains each a step', () => {
    const out = peerJson(['--recipe', 'all', '--steps', '1', '--limit', '100', '--seed', '1']);
    expect(Object.fromEntries(out.results.map((r) => [r.recipe, r.params]))).toEqual(RECIPE_PARAMS);
    const prelu = out.results.find((r) => r.recipe === 'prelu-mlp') as PeerResult;
    expect(prelu.batch_size).toBe(64);
  });

  it('a bad flag exits 2 with one line and nothing on stdout', () => {
    for (const args of [['--bogus'], ['--steps', '0'], ['--recipe', 'lenet'], ['--impl', 'numpy', '--recipe', 'cnn']]) {
      const r = peer(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^torch_recipes\.py: error: .*(--bogus|--steps|lenet|numpy)/);
    }
  });

  it('a missing or malformed MNIST file exits 2 with one line naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peer-mnist-'));
    try {
      const images = 'train-images-idx3-ubyte.gz';
      fs.symlinkSync(path.join(MNIST_DIR, images), path.join(dir, images));
      const missing = peer(['--data-dir', dir, '--steps', '1']);
      expect(missing.code).toBe(2);
      expect(missing.stdout).toBe('');
      expect(missing.stderr.trim().split('\n')).toEqual([
        `torch_recipes.py: error: ${path.join(dir, 'train-labels-idx1-ubyte.gz')}: MNIST file not found (nor train-labels-idx1-ubyte uncompressed)`,
      ]);
      // Labels with an image file's magic number.
      fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 3, 0, 0, 0xea, 0x60]));
      const bad = peer(['--data-dir', dir, '--steps', '1']);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toContain(`${path.join(dir, 'train-labels-idx1-ubyte')}: magic number 2051, expected 2049`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
