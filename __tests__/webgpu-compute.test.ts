/**
 * The webgpu backend's results against the cpu backend's, on Mesa's lavapipe when
 * scripts/gpu/lavapipe.sh has provisioned it (CI does: a core WebGPU adapter through Vulkan, the
 * path a GPU takes), else on whatever adapter Dawn gives here (helpers/webgpu.ts). Each backend
 * runs in a child process on the built library: Dawn prints warnings from native code straight to
 * its process's stderr, which would land in the test output were it loaded in jest's worker.
 *
 * Only a machine without an adapter skips (the title says why); a probe that crashes fails.
 */
import { describeTitle, webgpuHere } from './helpers/webgpu';
import { built, inChild as runInChild } from './helpers/webgpu-child';

const here = webgpuHere();
if ('skip' in here) console.warn(`webgpu-compute: skipping, no WebGPU adapter on this machine: ${here.skip}`);

function inChild<T>(body: string): T {
  return runInChild<T>(body, here.env);
}

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

('skip' in here ? describe.skip : describe)(describeTitle('webgpu', here), () => {
  test('Dawn answered the probe with an adapter (a crashed or failed probe is a failure, never a skip)', () => {
    expect('failure' in here ? here.failure : undefined).toBeUndefined();
    expect(here.run).toBe(true);
  });

  test('matMul and conv2d (forward and input gradient) agree with the cpu backend', () => {
    type Out = { backend: string; tensors: number; values: number[][] };
    const cpu = inChild<Out>(`await backends.useBackend('cpu'); ${COMPUTE}`);
    const webgpu = inChild<Out>(`await backends.useBackend('webgpu', { allowSoftwareWebGPU: true }); ${COMPUTE}`);
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

/** Two two-layer-net steps under tf.profile after one unprofiled (lib/profiling), per kernel. */
const PROFILE = `
  const lib = require(${built('lib/index.js')});
  const { loadPresetData } = require(${built('lib/jobs/train-job.js')});
  const preset = lib.getPreset('two-layer-net');
  const data = await loadPresetData(preset, { load: { dataDir: process.env.MNIST_DIR, download: false, log: () => {} }, limit: 500 });
  const before = tf.memory().numTensors;
  const model = preset.build({ seed: 1 });
  const options = (steps) => lib.recipeOptions(preset, { steps, seed: 1, logInterval: 0, batchSize: 20 });
  await lib.train(model, data, options(1));
  const p = await lib.profileSteps(2, () => lib.train(model, data, options(2)));
  model.dispose();
  return { backend: p.backend, leaked: tf.memory().numTensors - before, programsPerStep: p.programsPerStep, dispatchesPerStep: p.dispatchesPerStep, kernelCallsPerStep: p.kernelCallsPerStep,
    kernels: p.kernels.map((k) => ({ kernel: k.kernel, calls: k.calls, gpuCalls: k.gpuCalls, dispatches: k.dispatches })) };
`;

('skip' in here ? describe.skip : describe)(describeTitle('GPU programs per step (lib/profiling)', here), () => {
  test('on webgpu every computing kernel call runs a program, a reshape none; on cpu nothing does', () => {
    type Out = { backend: string; leaked: number; programsPerStep: number; dispatchesPerStep: number; kernelCallsPerStep: number; kernels: Array<{ kernel: string; calls: number; gpuCalls: number; dispatches: number }> };
    const gpu = inChild<Out>(`await backends.useBackend('webgpu', { allowSoftwareWebGPU: true }); ${PROFILE}`);
    const cpu = inChild<Out>(`await backends.useBackend('cpu'); ${PROFILE}`);
    expect([gpu.backend, cpu.backend]).toEqual(['webgpu', 'cpu']);
    expect([gpu.leaked, cpu.leaked]).toEqual([0, 0]);
    const byName = new Map(gpu.kernels.map((k) => [k.kernel, k]));
    expect(byName.get('Reshape')).toMatchObject({ gpuCalls: 0, dispatches: 0 });
    // The loss with its gradient and the SGD update are single kernels on webgpu (lib/kernels/webgpu).
    for (const name of ['_FusedMatMul', 'BatchMatMul', 'MnistNetsDenseLossGrad', 'MnistNetsSgdUpdate']) {
      const k = byName.get(name);
      expect(k).toBeDefined();
      expect(k!.gpuCalls).toBe(k!.calls);
    }
    expect(gpu.programsPerStep).toBe(gpu.kernels.reduce((n, k) => n + k.gpuCalls, 0) / 2);
    expect(gpu.programsPerStep).toBeGreaterThan(0);
    expect(gpu.programsPerStep).toBeLessThan(gpu.kernelCallsPerStep);
    expect(gpu.dispatchesPerStep).toBeGreaterThanOrEqual(gpu.programsPerStep);
    expect([cpu.programsPerStep, cpu.dispatchesPerStep]).toEqual([0, 0]);
    expect(cpu.kernelCallsPerStep).toBeGreaterThan(0);
  });
});
