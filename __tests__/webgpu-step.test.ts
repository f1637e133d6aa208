/**
 * Whole training steps on webgpu (with lib/kernels/webgpu: fused updates, the dense step's fused
 * gradients, the conv step) against the same steps on wasm, same seed, same batches of real MNIST:
 * the loss of each of 20 steps within 1e-4 relative, for every optimiser kind (SGD, momentum with
 * the inv policy and weight decay, TF1 Adam) and the steps they run under (dense, conv). No tensors
 * left behind, and no GPU memory growth from step to step. Small batches: lavapipe is slow.
 */
import { describeTitle, webgpuHere } from './helpers/webgpu';
import { built, inChild } from './helpers/webgpu-child';

const STEPS = 20;
const TOLERANCE = 1e-4;
const here = webgpuHere();
if ('skip' in here) console.warn(`webgpu-step: skipping, no WebGPU adapter on this machine: ${here.skip}`);

interface Config {
  name: string;
  preset: string;
  batch: number;
  /** Instead of the recipe's. */
  optimizer?: Record<string, unknown>;
}

const CONFIGS: Config[] = [
  { name: 'two-layer-net, SGD, cross-entropy on softmax', preset: 'two-layer-net', batch: 20 },
  { name: 'two-layer-net, TF1 Adam', preset: 'two-layer-net', batch: 20, optimizer: { kind: 'adam', learningRate: 0.01 } },
  { name: 'tanh-mlp, momentum with the inv policy and weight decay', preset: 'tanh-mlp', batch: 20 },
  { name: 'prelu-mlp, one shared PReLU slope', preset: 'prelu-mlp', batch: 16 },
  { name: 'mse-mlp, quadratic on sigmoid, no biases', preset: 'mse-mlp', batch: 4 },
  { name: 'cnn, TF1 Adam, dropout', preset: 'cnn', batch: 6 },
];

interface Trace {
  method: string;
  losses: number[];
  leaked: number;
  /** GPU bytes held by live tensors, and by the buffer pool, after step 5 and after the last step. */
  inUse: number[];
  allocated: number[];
}

const RUN = `
  const lib = require(${built('lib/index.js')});
  const { loadPresetData } = require(${built('lib/jobs/train-job.js')});
  const { BatchMaker, modelInputShape } = require(${built('lib/training/batches.js')});
  const { BatchSampler } = require(${built('lib/training/sampler.js')});
  const { createStepRunner } = require(${built('lib/training/train.js')});
  await backends.useBackend('wasm');
  await backends.useBackend('webgpu', { allowSoftwareWebGPU: true });
  const out = {};
  for (const config of ${JSON.stringify(CONFIGS)}) {
    const preset = lib.getPreset(config.preset);
    const data = await loadPresetData(preset, { load: { dataDir: process.env.MNIST_DIR, download: false, log: () => {} }, limit: 300 });
    out[config.name] = {};
    for (const backend of ['webgpu', 'wasm']) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const model = preset.build({ seed: 1 });
      const batches = new BatchMaker(data.train, modelInputShape(model), 10, preset.recipe.targets);
      const sampler = new BatchSampler(batches.count, config.batch, 'replacement', 1);
      const runner = createStepRunner(model, batches, { loss: preset.recipe.loss, optimizer: config.optimizer ?? preset.recipe.optimizer }, 1);
      const trace = { method: runner.method, losses: [], inUse: [], allocated: [] };
      for (let step = 0; step < ${STEPS}; step++) {
        const loss = runner.run(sampler.next(), step);
        trace.losses.push((await loss.data())[0]);
        loss.dispose();
        if (step === 4 || step === ${STEPS} - 1) {
          const m = tf.memory();
          trace.inUse.push(m.numBytesInGPU ?? 0);
          trace.allocated.push(m.numBytesAllocatedInGPU ?? 0);
        }
      }
      runner.dispose();
      model.dispose();
      trace.leaked = tf.memory().numTensors - before;
      out[config.name][backend] = trace;
    }
  }
  return out;
`;

('skip' in here ? describe.skip : describe)(describeTitle(`${STEPS} training steps on webgpu against wasm`, here), () => {
  let runs: Record<string, { webgpu: Trace; wasm: Trace }>;
  beforeAll(() => {
    if ('failure' in here) throw new Error(here.failure);
    runs = inChild(RUN, here.env, 600_000);
  });

  test.each(CONFIGS.map((c) => [c.name, c] as const))('%s', (_name, config) => {
    const { webgpu, wasm } = runs[config.name]!;
    expect(webgpu.method).toBe(config.preset === 'cnn' ? 'conv' : 'dense');
    expect(wasm.method).toBe(config.preset === 'cnn' ? 'tape' : 'dense');
    expect(webgpu.losses).toHaveLength(STEPS);
    const worst = Math.max(...webgpu.losses.map((l, i) => Math.abs(l - wasm.losses[i]!) / Math.abs(wasm.losses[i]!)));
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
    // The runs learn (the comparison is not of two constant sequences).
    expect(new Set(wasm.losses).size).toBeGreaterThan(STEPS / 2);
    expect([webgpu.leaked, wasm.leaked]).toEqual([0, 0]);
    // Memory in use and the buffer pool the same after step 5 and after step 20.
    expect(webgpu.inUse[1]).toBe(webgpu.inUse[0]);
    expect(webgpu.allocated[1]).toBe(webgpu.allocated[0]);
  });
});
