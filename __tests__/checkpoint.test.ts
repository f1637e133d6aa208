import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../lib/backends';
import { InvalidArgumentError, ModelIOError } from '../lib/errors';
import { loadCheckpoint, saveCheckpoint } from '../lib/io/checkpoint';
import { saveModel } from '../lib/io/model-io';
import { runTrainJob } from '../lib/jobs/train-job';
import { PRESETS, recipeOptions } from '../lib/recipes';
import { TrainOptions, TrainState, train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';
import { BUILT_CLI, mnistEnv } from './helpers/run-node';

beforeAll(async () => {
  await useBackend('wasm');
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-checkpoint-'));

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

/** A small net with dropout (so the tape path, and tf.js's dropout seeds, are exercised). */
function dropoutNet(): tf.Sequential {
  const init = (seed: number) => tf.initializers.randomNormal({ stddev: 0.05, seed });
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 32, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10, kernelInitializer: init(2) }),
    ],
  });
}

/**
 * Trains `steps` steps in one go, and again stopping after `stopAt` steps, saving a checkpoint,
 * loading it and resuming to `steps`; returns both runs' weights and loss histories.
 */
async function interruptedAndWhole(build: () => tf.LayersModel, options: TrainOptions, stopAt: number) {
  const data = await smallMnist();
  const start = tf.memory().numTensors;
  const whole = build();
  const a = await train(whole, data, options);
  const wholeWeights = weightsOf(whole);
  whole.dispose();

  const dir = tmp();
  const first = build();
  const controller = new AbortController();
  let saved: TrainState | undefined;
  const b1 = await train(first, data, {
    ...options,
    signal: controller.signal,
    onBatchEnd: ({ step }) => {
      if (step === stopAt - 1) controller.abort();
    },
    onCheckpoint: (state, { final }) => {
      if (final) saved = state;
    },
  });
  expect(b1.stopped).toBe('aborted');
  expect(saved!.step).toBe(stopAt);
  await saveCheckpoint(dir, first, { normalization: 'unit', layout: 'flat', loss: options.loss, hyperparameters: {} }, saved!);
  first.dispose();

  const checkpoint = await loadCheckpoint(dir);
  const b2 = await train(checkpoint.model, data, { ...options, resume: checkpoint.state });
  expect(b2.resumedFrom).toBe(stopAt);
  expect(b2.steps).toBe(a.steps);
  const resumedWeights = weightsOf(checkpoint.model);
  checkpoint.model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  expect(tf.memory().numTensors).toBe(start);
  return { whole: { weights: wholeWeights, loss: a.history.loss, epochs: a.history.epochs }, resumed: { weights: resumedWeights, loss: b2.history.loss, epochs: b2.history.epochs } };
}

describe('an interrupted and resumed run gives the result of an uninterrupted one', () => {
  it('mlp (SGD, shuffled epochs; stopped mid-epoch, resumed across an epoch boundary)', async () => {
    const preset = PRESETS['mlp'];
    // 300 training images, batch 100: 3 steps per epoch; 8 steps cross two epoch ends.
    const options = { ...recipeOptions(preset, { steps: 8, seed: 4, limit: 300 }), logInterval: 0 };
    const { whole, resumed } = await interruptedAndWhole(() => preset.build({ seed: 4 }), options, 4);
    expect(resumed.loss).toEqual(whole.loss);
    expect(resumed.epochs.map((e) => [e.epoch, e.step, e.meanLoss])).toEqual(whole.epochs.map((e) => [e.epoch, e.step, e.meanLoss]));
    expect(resumed.weights).toEqual(whole.weights);
  });

  it("TF1 Adam with dropout (the tape's step; Adam's moments and step count, dropout's generator)", async () => {
    const options: TrainOptions = {
      loss: 'softmax-cross-entropy',
      optimizer: { kind: 'adam', learningRate: 1e-3 },
      batchSize: 16,
      sampling: 'shuffle',
      steps: 10,
      seed: 9,
      trainLimit: 100,
    };
    const { whole, resumed } = await interruptedAndWhole(dropoutNet, options, 3);
    expect(resumed.loss).toEqual(whole.loss);
    expect(resumed.weights).toEqual(whole.weights);
  });

  it("tanh-mlp's momentum with the inv policy, sampled in order with wrap-around", async () => {
    const preset = PRESETS['tanh-mlp'];
    const options = { ...recipeOptions(preset, { steps: 7, seed: 2, limit: 250 }), logInterval: 0 };
    const { whole, resumed } = await interruptedAndWhole(() => preset.build({ seed: 2 }), options, 5);
    expect(resumed.loss).toEqual(whole.loss);
    expect(resumed.weights).toEqual(whole.weights);
  });
});

