/**
 * Each of lib/kernels/webgpu's kernels on the webgpu backend against the cpu backend (the same
 * kernel where cpu has one: lib/kernels' JavaScript versions of the updates and dense gradients,
 * tf.js's Conv2DBackpropFilter and Sum; else tf.js's own ops: dropout, MaxPoolGrad and the ReLU
 * gradient): largest difference over
 * the largest reference value at most 1e-5, on random shapes and the presets' real ones. Runs on
 * lavapipe where scripts/gpu/lavapipe.sh provisioned it (helpers/webgpu.ts; CI requires it); both
 * backends in one child process, which compares and returns only the errors.
 */
import { describeTitle, webgpuHere } from './helpers/webgpu';
import { built, inChild } from './helpers/webgpu-child';

const TOLERANCE = 1e-5;
const here = webgpuHere();
if ('skip' in here) console.warn(`webgpu-kernels: skipping, no WebGPU adapter on this machine: ${here.skip}`);

interface CaseResult {
  name: string;
  /** Per output: largest |webgpu - cpu| over largest |cpu|. */
  errors: number[];
  shapes: [number[], number[]][];
  /** Whether each reference output has a non-zero value (a comparison of zeros proves nothing). */
  nonzero: boolean[];
}

interface Run {
  installed: string[];
  results: CaseResult[];
  leaked: number;
}

/**
 * The cases, as JavaScript for the child: each names a kernel (or a `gpu` function using tf.js ops
 * that reach the replaced kernel), its inputs as plain arrays, and the cpu reference (the same
 * kernel on cpu, or `ref` in tf.js ops).
 */
