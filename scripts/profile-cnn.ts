/**
 * Training-step profile of the presets' recipes on the wasm (or cpu) backend: the library's own
 * step (lib/training/train.ts `createStepRunner`, what train() runs: batch upload, gradients,
 * fused update), its speed and a per-kernel time table (tf.profile). Variants of the step run
 * interleaved, round by round, in one process, so that a comparison shares the machine's load;
 * CPU time per step is reported beside wall time, because on a shared machine it is the steadier
 * of the two. Data are random values of the real shapes: a step's cost does not depend on them.
 *
 *   npx tsc -p tsconfig.build.json --outDir build/tsc && node build/tsc/scripts/profile-cnn.js [options]
 *
 * Options (all optional):
 *   --presets LIST     presets to profile (default cnn,two-layer-net)
 *   --steps N          timed steps per round and variant (default: 10 for the cnn, 200 otherwise)
 *   --rounds N         rounds; every variant runs once per round (default 5)
 *   --variants LIST    comma-separated variants, each tokens joined by '+': auto|dense|tape (how
 *                      gradients are computed), composed (the update as tf.js ops instead of one
 *                      fused kernel), opgrads (the dense step's backward pass as tf.js ops instead
 *                      of its fused kernels), nosimd (XNNPACK for every matrix product); e.g.
 *                      auto,tape,auto+nosimd (default auto: what train() does)
 *   --backend NAME     wasm or cpu (default wasm)
 *   --threads N        wasm threads (default: what the CLI picks for the first preset)
 *   --kernels LIST     lib/kernels replacements on wasm: all, none, or names from
 *                      Conv2DBackpropFilter,Conv2DBackpropInput,BatchMatMul,_FusedMatMul,MaxPoolGrad
 *   --profile-steps N  steps under tf.profile for the kernel table (default 2; 0 skips it)
 *   --json FILE        also write every number as JSON
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../lib/atomic-write';
import { recommendedWasmThreads, useBackend, wasmWorkloadOf } from '../lib/backends';
import type { DataSplit } from '../lib/datasets';
import { WASM_TRAINING_KERNELS, WasmTrainingKernel, registerWasmTrainingKernels, setSimdProducts, unregisterWasmTrainingKernels } from '../lib/kernels';
import { PRESETS, PresetId, getPreset } from '../lib/recipes';
import { BatchMaker, modelInputShape } from '../lib/training/batches';
import { GradientMethod } from '../lib/training/dense-step';
import { BatchSampler } from '../lib/training/sampler';
import { createStepRunner } from '../lib/training/train';
import { machineFacts } from '../lib/jobs/machine';
import { median } from '../lib/stats';
import { loadAverageLine } from './load-average';

interface Variant {
  name: string;
  gradients: GradientMethod;
  composedUpdates: boolean;
  /** The dense step's tf.js-op backward pass instead of its fused kernels. */
  opGradients: boolean;
  /** XNNPACK for every product (no SIMD products). */
  noSimdProducts: boolean;
}

