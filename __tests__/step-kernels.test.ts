/**
 * The conv step's own kernels (dropout, pool+ReLU gradient) are looked up once, when a step is
 * made: a step runs the kernels its backend had then, and none looked up per call. Stand-ins for
 * webgpu's kernels are registered on cpu, computing the composed arithmetic in float32, so the
 * kernel branch runs here too and gives the composed step's numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../lib/backends';
import { DROPOUT, POOL_RELU_GRAD } from '../lib/kernels/webgpu/names';
import { buildCnn } from '../lib/models/cnn';
import { SeededMathRandom } from '../lib/random';
import { createConvStep } from '../lib/training/conv-step';

/** What the stand-ins use of the cpu backend: its float32 data and new outputs. */
type CpuBackend = {
  readSync(id: tf.DataId): Float32Array;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
  disposeData(id: tf.DataId): void;
};

const calls = { [DROPOUT]: 0, [POOL_RELU_GRAD]: 0 };

/** Registers `compute` on cpu as kernel `name`, counting its calls. */
function standIn(name: keyof typeof calls, compute: (cpu: CpuBackend, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => tf.TensorInfo): void {
  tf.registerKernel({
    kernelName: name,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      calls[name]++;
      return compute(backend as unknown as CpuBackend, inputs, attrs ?? {});
    },
  });
}

function registerStandIns(): void {
  standIn(DROPOUT, (cpu, inputs, attrs) => {
    const x = cpu.readSync(inputs['x']!.dataId);
    const u = cpu.readSync(inputs['u']!.dataId);
    const keep = Math.fround(1 - (attrs['rate'] as number));
    const out = x.map((v, i) => Math.fround(v * Math.fround(Math.floor(Math.fround(u[i]! + keep)) / keep)));
    return cpu.makeTensorInfo(inputs['x']!.shape, 'float32', out);
  });
  standIn(POOL_RELU_GRAD, (cpu, inputs, attrs) => {
    const { relu, ...poolAttrs } = attrs as Record<string, unknown>;
    const maxPoolGrad = tf.getKernel(tf.MaxPoolGrad, 'cpu')!.kernelFunc;
    const dx = maxPoolGrad({ inputs, backend: cpu as unknown as tf.KernelBackend, attrs: poolAttrs as tf.NamedAttrMap }) as tf.TensorInfo;
    if (!relu) return dx;
    const input = cpu.readSync(inputs['input']!.dataId);
    const out = cpu.readSync(dx.dataId).map((v, i) => (input[i]! > 0 ? v : v * 0));
    cpu.disposeData(dx.dataId);
    return cpu.makeTensorInfo(inputs['input']!.shape, 'float32', out);
  });
}

function unregisterStandIns(): void {
  for (const name of [DROPOUT, POOL_RELU_GRAD]) if (tf.getKernel(name, 'cpu') != null) tf.unregisterKernel(name, 'cpu');
}

beforeAll(async () => {
  await useBackend('cpu');
});

afterEach(unregisterStandIns);

describe("the conv step's kernels, looked up when the step is made", () => {
  it('a step made without them keeps composing after they appear; one made with them runs them, with the same numbers', () => {
    const model = buildCnn({ seed: 2, filters: [4, 8], denseUnits: 32 });
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 5);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([1, 7, 3], 'int32'), 10).toFloat());
    const start = tf.memory().numTensors;
    const values = (step: ReturnType<typeof createConvStep>) => {
      if (!('run' in step)) throw new Error(step.reason);
      const out = new SeededMathRandom(7).run(() =>
        tf.tidy(() => {
          const r = step.run(x, y);
          return [r.loss, ...r.grads];
        }),
      );
      const v = out.map((t) => Array.from(t.dataSync()));
      tf.dispose(out);
      return v;
    };
    const composed = createConvStep(model, 'softmax-cross-entropy', vars, { anyBackend: true });
    const want = values(composed);
    registerStandIns();
    expect(values(composed)).toEqual(want);
    expect(calls).toEqual({ [DROPOUT]: 0, [POOL_RELU_GRAD]: 0 });
    const withKernels = createConvStep(model, 'softmax-cross-entropy', vars);
    expect(values(withKernels)).toEqual(want);
    // The dropout after the dense layer, forward and backward; the two pools' gradients.
    expect(calls).toEqual({ [DROPOUT]: 2, [POOL_RELU_GRAD]: 2 });
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose([x, y]);
    model.dispose();
  });
});
