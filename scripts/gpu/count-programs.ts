/**
 * GPU programs per training step on the webgpu backend, counted by tf.profile (lib/profiling:
 * kernel calls that run a webgpu program, and the programs they dispatch, a call counting once per
 * program), with the step's time, for each preset,
 * with this library's webgpu kernels (`after`) and without them (`before`: tf.js ops, the tape for
 * the cnn), interleaved round by round in one process (docs/GPU.md, "Programs per training step").
 *
 *   npm run build && node dist/scripts/gpu/count-programs.js [options]
 *
 * By default it runs on Mesa's lavapipe, the rehearsal's software Vulkan driver: it asks
 * scripts/gpu/lavapipe.sh for the environment (downloading the driver with apt the first time) and
 * runs itself again in it. `--adapter any` uses whatever adapter Dawn finds instead (a real GPU).
 *
 * Options:
 *   --presets LIST       presets, or `all` (default cnn,two-layer-net)
 *   --variants LIST      before, after (default both)
 *   --batch-size N       instead of each recipe's batch
 *   --steps N            timed steps per round and variant (default 2 for the cnn, 20 otherwise)
 *   --rounds N           rounds (default 2); ms/step is the median over rounds, wall and CPU time
 *                        (lavapipe computes in this process's threads, so on a shared machine its
 *                        CPU time is the steadier measure)
 *   --warmup N           steps before timing, per variant (shader compilation; default 1)
 *   --profile-steps N    steps under tf.profile for the counts (default 1)
 *   --json               the record alone on stdout (progress on stderr)
 *   --out FILE           also write the record there (e.g. docs/results/gpu/programs-per-step.json)
 *   --markdown FILE      print the tables of a record written before, run nothing
 *   --update             with --out docs/results/gpu/programs-per-step.json: then rewrite the
 *                        docs' tables from their records (scripts/docs-tables.ts; docs/GPU.md's
 *                        table:programs-per-step block is written from that record)
 *   --adapter lavapipe|any
 *
 * Exit: 0; 1 when a preset's `after` dispatches are above its goal (cnn 40, two-layer-net 12) or the step
 * leaks tensors or GPU memory; 2 for bad arguments; 3 when no WebGPU adapter can be had.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { writeFileAtomic } from '../../lib/atomic-write';
import { useBackend } from '../../lib/backends';
import { dawnPackageVersion, webgpuBackendVersion } from '../../lib/backends/webgpu';
import { checkInt } from '../../lib/checks';
import { InvalidArgumentError, errorMessage } from '../../lib/errors';
import { machineFacts } from '../../lib/jobs/machine';
import { markdownTable } from '../../lib/report/markdown';
import { WEBGPU_TRAINING_KERNELS, registerWebGPUTrainingKernels } from '../../lib/kernels/webgpu';
import { PRESETS, PresetId, getPreset } from '../../lib/recipes';
import { BatchMaker, modelInputShape } from '../../lib/training/batches';
import { BatchSampler } from '../../lib/training/sampler';
import { createStepRunner } from '../../lib/training/train';
import { profileSteps } from '../../lib/profiling/kernel-profile';
import { createRng } from '../../lib/random';
import { lavapipeEnv } from './lavapipe-env';
import { median } from '../../lib/stats';

/** The issue's goals: GPU programs per training step with this library's kernels. */
export const PROGRAM_GOALS: Readonly<Partial<Record<PresetId, number>>> = { cnn: 40, 'two-layer-net': 12 };

export const VARIANTS = ['before', 'after'] as const;
export type Variant = (typeof VARIANTS)[number];

/** The record docs/GPU.md's programs-per-step tables are written from (scripts/docs-tables.ts). */
export const PROGRAMS_RECORD = 'docs/results/gpu/programs-per-step.json';

/** Set by scripts/gpu/lavapipe.sh's environment: the Mesa version of the driver. */
const LAVAPIPE_ENV = 'MNIST_NETS_LAVAPIPE';

interface Args {
  presets: string;
  variants: string;
  'batch-size'?: number;
  steps?: number;
  rounds: number;
  warmup: number;
  'profile-steps': number;
  json: boolean;
  out?: string;
  markdown?: string;
  update: boolean;
  adapter: string;
}

/** One kernel's share of a profiled step. */
export interface KernelCount {
  kernel: string;
  callsPerStep: number;
  dispatchesPerStep: number;
  programs: string[];
  /** GPU milliseconds (timestamp queries; 0 without them), each program in its own pass. */
  msPerStep: number;
}