const CASES = `
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const size = (shape) => shape.reduce((a, b) => a * b, 1);
  const fill = (shape, f) => ({ shape, values: Array.from({ length: size(shape) }, f) });
  const uniform = (shape, lo = -1, hi = 1) => fill(shape, () => lo + (hi - lo) * rnd());
  const gauss = (shape, sd = 1) => fill(shape, () => sd * normal());
  const positive = (shape) => fill(shape, () => 0.01 + rnd());
  const oneHot = (rows, n) => fill([rows, n], (_, i) => (i % n === (Math.floor(i / n) * 7) % n ? 1 : 0));
  const cases = [];
  const update = (kernel, shapes, groups, attrs) => {
    const inputs = {};
    for (const [prefix, make] of Object.entries(groups)) shapes.forEach((shape, i) => (inputs[prefix + i] = make(shape)));
    cases.push({ name: kernel + ' ' + JSON.stringify(shapes), kernel, inputs, attrs: { count: shapes.length, ...attrs } });
  };
  const twoLayer = [[784, 50], [50], [50, 10], [10]];
  const tanhMlp = [[784, 50], [50], [50, 50], [50], [50, 10], [10]];
  const cnn = [[5, 5, 1, 32], [32], [5, 5, 32, 64], [64], [3136, 1024], [1024], [1024, 10], [10]];
  // Large steps, so that the new weights differ from the old ones far above float32 rounding.
  update('MnistNetsSgdUpdate', twoLayer, { x: uniform, g: uniform }, { learningRate: 0.5 });
  update('MnistNetsSgdUpdate', [[3], [7, 5], [1]], { x: uniform, g: uniform }, { learningRate: 3 });
  update('MnistNetsMomentumUpdate', tanhMlp, { x: uniform, g: uniform, v: uniform }, { learningRate: 0.3, momentum: 0.9, decay: [0.1, 0, 0.1, 0, 0.1, 0] });
  update('MnistNetsAdamTf1Update', cnn, { x: uniform, g: uniform, m: uniform, v: positive }, { lrT: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
  update('MnistNetsAdamTf1Update', [[13], [2, 3, 5]], { x: uniform, g: uniform, m: uniform, v: positive }, { lrT: 0.3, beta1: 0.5, beta2: 0.75, epsilon: 1e-3 });

  const lossCases = [
    ['softmax-cross-entropy', 'linear', [50, 10], oneHot],
    ['softmax-cross-entropy', 'linear', [300, 10], oneHot],
    ['softmax-cross-entropy', 'linear', [1, 10], oneHot],
    ['cross-entropy', 'softmax', [100, 10], oneHot],
    ['cross-entropy', 'sigmoid', [17, 3], oneHot],
    ['quadratic', 'sigmoid', [100, 10], (r, n) => fill([r, n], (_, i) => (i % n === (Math.floor(i / n) * 3) % n ? 0.99 : 0.01))],
    ['quadratic', 'softmax', [16, 10], oneHot],
    ['quadratic', 'tanh', [9, 4], (r, n) => uniform([r, n])],
    ['quadratic', 'relu', [9, 4], (r, n) => uniform([r, n])],
    ['quadratic', 'linear', [5, 10], (r, n) => uniform([r, n])],
  ];
  for (const [loss, activation, [rows, n], targets] of lossCases) {
    for (const bias of [true, false]) {
      cases.push({ name: 'MnistNetsDenseLossGrad ' + loss + ' ' + activation + ' bias ' + bias + ' ' + rows + 'x' + n, kernel: 'MnistNetsDenseLossGrad',
        inputs: { z: gauss([rows, n], 2), t: targets(rows, n) }, attrs: { loss, activation, bias, epsilon: 1e-7 } });
    }
  }
  const act = { linear: (v) => v, sigmoid: (v) => 1 / (1 + Math.exp(-v)), tanh: Math.tanh, relu: (v) => Math.max(0, v) };
  for (const [activation, shape] of [['sigmoid', [100, 50]], ['relu', [50, 1024]], ['tanh', [64, 256]], ['linear', [3, 7]], ['relu', [1, 300]]]) {
    const z = gauss(shape);
    cases.push({ name: 'MnistNetsDenseActivationGrad ' + activation + ' ' + shape, kernel: 'MnistNetsDenseActivationGrad',
      inputs: { dOut: gauss(shape), y: { shape, values: z.values.map(act[activation]) } }, attrs: { activation, bias: true } });
  }
  cases.push({ name: 'MnistNetsDenseActivationGrad sigmoid without bias', kernel: 'MnistNetsDenseActivationGrad',
    inputs: { dOut: gauss([8, 5]), y: positive([8, 5]) }, attrs: { activation: 'sigmoid', bias: false } });
  for (const [shape, slopes, bias] of [[[64, 256], [1], true], [[3, 300], [1], false], [[16, 24], [24], true]]) {
    cases.push({ name: 'MnistNetsDenseActivationGrad prelu ' + shape + ' slopes ' + slopes + ' bias ' + bias, kernel: 'MnistNetsDenseActivationGrad',
      inputs: { dOut: gauss(shape), z: gauss(shape), alpha: uniform(slopes, 0.1, 0.3) }, attrs: { activation: 'prelu', bias } });
  }

  for (const [shape, rate] of [[[50, 1024], 0.5], [[7, 13], 0.25]]) {
    cases.push({ name: 'MnistNetsDropout ' + shape + ' rate ' + rate, kernel: 'MnistNetsDropout', inputs: { x: gauss(shape), u: uniform(shape, 0, 1) }, attrs: { rate },
      ref: (t, a) => [tf.mul(t.x, tf.div(tf.floor(tf.add(t.u, 1 - a.rate)), 1 - a.rate))] });
  }

  const relu = (shape) => fill(shape, () => Math.max(0, normal()));
  // Quarters: many exact ties among positive values, where the first maximum of a window wins.
  const ties = (shape) => fill(shape, () => Math.max(0, Math.round(2 * normal()) / 4));
  const poolCases = [
    ['cnn pool1', [50, 28, 28, 32], [2, 2], [2, 2], 'same', true, relu],
    ['cnn pool2', [50, 14, 14, 64], [2, 2], [2, 2], 'same', true, relu],
    ['ties', [2, 8, 8, 3], [2, 2], [2, 2], 'same', true, ties],
    ['overlapping 3x3/2, odd size', [3, 7, 7, 5], [3, 3], [2, 2], 'same', false, gauss],
    ['2x2/1 valid', [2, 9, 8, 3], [2, 2], [1, 1], 'valid', false, gauss],
    ['3x3/3 valid, relu', [1, 5, 5, 2], [3, 3], [3, 3], 'valid', true, relu],
  ];
  for (const [label, shape, filterSize, strides, pad, withRelu, make] of poolCases) {
    const input = make(shape);
    const dyShape = tf.backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad).outShape;
    cases.push({ name: 'MnistNetsMaxPoolReluGrad ' + label + ' ' + shape, kernel: 'MnistNetsMaxPoolReluGrad',
      inputs: { dy: gauss(dyShape), input },
      withOutput: (t) => tf.maxPool(t.input, filterSize, strides, pad),
      attrs: { filterSize, strides, pad, dimRoundingMode: undefined, relu: withRelu },
      ref: (t, a) => {
        const dx = tf.engine().runKernel('MaxPoolGrad', { dy: t.dy, input: t.input, output: t.output }, a);
        return [a.relu ? tf.mul(dx, tf.step(t.input)) : dx];
      } });
  }

  for (const [shape, axis, keepDims] of [[[50, 28, 28, 32], [0, 1, 2], false], [[50, 1024], 0, false], [[300, 7], [0], false], [[4, 5, 6], [1, 0], true], [[4, 5, 6], 1, false], [[4, 5, 6], undefined, false], [[6, 4], -1, false]]) {
    cases.push({ name: 'Sum ' + shape + ' axis ' + JSON.stringify(axis) + (keepDims ? ' keepDims' : ''), inputs: { x: gauss(shape) },
      gpu: (t) => [tf.sum(t.x, axis, keepDims)] });
  }
  const filterCases = [
    ['cnn conv1', [50, 28, 28, 1], [5, 5, 1, 32], 1, 'same'],
    // The real per-image shape; batch 4 keeps the cpu reference (a plain loop) to seconds.
    ['cnn conv2', [4, 14, 14, 32], [5, 5, 32, 64], 1, 'same'],
    ['stride 2, valid, odd sizes', [3, 11, 9, 5], [3, 3, 5, 7], 2, 'valid'],
    ['1x1, 33 channels, one slice (no second program)', [2, 4, 4, 40], [1, 1, 40, 33], 1, 'same'],
  ];
  for (const [label, xShape, filterShape, stride, pad] of filterCases) {
    const dyShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, stride, 1, pad).outShape;
    cases.push({ name: 'Conv2DBackpropFilter ' + label, kernel: 'Conv2DBackpropFilter', inputs: { x: gauss(xShape), dy: gauss(dyShape) },
      attrs: { strides: [stride, stride], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape } });
  }
  return cases;
`;

