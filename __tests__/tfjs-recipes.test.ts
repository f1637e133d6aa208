/**
 * The recipes inside tf.js's own training: recipeOptimizer() and recipeLoss() in
 * model.compile/model.fit follow train()'s losses step for step, serialise as tf.js's optimisers
 * do, and a model saved with its optimiser trains on where it stopped.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '../lib/backends';
import { oneHotRows } from '../lib/datasets/onehot';
import { PRESETS, PresetId, recipeLoss, recipeOptimizer, recipeOptions } from '../lib/recipes';
import { CaffeMomentumOptimizer, RecipeSgdOptimizer, Tf1AdamOptimizer, optimizerFromConfig } from '../lib/training/recipe-optimizers';
import { OptimizerConfig, createUpdateRule } from '../lib/training/optimizers';
import { train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';

beforeAll(async () => {
  await useBackend('wasm');
});

/** The first `count` examples of the preset's data as fit() takes them, in order. */
async function fitData(id: PresetId, count: number): Promise<{ xs: tf.Tensor; ys: tf.Tensor; data: Awaited<ReturnType<typeof smallMnist>> }> {
  const preset = PRESETS[id];
  const data = await smallMnist(preset.recipe.normalization);
  const shape = preset.layout === 'image' ? [count, 28, 28, 1] : [count, 784];
  const xs = tf.tensor(data.train.images.subarray(0, count * 784), shape);
  const ys = tf.tensor2d(oneHotRows(data.train.labels.subarray(0, count), 10, preset.recipe.targets), [count, 10]);
  return { xs, ys, data };
}

/** Per-step losses of `fit` over `xs` in order, one epoch. */
async function fitLosses(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor, batchSize: number, epochs = 1): Promise<number[]> {
  const losses: number[] = [];
  await model.fit(xs, ys, { batchSize, epochs, shuffle: false, verbose: 0, callbacks: { onBatchEnd: async (_, logs) => void losses.push(logs!.loss as number) } });
  return losses;
}

function expectClose(got: number[], want: number[], relative: number): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(want[i]!))));
}

describe('recipeOptimizer + recipeLoss in model.fit follow train()', () => {
  // Every preset without dropout (fit draws its own dropout masks); the cnn is trained below.
  const cases: Array<[PresetId, string, number]> = [
    ['two-layer-net', 'RecipeSGD', 12],
    ['mlp', 'RecipeSGD', 12],
    ['mse-mlp', 'RecipeSGD', 40],
    ['prelu-mlp', 'RecipeSGD', 12],
    ['tanh-mlp', 'CaffeMomentum', 12],
    ['deep-mlp', 'Tf1Adam', 8],
  ];
  it.each(cases)('%s (%s): the same loss at every step, same seed and batches', async (id, className, steps) => {
    const preset = PRESETS[id];
    const batch = preset.recipe.batchSize;
    const { xs, ys, data } = await fitData(id, steps * batch);
    const start = tf.memory().numTensors;

    const ours = preset.build({ seed: 1 });
    const result = await train(ours, data, { ...recipeOptions(preset, { steps, seed: 1 }), sampling: 'ordered', logInterval: 0 });

    const theirs = preset.build({ seed: 1 });
    const optimizer = recipeOptimizer(preset);
    expect(optimizer.getClassName()).toBe(className);
    expect(optimizer).toBeInstanceOf(tf.Optimizer);
    theirs.compile({ optimizer, loss: recipeLoss(preset) });
    const losses = await fitLosses(theirs, xs, ys, batch);

    expectClose(losses, result.history.loss, 1e-5);
    // And the weights they end with.
    const [a, b] = [ours.getWeights(), theirs.getWeights()];
    a.forEach((w, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(w, b[i]!))).dataSync()[0])).toBeLessThan(1e-3));
    ours.dispose();
    theirs.dispose();
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose([xs, ys]);
  });

  it('cnn: compile + fit trains the preset (Tf1Adam, softmax cross-entropy)', async () => {
    const preset = PRESETS.cnn;
    const { xs, ys } = await fitData('cnn', 20 * 50);
    const model = preset.build({ seed: 1 });
    model.compile({ optimizer: recipeOptimizer(preset, { learningRate: 1e-3 }), loss: recipeLoss(preset), metrics: ['accuracy'] });
    const losses = await fitLosses(model, xs, ys, 50);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) * 0.7);
    model.dispose();
    tf.dispose([xs, ys]);
  });
});