describe('runTrainJob with a save folder', () => {
  it('checkpoints at epoch ends and on abort; resume continues to the same result', async () => {
    const data = await smallMnist();
    const job = { preset: 'two-layer-net', data, steps: 45, limit: 1000, seed: 3, logInterval: 0 };
    const whole = await runTrainJob(job);
    const wholeWeights = weightsOf(whole.model);
    whole.model.dispose();

    const dir = tmp();
    const controller = new AbortController();
    const stepsAtSave: number[] = [];
    const first = await runTrainJob({
      ...job,
      saveDir: dir,
      signal: controller.signal,
      onEval: undefined,
      // 1000 images, batch 100: an epoch every 10 steps; stop after 23.
      onBatchEnd: ({ step }) => {
        if (step === 22) controller.abort();
      },
    });
    first.model.dispose();
    expect(first.result.stopped).toBe('aborted');
    stepsAtSave.push((await loadCheckpoint(dir).then((c) => (c.model.dispose(), c.state.step))) as number);
    expect(stepsAtSave).toEqual([23]);
    // One checkpoint's files, the earlier epochs' removed.
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('train-state.')).length).toBe(2);
    // One weights file, which a loader finding weights by their .bin extension takes.
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.bin'))).toEqual([expect.stringMatching(/^weights\./)]);

    const resumed = await runTrainJob({ preset: 'two-layer-net', data, saveDir: dir, resume: true });
    expect(resumed.result).toMatchObject({ resumedFrom: 23, steps: 45, seed: 3, stopped: 'completed', gradients: 'dense' });
    expect(weightsOf(resumed.model)).toEqual(wholeWeights);
    expect(resumed.result.history.loss).toEqual(whole.result.history.loss);
    resumed.model.dispose();
    const final = await loadCheckpoint(dir);
    expect(final.state.step).toBe(45);
    expect(final.metadata.testAccuracy).toBe(resumed.result.testAccuracy);
    final.model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes a loadable checkpoint at each epoch end', async () => {
    const data = await smallMnist();
    const dir = tmp();
    const seen: number[] = [];
    const { model } = await runTrainJob({
      preset: 'two-layer-net',
      data,
      steps: 25,
      limit: 1000,
      seed: 1,
      logInterval: 0,
      saveDir: dir,
      progress: {
        update: () => undefined,
        log: (line) => {
          // Logged before the epoch's checkpoint is written: the previous epoch's is on disk.
          if (/^epoch \d+\/\d+ done/.test(line) && fs.existsSync(path.join(dir, 'model.json'))) {
            const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
            seen.push(json.userDefinedMetadata.mnistNets.checkpointStep as number);
          }
        },
        done: () => undefined,
      },
    });
    model.dispose();
    expect(seen).toEqual([10, 20]);
    const c = await loadCheckpoint(dir);
    expect(c.state.step).toBe(25);
    c.model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to resume what it cannot continue, naming the folder or option', async () => {
    const data = await smallMnist();
    const dir = tmp();
    const { model } = await runTrainJob({ preset: 'two-layer-net', data, steps: 3, limit: 200, seed: 1, logInterval: 0, saveDir: dir });
    model.dispose();
    await expect(runTrainJob({ preset: 'mlp', data, saveDir: dir, resume: true })).rejects.toThrow(/model: .* holds a checkpoint of 'two-layer-net', not 'mlp'/);
    await expect(runTrainJob({ preset: 'two-layer-net', data, saveDir: dir, resume: true, seed: 2 })).rejects.toThrow(/seed: .* of a run with seed 1, not 2/);
    await expect(runTrainJob({ preset: 'two-layer-net', data, saveDir: dir, resume: true, batchSize: 7 })).rejects.toThrow(
      /batchSize: the checkpoint being resumed was trained with the recipe's batchSize, not 7/,
    );
    await expect(runTrainJob({ preset: 'two-layer-net', data, resume: true })).rejects.toThrow(InvalidArgumentError);
    // A longer run from the same checkpoint is allowed.
    const more = await runTrainJob({ preset: 'two-layer-net', data, saveDir: dir, resume: true, steps: 5 });
    expect(more.result).toMatchObject({ resumedFrom: 3, steps: 5 });
    more.model.dispose();

    // A model saved without training state, and a damaged state file.
    const plain = tmp();
    const m = PRESETS['two-layer-net'].build({ seed: 1 });
    await saveModel(m, plain, { normalization: 'unit', layout: 'flat', loss: 'cross-entropy', hyperparameters: {} });
    m.dispose();
    await expect(loadCheckpoint(plain)).rejects.toThrow(/no training state to resume from/);
    const bin = fs.readdirSync(dir).find((f) => /^train-state\..*\.data$/.test(f))!;
    fs.writeFileSync(path.join(dir, bin), Buffer.alloc(12));
    await expect(loadCheckpoint(dir)).rejects.toThrow(ModelIOError);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/holds 12 bytes, .* describes \d+: the checkpoint is corrupt/);
    const json = fs.readdirSync(dir).find((f) => /^train-state\..*\.json$/.test(f))!;
    fs.writeFileSync(path.join(dir, json), '{"format": 99}');
    await expect(loadCheckpoint(dir)).rejects.toThrow(/not a training state this version reads: format 99/);
    await expect(loadCheckpoint(path.join(dir, 'missing'))).rejects.toThrow(ModelIOError);
    for (const d of [dir, plain]) fs.rmSync(d, { recursive: true, force: true });
  });
});

describe('mnist-nets train --save DIR --resume', () => {
  const CLI = BUILT_CLI;

  it('Ctrl-C saves a checkpoint and exits 130; --resume finishes the run from it', async () => {
    const dir = tmp();
    const args = ['train', '--model', 'two-layer-net', '--steps', '1500', '--limit', '1000', '--seed', '5', '--log-interval', '0', '--save', dir];
    const { spawn, spawnSync } = await import('child_process');
    const env = { ...process.env, ...mnistEnv() };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // Interrupt once a few epochs (10 steps each) are done.
        if (/epoch 3\/\d+ done/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: finishing the current step and saving/);
    const saved = await loadCheckpoint(dir);
    saved.model.dispose();
    expect(saved.state.step).toBeGreaterThanOrEqual(30);
    expect(saved.state.step).toBeLessThan(1500);

    const r = spawnSync(process.execPath, [CLI, 'train', '--model', 'two-layer-net', '--save', dir, '--resume', '--json'], { encoding: 'utf8', timeout: 240_000, env });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ steps: 1500, resumedFrom: saved.state.step, seed: 5, stopped: 'completed' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