export interface VariantRecord {
  variant: Variant;
  /** Which training step ran (dense, conv or tape). */
  method: string;
  /** Kernel calls per step that run a webgpu program (lib/profiling's programsPerStep). */
  programsPerStep: number;
  /** GPU programs dispatched per step: a call that runs several counts each (the goal is checked on this). */
  dispatchesPerStep: number;
  kernelCallsPerStep: number;
  /** Median over rounds of the wall time per step, the last step's loss read back. */
  msPerStep: number;
  msPerStepRounds: number[];
  /** The same for this process's CPU time (all its threads: a software adapter's work included). */
  cpuMsPerStep: number;
  cpuMsPerStepRounds: number[];
  /** GPU memory held by live tensors after each round: constant when the step leaks nothing. */
  gpuBytesInUse: number[];
  /** GPU memory the backend's buffer pool held after each round (it keeps freed buffers for reuse). */
  gpuBytesAllocated: number[];
  /** Tensors left after the variant's last step minus before its first. */
  tensorsLeaked: number;
  kernels: KernelCount[];
}

export interface PresetRecord {
  preset: PresetId;
  batchSize: number;
  steps: number;
  rounds: number;
  goal?: number;
  variants: VariantRecord[];
}

export interface ProgramsRecord {
  command: string;
  date: string;
  adapter: { device?: string; lavapipe?: string; dawn?: string; tfjsBackendWebgpu?: string };
  machine: ReturnType<typeof machineFacts>;
  presets: PresetRecord[];
}

function log(message: string): void {
  process.stderr.write(`count-programs: ${message}\n`);
}

/** The comma-separated `value` of `flag` as members of `allowed`; `all` means every one. */
export function parseList<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value === 'all' ? [...allowed] : value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (items.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(flag, `expected some of ${allowed.join(', ')} (comma-separated) or all, got ${JSON.stringify(value)}`);
  }
  return [...new Set(items)] as T[];
}

/** Random images of the real shape: a step's programs and time do not depend on the pixels. */
function syntheticSplit(count: number) {
  const next = createRng(12345);
  return { images: Float32Array.from({ length: count * 784 }, next), labels: Uint8Array.from({ length: count }, () => Math.floor(next() * 10)), count };
}

function useKernels(variant: Variant): void {
  registerWebGPUTrainingKernels({ kernels: variant === 'after' ? WEBGPU_TRAINING_KERNELS : [] });
}

function gpuBytes(): { inUse: number; allocated: number } {
  const m = tf.memory() as { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { inUse: Number(m.numBytesInGPU ?? 0), allocated: Number(m.numBytesAllocatedInGPU ?? 0) };
}

async function measurePreset(id: PresetId, variants: Variant[], a: Args): Promise<PresetRecord> {
  const preset = getPreset(id);
  const r = preset.recipe;
  const batchSize = a['batch-size'] ?? r.batchSize;
  const timed = a.steps ?? (id === 'cnn' ? 2 : 20);
  const split = syntheticSplit(Math.max(4 * batchSize, 100));
  const runs = variants.map((variant) => {
    // The step's pieces are chosen when it is made: with or without the kernels, as the variant says.
    useKernels(variant);
    const model = preset.build({ seed: 1 });
    const batches = new BatchMaker(split, modelInputShape(model), 10, r.targets);
    const sampler = new BatchSampler(batches.count, batchSize, 'replacement', 1);
    const runner = createStepRunner(model, batches, { loss: r.loss, optimizer: r.optimizer }, 1);
    let iteration = 0;
    const steps = async (n: number): Promise<void> => {
      useKernels(variant);
      const losses: tf.Scalar[] = [];
      for (let i = 0; i < n; i++) losses.push(runner.run(sampler.next(), iteration++));
      // The queue runs in order: once the last loss is read, every step's programs have run.
      await losses[losses.length - 1]!.data();
      tf.dispose(losses);
    };
    return { variant, runner, model, steps, ms: [] as number[], cpuMs: [] as number[], bytes: [] as { inUse: number; allocated: number }[], tensors: 0 };
  });
  try {
    for (const run of runs) {
      log(`${id}: ${run.variant}: ${run.runner.method} step, batch ${batchSize}: ${a.warmup} warm-up step(s)`);
      await run.steps(a.warmup);
      run.tensors = tf.memory().numTensors;
    }
    for (let round = 0; round < a.rounds; round++) {
      for (const run of runs) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await run.steps(timed);
        const c = process.cpuUsage(c0);
        run.ms.push((performance.now() - t0) / timed);
        run.cpuMs.push((c.user + c.system) / 1000 / timed);
        run.bytes.push(gpuBytes());
      }
      log(`${id}: round ${round + 1}/${a.rounds}: ${runs.map((run) => `${run.variant} ${run.ms[run.ms.length - 1]!.toFixed(0)} ms/step (CPU ${run.cpuMs[run.cpuMs.length - 1]!.toFixed(0)} ms)`).join(', ')}`);
    }
    const records: VariantRecord[] = [];
    for (const run of runs) {
      const tensorsLeaked = tf.memory().numTensors - run.tensors;
      useKernels(run.variant);
      const per = a['profile-steps'];
      const summary = await profileSteps(per, () => run.steps(per));
      records.push({
        variant: run.variant,
        method: run.runner.method,
        programsPerStep: summary.programsPerStep,
        dispatchesPerStep: summary.dispatchesPerStep,
        kernelCallsPerStep: summary.kernelCallsPerStep,
        msPerStep: median(run.ms),
        msPerStepRounds: run.ms,
        cpuMsPerStep: median(run.cpuMs),
        cpuMsPerStepRounds: run.cpuMs,
        gpuBytesInUse: run.bytes.map((b) => b.inUse),
        gpuBytesAllocated: run.bytes.map((b) => b.allocated),
        tensorsLeaked,
        kernels: summary.kernels
          .filter((k) => k.dispatches > 0)
          .sort((x, y) => y.dispatches - x.dispatches || y.totalMs - x.totalMs)
          .map((k) => ({ kernel: k.kernel, callsPerStep: k.calls / per, dispatchesPerStep: k.dispatches / per, programs: k.programs, msPerStep: k.totalMs / per })),
      });
      log(`${id}: ${run.variant}: ${summary.dispatchesPerStep} programs dispatched by ${summary.programsPerStep} kernel calls (of ${summary.kernelCallsPerStep}) per step`);
    }
    return { preset: id, batchSize, steps: timed, rounds: a.rounds, ...(PROGRAM_GOALS[id] ? { goal: PROGRAM_GOALS[id] } : {}), variants: records };
  } finally {
    for (const run of runs) {
      run.runner.dispose();
      run.model.dispose();
    }
    useKernels('after');
  }
}

