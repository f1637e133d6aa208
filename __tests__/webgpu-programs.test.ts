/**
 * GPU programs per training step on webgpu, counted by scripts/gpu/count-programs.ts (tf.profile):
 * with lib/kernels/webgpu at most 40 for the cnn and 12 for two-layer-net at their recipes'
 * batches (the issue's goal; without the kernels they are 158 and 32), no tensors left behind, the
 * GPU memory in use the same from round to round. And the script's pure parts.
 */
import * as path from 'path';
import { InvalidArgumentError } from '../lib/errors';
import { ProgramsRecord, markdownTables, parseList, recordProblems } from '../scripts/gpu/count-programs';
import { describeTitle, webgpuHere } from './helpers/webgpu';
import { REPO, built, inChild } from './helpers/webgpu-child';
import { runNode } from './helpers/run-node';

const here = webgpuHere();
if ('skip' in here) console.warn(`webgpu-programs: skipping, no WebGPU adapter on this machine: ${here.skip}`);

('skip' in here ? describe.skip : describe)(describeTitle('programs per training step', here), () => {
  let record: ProgramsRecord;
  let code: number | null;
  beforeAll(() => {
    if ('failure' in here) throw new Error(here.failure);
    const adapter = here.run && here.lavapipe ? 'lavapipe' : 'any';
    const r = runNode(path.join(REPO, 'dist/scripts/gpu/count-programs.js'), ['--json', '--steps', '1', '--rounds', '2', '--warmup', '1', '--adapter', adapter], {
      env: here.env,
      timeout: 600_000,
    });
    code = r.code;
    if (r.stdout.trim() === '') throw new Error(`count-programs printed nothing (exit ${r.code}): ${r.stderr.split('\n').slice(-20).join('\n')}`);
    record = JSON.parse(r.stdout) as ProgramsRecord;
  });

  test('at most 40 for the cnn and 12 for two-layer-net with the kernels; far more without', () => {
    const count = (preset: string, variant: string) => record.presets.find((p) => p.preset === preset)!.variants.find((v) => v.variant === variant)!;
    const cnn = count('cnn', 'after');
    const twoLayer = count('two-layer-net', 'after');
    expect([cnn.method, twoLayer.method]).toEqual(['conv', 'dense']);
    expect(cnn.dispatchesPerStep).toBeLessThanOrEqual(40);
    expect(twoLayer.dispatchesPerStep).toBeLessThanOrEqual(12);
    // Every dispatch belongs to a kernel call: a call counts once per program it runs.
    expect(cnn.programsPerStep).toBeLessThanOrEqual(cnn.dispatchesPerStep);
    expect(count('cnn', 'before').dispatchesPerStep).toBeGreaterThan(100);
    expect(count('two-layer-net', 'before').dispatchesPerStep).toBeGreaterThan(12);
    expect(record.presets.map((p) => p.batchSize)).toEqual([50, 100]);
  });

  test('no leaks: the script passes its own checks', () => {
    expect(recordProblems(record)).toEqual([]);
    expect(code).toBe(0);
  });

  test("as the GPU command's profile counts (train(), once-per-run work spread over 2 steps): the optimiser's slots cost no program", () => {
    // The rehearsal profiles `train` for a few steps, so what a run does once (creating Adam's
    // moments, stacking the losses to read them) is divided among them; zerosLike made each slot a program.
    const out = inChild<{ programs: number; dispatches: number; slotKernels: string[]; slotDispatches: number; leaked: number }>(
      `
      const lib = require(${built('lib/index.js')});
      const { createUpdateRule } = require(${built('lib/training/optimizers.js')});
      const { loadPresetData } = require(${built('lib/jobs/train-job.js')});
      await backends.useBackend('webgpu', { allowSoftwareWebGPU: true });
      const preset = lib.getPreset('cnn');
      const data = await loadPresetData(preset, { load: { dataDir: process.env.MNIST_DIR, download: false, log: () => {} }, limit: 200 });
      const before = tf.memory().numTensors;
      const model = preset.build({ seed: 1 });
      const vars = model.trainableWeights.map((w) => ({ variable: w.read(), isKernel: /kernel$/.test(w.originalName) }));
      let rule;
      const slots = await lib.profileSteps(1, async () => { rule = createUpdateRule(preset.recipe.optimizer, vars); });
      rule.dispose();
      const options = (steps) => lib.recipeOptions(preset, { steps, seed: 1, logInterval: 0, batchSize: 8 });
      await lib.train(model, data, options(1));
      const p = await lib.profileSteps(2, () => lib.train(model, data, options(2)));
      model.dispose();
      return { programs: p.programsPerStep, dispatches: p.dispatchesPerStep, slotKernels: slots.kernels.map((k) => k.kernel), slotDispatches: slots.dispatches, leaked: tf.memory().numTensors - before };
    `,
      here.env,
    );
    expect(out.slotDispatches).toBe(0);
    expect(out.slotKernels).not.toContain('ZerosLike');
    expect(out.dispatches).toBeLessThanOrEqual(32);
    expect(out.programs).toBeLessThanOrEqual(out.dispatches);
    expect(out.leaked).toBe(0);
  });
});

