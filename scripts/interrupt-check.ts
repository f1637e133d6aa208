/**
 * Interrupts `mnist-nets train --save` again and again at random steps, resumes each run with
 * --resume, and counts how many end exactly where an uninterrupted run with the same seed ends
 * (the same saved weights, byte for byte, and the same loss history). The trials cycle through
 * Ctrl-C (SIGINT), Ctrl-C twice (the second as soon as the first is acknowledged, while the
 * checkpoint is written) and SIGTERM. Each first signal goes at a random moment of the training
 * (for Ctrl-C twice, once the first epoch's checkpoint is written: a second signal may cut the
 * save short, and a first save cut short leaves no checkpoint to resume); the record says at which
 * step each run stopped, whether that was mid-epoch, and how long the signal took to be
 * acknowledged and the process to exit.
 *
 *   node dist/scripts/interrupt-check.js [--model two-layer-net] [--trials 20] [--steps 3000] [--limit N] [--batch-size N]
 *       [--data-dir DIR] [--backend wasm] [--out docs/results/interrupt-check.json]
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { writeFileAtomic } from '../lib/atomic-write';
import { machineFacts } from '../lib/jobs/machine';
import type { RecordHeader } from './record-header';
import { type ModelJson, parseModelJson, recordedMetadata } from '../lib/io/model-format';

/** `dir`'s model.json, checked as the library's loaders check it. */
function savedModelJson(dir: string): { json: ModelJson; file: string } {
  const file = path.join(dir, 'model.json');
  return { json: parseModelJson(fs.readFileSync(file, 'utf8'), file), file };
}

/** The library's metadata in `dir`'s model.json, wherever the format keeps it. */
function savedMetadata(dir: string): { checkpointStep?: number; stopped?: string; steps?: number } {
  const { json, file } = savedModelJson(dir);
  return (recordedMetadata(json, file) ?? {}) as { checkpointStep?: number; stopped?: string; steps?: number };
}

const CLI = path.resolve(__dirname, '../lib/cli/main.js');
type Scenario = { name: string; signals: NodeJS.Signals[]; exit: number; after: RegExp };
const SCENARIOS: Scenario[] = [
  { name: 'SIGINT', signals: ['SIGINT'], exit: 130, after: /step \d+\/\d+/ },
  { name: 'SIGINT twice', signals: ['SIGINT', 'SIGINT'], exit: 130, after: /epoch 2\/\d+ done/ },
  { name: 'SIGTERM', signals: ['SIGTERM'], exit: 143, after: /step \d+\/\d+/ },
];

/** The bytes of `dir`'s weight files, in the manifest's order. */
function savedWeights(dir: string): Buffer {
  return Buffer.concat(savedModelJson(dir).json.weightPaths.map((p) => fs.readFileSync(path.join(dir, p))));
}

interface Stopped {
  code: number | null;
  stderr: string;
  /** ms from the first signal to its acknowledgement on stderr (null: none, the run had ended), and to the exit. */
  ackMillis: number | null;
  exitMillis: number;
  delayMillis: number;
}

function interrupt(args: string[], signals: NodeJS.Signals[], after: RegExp, maxDelayMs: number): Promise<Stopped> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let sent = 0;
  let firstAt = 0;
  let ackAt = 0;
  const delayMillis = Math.random() * maxDelayMs;
  let timer: NodeJS.Timeout | undefined;
  child.stderr.on('data', (d) => {
    stderr += d;
    if (timer === undefined && after.test(stderr)) {
      timer = setTimeout(() => {
        firstAt = performance.now();
        child.kill(signals[sent++]);
      }, delayMillis);
    }
    if (sent > 0 && ackAt === 0 && /(interrupted|terminated): finishing the current step/.test(stderr)) {
      ackAt = performance.now();
      if (sent < signals.length) child.kill(signals[sent++]);
    }
  });
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      const end = performance.now();
      resolve({ code, stderr, ackMillis: ackAt ? ackAt - firstAt : null, exitMillis: end - firstAt, delayMillis });
    }),
  );
}

interface Trial {
  trial: number;
  scenario: string;
  exitCode: number | null;
  expectedExit: number;
  firstSignalAfterMs: number;
  stoppedAtStep: number | null;
  checkpointStep: number | null;
  midEpoch: boolean;
  acknowledgedAfterMs: number | null;
  exitedAfterMs: number;
  identical: boolean;
  resumeError?: string;
}

/** What this script records (docs/results/interrupt-check*.json), from which scripts/docs-tables.ts writes its table. */
export interface InterruptCheckRecord extends RecordHeader {
  /** The interrupted CLI command as one line; its model, steps and limit are not recorded apart. */
  run: string;
  stepsPerEpoch: number;
  trials: number;
  identical: number;
  midEpoch: number;
  exitCodesAsExpected: number;
  acknowledgedAfterMs: { median: number; max: number };
  exitedAfterMs: { median: number; max: number };
  results: Trial[];
}