interface Options {
  presets: PresetId[];
  steps?: number;
  rounds: number;
  variants: Variant[];
  backend: 'wasm' | 'cpu';
  threads?: number;
  kernels: WasmTrainingKernel[];
  profileSteps: number;
  json?: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    presets: ['cnn', 'two-layer-net'],
    rounds: 5,
    variants: [{ name: 'auto', gradients: 'auto', composedUpdates: false, opGradients: false, noSimdProducts: false }],
    backend: 'wasm',
    kernels: [...WASM_TRAINING_KERNELS],
    profileSteps: 2,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value == null) throw new Error(`${flag}: missing value`);
    const int = (min = 0): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got ${value}`);
      return n;
    };
    switch (flag) {
      case '--presets':
        opts.presets = value.split(',').map((p) => getPreset(p).id);
        break;
      case '--steps': opts.steps = int(1); break;
      case '--rounds': opts.rounds = int(1); break;
      case '--threads': opts.threads = int(1); break;
      case '--profile-steps': opts.profileSteps = int(0); break;
      case '--json': opts.json = value; break;
      case '--backend':
        if (value !== 'wasm' && value !== 'cpu') throw new Error(`--backend: wasm or cpu, got ${value}`);
        opts.backend = value;
        break;
      case '--variants':
        opts.variants = value.split(',').map((v) => {
          const tokens = v.split('+');
          const known = ['auto', 'dense', 'tape', 'composed', 'opgrads', 'nosimd'];
          const unknown = tokens.filter((t) => !known.includes(t));
          if (unknown.length > 0) throw new Error(`--variants: unknown ${unknown.join(', ')} in ${v}; tokens are ${known.join(', ')}`);
          const gradients = (tokens.find((t) => ['auto', 'dense', 'tape'].includes(t)) ?? 'auto') as GradientMethod;
          return { name: v, gradients, composedUpdates: tokens.includes('composed'), opGradients: tokens.includes('opgrads'), noSimdProducts: tokens.includes('nosimd') };
        });
        break;
      case '--kernels':
        opts.kernels = value === 'all' ? [...WASM_TRAINING_KERNELS] : value === 'none' ? [] : (value.split(',') as WasmTrainingKernel[]);
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return opts;
}

/** Random images and labels, enough for a few distinct batches. */
function syntheticSplit(count: number): DataSplit {
  let s = 12345;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return { images: Float32Array.from({ length: count * 784 }, next), labels: Uint8Array.from({ length: count }, () => Math.floor(next() * 10)), count };
}

interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
}

interface VariantResult {
  variant: string;
  method: string;
  /** Per round: mean wall and CPU milliseconds per step. */
  wallMs: number[];
  cpuMs: number[];
  medianWallMs: number;
  medianCpuMs: number;
  samplesPerSecWall: number;
  samplesPerSecCpu: number;
  kernels?: { calls: number; ms: number; table: KernelRow[] };
}

interface PresetResult {
  preset: string;
  batchSize: number;
  steps: number;
  rounds: number;
  variants: VariantResult[];
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function profilePreset(id: PresetId, opts: Options): Promise<PresetResult> {
  const preset = PRESETS[id];
  const r = preset.recipe;
  const steps = opts.steps ?? (id === 'cnn' ? 10 : 200);
  const split = syntheticSplit(Math.max(4 * r.batchSize, 400));
  const runners = opts.variants.map((variant) => {
    const model = preset.build({ seed: 1 });
    const batches = new BatchMaker(split, modelInputShape(model), 10, r.targets);
    const sampler = new BatchSampler(batches.count, r.batchSize, 'replacement', 1);
    const runner = createStepRunner(
      model,
      batches,
      { loss: r.loss, optimizer: r.optimizer, gradients: variant.gradients, composedUpdates: variant.composedUpdates, fusedKernels: !variant.opGradients },
      1,
    );
    let iteration = 0;
    return {
      variant,
      method: runner.method,
      step: () => {
        setSimdProducts(!variant.noSimdProducts);
        runner.run(sampler.next(), iteration++).dispose();
      },
      dispose: () => {
        runner.dispose();
        model.dispose();
      },
    };
  });
  try {
    const warmup = id === 'cnn' ? 2 : 20;
    for (const v of runners) for (let i = 0; i < warmup; i++) v.step();
    const wall = runners.map(() => [] as number[]);
    const cpu = runners.map(() => [] as number[]);
    for (let round = 0; round < opts.rounds; round++) {
      runners.forEach((v, k) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) v.step();
        // The wasm and cpu backends compute synchronously: the clock stops with the last kernel.
        const c = process.cpuUsage(c0);
        wall[k]!.push((performance.now() - t0) / steps);
        cpu[k]!.push((c.user + c.system) / 1000 / steps);
      });
      log(`${id}: round ${round + 1}/${opts.rounds}: ${runners.map((v, k) => `${v.variant.name} ${wall[k]!.at(-1)!.toFixed(2)} ms wall, ${cpu[k]!.at(-1)!.toFixed(2)} ms CPU`).join('; ')}`);
    }
    const results: VariantResult[] = [];
    for (const [k, v] of runners.entries()) {
      const medianWallMs = median(wall[k]!);
      const medianCpuMs = median(cpu[k]!);
      const result: VariantResult = {
        variant: v.variant.name,
        method: v.method,
        wallMs: wall[k]!,
        cpuMs: cpu[k]!,
        medianWallMs,
        medianCpuMs,
        samplesPerSecWall: (1000 * r.batchSize) / medianWallMs,
        samplesPerSecCpu: (1000 * r.batchSize) / medianCpuMs,
      };
      if (opts.profileSteps > 0) {
        const info = await tf.profile(() => {
          for (let i = 0; i < opts.profileSteps; i++) v.step();
        });
        const byName = new Map<string, KernelRow>();
        for (const kernel of info.kernels) {
          const row = byName.get(kernel.name) ?? { kernel: kernel.name, calls: 0, ms: 0 };
          row.calls += 1 / opts.profileSteps;
          row.ms += Number(await kernel.kernelTimeMs) / opts.profileSteps;
          byName.set(kernel.name, row);
        }
        const table = [...byName.values()].sort((a, b) => b.ms - a.ms);
        result.kernels = { calls: info.kernels.length / opts.profileSteps, ms: table.reduce((s, row) => s + row.ms, 0), table };
      }
      results.push(result);
    }
    return { preset: id, batchSize: r.batchSize, steps, rounds: opts.rounds, variants: results };
  } finally {
    runners.forEach((v) => v.dispose());
  }
}

function printResult(p: PresetResult, threads: number, backend: string): void {
  const lines = ['', `## ${p.preset} (batch ${p.batchSize}) on ${backend}${backend === 'wasm' ? `, ${threads} thread(s)` : ''}: ${p.rounds} rounds of ${p.steps} steps`, ''];
  lines.push('| variant | step | ms/step wall (median) | ms/step CPU (median) | samples/s (wall) |', '|---|---|---:|---:|---:|');
  for (const v of p.variants) {
    lines.push(`| ${v.variant} | ${v.method} | ${v.medianWallMs.toFixed(2)} | ${v.medianCpuMs.toFixed(2)} | ${v.samplesPerSecWall.toFixed(0)} |`);
  }
  for (const v of p.variants) {
    if (!v.kernels) continue;
    lines.push('', `${v.variant}: ${v.kernels.calls.toFixed(0)} kernel calls, ${v.kernels.ms.toFixed(2)} ms in kernels per profiled step`, '');
    lines.push('| kernel | calls/step | ms/step | % |', '|---|---:|---:|---:|');
    for (const row of v.kernels.table.filter((row) => row.ms >= 0.01)) {
      lines.push(`| ${row.kernel} | ${row.calls.toFixed(0)} | ${row.ms.toFixed(2)} | ${((100 * row.ms) / v.kernels.ms).toFixed(1)} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  let threads = 1;
  if (opts.backend === 'wasm') {
    const wanted = opts.threads ?? recommendedWasmThreads(wasmWorkloadOf(PRESETS[opts.presets[0]!].family));
    const selection = await useBackend('wasm', { wasmThreads: wanted });
    threads = Number(selection.statuses[0]!.details?.['runningThreads'] ?? 1);
    if (opts.kernels.length > 0) registerWasmTrainingKernels({ kernels: opts.kernels });
    else unregisterWasmTrainingKernels();
  } else {
    await useBackend('cpu');
  }
  const start = tf.memory().numTensors;
  const results: PresetResult[] = [];
  for (const id of opts.presets) {
    const result = await profilePreset(id, opts);
    results.push(result);
    printResult(result, threads, opts.backend);
  }
  const leaked = tf.memory().numTensors - start;
  if (leaked !== 0) log(`warning: ${leaked} tensors left`);
  if (opts.json != null) {
    const doc = { date: new Date().toISOString(), machine: machineFacts(), backend: opts.backend, threads, kernels: opts.kernels, load: loadAverageLine(), results };
    await writeFileAtomic(opts.json, JSON.stringify(doc, null, 2));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
