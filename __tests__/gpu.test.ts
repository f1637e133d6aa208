/**
 * The GPU command (scripts/gpu): its plan, time budget, command lines, driver-manifest choices and
 * summaries; `train --max-seconds`; doctor's pointer to the CUDA facts in docs/GPU.md; and the
 * orchestrator's own failure path (no WebGPU: it stops after the probe, with its output folder).
 * The full run on a (software) Vulkan adapter is scripts/gpu/rehearse.sh, not part of CI.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InvalidArgumentError } from '../lib/errors';
import { CUDA_DOCS_LINK, TFJS_NODE_GPU_NEEDS, explainNativeLoadError, loadNativeTensorflow, TFJS_NODE_GPU } from '../lib/backends/native';
import { resolvePackageDir } from '../lib/runtime';
import {
  DEFAULT_PLAN_STEPS,
  GRACE_SECONDS,
  MAX_OUTPUT_FILES,
  MIN_STEP_SECONDS,
  STEP_IDS,
  allot,
  compareRuns,
  comparisonCells,
  deviceSlug,
  laterReserve,
  mappedLibraries,
  outputFileNames,
  outputProblems,
  parseIcdManifest,
  planSteps,
  runNumbers,
  selectSteps,
  soVersion,
  summarizeKernels,
  torchArgs,
  trainArgs,
  travelTotal,
  vulkanCandidates,
} from '../scripts/gpu/plan';
import { GPU_PRESET_RECORDS, GPU_PROFILE, GPU_SUMMARY, GpuProfile, GpuSummary, WasmRecords, gpuComparison, gpuPresets, gpuProfile, gpuVersusWasm } from '../scripts/gpu/gpu-results';
import * as tf from '@tensorflow/tfjs';
import { predictDigits, predictDigitsAsync } from '../lib/io/digits';
import { PRESET_IDS, PresetId, getPreset } from '../lib/recipes';
import { runNode } from './helpers/run-node';
import { MNIST_DIR, smallMnist } from './helpers/mnist';
import { describeWithMnist, itWithMnist } from './helpers/needs-mnist';

/** Why the GPU command's own runs skip without the full MNIST: it trains on the folder of the official .gz files. */
const GPU_DATA = 'the GPU command trains on the folder of the official .gz files (--data-dir or MNIST_DIR)';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist/lib/cli/main.js');
const GPU_RUN = path.join(ROOT, 'dist/scripts/gpu/gpu-run.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-gpu-test-'));

const run = (file: string, args: string[], env: Record<string, string> = {}) => runNode(file, args, { env });

beforeAll(() => {
  for (const f of [CLI, GPU_RUN]) if (!fs.existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\``);
});

