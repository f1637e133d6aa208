/**
 * Child process for checkpoint-crash.test.ts (plain JavaScript on the build, so it runs without ts-jest): simulates a process killed at every point of a
 * checkpoint save. For crash point N, the Nth call into fs.promises during saveCheckpoint never
 * returns (nothing after it runs: no cleanup, no rename, as after SIGKILL), and the folder is
 * copied as it stands then. The copies are checked by the parent once this process has exited,
 * so the temporary files in them belong to a process that no longer runs.
 *
 * argv: <built dist dir> <work dir> <mode: "update" | "first">
 */
const fs = require('fs');
const path = require('path');
const [distDir, work, mode] = process.argv.slice(2);
const tf = require('@tensorflow/tfjs');
const { saveCheckpoint } = require(path.join(distDir, 'lib/io/checkpoint.js'));
const { train } = require(path.join(distDir, 'lib/training/train.js'));
const { PRESETS, recipeOptions } = require(path.join(distDir, 'lib/recipes'));

const fsp = fs.promises;
const names = Object.keys(fsp).filter((k) => typeof fsp[k] === 'function' && k !== 'constants');
const real = Object.fromEntries(names.map((k) => [k, fsp[k]]));
let armed = 0;
let calls = 0;
for (const k of names) {
  fsp[k] = function (...args) {
    if (armed && ++calls === armed) return new Promise(() => undefined);
    return real[k].apply(this, args);
  };
}

async function main() {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const n = 200;
  const split = () => ({
    images: Float32Array.from({ length: n * 784 }, (_, i) => ((i * 7919) % 255) / 255),
    labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
    count: n,
  });
  const data = { train: split(), test: split() };
  const preset = PRESETS['two-layer-net'];
  const model = preset.build({ seed: 1 });
  const states = [];
  const options = { ...recipeOptions(preset, { steps: 3, seed: 1 }), logInterval: 0, onCheckpoint: (s, { final }) => final && states.push(s) };
  await train(model, data, options);
  const before = states[0];
  await train(model, data, { ...options, steps: 5, resume: before });
  const after = states[1];
  const meta = (s) => ({ normalization: 'unit', layout: 'flat', loss: 'cross-entropy', hyperparameters: {}, savedStep: s.step });

  const base = path.join(work, 'base');
  fs.mkdirSync(base, { recursive: true });
  if (mode === 'update') await saveCheckpoint(path.join(base, 'ckpt'), model, meta(before), before);
  const points = [];
  for (let point = 1; ; point++) {
    const run = path.join(work, `crash-${point}`);
    fs.cpSync(base, run, { recursive: true });
    calls = 0;
    armed = point;
    let finished = false;
    const save = saveCheckpoint(path.join(run, 'ckpt'), model, meta(after), after).then(() => (finished = true));
    // The save runs until it reaches the frozen call (or ends): give it time to get there.
    for (let i = 0; i < 200 && !finished && calls < point; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    armed = 0;
    if (finished) {
      fs.rmSync(run, { recursive: true, force: true });
      break;
    }
    fs.cpSync(run, path.join(work, `snapshot-${point}`), { recursive: true });
    fs.rmSync(run, { recursive: true, force: true });
    points.push(point);
    void save;
  }
  // A complete checkpoint of the later state, for the parent to save into folders a crash left empty-handed.
  await saveCheckpoint(path.join(work, 'reference'), model, meta(after), after);
  process.stdout.write(JSON.stringify({ points, before: before.step, after: after.step }));
  process.exit(0);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