describe('the recipe optimisers as tf.js optimisers', () => {
  const configs: OptimizerConfig[] = [
    { kind: 'momentum', learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, policy: { kind: 'inv', gamma: 0.1, power: 0.75 } },
    { kind: 'adam', learningRate: 1e-3 },
    { kind: 'sgd', learningRate: 0.5 },
  ];
  it.each(configs)('$kind: updates exactly as the train() rule does (one arithmetic), weight decay on kernels only', (config) => {
    // Gradients of the order of epsilon, where TF1's Adam and tf.train.adam part ways.
    const scale = config.kind === 'adam' ? 1e-8 : 1;
    const gradients = (step: number) => [tf.tensor2d([[0.1 * step, -0.2], [0.3, 0.05]]).mul(scale), tf.tensor1d([0.5, -0.25 * step]).mul(scale)];
    const make = (suffix: string) => ({
      kernel: tf.tidy(() => tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]), true, `layer${suffix}/kernel`)),
      bias: tf.tidy(() => tf.variable(tf.tensor1d([0.25, -1]), true, `layer${suffix}/bias`)),
    });
    const start = tf.memory().numTensors;
    const [a, b] = [make('A'), make('B')];
    const rule = createUpdateRule(config, [{ variable: a.kernel, isKernel: true }, { variable: a.bias, isKernel: false }]);
    const optimizer = optimizerFromConfig(config);
    for (let step = 0; step < 4; step++) {
      tf.tidy(() => {
        const g = gradients(step);
        rule.apply(g, step);
        optimizer.applyGradients({ [b.kernel.name]: g[0]!, [b.bias.name]: g[1]! });
      });
    }
    const want = [a.kernel.dataSync().slice(), a.bias.dataSync().slice()];
    expect(Array.from(b.kernel.dataSync())).toEqual(Array.from(want[0]!));
    expect(Array.from(b.bias.dataSync())).toEqual(Array.from(want[1]!));
    expect(optimizer.iterations).toBe(4);
    rule.dispose();
    optimizer.dispose();
    tf.dispose([a, b].flatMap((v) => [v.kernel, v.bias]));
    expect(tf.memory().numTensors).toBe(start);

    // tf.js's own optimiser of the same name differs: Adam places epsilon elsewhere, momentum has no policy or decay.
    const theirs = config.kind === 'adam' ? tf.train.adam(config.learningRate) : config.kind === 'momentum' ? tf.train.momentum(config.learningRate, config.momentum) : tf.train.sgd(config.learningRate);
    const c = make('C');
    for (let step = 0; step < 4; step++) tf.tidy(() => theirs.applyGradients(gradients(step).map((tensor, i) => ({ name: [c.kernel, c.bias][i]!.name, tensor }))));
    const differs = Array.from(c.kernel.dataSync()).some((x, i) => Math.abs(x - want[0]![i]!) > 1e-6);
    expect(differs).toBe(config.kind !== 'sgd');
    theirs.dispose();
    tf.dispose([c.kernel, c.bias]);
  });

  it('serialise: getConfig/fromConfig through tf.serialization, as tf.js registers its own', () => {
    const classes = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const [id, cls] of [['cnn', Tf1AdamOptimizer], ['tanh-mlp', CaffeMomentumOptimizer], ['two-layer-net', RecipeSgdOptimizer]] as const) {
      const optimizer = recipeOptimizer(id);
      const [ctor, fromConfig] = classes[optimizer.getClassName()]!;
      expect(ctor).toBe(cls);
      const copy = fromConfig(ctor, optimizer.getConfig()) as Tf1AdamOptimizer;
      expect(copy.getConfig()).toEqual(optimizer.getConfig());
      expect(copy.config).toEqual({ ...PRESETS[id].recipe.optimizer, ...(id === 'cnn' ? { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } : {}) });
      optimizer.dispose();
      copy.dispose();
    }
  });

  it("a model saved through tf.js's own includeOptimizer comes back with the optimiser and its state, and trains on", async () => {
    const preset = PRESETS['tanh-mlp'];
    const { xs, ys } = await fitData('tanh-mlp', 600);
    // tf.js serialises only string losses: compile with tf.js's categorical cross-entropy on softmax outputs.
    const build = () => {
      const m = tf.sequential({ layers: [tf.layers.dense({ units: 32, activation: 'tanh', inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }), tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })] });
      m.compile({ optimizer: recipeOptimizer(preset), loss: 'categoricalCrossentropy' });
      return m;
    };
    const straight = build();
    const all = await fitLosses(straight, xs, ys, 100, 2);

    const first = build();
    await fitLosses(first, xs, ys, 100, 1);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await first.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })), { includeOptimizer: true });
    expect((artifacts!.trainingConfig as unknown as { optimizer_config: { class_name: string } }).optimizer_config.class_name).toBe('CaffeMomentum');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(loaded.optimizer).toBeInstanceOf(CaffeMomentumOptimizer);
    expect(loaded.optimizer.iterations).toBe(6);
    const rest = await fitLosses(loaded, xs, ys, 100, 1);
    expectClose(rest, all.slice(6), 1e-5);
    for (const m of [straight, first, loaded]) {
      m.optimizer.dispose();
      m.dispose();
    }
    tf.dispose([xs, ys]);
  });
});