const RUN = `
  require(${built('lib/kernels/update-kernels.js')}).registerUpdateKernels();
  require(${built('lib/kernels/dense-grad.js')}).registerDenseGradKernels();
  const { installedWebGPUTrainingKernels } = require(${built('lib/kernels/webgpu/index.js')});
  await backends.useBackend('webgpu', { allowSoftwareWebGPU: true });
  const installed = installedWebGPUTrainingKernels();
  const cases = (() => { ${CASES} })();
  const tensors = (c) => {
    const t = {};
    for (const [k, v] of Object.entries(c.inputs)) t[k] = tf.tensor(v.values, v.shape, 'float32');
    if (c.withOutput) t.output = c.withOutput(t);
    return t;
  };
  const outputs = (c, t, reference) => {
    if (c.gpu) return c.gpu(t);
    if (reference && c.ref) return c.ref(t, c.attrs);
    const out = tf.engine().runKernel(c.kernel, t, c.attrs);
    return Array.isArray(out) ? out : [out];
  };
  const run = async (c, reference) => {
    const t = tensors(c);
    const out = outputs(c, t, reference);
    const values = await Promise.all(out.map((o) => o.data()));
    const shapes = out.map((o) => o.shape);
    tf.dispose([...Object.values(t), ...out]);
    return { values, shapes };
  };
  const results = [];
  const start = tf.memory().numTensors;
  const gpu = [];
  for (const c of cases) gpu.push(await run(c, false));
  const leaked = tf.memory().numTensors - start;
  await tf.setBackend('cpu');
  cases.forEach(() => undefined);
  for (const [i, c] of cases.entries()) {
    const cpu = await run(c, true);
    const errors = cpu.values.map((ref, k) => {
      const got = gpu[i].values[k];
      if (!got || got.length !== ref.length) return Infinity;
      let diff = 0, scale = 0;
      for (let j = 0; j < ref.length; j++) { diff = Math.max(diff, Math.abs(got[j] - ref[j])); scale = Math.max(scale, Math.abs(ref[j])); }
      return diff / Math.max(scale, 1e-30);
    });
    results.push({ name: c.name, errors, shapes: cpu.shapes.map((sh, k) => [gpu[i].shapes[k], sh]), nonzero: cpu.values.map((v) => v.some((x) => x !== 0)) });
  }
  return { installed, results, leaked };
`;

('skip' in here ? describe.skip : describe)(describeTitle('lib/kernels/webgpu against the cpu backend', here), () => {
  let run: Run;
  beforeAll(() => {
    if ('failure' in here) throw new Error(here.failure);
    run = inChild<Run>(RUN, here.env, 600_000);
  });

  test('selecting webgpu installs every kernel', () => {
    expect(run.installed.sort()).toEqual(
      [
        'Conv2DBackpropFilter',
        'MnistNetsAdamTf1Update',
        'MnistNetsDenseActivationGrad',
        'MnistNetsDenseLossGrad',
        'MnistNetsDropout',
        'MnistNetsMaxPoolReluGrad',
        'MnistNetsMomentumUpdate',
        'MnistNetsSgdUpdate',
        'Sum',
      ].sort(),
    );
  });

  test('no tensors left on the webgpu backend', () => {
    expect(run.leaked).toBe(0);
  });

  test('every output within 1e-5 of the cpu backend, in its shape, not all zero', () => {
    expect(run.results.length).toBeGreaterThan(40);
    const bad: string[] = [];
    for (const r of run.results) {
      r.errors.forEach((e, k) => {
        const [got, want] = r.shapes[k]!;
        if (!(e <= TOLERANCE)) bad.push(`${r.name}, output ${k}: relative error ${e}`);
        if (got.join() !== want.join()) bad.push(`${r.name}, output ${k}: shape [${got}], expected [${want}]`);
        if (!r.nonzero[k]) bad.push(`${r.name}, output ${k}: the reference is all zeros`);
      });
    }
    expect(bad).toEqual([]);
  });
});
