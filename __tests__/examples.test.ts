import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeIdx } from '../lib/idx';
import { digitToPng } from '../lib/io/images';
import { FULL_MNIST, smallMnist } from './helpers/mnist';
import { BUILT_CLI, runNode } from './helpers/run-node';

/** Each example in its small mode, from the build (npm test builds first), so none rots. */
function runExample(name: string, args: string[]) {
  const file = path.resolve(__dirname, '../dist/examples', `${name}.js`);
  return runNode(file, args);
}

describe('examples (small modes)', () => {
  it('train-families trains an MLP, a TwoLayerNet and a CNN', () => {
    const r = runExample('train-families', ['--dry-run']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^MLP 784-128-64-10.*test accuracy/m);
    expect(r.stdout).toMatch(/^TwoLayerNet 784-50-10.*test accuracy/m);
    expect(r.stdout).toMatch(/^CNN conv32-conv64-fc1024: 3,274,634 params/m);
  });

  it('compare-mlp-cnn writes a report', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-example-'));
    const r = runExample('compare-mlp-cnn', ['--dry-run', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| two-layer-net \|/);
    expect(r.stdout).toMatch(/\| cnn +\|/);
    expect(fs.existsSync(path.join(out, 'report.md'))).toBe(true);
  });

  it('predict-image --dry-run predicts the first test digit from PNG and IDX alike, and leaves nothing in the temp folder', () => {
    const leftovers = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('predict-example-'));
    const before = leftovers();
    const r = runExample('predict-image', ['--dry-run']);
    expect(r.code).toBe(0);
    const label = /test digit \(label (\d)\)/.exec(r.stderr)?.[1];
    const png = /digit\.png: (\d) /.exec(r.stdout)?.[1];
    expect(png).toBeDefined();
    expect(/digit\.idx: (\d) /.exec(r.stdout)?.[1]).toBe(png);
    // MNIST's first test digit is a 7 (the npm sample's is another digit).
    if (FULL_MNIST) expect(label).toBe('7');
    expect(png).toBe(label);
    expect(leftovers()).toEqual(before);
  });

  it('predict-image as its header documents it: --model-dir DIR and image files, the same answers as `mnist-nets predict`', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-usage-'));
    const modelDir = path.join(dir, 'model-dir');
    const trained = runNode(BUILT_CLI, ['train', '--model', 'two-layer-net', '--steps', '200', '--limit', '2000', '--seed', '1', '--save', modelDir]);
    expect(trained.code).toBe(0);
    const data = await smallMnist('none');
    const png = path.join(dir, 'digit.png');
    const idx = path.join(dir, 'more-digits.idx');
    fs.writeFileSync(png, digitToPng(Uint8Array.from(data.test.images.subarray(0, 784))));
    fs.writeFileSync(idx, encodeIdx({ type: 'u8', dims: [2, 28, 28], data: Uint8Array.from(data.test.images.subarray(784, 3 * 784)) }));
    const r = runExample('predict-image', ['--model-dir', modelDir, png, idx]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cli = runNode(BUILT_CLI, ['predict', '--model-dir', modelDir, png, idx]);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(r.stdout).toBe(cli.stdout);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('train-cuda explains a missing CUDA backend and still runs its dry run', () => {
    const r = runExample('train-cuda', ['--dry-run']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout.trim());
    expect(result).toMatchObject({ model: 'cnn', steps: 3 });
    if (result.backend !== 'tensorflow') expect(r.stderr).toMatch(/CUDA backend unavailable: .*tfjs-node/);
    else expect(r.stderr).not.toMatch(/CUDA backend unavailable/);
  });
});