async function main(): Promise<void> {
  const a = await yargs(process.argv.slice(2))
    .option('model', { type: 'string', default: 'two-layer-net' })
    .option('trials', { type: 'number', default: 20 })
    .option('steps', { type: 'number', default: 3000 })
    .option('limit', { type: 'number' })
    .option('batch-size', { type: 'number' })
    .option('data-dir', { type: 'string' })
    .option('backend', { type: 'string', default: 'wasm' })
    .option('max-delay', { type: 'number', describe: 'Latest first signal, ms after the first progress line (default: 80% of the reference run)' })
    .option('out', { type: 'string' })
    .strict()
    .parseAsync();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'interrupt-check-'));
  const run = ['train', '--model', a.model, '--steps', String(a.steps), '--seed', '1', '--log-interval', '0', '--backend', a.backend];
  if (a.limit !== undefined) run.push('--limit', String(a.limit));
  if (a['batch-size'] !== undefined) run.push('--batch-size', String(a['batch-size']));
  if (a['data-dir'] !== undefined) run.push('--data-dir', a['data-dir']);
  const extra = a['data-dir'] !== undefined ? ['--data-dir', a['data-dir']] : [];

  const refDir = path.join(work, 'reference');
  const t0 = performance.now();
  const ref = spawnSync(process.execPath, [CLI, ...run, '--save', refDir, '--json'], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (ref.status !== 0) throw new Error(`reference run failed: ${ref.stderr}`);
  const refSeconds = (performance.now() - t0) / 1000;
  const reference = JSON.parse(ref.stdout) as { history: { loss: number[] }; epochs: number; steps: number; trainSeconds: number; dataSource: string; backend: string };
  const stepsPerEpoch = Math.round(reference.steps / reference.epochs);
  const refWeights = savedWeights(refDir);
  // The first progress line comes with the first step: from there the training alone.
  const maxDelay = a['max-delay'] ?? reference.trainSeconds * 1000 * 0.8;
  process.stderr.write(`reference: ${reference.steps} steps (${stepsPerEpoch} an epoch) in ${refSeconds.toFixed(1)} s on ${reference.backend}\n`);

  const trials: Trial[] = [];
  for (let i = 0; i < a.trials; i++) {
    const scenario = SCENARIOS[i % SCENARIOS.length]!;
    const dir = path.join(work, `trial-${i + 1}`);
    const stopped = await interrupt([...run, '--save', dir], scenario.signals, scenario.after, scenario.after.source.startsWith('epoch') ? maxDelay * 0.5 : maxDelay);
    const reached = Number(/(?:interrupted|terminated) at step (\d+)/.exec(stopped.stderr)?.[1] ?? NaN);
    const checkpoint = fs.existsSync(path.join(dir, 'model.json')) ? (savedMetadata(dir).checkpointStep ?? null) : null;
    let identical = false;
    let resumeError: string | undefined;
    if (checkpoint !== null) {
      const r = spawnSync(process.execPath, [CLI, 'train', '--model', a.model, '--save', dir, '--resume', '--backend', a.backend, ...extra, '--json'], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
      if (r.status === 0) {
        const out = JSON.parse(r.stdout) as { history: { loss: number[] }; steps: number };
        identical = out.steps === reference.steps && savedWeights(dir).equals(refWeights) && JSON.stringify(out.history.loss) === JSON.stringify(reference.history.loss);
      } else resumeError = r.stderr.trim().split('\n').pop();
    }
    const trial: Trial = {
      trial: i + 1,
      scenario: scenario.name,
      exitCode: stopped.code,
      expectedExit: scenario.exit,
      firstSignalAfterMs: Math.round(stopped.delayMillis),
      stoppedAtStep: Number.isNaN(reached) ? null : reached,
      checkpointStep: checkpoint,
      midEpoch: checkpoint !== null && checkpoint % stepsPerEpoch !== 0,
      acknowledgedAfterMs: stopped.ackMillis === null ? null : Math.round(stopped.ackMillis),
      exitedAfterMs: Math.round(stopped.exitMillis),
      identical,
      ...(resumeError ? { resumeError } : {}),
    };
    trials.push(trial);
    process.stderr.write(`${JSON.stringify(trial)}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.rmSync(work, { recursive: true, force: true });
  const identical = trials.filter((t) => t.identical).length;
  const sorted = (k: 'acknowledgedAfterMs' | 'exitedAfterMs') => trials.map((t) => t[k]).filter((x): x is number => x !== null).sort((x, y) => x - y);
  const record: InterruptCheckRecord = {
    what: 'interrupted `mnist-nets train --save` runs resumed with --resume, compared with an uninterrupted run',
    command: `node dist/scripts/interrupt-check.js ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: machineFacts(),
    backend: reference.backend,
    dataset: reference.dataSource,
    run: `mnist-nets ${run.join(' ')}`,
    stepsPerEpoch,
    trials: trials.length,
    identical,
    midEpoch: trials.filter((t) => t.midEpoch).length,
    exitCodesAsExpected: trials.filter((t) => t.exitCode === t.expectedExit).length,
    acknowledgedAfterMs: { median: sorted('acknowledgedAfterMs')[Math.floor(sorted('acknowledgedAfterMs').length / 2)]!, max: sorted('acknowledgedAfterMs').at(-1)! },
    exitedAfterMs: { median: sorted('exitedAfterMs')[Math.floor(trials.length / 2)]!, max: sorted('exitedAfterMs').at(-1)! },
    results: trials,
  };
  if (a.out) await writeFileAtomic(a.out, `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`${identical}/${trials.length} interrupted runs resumed to the identical result (${record.midEpoch} stopped mid-epoch; exit codes as expected: ${record.exitCodesAsExpected}/${trials.length})\n`);
  process.exitCode = identical === trials.length ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
