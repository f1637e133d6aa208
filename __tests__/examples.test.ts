import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runNode } from './helpers/run-node';

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

  it('predict-image predicts the test digit 7 from PNG and IDX', () => {
    const r = runExample('predict-image', ['--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/digit\.png: 7 /);
    expect(r.stdout).toMatch(/digit\.idx: 7 /);
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