describe('the plan', () => {
  const steps = planSteps();

  test('runs the comparison first, the profile next, and the long runs last, webgpu taking what is left', () => {
    expect(steps.map((s) => s.id)).toEqual([
      'probe',
      'doctor',
      'webgpu-two-layer-net',
      'webgpu-cnn',
      'torch-two-layer-net',
      'torch-cnn',
      'webgpu-cnn-profile',
      'torch-cnn-long',
      'webgpu-cnn-long',
    ]);
    const byId = Object.fromEntries(steps.map((s) => [s.id, s]));
    expect(byId['webgpu-two-layer-net']).toMatchObject({ model: 'two-layer-net', steps: 10_000, timeBounded: false });
    expect(byId['webgpu-cnn']).toMatchObject({ model: 'cnn', steps: 1_000 });
    expect(byId['webgpu-cnn-long']).toMatchObject({ model: 'cnn', steps: 20_000, timeBounded: true, checkpoint: true, capSeconds: Infinity });
    expect(byId['torch-cnn-long']).toMatchObject({ kind: 'torch', steps: 20_000, timeBounded: true });
  });

  test('a reference backend adds the same short runs after each webgpu one', () => {
    const ids = planSteps(DEFAULT_PLAN_STEPS, 'wasm').map((s) => s.id);
    expect(ids.indexOf('reference-two-layer-net')).toBe(ids.indexOf('webgpu-two-layer-net') + 1);
    expect(ids.indexOf('reference-cnn')).toBe(ids.indexOf('webgpu-cnn') + 1);
    expect(planSteps(DEFAULT_PLAN_STEPS, 'wasm').find((s) => s.id === 'reference-cnn')).toMatchObject({ backend: 'wasm', output: 'logs', steps: 1_000 });
  });

  test('--only and --skip keep the probe and reject unknown steps by flag', () => {
    expect(selectSteps(steps, ['doctor']).map((s) => s.id)).toEqual(['probe', 'doctor']);
    expect(selectSteps(steps, undefined, ['webgpu-cnn-long', 'torch-cnn-long']).map((s) => s.id)).not.toContain('webgpu-cnn-long');
    expect(() => selectSteps(steps, ['doctr'])).toThrow(InvalidArgumentError);
    expect(() => selectSteps(steps, ['doctr'])).toThrow(/--only.*doctr/);
    expect(() => selectSteps(steps, undefined, ['nope'])).toThrow(/--skip/);
    expect(STEP_IDS).toContain('reference-cnn');
  });

  test('each step gets its cap, never the time held back for later steps or the grace period', () => {
    const doctor = steps[1];
    expect(allot(doctor, 500, 100)).toEqual({ timeoutSeconds: 60 });
    expect(allot(doctor, 100 + 100 + GRACE_SECONDS + 30, 100)).toEqual({ timeoutSeconds: 60 });
    expect(allot(doctor, 100 + GRACE_SECONDS + 30, 100)).toEqual({ timeoutSeconds: 30 });
    expect(allot(doctor, 100 + GRACE_SECONDS + MIN_STEP_SECONDS - 1, 100)).toBeUndefined();
    const long = steps[steps.length - 1];
    const a = allot(long, 400, 0);
    expect(a?.timeoutSeconds).toBe(400 - GRACE_SECONDS);
    // Training time excludes loading, evaluation and the final test pass: it gets less than the timeout.
    expect(a?.maxSeconds).toBe(Math.floor(355 - 20 - 0.15 * 355));
    expect(laterReserve(steps, steps.length - 1)).toBe(0);
    expect(laterReserve(steps, 0)).toBe(steps.slice(1).reduce((s, x) => s + x.reserveSeconds, 0));
  });

  test('the default plan fits one 10-minute device command when the GPU is fast', () => {
    const budget = 540;
    const reserves = steps.reduce((s, x) => s + x.reserveSeconds, 0);
    expect(reserves + GRACE_SECONDS).toBeLessThan(budget);
  });

  test('command lines: train with --max-seconds and --save, the peer with its planned flags', () => {
    const byId = Object.fromEntries(steps.map((s) => [s.id, s]));
    const settings = { seed: 7, dataDir: '/data', limit: 100, batchSize: 10 };
    expect(trainArgs(byId['webgpu-cnn-long'], settings, 'webgpu', { timeoutSeconds: 300, maxSeconds: 235 }, '/ckpt')).toEqual([
      'train', '--model', 'cnn', '--steps', '20000', '--seed', '7', '--backend', 'webgpu', '--data-dir', '/data', '--json',
      '--max-seconds', '235', '--limit', '100', '--batch-size', '10', '--save', '/ckpt',
    ]);
    expect(torchArgs(byId['torch-cnn'], { seed: 1, dataDir: '/d' }, 'cuda', { timeoutSeconds: 90 })).toEqual([
      '--recipe', 'cnn', '--device', 'cuda', '--steps', '1000', '--seed', '1', '--data-dir', '/d', '--json',
    ]);
    expect(torchArgs(byId['torch-two-layer-net'], settings, 'cpu', { timeoutSeconds: 90 }).slice(-2)).toEqual(['--limit', '100']);
    expect(torchArgs(byId['torch-cnn-long'], { seed: 1, dataDir: '/d' }, 'cuda', { timeoutSeconds: 90, maxSeconds: 56 })).toContain('--max-seconds');
    expect(() => trainArgs(byId.doctor, settings, 'webgpu', { timeoutSeconds: 1 })).toThrow(/not a training step/);
  });
});

