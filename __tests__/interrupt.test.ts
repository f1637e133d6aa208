/**
 * Ctrl-C and SIGTERM stop `mnist-nets train` after the step in flight, at a random step in the
 * middle of a long epoch (the loop gives the event loop a turn every 50 ms; before, a signal
 * was only seen during an epoch-end save, and without --save not at all). With --save the
 * checkpoint is written at once and --resume then ends exactly where an uninterrupted run ends.
 * Runs on whatever MNIST the CLI finds (the full set, or the npm sample offline).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUILT_CLI, mnistEnv, runNode } from './helpers/run-node';
import { parseModelJson, recordedMetadata } from '../lib/io/model-format';

/** The library's metadata in `dir`'s model.json, wherever the format keeps it. */
function savedMetadata(dir: string): { checkpointStep?: number; stopped?: string; steps?: number } {
  const file = path.join(dir, 'model.json');
  return (recordedMetadata(parseModelJson(fs.readFileSync(file, 'utf8'), file), file) ?? {}) as { checkpointStep?: number; stopped?: string; steps?: number };
}

/** 8,000 examples a batch at a time: 8,000 steps an epoch, 5 epochs. */
const STEPS_PER_EPOCH = 8000;
const RUN = ['train', '--model', 'two-layer-net', '--limit', '8000', '--batch-size', '1', '--steps', String(5 * STEPS_PER_EPOCH), '--seed', '11', '--log-interval', '0', '--backend', 'wasm'];

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-interrupt-'));

interface Stopped {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the first signal to the process's exit. */
  exitMillis: number;
}

/**
 * Starts a training run and sends `signals` once `ready` matches its stderr: the first after a
 * random delay (so it lands at a random step), each further one as soon as the previous one's
 * notice ("interrupted: ...") is printed, i.e. while the checkpoint is being written.
 */
function interrupt(args: string[], signals: NodeJS.Signals[], ready: RegExp, maxDelayMs: number): Promise<Stopped> {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], { env: { ...process.env, ...mnistEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let sent = 0;
  let firstAt = 0;
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (sent === 0 && timer === undefined && ready.test(stderr)) {
      timer = setTimeout(() => {
        firstAt = performance.now();
        child.kill(signals[sent++]);
      }, Math.random() * maxDelayMs);
    }
    const notices = stderr.match(/(interrupted|terminated): finishing the current step/g)?.length ?? 0;
    if (sent > 0 && sent < signals.length && notices >= sent) child.kill(signals[sent++]);
  });
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitMillis: performance.now() - firstAt });
    }),
  );
}

/** The weights a saved model folder holds, as bytes. */
function savedWeights(dir: string): Buffer {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  return Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
}

let reference: { weights: Buffer; loss: number[]; testAccuracy: number };
beforeAll(() => {
  const dir = path.join(tmp(), 'reference');
  const r = runNode(BUILT_CLI, [...RUN, '--save', dir, '--json']);
  if (r.code !== 0) throw new Error(`the uninterrupted run failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  reference = { weights: savedWeights(dir), loss: out.history.loss, testAccuracy: out.testAccuracy };
});

/** Resumes the run checkpointed in `dir` and checks that it ends exactly as the uninterrupted run did. */
function resumeAndCompare(dir: string, stoppedAt: number): void {
  const r = runNode(BUILT_CLI, ['train', '--model', 'two-layer-net', '--save', dir, '--resume', '--backend', 'wasm', '--json']);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ resumedFrom: stoppedAt, steps: 5 * STEPS_PER_EPOCH, stopped: 'completed', seed: 11 });
  expect(out.history.loss).toEqual(reference.loss);
  expect(out.testAccuracy).toBe(reference.testAccuracy);
  expect(savedWeights(dir).equals(reference.weights)).toBe(true);
}

describe.each([
  { name: 'Ctrl-C', signals: ['SIGINT'] as NodeJS.Signals[], exit: 130, word: 'interrupted' },
  { name: 'SIGTERM', signals: ['SIGTERM'] as NodeJS.Signals[], exit: 143, word: 'terminated' },
])('$name mid-epoch with --save', ({ signals, exit, word }) => {
  it(`stops at the next step, saves, prints the step and the --resume command, exits ${exit}; --resume ends as an uninterrupted run`, async () => {
    const dir = path.join(tmp(), 'run');
    // Within the first epoch (about a second here), before its checkpoint: a signal that arrives
    // during an epoch-end save is seen there, and the run then stops, rightly, at the epoch's end.
    const r = await interrupt([...RUN, '--save', dir], signals, /step \d+\/\d+/, 300);
    expect(r.stderr).toMatch(new RegExp(`${word}: finishing the current step and saving`));
    expect(r.code).toBe(exit);
    const reached = Number(/(?:interrupted|terminated) at step (\d+); checkpoint saved in /.exec(r.stderr)?.[1]);
    // Mid-epoch: the old loop only saw a signal during an epoch-end save, so stopped at the epoch's end.
    expect(reached % STEPS_PER_EPOCH).not.toBe(0);
    expect(reached).toBeLessThan(5 * STEPS_PER_EPOCH);
    expect(r.stdout).toContain(`(interrupted by ${signals[0]} at step ${reached})`);
    expect(r.stdout).toMatch(new RegExp(`continue with: npx mnist-nets train --model two-layer-net --save ${dir} --resume --backend wasm --steps 40000`));
    const state = savedMetadata(dir);
    expect(state).toMatchObject({ checkpointStep: reached, stopped: 'aborted', steps: reached });
    resumeAndCompare(dir, reached);
  });
});

describe('Ctrl-C twice, the second while the checkpoint is written', () => {
  it('leaves a whole checkpoint (this one or the last epoch\'s) that --resume finishes exactly', async () => {
    const dir = path.join(tmp(), 'run');
    // Once the first epoch's checkpoint is written (it is, by the time the second epoch ends), so
    // that one is there to fall back on: a first save cut short leaves no folder at all.
    const r = await interrupt([...RUN, '--save', dir], ['SIGINT', 'SIGINT'], /epoch 2\/5 done/, 1000);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT again: quitting at once/);
    expect(fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
    const state = savedMetadata(dir);
    expect(state.checkpointStep).toBeGreaterThanOrEqual(STEPS_PER_EPOCH);
    resumeAndCompare(dir, state.checkpointStep!);
    // What a save cut short left in the folder, the resumed run's first save removed.
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('.') || n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('Ctrl-C without --save', () => {
  it('stops at the next step, says nothing was saved, --json says interrupted, exits 130', async () => {
    const r = await interrupt([...RUN, '--json'], ['SIGINT'], /step \d+\/\d+/, 1000);
    expect(r.code).toBe(130);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ stopped: 'interrupted', signal: 'SIGINT', model: 'two-layer-net' });
    expect(out.steps).toBeLessThan(5 * STEPS_PER_EPOCH);
    expect(out.steps % STEPS_PER_EPOCH).not.toBe(0);
    expect(out.history.loss).toEqual(reference.loss.slice(0, out.steps));
    expect(out.resumeCommand).toBeUndefined();
    expect(r.stderr).toMatch(new RegExp(`interrupted at step ${out.steps}; nothing saved \\(train with --save DIR to be able to resume\\)`));
    // A quick evaluation of the test set only: the train set is not evaluated after an interruption.
    expect(out.evaluation).toBe('test');
    expect(out.trainAccuracy).toBeNull();
    expect(out.testAccuracy).toBeGreaterThan(0.1);
  });
});
