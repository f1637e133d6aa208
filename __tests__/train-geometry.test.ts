/**
 * The batch geometry tf.js callbacks are told (batch index within the epoch, batch `size`) comes
 * from train()'s sampler: a shuffled epoch's last batch holds what is left, as in fit.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '../lib/backends';
import { PRESETS, recipeOptions } from '../lib/recipes';
import { BatchSampler, SAMPLINGS } from '../lib/training/sampler';
import { train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('BatchSampler.batchSizeAt', () => {
  it('is the length of the batch next() returns, step after step, for every sampling', () => {
    for (const sampling of SAMPLINGS) {
      const sampler = new BatchSampler(95, 20, sampling, 3);
      for (let step = 0; step < 17; step++) expect([sampling, step, sampler.batchSizeAt(step)]).toEqual([sampling, step, sampler.next().length]);
    }
  });
});

describe('callbacks told the sampler geometry', () => {
  it('batch indices restart each epoch and a shuffled epoch ends with a short batch, in onBatchBegin and onBatchEnd alike', async () => {
    const d = await smallMnist('unit', 2000, 500);
    const preset = PRESETS['two-layer-net'];
    const start = tf.memory().numTensors;
    const model = preset.build({ seed: 1 });
    const seen: string[] = [];
    const begin: Array<[number, number]> = [];
    const end: Array<[number, number]> = [];
    const params: Array<Record<string, unknown>> = [];
    await train(model, { train: d.train }, {
      ...recipeOptions(preset, { steps: 12, seed: 1 }),
      sampling: 'shuffle',
      batchSize: 100,
      trainLimit: 950,
      logInterval: 0,
      callbacks: {
        onTrainBegin: async () => void seen.push('trainBegin'),
        onBatchBegin: async (batch, logs) => void begin.push([batch, logs!['size'] as number]),
        onBatchEnd: async (batch, logs) => void end.push([batch, logs!['size'] as number]),
      },
      onEpochBegin: (info) => void params.push({ epoch: info.epoch, stepsPerEpoch: info.stepsPerEpoch }),
    });
    const want: Array<[number, number]> = [...Array.from({ length: 10 }, (_, i): [number, number] => [i, i === 9 ? 50 : 100]), [0, 100], [1, 100]];
    expect(begin).toEqual(want);
    expect(end).toEqual(want);
    expect(seen).toEqual(['trainBegin']);
    expect(params).toEqual([{ epoch: 1, stepsPerEpoch: 10 }, { epoch: 2, stepsPerEpoch: 10 }]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
