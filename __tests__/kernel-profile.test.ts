/**
 * Counting kernel calls and GPU programs from tf.profile (lib/profiling/kernel-profile.ts): the
 * count the GPU rehearsal, the GPU command and the browser demo report as "GPU programs per step".
 * The webgpu side of it runs on a real adapter in webgpu-compute.test.ts and browser.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { profileSteps, programsOf, summarizeKernels } from '../lib/profiling/kernel-profile';
import { getPreset, recipeOptions } from '../lib/recipes';
import { train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';

describe('summarizeKernels', () => {
  test('counts the calls that ran a GPU program and every program dispatched, per kernel and in all', () => {
    const s = summarizeKernels([
      { name: 'Sum', bytesAdded: 4, kernelTimeMs: 1, extraInfo: 'TransposeProgram: 0.5, ReduceProgram: 0.5' },
      { name: 'Reshape', bytesAdded: 0, kernelTimeMs: 0, extraInfo: '' },
      { name: 'Add', bytesAdded: 4, kernelTimeMs: 2, extraInfo: 'BinaryOpProgram: 2' },
      { name: 'Identity', bytesAdded: 0, kernelTimeMs: 0 },
      { name: 'Add', bytesAdded: 4, kernelTimeMs: 1, extraInfo: 'BinaryOpProgram: 1' },
    ]);
    expect([s.calls, s.gpuCalls, s.dispatches, s.totalMs]).toEqual([5, 3, 4, 4]);
    expect(s.kernels.map((k) => [k.kernel, k.calls, k.gpuCalls, k.dispatches])).toEqual([
      ['Add', 2, 2, 2],
      ['Sum', 1, 1, 2],
      ['Identity', 1, 0, 0],
      ['Reshape', 1, 0, 0],
    ]);
    expect(s.kernels[1]!.programs).toEqual(['ReduceProgram', 'TransposeProgram']);
  });

  test('reads program names from extraInfo, whatever the times say', () => {
    expect(programsOf('Conv2DDerFilterProgram: 1.25, TransposeProgram: 0')).toEqual(['Conv2DDerFilterProgram', 'TransposeProgram']);
    expect(programsOf('MatMulPackedProgram: [object Promise]')).toEqual(['MatMulPackedProgram']);
    expect(programsOf('')).toEqual([]);
    expect(programsOf(undefined)).toEqual([]);
  });
});

describe('profileSteps on the cpu backend', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  test('a training run, per step: kernel calls counted, no GPU programs, no tensors left behind', async () => {
    const data = await smallMnist('unit', 500, 100);
    const preset = getPreset('two-layer-net');
    const model = preset.build({ seed: 1 });
    const before = tf.memory().numTensors;
    const options = (steps: number) => recipeOptions(preset, { steps, seed: 1, logInterval: 0, batchSize: 20 });
    const two = await profileSteps(2, () => train(model, data, options(2)));
    const four = await profileSteps(4, () => train(model, data, options(4)));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expect(two.backend).toBe('cpu');
    expect([two.steps, two.gpuCalls, two.dispatches, two.programsPerStep, two.dispatchesPerStep]).toEqual([2, 0, 0, 0, 0]);
    expect(two.kernelCallsPerStep).toBe(two.calls / 2);
    // Each step runs the same kernels; what a run does once is spread over its steps.
    const perStep = (four.calls - two.calls) / 2;
    expect(perStep).toBeGreaterThan(10);
    expect(Number.isInteger(perStep)).toBe(true);
    expect(two.calls - 2 * perStep).toBeGreaterThanOrEqual(0);
    expect(two.kernels.reduce((n, k) => n + k.calls, 0)).toBe(two.calls);
  });

  test('checks its step count', async () => {
    await expect(profileSteps(0, async () => undefined)).rejects.toThrow(/^steps: must be a positive integer, got 0/);
  });
});