describe('names and limits of the output folder', () => {
  test.each([
    ['NVIDIA H100 80GB HBM3', 'h100'],
    ['NVIDIA H200', 'h200'],
    ['NVIDIA A100-SXM4-80GB', 'a100'],
    ['NVIDIA L40S', 'l40s'],
    ['Tesla T4', 't4'],
    ['NVIDIA GeForce RTX 4090', 'rtx4090'],
    ['llvmpipe-llvm-15-0-6-256-bits-', 'llvmpipe'],
    ['', 'device'],
  ])('%j -> %s', (name, slug) => expect(deviceSlug(name)).toBe(slug));

  test('eight files, each named for the device, framework and what it holds, all of which come back', () => {
    const names = outputFileNames('h100', 'cuda');
    expect(Object.keys(names)).toHaveLength(MAX_OUTPUT_FILES);
    expect(names['webgpu-cnn']).toBe('h100-webgpu-cnn.json');
    expect(names.torch).toBe('h100-torch-cuda.json');
    expect(outputProblems(Object.values(names).map((name) => ({ name, bytes: 1000 })))).toEqual([]);
  });

  test('gpu-run label: the name `run` gives its files, from a stand-in nvidia-smi; exit 1 with the reason when it fails', () => {
    const smi = (script: string) => {
      const dir = tmp();
      fs.writeFileSync(path.join(dir, 'nvidia-smi'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
      return run(GPU_RUN, ['label'], { PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}` });
    };
    const h100 = smi("echo 'NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB'");
    expect([h100.code, h100.stdout]).toEqual([0, 'h100\n']);
    const broken = smi("echo 'NVIDIA-SMI has failed' >&2; exit 9");
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^gpu-run label: nvidia-smi failed: NVIDIA-SMI has failed/);
  });

  test('what the device tool would not bring back is named', () => {
    const files = Array.from({ length: 9 }, (_, i) => ({ name: `f${i}.json`, bytes: 10 }));
    expect(outputProblems(files)).toEqual([expect.stringMatching(/9 files/)]);
    expect(outputProblems([{ name: 'big.json', bytes: 17 * 2 ** 20 }])).toEqual([expect.stringMatching(/big.json is 17.0 MiB/)]);
    expect(outputProblems([{ name: 'a b.json', bytes: 1 }])).toEqual([expect.stringMatching(/a b.json/)]);
    expect(travelTotal([{ path: 'a', bytes: 63 * 2 ** 20 }, { path: 'b', bytes: 2 ** 20 }])).toMatchObject({ bytes: 64 * 2 ** 20, fits: false });
    expect(travelTotal([{ path: 'a', bytes: 1 }]).fits).toBe(true);
  });
});

describe('Vulkan driver manifests', () => {
  const glx = parseIcdManifest('/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json', JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: 'libGLX_nvidia.so.0', api_version: '1.4.312' } }));
  const lvp = parseIcdManifest('/r/usr/share/vulkan/icd.d/lvp_icd.json', '{"ICD": {"library_path": "libvulkan_lvp.so", "api_version": "1.4.305"}}');

  test('reads the library and API version; anything else is not a manifest', () => {
    expect(glx).toEqual({ file: '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json', libraryPath: 'libGLX_nvidia.so.0', apiVersion: '1.4.312' });
    expect(parseIcdManifest('x', '{"layer": {}}')).toBeUndefined();
    expect(parseIcdManifest('x', 'not json')).toBeUndefined();
  });

  test('the loader first, then NVIDIA by name, then NVIDIA through EGL, then the rest', () => {
    const c = vulkanCandidates([lvp!, glx!], {}, { workDir: '/w', eglVendorFile: '/egl/10_nvidia.json' });
    expect(c.map((x) => x.name)).toEqual([
      "the Vulkan loader's own search",
      expect.stringMatching(/^NVIDIA manifest .*nvidia_icd.json/),
      expect.stringMatching(/^NVIDIA through EGL/),
      expect.stringMatching(/^manifest .*lvp_icd.json/),
    ]);
    expect(c[1].env).toEqual({ VK_DRIVER_FILES: glx!.file, __EGL_VENDOR_LIBRARY_FILENAMES: '/egl/10_nvidia.json' });
    expect(c[2].write?.file).toBe('/w/nvidia_icd_egl_0.json');
    expect(JSON.parse(c[2].write!.text)).toEqual({ file_format_version: '1.0.0', ICD: { library_path: 'libEGL_nvidia.so.0', api_version: '1.4.312' } });
    expect(c[2].env.VK_DRIVER_FILES).toBe('/w/nvidia_icd_egl_0.json');
  });

  test('a driver the user named is the only one tried', () => {
    const c = vulkanCandidates([lvp!, glx!], { VK_DRIVER_FILES: '/mine.json' }, { workDir: '/w' });
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ env: {}, name: expect.stringContaining('/mine.json') });
  });

  test('which loader and driver a process mapped, and the loader version', () => {
    const maps = [
      '7f1e6b503000-7f1e6b504000 r--p 00000000 fd:00 123 /usr/lib/x86_64-linux-gnu/libvulkan.so.1.3.239',
      '7f1e6b504000-7f1e6b505000 r-xp 00001000 fd:00 123 /usr/lib/x86_64-linux-gnu/libvulkan.so.1.3.239',
      '7f1e6b600000-7f1e6b700000 r-xp 00000000 fd:00 124 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.580.159.04',
      '7f1e6b800000-7f1e6b900000 r-xp 00000000 fd:00 125 /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0 [stack]',
    ].join('\n');
    const libs = mappedLibraries(maps, /libvulkan|nvidia/);
    expect(libs).toEqual(['/usr/lib/x86_64-linux-gnu/libvulkan.so.1.3.239', '/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.580.159.04']);
    expect(soVersion(libs[0])).toBe('1.3.239');
    expect(soVersion('/x/libvulkan_lvp.so')).toBeUndefined();
  });
});

describe('summaries', () => {
  test('kernels grouped, slowest total first, with shares, programs and the slowest call\'s shapes', () => {
    const s = summarizeKernels([
      { name: 'Conv2DBackpropFilter', bytesAdded: 100, kernelTimeMs: 6, extraInfo: 'Conv2DDerFilterProgram: 6', inputShapes: [[50, 14, 14, 32]] },
      { name: 'Add', bytesAdded: 4, kernelTimeMs: 0.5, extraInfo: 'BinaryOpProgram: 0.5' },
      { name: 'Conv2DBackpropFilter', bytesAdded: 100, kernelTimeMs: 2, extraInfo: 'Conv2DDerFilterProgram: 2', inputShapes: [[50, 28, 28, 1]] },
      { name: 'Add', bytesAdded: 4, kernelTimeMs: 1.5, extraInfo: 'BinaryOpProgram: 1.5' },
      { name: 'Sum', bytesAdded: 0, kernelTimeMs: { error: 'x' }, extraInfo: 'ReduceProgram: 0, TransposeProgram: 0' },
    ]);
    expect(s.totalMs).toBe(10);
    expect(s.calls).toBe(5);
    expect(s.kernels.map((k) => [k.kernel, k.calls, k.totalMs])).toEqual([['Conv2DBackpropFilter', 2, 8], ['Add', 2, 2], ['Sum', 1, 0]]);
    expect(s.kernels[0]).toMatchObject({ meanMs: 4, share: 0.8, bytesAdded: 200, programs: ['Conv2DDerFilterProgram'], slowestInputShapes: [[50, 14, 14, 32]] });
    expect(s.kernels[2].programs).toEqual(['ReduceProgram', 'TransposeProgram']);
    expect(summarizeKernels([{ name: 'A', bytesAdded: 0, kernelTimeMs: 0 }]).kernels[0].share).toBe(0);
  });

  test('a run\'s numbers from train --json and from a snake_case peer', () => {
    expect(runNumbers({ steps: 1000, samplesPerSec: 2000, testAccuracy: 0.96, history: { loss: [2.3, 0.4] }, seconds: 30, stopped: 'completed' })).toEqual({
      steps: 1000, samplesPerSec: 2000, epochSeconds: 30, testAccuracy: 0.96, finalLoss: 0.4, seconds: 30, stopped: 'completed',
    });
    // The peer's document: {environment, data, results: [one run]}.
    const peer = { environment: { torch: '2.11.0' }, results: [{ steps: 10, samples_per_sec: 100, seconds_per_epoch: 0.6, test_accuracy: 0.9, final_loss: 0.3, wall_seconds: 4, train_seconds: 1, stopped: 'time-limit' }] };
    expect(runNumbers(peer)).toEqual({ steps: 10, samplesPerSec: 100, epochSeconds: 600, testAccuracy: 0.9, finalLoss: 0.3, seconds: 4, stopped: 'time-limit' });
    expect(runNumbers({ steps: 10, seconds_per_epoch: 42 }).epochSeconds).toBe(42);
    expect(runNumbers(undefined)).toEqual({});
  });

  test('webgpu against the reference: accuracy in points, largest loss gap, whether both losses fell, same steps', () => {
    const ref = { steps: 20, testAccuracy: 0.5, history: { loss: Array.from({ length: 20 }, (_, i) => 2.3 - i * 0.05) } };
    const run = { steps: 20, testAccuracy: 0.503, history: { loss: ref.history.loss.map((l, i) => l + (i === 7 ? 1e-4 : 0)) } };
    const c = compareRuns(run, ref);
    expect(c.sameSteps).toBe(true);
    expect(c.lossSteps).toBe(20);
    expect(c.testAccuracy.differencePoints).toBeCloseTo(0.3, 6);
    expect(c.maxLossDifference).toBeCloseTo(1e-4, 9);
    expect(c.lossFell).toEqual({ run: true, reference: true });
    const cut = compareRuns({ steps: 1, testAccuracy: 0.1, history: { loss: [2.3] } }, ref);
    expect(cut).toMatchObject({ sameSteps: false, steps: { run: 1, reference: 20 }, lossSteps: 1, lossFell: { run: false } });
  });
});

describe('the GPU records in the docs', () => {
  const summary = (): GpuSummary => ({
    date: '2026-12-04T17:02:35.348Z',
    device: 'NVIDIA H200',
    versions: { node: '20.20.2', tfjs: '4.22.0', 'tfjs-backend-webgpu': '4.22.0', 'webgpu (dawn.node)': '0.6.2', nvidiaDriver: '580', vulkanLoader: '1.3.239', torch: { torch: '2.11.0', cuda: '13.0', cudnn: 91900, tf32: false } },
    table: [
      { framework: 'tf.js webgpu', recipe: 'cnn', steps: 1000, samplesPerSec: 9000, epochSeconds: 6.6, testAccuracy: 0.9634, finalLoss: 0.15, seconds: 6 },
      { framework: 'PyTorch cuda', recipe: 'cnn', steps: 1000, samplesPerSec: 15000, epochSeconds: 4, testAccuracy: 0.9662, finalLoss: 0.06, seconds: 5 },
      { framework: 'tf.js webgpu', recipe: 'cnn (long)', steps: 20000, samplesPerSec: 9000, epochSeconds: 6.6, testAccuracy: 0.9923, finalLoss: 0.01, seconds: 119.7 },
      { framework: 'PyTorch cuda', recipe: 'cnn (long)', steps: 20000, samplesPerSec: 15000, epochSeconds: 4, testAccuracy: 0.9919, finalLoss: 0.003, seconds: 67 },
    ],
    seconds: 275,
  });
  const wasm: WasmRecords = { recipe: (id: PresetId) => `wasm/${id}.json`, cnn20k: 'wasm/cnn-20k.json' };
  const run = (steps: number, samplesPerSec: number, testAccuracy: number, stopped = 'completed') => ({ steps, samplesPerSec, testAccuracy, stopped, seconds: 10 });
  /** Every preset 1,000 steps at 1,000 samples/s on wasm; on the GPU as `gpu` says (default: the same). */
  const records = (gpu: Partial<Record<PresetId, ReturnType<typeof run>>> = {}, s = summary()): Record<string, unknown> => ({
    [GPU_SUMMARY]: s,
    [wasm.cnn20k]: { ...run(20000, 300, 0.9916), seconds: 2763 },
    ...Object.fromEntries(PRESET_IDS.flatMap((id) => [[GPU_PRESET_RECORDS[id], gpu[id] ?? run(1000, 1000, 0.95)], [wasm.recipe(id), run(1000, 1000, 0.95)]])),
  });
  const reader = (files: Record<string, unknown>) => <T,>(file: string): T => {
    if (!(file in files)) throw new Error(`unexpected record ${file}`);
    return files[file] as T;
  };

  test('cells: fixed digits per column, accuracy in percent, a dash where a number is missing', () => {
    expect(comparisonCells([{ framework: 'tf.js webgpu', recipe: 'cnn', steps: 1000, samplesPerSec: 9028.6, epochSeconds: 6.645, testAccuracy: 0.9634, finalLoss: 0.15319 }])).toEqual([
      ['tf.js webgpu', 'cnn', '1000', '9029', '6.6', '96.34', '0.1532'],
    ]);
    expect(comparisonCells([{ framework: 'PyTorch cuda', recipe: 'cnn' }])[0]!.slice(2)).toEqual(['-', '-', '-', '-', '-']);
  });

  test('the comparison gives each recipe\'s epoch ratio and the versions, and names the record when a side is missing', () => {
    const text = gpuComparison(reader(records()));
    expect(text).toContain('cnn 1.65x');
    expect(text).toContain('PyTorch 2.11.0 (CUDA 13.0, cuDNN 9.19.0, TF32 off)');
    const oneSided = summary();
    oneSided.table = oneSided.table.slice(0, 1);
    expect(() => gpuComparison(reader(records({}, oneSided)))).toThrow(`${GPU_SUMMARY}: no torch row for cnn`);
  });

  test('presets: a whole recipe gets its difference in points, a cut one its length and no difference', () => {
    const text = gpuPresets(reader(records({ cnn: run(1000, 30000, 0.9634), 'mse-mlp': run(400, 100, 0.9, 'time-limit') })), wasm);
    const line = (id: string) => text.split('\n').find((l) => l.startsWith(`| \`${id}\``))!;
    expect(line('cnn')).toMatch(/1,000 \(whole recipe\) +\| +96\.34% \| +95\.00% \| +\+1\.34 pp \| +30,000 \| +1,000 \|/);
    expect(line('mse-mlp')).toMatch(/400 of 1,000 \(time-limit\) +\| +90\.00% \| +95\.00% \| +- \|/);
    expect(text).toContain('20,000 steps (the TF tutorial\'s length): 99.23% on webgpu in 120 s, against 99.16% on wasm (46m 03s');
  });

  test('against wasm: faster, about even and slower presets, each with its ratio', () => {
    const text = gpuVersusWasm(reader(records({ cnn: run(1000, 26000, 0.96), 'deep-mlp': run(1000, 1020, 0.96), mlp: run(1000, 400, 0.93) })), wasm);
    expect(text).toMatch(/: cnn 26x faster; deep-mlp 1\.0x(, \S+ 1\.0x)* about even; mlp 0\.4x, so slower:/);
  });

  test('the profile: GPU ms per step and their share of the run\'s step; refused without timestamp queries', () => {
    const profile: GpuProfile = {
      model: 'cnn', batchSize: 50, steps: 5, timestampQuery: true, profiledKernelMs: 5, programsPerStep: 22, dispatchesPerStep: 31, kernelCallsPerStep: 30,
      kernels: [{ kernel: 'Conv2DBackpropFilter', calls: 10, gpuCalls: 10, dispatches: 20, totalMs: 2.5, meanMs: 0.25, share: 0.5, bytesAdded: 0, programs: ['A', 'B'] }],
    };
    // 50 images at 9,000 samples/s: 5.56 ms a step, of which 1 ms is kernel time.
    const text = gpuProfile(reader({ [GPU_PROFILE]: profile, [GPU_SUMMARY]: summary() }));
    expect(text).toMatch(/\| `Conv2DBackpropFilter` \| +2\.0 \| +4\.0 \| +0\.500 \| +50% \| A, B +\|/);
    expect(text).toContain('1.00 ms of GPU kernel time per step');
    expect(text).toContain('5.56 ms per step: 18% of the step is GPU kernel time');
    expect(() => gpuProfile(reader({ [GPU_PROFILE]: { ...profile, timestampQuery: false }, [GPU_SUMMARY]: summary() }))).toThrow('recorded without timestamp queries');
  });
});

describe('train --max-seconds', () => {
  test('is in --help', () => {
    const r = run(CLI, ['train', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--max-seconds\s+Stop after this much training time/);
  });

  test.each([['0'], ['-3'], ['soon']])('--max-seconds %s exits 2 naming the flag', (value) => {
    const r = run(CLI, ['train', '--model', 'two-layer-net', '--max-seconds', value, '--limit', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--max-seconds: must be a positive number/);
  });

  test('stops training at the budget, says so, and still evaluates', () => {
    const r = run(CLI, ['train', '--model', 'two-layer-net', '--steps', '1000000', '--max-seconds', '1', '--limit', '2000', '--log-interval', '0', '--backend', 'wasm', '--seed', '3', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stopped: string; steps: number; trainSeconds: number; testAccuracy: number; testSamples: number };
    expect(out.stopped).toBe('time-limit');
    expect(out.steps).toBeGreaterThan(10);
    expect(out.steps).toBeLessThan(1_000_000);
    // Where within the budget it stops is training.test.ts's, on a clock of its own: a loaded machine can stretch the last step.
    expect(out.trainSeconds).toBeGreaterThanOrEqual(1);
    expect(out.testSamples).toBe(2000);
    const text = run(CLI, ['train', '--model', 'two-layer-net', '--steps', '1000000', '--max-seconds', '0.5', '--limit', '500', '--log-interval', '0', '--backend', 'wasm']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\(stopped by --max-seconds 0.5\)/);
  });

  itWithMnist(GPU_DATA, 'the GPU command\'s train arguments are ones the CLI takes (wasm here), checkpoint included', () => {
    const dir = tmp();
    const step = planSteps({ ...DEFAULT_PLAN_STEPS, cnnLong: 5 }).find((s) => s.id === 'webgpu-cnn-long')!;
    const args = trainArgs(step, { seed: 1, dataDir: MNIST_DIR, limit: 200, batchSize: 10 }, 'wasm', { timeoutSeconds: 60, maxSeconds: 30 }, path.join(dir, 'ckpt'));
    const r = run(CLI, args);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { steps: number; stopped: string; savedTo: string; hyperparameters: { batchSize: number } };
    expect(out).toMatchObject({ steps: 5, stopped: 'completed', savedTo: path.join(dir, 'ckpt'), hyperparameters: { batchSize: 10 } });
    expect(fs.existsSync(path.join(dir, 'ckpt', 'model.json'))).toBe(true);
  });
});

describe('doctor points CUDA users at the upstream facts', () => {
  const anchors = () => {
    const md = fs.readFileSync(path.join(ROOT, 'docs/GPU.md'), 'utf8');
    // GitHub's anchors: lower case, punctuation other than '-' dropped, spaces to '-'.
    return md.split('\n').filter((l) => /^#{1,6} /.test(l)).map((l) => l.replace(/^#+ /, '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-'));
  };

  test('the link names a section of docs/GPU.md that cites the upstream threads', () => {
    const [file, anchor] = CUDA_DOCS_LINK.split('#');
    expect(file).toBe('docs/GPU.md');
    expect(anchors()).toContain(anchor);
    const md = fs.readFileSync(path.join(ROOT, 'docs/GPU.md'), 'utf8');
    const section = md.slice(md.indexOf('## CUDA through tfjs-node-gpu'));
    for (const n of ['8362', '8269', '8742', '8611']) expect(section).toContain(`https://github.com/tensorflow/tfjs/issues/${n}`);
  });

  test('every tfjs-node-gpu reason carries the exact versions and the link', async () => {
    expect(TFJS_NODE_GPU_NEEDS).toMatch(/exactly CUDA 11\.2 and cuDNN 8\.1 \(not CUDA 12\).*docs\/GPU\.md#cuda-through-tfjs-node-gpu-what-upstream-supports$/);
    expect(explainNativeLoadError('libcudnn.so.8: cannot open shared object file').reason).toContain(CUDA_DOCS_LINK);
    // Here as on a CUDA host: whether the package is installed is decided by npm, independently of the loader.
    const installed = resolvePackageDir(TFJS_NODE_GPU) !== undefined;
    const load = await loadNativeTensorflow(TFJS_NODE_GPU);
    expect(load.installed).toBe(installed);
    if (!installed) expect(load.reason).toBe(`not installed (npm i @tensorflow/tfjs-node-gpu@${tf.version_core}; not installed by default; exactly CUDA 11.2 + cuDNN 8.1, see ${CUDA_DOCS_LINK})`);
    else if (!load.loaded) expect(load.reason).toMatch(/^(failed to load: |loaded, but )/);
    else expect(load.reason).toBeUndefined();
  });

  test('doctor --json shows it on the tensorflow tier', () => {
    const r = run(CLI, ['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { backends: Array<{ name: string; package?: string; available: boolean; reason: string }> };
    const gpuTier = report.backends.find((b) => b.package === '@tensorflow/tfjs-node-gpu');
    expect(gpuTier).toMatchObject({ name: 'tensorflow' });
    if (resolvePackageDir(TFJS_NODE_GPU) === undefined) expect(gpuTier!.reason).toBe(`not installed (npm i @tensorflow/tfjs-node-gpu@4.22.0; not installed by default; exactly CUDA 11.2 + cuDNN 8.1, see ${CUDA_DOCS_LINK})`);
    else if (!gpuTier!.available) expect(gpuTier!.reason).toMatch(/^(failed to load: |loaded, but )/);
    else expect(gpuTier!.reason).toMatch(/with CUDA on /);
  });
});

describe('reads webgpu can do under Node', () => {
  test('predictDigitsAsync gives what predictDigits gives, with no synchronous read and no tensor left', async () => {
    await tf.setBackend('cpu');
    const data = await smallMnist('unit', 10, 10);
    const images = Array.from({ length: 4 }, (_, i) => Uint8Array.from(data.test.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
    for (const id of ['two-layer-net', 'cnn']) {
      const preset = getPreset(id);
      const model = preset.build({ seed: 5 });
      const meta = { normalization: preset.recipe.normalization, loss: preset.recipe.loss };
      const before = tf.memory().numTensors;
      const spy = jest.spyOn(tf.Tensor.prototype, 'arraySync');
      const async = await predictDigitsAsync(model, images, meta);
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
      expect(tf.memory().numTensors).toBe(before);
      expect(async).toEqual(predictDigits(model, images, meta));
      expect(async).toHaveLength(4);
      expect(await predictDigitsAsync(model, [], meta)).toEqual([]);
      model.dispose();
    }
  });
});

describeWithMnist(GPU_DATA, 'gpu-run', () => {
  test('usage errors name the flag and exit 2', () => {
    const out = tmp();
    const bad = run(GPU_RUN, ['run', '--out', out, '--torch-device', 'tpu']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--torch-device: must be one of cuda, cpu, got "tpu"/);
    fs.writeFileSync(path.join(out, 'old.json'), '{}');
    const full = run(GPU_RUN, ['run', '--out', out]);
    expect(full.code).toBe(2);
    expect(full.stderr).toMatch(/--out: .* is not empty/);
    expect(run(GPU_RUN, ['run', '--out', tmp(), '--only', 'trian']).stderr).toMatch(/--only: unknown step trian/);
    expect(run(GPU_RUN, ['nonsense']).code).toBe(2);
  });

  test('without WebGPU it stops after the probe with a clear message, and still writes its summary and logs', () => {
    const out = path.join(tmp(), 'out');
    const gl = tmp();
    fs.writeFileSync(path.join(gl, 'broken.deb'), 'not a package');
    const r = run(GPU_RUN, ['run', '--out', out, '--work', tmp(), '--gl', gl, '--gl-root', tmp(), '--torch-device', 'cpu', '--label', 'nogpu'], {
      MNIST_NETS_DAWN_NODE: '/nonexistent/dawn.node',
    });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/STOP: WebGPU has no usable adapter here, so no training ran/);
    expect(r.stdout).toMatch(/MNIST_NETS_DAWN_NODE=\/nonexistent\/dawn.node does not exist/);
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(['nogpu-logs.tar.gz', 'nogpu-summary.json']);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'nogpu-summary.json'), 'utf8')) as {
      probe: { attempts: Array<{ ok: boolean; reason: string }> };
      steps: Array<{ id: string; status: string }>;
      versions: Record<string, string>;
    };
    expect(summary.probe.attempts.length).toBeGreaterThan(0);
    expect(summary.probe.attempts.every((a) => !a.ok)).toBe(true);
    expect(summary.steps).toEqual([expect.objectContaining({ id: 'probe', status: 'failed' })]);
    expect(summary.versions).toMatchObject({ tfjs: '4.22.0', 'tfjs-backend-webgpu': '4.22.0' });
    // A package that will not unpack is reported, and the probe still runs.
    expect((summary as unknown as { vulkanSetup: { skipped: string } }).vulkanSetup.skipped).toMatch(/unpacking failed: .*broken.deb/);
    const listing = spawnSync('tar', ['-tzf', path.join(out, 'nogpu-logs.tar.gz')], { encoding: 'utf8' }).stdout;
    expect(listing).toMatch(/logs\/probe.log/);
    expect(listing).toMatch(/logs\/summary.json/);
  });
});
