/**
 * The progress line shows the latest loss, read back without waiting for the device: on wasm
 * (which computes synchronously) the loss of the very step the line reports; where a backend
 * answers later, an older value, named with its step. Before, it showed the last synced window's
 * loss, up to 50 steps old, unnamed.
 */
import { useBackend } from '../lib/backends';
import { PRESETS, recipeOptions } from '../lib/recipes';
import { ProgressState, formatProgress } from '../lib/training/progress';
import { train } from '../lib/training/train';
import { smallMnist } from './helpers/mnist';

beforeAll(async () => {
  await useBackend('wasm');
});

it('each progress update on wasm carries the loss of the step it reports', async () => {
  const data = await smallMnist();
  const preset = PRESETS['two-layer-net'];
  const model = preset.build({ seed: 2 });
  const states: ProgressState[] = [];
  // A turn after every step: every update is due, so each must carry its own step's loss.
  const r = await train(model, data, {
    ...recipeOptions(preset, { steps: 120, seed: 2 }),
    logInterval: 0,
    yieldIntervalMs: 0,
    progress: { update: (s) => states.push(s), log: () => undefined, done: () => undefined },
  });
  model.dispose();
  expect(states.map((s) => s.step)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  for (const s of states) {
    expect(s.lossStep).toBeUndefined();
    expect(s.loss).toBe(r.history.loss[s.step - 1]);
  }
  expect(formatProgress(states[60]!)).toMatch(new RegExp(`step 61/120 loss ${r.history.loss[60]!.toFixed(4)} `));
});

it('with the default interval the last update is the last step, with its loss', async () => {
  const data = await smallMnist();
  const preset = PRESETS['two-layer-net'];
  const model = preset.build({ seed: 2 });
  const states: ProgressState[] = [];
  const r = await train(model, data, { ...recipeOptions(preset, { steps: 300, seed: 2 }), logInterval: 0, progress: { update: (s) => states.push(s), log: () => undefined, done: () => undefined } });
  model.dispose();
  expect(states.at(-1)).toMatchObject({ step: 300, loss: r.history.loss[299] });
  for (const s of states) if (s.lossStep === undefined) expect(s.loss).toBe(r.history.loss[s.step - 1]);
});

it('an older loss is shown with the step it belongs to', () => {
  const state: ProgressState = { epoch: 1, epochs: 2, step: 130, steps: 200, loss: 0.4321, lossStep: 127, elapsedSeconds: 3 };
  expect(formatProgress(state)).toMatch(/step 130\/200 loss 0\.4321 \(step 127\) /);
  expect(formatProgress({ ...state, lossStep: undefined })).toMatch(/step 130\/200 loss 0\.4321 elapsed/);
});