/**
 * The record's tables in markdown: programs and ms per step for every preset and variant, then the
 * kernels behind the programs of each of `variants`' steps.
 */
export function markdownTables(record: ProgramsRecord, variants: readonly Variant[] = VARIANTS): string {
  const where = `${record.adapter.device ?? 'webgpu'}${record.adapter.lavapipe ? ` (Mesa ${record.adapter.lavapipe} lavapipe)` : ''}`;
  const parts = [
    `GPU programs per training step on ${where}, ${record.machine.cores} x ${record.machine.cpu}, ${record.date.slice(0, 10)}:`,
    markdownTable(
      ['preset', 'batch', 'variant', 'step', 'programs dispatched', 'goal', 'kernel calls running one', 'kernel calls', 'ms/step', 'CPU ms/step'],
      record.presets.flatMap((p) =>
        p.variants.map((v) => [p.preset, p.batchSize, v.variant, v.method, v.dispatchesPerStep, p.goal ?? '', v.programsPerStep, v.kernelCallsPerStep, Math.round(v.msPerStep), Math.round(v.cpuMsPerStep)]),
      ),
    ),
  ];
  for (const p of record.presets) {
    for (const v of p.variants.filter((x) => variants.includes(x.variant))) {
      parts.push(
        `${p.preset}, ${v.variant}: programs per step by kernel`,
        markdownTable(
          ['kernel', 'calls', 'programs dispatched', 'programs', 'GPU ms (profiled)'],
          v.kernels.map((k) => [k.kernel, k.callsPerStep, k.dispatchesPerStep, k.programs.join(', '), Number(k.msPerStep.toFixed(1))]),
        ),
      );
    }
  }
  return `${parts.join('\n\n')}\n`;
}

/** Why the record fails: goals missed, tensors leaked, GPU memory grown; empty when it passes. */
export function recordProblems(record: ProgramsRecord): string[] {
  const problems: string[] = [];
  for (const p of record.presets) {
    for (const v of p.variants) {
      if (v.variant === 'after' && p.goal !== undefined && v.dispatchesPerStep > p.goal) {
        problems.push(`${p.preset}: ${v.dispatchesPerStep} programs dispatched per step, the goal is at most ${p.goal}`);
      }
      if (v.tensorsLeaked !== 0) problems.push(`${p.preset} ${v.variant}: ${v.tensorsLeaked} tensors left behind by the timed steps`);
      const [first, ...rest] = v.gpuBytesInUse;
      if (first !== undefined && rest.some((b) => b !== first)) problems.push(`${p.preset} ${v.variant}: GPU memory in use changed over rounds: ${v.gpuBytesInUse.join(', ')} bytes`);
    }
  }
  return problems;
}

