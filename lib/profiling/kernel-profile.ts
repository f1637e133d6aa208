/**
 * What tf.profile says about a stretch of work, summed per kernel, and how many GPU programs it
 * dispatched: the count that sets a WebGPU training step's floor (each dispatch costs some
 * microseconds before any arithmetic). Platform-neutral: the GPU scripts (scripts/gpu/), the
 * tests and the browser demo count the same way.
 *
 * tfjs-backend-webgpu names, in each kernel call's `extraInfo`, every program that call dispatched
 * (`"Conv2DDerFilterProgram: 1.2, TransposeProgram: 0.1"`, GPU milliseconds after each, 0 without
 * timestamp queries). Calls that only relabel a buffer (Identity, Reshape, a same-type Cast) name
 * none. Other backends give no such list, so their program count is 0.
 */
import * as tf from '@tensorflow/tfjs';
import { checkPositiveInt } from '../checks';

/** One kernel call as tf.profile reports it (after its promises are resolved). */
export interface ProfiledKernel {
  name: string;
  bytesAdded: number;
  kernelTimeMs: number | { error: string };
  extraInfo?: string;
  inputShapes?: number[][];
  outputShapes?: number[][];
}

/** All calls of one kernel, summed. */
export interface KernelSummary {
  kernel: string;
  calls: number;
  /** Calls that dispatched at least one GPU program. */
  gpuCalls: number;
  /** GPU programs these calls dispatched, all told (a call may dispatch several, or none). */
  dispatches: number;
  totalMs: number;
  meanMs: number;
  /** Share of all profiled kernel time, 0..1. */
  share: number;
  bytesAdded: number;
  /** The GPU programs behind it (webgpu's extraInfo: `Conv2DDerFilterProgram: 1.2`). */
  programs: string[];
  /** Input shapes of its slowest call. */
  slowestInputShapes?: number[][];
}

/** A profile summed per kernel. */
export interface KernelProfileSummary {
  kernels: KernelSummary[];
  totalMs: number;
  /** Kernel calls. */
  calls: number;
  /** Kernel calls that dispatched at least one GPU program (issue 16's "GPU programs"). */
  gpuCalls: number;
  /** GPU programs dispatched by all calls (a Sum may dispatch a transpose and a reduction). */
  dispatches: number;
}

/** The names of the GPU programs one kernel call dispatched, in order, from its `extraInfo`. */
export function programsOf(extraInfo: string | undefined): string[] {
  return (extraInfo ?? '')
    .split(',')
    .map((x) => x.split(':')[0]!.trim())
    .filter((x) => x.length > 0);
}

/** Groups a profile's kernel calls by kernel, slowest total first (then most calls). */
export function summarizeKernels(kernels: readonly ProfiledKernel[]): KernelProfileSummary {
  const ms = (k: ProfiledKernel) => (typeof k.kernelTimeMs === 'number' && Number.isFinite(k.kernelTimeMs) ? k.kernelTimeMs : 0);
  const totalMs = kernels.reduce((sum, k) => sum + ms(k), 0);
  const groups = new Map<string, { calls: number; gpuCalls: number; dispatches: number; totalMs: number; bytesAdded: number; programs: Set<string>; slowest?: ProfiledKernel }>();
  for (const k of kernels) {
    const g = groups.get(k.name) ?? { calls: 0, gpuCalls: 0, dispatches: 0, totalMs: 0, bytesAdded: 0, programs: new Set<string>() };
    const ran = programsOf(k.extraInfo);
    g.calls++;
    if (ran.length > 0) g.gpuCalls++;
    g.dispatches += ran.length;
    g.totalMs += ms(k);
    g.bytesAdded += k.bytesAdded;
    for (const p of ran) g.programs.add(p);
    if (!g.slowest || ms(k) > ms(g.slowest)) g.slowest = k;
    groups.set(k.name, g);
  }
  const out = [...groups.entries()].map(([kernel, g]) => ({
    kernel,
    calls: g.calls,
    gpuCalls: g.gpuCalls,
    dispatches: g.dispatches,
    totalMs: g.totalMs,
    meanMs: g.totalMs / g.calls,
    share: totalMs > 0 ? g.totalMs / totalMs : 0,
    bytesAdded: g.bytesAdded,
    programs: [...g.programs].sort(),
    ...(g.slowest?.inputShapes ? { slowestInputShapes: g.slowest.inputShapes } : {}),
  }));
  out.sort((a, b) => b.totalMs - a.totalMs || b.calls - a.calls || a.kernel.localeCompare(b.kernel));
  const gpuCalls = out.reduce((n, g) => n + g.gpuCalls, 0);
  const dispatches = out.reduce((n, g) => n + g.dispatches, 0);
  return { kernels: out, totalMs, calls: kernels.length, gpuCalls, dispatches };
}

/** A profile of `steps` training steps, per step. */
export interface StepsProfile extends KernelProfileSummary {
  /** The backend the steps ran on. */
  backend: string;
  steps: number;
  kernelCallsPerStep: number;
  /**
   * Kernel calls per step that run a GPU program: issue 16's "GPU programs per step", which a
   * WebGPU step's launch overhead scales with (goal: at most 40 for cnn, 12 for two-layer-net).
   */
  programsPerStep: number;
  /** GPU programs dispatched per step, counting each of a call's programs. */
  dispatchesPerStep: number;
  newBytes: number;
  peakBytes: number;
}

/**
 * Runs `run` (which trains `steps` steps, e.g. `train(model, data, {...options, steps})`) under
 * tf.profile and divides by `steps`. Whatever `run` does once per call (creating the optimiser's
 * slots, reading the losses back) is spread over the steps, as in the GPU rehearsal's profile.
 * Profiling serialises the GPU work, so the times are not a plain run's; the counts are.
 */
export async function profileSteps(steps: number, run: () => Promise<unknown>): Promise<StepsProfile> {
  checkPositiveInt('steps', steps);
  const info = await tf.profile(() => run() as never);
  const kernels: ProfiledKernel[] = info.kernels.map((k) => ({
    name: k.name,
    bytesAdded: k.bytesAdded,
    kernelTimeMs: k.kernelTimeMs as ProfiledKernel['kernelTimeMs'],
    extraInfo: typeof k.extraInfo === 'string' ? k.extraInfo : undefined,
    inputShapes: k.inputShapes,
    outputShapes: k.outputShapes,
  }));
  const summary = summarizeKernels(kernels);
  return {
    backend: tf.getBackend(),
    steps,
    ...summary,
    kernelCallsPerStep: summary.calls / steps,
    programsPerStep: summary.gpuCalls / steps,
    dispatchesPerStep: summary.dispatches / steps,
    newBytes: info.newBytes,
    peakBytes: info.peakBytes,
  };
}
