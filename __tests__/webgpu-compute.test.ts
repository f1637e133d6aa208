/**
 * The webgpu backend's results against the cpu backend's, on whatever adapter Dawn gives here (on
 * this project's machines, Mesa's llvmpipe through OpenGL, allowed for testing). Each backend runs
 * in a child process on the built library: Dawn prints warnings from native code straight to its
 * process's stderr, which would land in the test output were it loaded in jest's worker.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..');
const BUILT = path.join(REPO, 'dist/lib/backends/index.js');

/** Runs `body` (JavaScript, async, with `tf` and the built `backends` in scope) in a child; its JSON result. */
function inChild(body: string): { result: unknown; stderr: string } {
  const script = `
    const tf = require('@tensorflow/tfjs');
    const backends = require(${JSON.stringify(BUILT)});
    (async () => { ${body} })().then(
      (result) => process.stdout.write(JSON.stringify({ result }), () => process.exit(0)),
      (e) => process.stdout.write(JSON.stringify({ error: String((e && e.message) || e) }), () => process.exit(0)),
    );`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 2 ** 20, timeout: 300_000, env: { ...process.env } });
  const parsed = JSON.parse(r.stdout || '{}') as { result?: unknown; error?: string };
  if (parsed.error !== undefined || r.status !== 0) throw new Error(`child failed (${r.status}): ${parsed.error ?? r.stderr}`);
  return { result: parsed.result, stderr: r.stderr };
}

/** Whether Dawn offers an adapter at all (software allowed), decided before the tests are defined. */
function adapterHere(): { found: boolean; reason: string } {
  if (!fs.existsSync(BUILT)) return { found: false, reason: `${BUILT} is missing: run \`npm run build\`` };
  try {
    const { result } = inChild(`const p = await require(${JSON.stringify(path.join(REPO, 'dist/lib/backends/webgpu.js'))}).probeWebGPU({ allowSoftware: true }); return p.status;`);
    const status = result as { available: boolean; reason: string };
    return { found: status.available, reason: status.reason };
  } catch (err) {
    return { found: false, reason: (err as Error).message.split('\n')[0]! };
  }
}

const adapter = adapterHere();
if (!adapter.found) console.log(`skipping the WebGPU-vs-cpu comparison: ${adapter.reason}`);

/** The products compared: a dense layer's matMul, two convolutions and a convolution's input gradient. */
const COMPUTE = `
  const outputs = tf.tidy(() => {
    const a = tf.randomUniform([64, 784], -1, 1, 'float32', 1);
    const w = tf.randomUniform([784, 100], -0.1, 0.1, 'float32', 2);
    const images = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 3);
    const filters = tf.randomNormal([5, 5, 1, 16], 0, 0.2, 'float32', 4);
    const features = tf.randomNormal([8, 14, 14, 16], 0, 1, 'float32', 5);
    const filters2 = tf.randomNormal([5, 5, 16, 32], 0, 0.1, 'float32', 6);
    return [
      tf.matMul(a, w),
      tf.conv2d(images, filters, 1, 'same'),
      tf.conv2d(features, filters2, 1, 'valid'),
      tf.grad((x) => tf.conv2d(x, filters, 1, 'same').square().sum())(images),
    ];
  });
  const values = await Promise.all(outputs.map((t) => t.data()));
  tf.dispose(outputs);
  return { backend: tf.getBackend(), tensors: tf.memory().numTensors, values: values.map((v) => Array.from(v)) };
`;

(adapter.found ? describe : describe.skip)(`webgpu on this machine's adapter (${adapter.reason})`, () => {
  test('matMul and conv2d (forward and input gradient) agree with the cpu backend', () => {
    type Out = { backend: string; tensors: number; values: number[][] };
    const cpu = inChild(`await backends.useBackend('cpu'); ${COMPUTE}`).result as Out;
    const gpu = inChild(`await backends.useBackend('webgpu', { allowSoftwareWebGPU: true }); ${COMPUTE}`);
    const webgpu = gpu.result as Out;
    expect([cpu.backend, webgpu.backend]).toEqual(['cpu', 'webgpu']);
    // Only the variables tf.js keeps for itself remain: the same count on both backends.
    expect(webgpu.tensors).toBe(cpu.tensors);
    expect(webgpu.values.map((v) => v.length)).toEqual([64 * 100, 8 * 28 * 28 * 16, 8 * 10 * 10 * 32, 8 * 28 * 28]);
    webgpu.values.forEach((values, i) => {
      const expected = cpu.values[i]!;
      expect(values.length).toBe(expected.length);
      let worst = 0;
      for (let k = 0; k < values.length; k++) worst = Math.max(worst, Math.abs(values[k]! - expected[k]!) / (1 + Math.abs(expected[k]!)));
      expect(worst).toBeLessThan(1e-4);
    });
  });
});