async function run(a: Args): Promise<number> {
  if (a.markdown !== undefined) {
    const saved = JSON.parse(fs.readFileSync(a.markdown, 'utf8')) as ProgramsRecord;
    process.stdout.write(markdownTables(saved));
    return 0;
  }
  if (a.update && a.out !== PROGRAMS_RECORD) {
    throw new InvalidArgumentError('--update', `the docs are written from ${PROGRAMS_RECORD}: give --out ${PROGRAMS_RECORD} with --update`);
  }
  const presets = parseList('--presets', a.presets, Object.keys(PRESETS) as PresetId[]);
  const variants = parseList('--variants', a.variants, VARIANTS);
  for (const k of ['rounds', 'profile-steps'] as const) checkInt(`--${k}`, a[k]);
  if (a.steps !== undefined) checkInt('--steps', a.steps);
  checkInt('--warmup', a.warmup, { min: 0 });
  if (a['batch-size'] !== undefined) checkInt('--batch-size', a['batch-size']);
  if (a.adapter !== 'lavapipe' && a.adapter !== 'any') throw new InvalidArgumentError('--adapter', `lavapipe or any, got ${JSON.stringify(a.adapter)}`);
  if (a.adapter === 'lavapipe' && process.env[LAVAPIPE_ENV] === undefined) {
    // The Vulkan loader and the driver are found through the environment the process starts with.
    const lavapipe = lavapipeEnv({ offline: false });
    if ('reason' in lavapipe) {
      log(`no lavapipe: ${lavapipe.reason}`);
      return 3;
    }
    const child = spawnSync(process.execPath, [process.argv[1]!, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, ...lavapipe.env } });
    return child.status ?? 1;
  }
  let selection;
  try {
    selection = await useBackend('webgpu', { allowSoftwareWebGPU: a.adapter === 'lavapipe' || undefined });
  } catch (err) {
    log(`no webgpu backend: ${errorMessage(err)}`);
    return 3;
  }
  const record: ProgramsRecord = {
    command: `node dist/scripts/gpu/count-programs.js ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    adapter: { device: selection.statuses[0]?.device, lavapipe: process.env[LAVAPIPE_ENV], dawn: dawnPackageVersion(), tfjsBackendWebgpu: webgpuBackendVersion() },
    machine: machineFacts(),
    presets: [],
  };
  for (const id of presets) record.presets.push(await measurePreset(id, variants, a));
  const json = `${JSON.stringify(record, null, 2)}\n`;
  if (a.out) await writeFileAtomic(a.out, json);
  if (a.update) await (await import('../docs-tables')).rewriteDocs('count-programs'); // lazily: docs-tables imports this module's renderer
  process.stdout.write(a.json ? json : markdownTables(record));
  const problems = recordProblems(record);
  for (const p of problems) log(p);
  return problems.length > 0 ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  await yargs(argv)
    .scriptName('count-programs')
    .usage('$0 [options]: GPU programs and ms per training step on webgpu, with and without this library\'s kernels')
    .option('presets', { type: 'string', default: 'cnn,two-layer-net' })
    .option('variants', { type: 'string', default: VARIANTS.join(',') })
    .option('batch-size', { type: 'number' })
    .option('steps', { type: 'number', describe: 'default 2 for the cnn, 20 otherwise' })
    .option('rounds', { type: 'number', default: 2 })
    .option('warmup', { type: 'number', default: 1 })
    .option('profile-steps', { type: 'number', default: 1 })
    .option('json', { type: 'boolean', default: false })
    .option('out', { type: 'string' })
    .option('markdown', { type: 'string', describe: 'print the tables of this record and run nothing' })
    .option('update', { type: 'boolean', default: false, describe: `with --out ${PROGRAMS_RECORD}: then rewrite the docs' tables from their records (scripts/docs-tables.ts)` })
    .option('adapter', { type: 'string', default: 'lavapipe', describe: 'lavapipe (scripts/gpu/lavapipe.sh) or any' })
    .strict()
    .exitProcess(false)
    .fail((message, err) => {
      throw err ?? new InvalidArgumentError('arguments', message);
    })
    .command<Args>('$0', false, () => undefined, async (args) => {
      code = await run(args);
    })
    .parseAsync();
  return code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`count-programs: ${errorMessage(err)}\n`);
      process.exit(err instanceof InvalidArgumentError ? 2 : 1);
    },
  );
}