describe('count-programs, pure parts', () => {
  const variant = (over: Partial<ProgramsRecord['presets'][number]['variants'][number]>) => ({
    variant: 'after' as const,
    method: 'conv',
    programsPerStep: 22,
    dispatchesPerStep: 29,
    kernelCallsPerStep: 30,
    msPerStep: 2900,
    msPerStepRounds: [2900, 2910],
    cpuMsPerStep: 5000,
    cpuMsPerStepRounds: [5000, 5010],
    gpuBytesInUse: [100, 100],
    gpuBytesAllocated: [200, 300],
    tensorsLeaked: 0,
    kernels: [{ kernel: 'MnistNetsAdamTf1Update', callsPerStep: 1, dispatchesPerStep: 8, programs: ['AdamTf1UpdateProgram'], msPerStep: 3 }],
    ...over,
  });
  const record = (v: ReturnType<typeof variant>): ProgramsRecord => ({
    command: 'x',
    date: '2026-12-04T00:00:00.000Z',
    adapter: { device: 'llvmpipe', lavapipe: '25.0.7' },
    machine: { cpu: 'c', cores: 2, memoryBytes: 1, platform: 'linux x64', node: 'v20', tfjs: '4.22.0' },
    presets: [{ preset: 'cnn', batchSize: 50, steps: 1, rounds: 2, goal: 40, variants: [v] }],
  });

  test('recordProblems: goal (on dispatches), leaks, memory in use', () => {
    expect(recordProblems(record(variant({})))).toEqual([]);
    expect(recordProblems(record(variant({ dispatchesPerStep: 41 })))).toEqual(['cnn: 41 programs dispatched per step, the goal is at most 40']);
    expect(recordProblems(record(variant({ variant: 'before', dispatchesPerStep: 158 } as never)))).toEqual([]);
    expect(recordProblems(record(variant({ tensorsLeaked: 2 })))).toEqual(['cnn after: 2 tensors left behind by the timed steps']);
    expect(recordProblems(record(variant({ gpuBytesInUse: [100, 104] })))).toEqual(['cnn after: GPU memory in use changed over rounds: 100, 104 bytes']);
  });

  test('markdownTables: one row per preset and variant, then the kernels of the chosen variants', () => {
    const md = markdownTables(record(variant({})));
    expect(md).toMatch(/\| cnn +\| +50 \| after +\| conv +\| +29 \| +40 \| +22 \| +30 \| +2900 \| +5000 \|/);
    expect(md).toMatch(/\| MnistNetsAdamTf1Update \| +1 \| +8 \| AdamTf1UpdateProgram \| +3 \|/);
    expect(md).toContain('Mesa 25.0.7 lavapipe');
    expect(markdownTables(record(variant({})), ['before'])).not.toContain('AdamTf1UpdateProgram');
  });

  test('parseList: names, all, and a clear error', () => {
    expect(parseList('--variants', 'after', ['before', 'after'])).toEqual(['after']);
    expect(parseList('--variants', 'all', ['before', 'after'])).toEqual(['before', 'after']);
    expect(() => parseList('--variants', 'later', ['before', 'after'])).toThrow(InvalidArgumentError);
    expect(() => parseList('--variants', 'later', ['before', 'after'])).toThrow(/--variants.*expected some of before, after.*"later"/);
  });

  test('bad arguments exit 2 naming the flag', () => {
    const r = runNode(path.join(REPO, 'dist/scripts/gpu/count-programs.js'), ['--steps', '0', '--adapter', 'any']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--steps/);
  });
});
