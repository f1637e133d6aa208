/**
 * Training-step profile of the `cnn` recipe (batch 50, Adam 1e-4) and of the 784-50-10 net
 * (batch 100, sigmoid hidden layer, softmax output, SGD 0.1) on the wasm backend, with the
 * kernels of lib/kernels, and on the cpu backend for comparison. Prints samples/s and a
 * per-kernel time table (tf.profile) for each run. Data are random tensors of the real shapes:
 * the step's cost does not depend on the values.
 *
 *   npx tsc -p tsconfig.build.json --outDir build/tsc && node build/tsc/scripts/profile-cnn.js [options]
 *
 * Options (all optional):
 *   --cnn-steps N        timed cnn steps on wasm (default 20)
 *   --mlp-steps N        timed 784-50-10 steps on each backend (default 300)
 *   --cpu-cnn-steps N    timed cnn steps on cpu, ~140 s each here (default 1; 0 skips)
 *   --backends LIST      comma-separated, from wasm,cpu (default wasm,cpu)
 *   --kernels LIST       lib/kernels replacements to install on wasm: all, none, or names from
 *                        Conv2DBackpropFilter,Conv2DBackpropInput,BatchMatMul,_FusedMatMul,
 *                        MaxPoolGrad (default all)
 *   --threads N          wasm threads through enableWasmThreads (lib/kernels/threads.ts);
 *                        default 1: tfjs-backend-wasm's own single-threaded build
 *   --json FILE          also write the results as JSON
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  WASM_TRAINING_KERNELS,
  WasmTrainingKernel,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../lib/kernels';
import { enableWasmThreads } from '../lib/kernels/threads';

interface Options {
  cnnSteps: number;
  mlpSteps: number;
  cpuCnnSteps: number;
  backends: string[];
  kernels: WasmTrainingKernel[];
  threads: number;
  json?: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    cnnSteps: 20,
    mlpSteps: 300,
    cpuCnnSteps: 1,
    backends: ['wasm', 'cpu'],
    kernels: [...WASM_TRAINING_KERNELS],
    threads: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value == null) throw new Error(`${flag}: missing value`);
    i++;
    const int = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected a non-negative integer, got ${value}`);
      return n;
    };
    switch (flag) {
      case '--cnn-steps': opts.cnnSteps = int(); break;
      case '--mlp-steps': opts.mlpSteps = int(); break;
      case '--cpu-cnn-steps': opts.cpuCnnSteps = int(); break;
      case '--threads': opts.threads = int(); break;
      case '--json': opts.json = value; break;
      case '--backends': opts.backends = value.split(',').filter(Boolean); break;
      case '--kernels':
        if (value === 'all') opts.kernels = [...WASM_TRAINING_KERNELS];
        else if (value === 'none') opts.kernels = [];
        else opts.kernels = value.split(',').filter(Boolean) as WasmTrainingKernel[];
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return opts;
}

/** One network with its optimizer and a few batches of random data, ready to step. */
interface Net {
  name: string;
  batchSize: number;
  /** One training step; returns the loss, left on the device. */
  step(i: number): tf.Scalar;
  dispose(): void;
}

const DATA_BATCHES = 4;

function randomBatches(batchSize: number, inputShape: number[], classes: number): { xs: tf.Tensor[]; ys: tf.Tensor[] } {
  const xs: tf.Tensor[] = [];
  const ys: tf.Tensor[] = [];
  for (let i = 0; i < DATA_BATCHES; i++) {
    xs.push(tf.randomUniform([batchSize, ...inputShape], 0, 1, 'float32', 1000 + i));
    ys.push(tf.tidy(() => tf.oneHot(tf.randomUniform([batchSize], 0, classes, 'int32', 2000 + i), classes).toFloat()));
  }
  return { xs, ys };
}

function makeStepper(
  name: string,
  batchSize: number,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  inputShape: number[],
): Net {
  const { xs, ys } = randomBatches(batchSize, inputShape, 10);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    name,
    batchSize,
    step(i: number): tf.Scalar {
      const x = xs[i % DATA_BATCHES]!;
      const y = ys[i % DATA_BATCHES]!;
      return tf.tidy(() => {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
          true,
          vars,
        );
        if (loss == null) throw new Error('optimizer.minimize returned no loss');
        return loss;
      });
    },
    dispose(): void {
      tf.dispose([...xs, ...ys]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** The `cnn` recipe (TensorFlow "Deep MNIST"): the layers lib/models/cnn.ts builds. */
function buildCnnNet(): Net {
  const init = tf.initializers.truncatedNormal({ stddev: 0.1, seed: 1 });
  const bias = tf.initializers.constant({ value: 0.1 });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init, biasInitializer: bias }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init, biasInitializer: bias }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 1024, activation: 'relu', kernelInitializer: init, biasInitializer: bias }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10, kernelInitializer: init, biasInitializer: bias }),
    ],
  });
  return makeStepper('cnn (batch 50, Adam)', 50, model, tf.train.adam(1e-4), [28, 28, 1]);
}

/**
 * 784-50-10 with sigmoid hidden units. The softmax of the output layer is folded into the
 * loss (softmaxCrossEntropy on logits), which is the same function with one kernel less.
 */
function buildMlpNet(): Net {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 50, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  return makeStepper('784-50-10 (batch 100, SGD)', 100, model, tf.train.sgd(0.1), [784]);
}

interface KernelRow {
  kernel: string;
  calls: number;
  ms: number;
}

interface RunResult {
  net: string;
  backend: string;
  kernels: string[];
  threads: number;
  steps: number;
  /** Mean over the timed steps (what samples/s is computed from). */
  msPerStep: number;
  /** Median and fastest step: the machine is shared, and these show how much noise it added. */
  medianMsPerStep: number;
  minMsPerStep: number;
  samplesPerSecond: number;
  profiledMsPerStep: number;
  kernelMsPerStep: number;
  table: KernelRow[];
  finalLoss: number;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function profileSteps(net: Net, first: number, count: number): Promise<{ rows: KernelRow[]; wallMs: number }> {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    for (let i = 0; i < count; i++) net.step(first + i).dispose();
  });
  const wallMs = performance.now() - t0;
  const byName = new Map<string, KernelRow>();
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs);
    const row = byName.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    row.calls += 1 / count;
    row.ms += ms / count;
    byName.set(k.name, row);
  }
  return { rows: [...byName.values()].sort((a, b) => b.ms - a.ms), wallMs: wallMs / count };
}

async function runNet(build: () => Net, backend: string, steps: number, opts: Options): Promise<RunResult> {
  const net = build();
  try {
    const warmup = backend === 'cpu' && steps <= 2 ? 0 : 2;
    log(`${net.name} on ${backend}: ${warmup} warm-up step(s), ${steps} timed`);
    for (let i = 0; i < warmup; i++) net.step(i).dispose();
    // The wasm backend computes synchronously, so the clock stops with the last kernel; the
    // single read at the end only fetches the loss.
    const stepMs: number[] = [];
    let loss: tf.Scalar | null = null;
    for (let i = 0; i < steps; i++) {
      loss?.dispose();
      const t0 = performance.now();
      loss = net.step(warmup + i);
      stepMs.push(performance.now() - t0);
    }
    const elapsed = stepMs.reduce((a, b) => a + b, 0);
    const sorted = [...stepMs].sort((a, b) => a - b);
    const finalLoss = loss == null ? NaN : (await loss.data())[0]!;
    loss?.dispose();
    const msPerStep = elapsed / Math.max(steps, 1);
    const profileCount = backend === 'cpu' ? 1 : 2;
    const { rows, wallMs } = await profileSteps(net, warmup + steps, profileCount);
    return {
      net: net.name,
      backend,
      kernels: backend === 'wasm' ? [...opts.kernels] : [],
      threads: backend === 'wasm' ? opts.threads : 1,
      steps,
      msPerStep,
      medianMsPerStep: sorted[sorted.length >> 1] ?? NaN,
      minMsPerStep: sorted[0] ?? NaN,
      samplesPerSecond: (1000 * net.batchSize) / msPerStep,
      profiledMsPerStep: wallMs,
      kernelMsPerStep: rows.reduce((s, r) => s + r.ms, 0),
      table: rows,
      finalLoss,
    };
  } finally {
    net.dispose();
  }
}

function printResult(r: RunResult): void {
  const lines = [
    '',
    `## ${r.net} on ${r.backend}` +
      (r.backend === 'wasm' ? ` (kernels: ${r.kernels.length ? r.kernels.join(', ') : 'none'}; threads: ${r.threads})` : ''),
    '',
    `${r.steps} steps: ${r.msPerStep.toFixed(1)} ms/step (median ${r.medianMsPerStep.toFixed(1)}, ` +
      `fastest ${r.minMsPerStep.toFixed(1)}), ${r.samplesPerSecond.toFixed(1)} samples/s ` +
      `(loss after: ${r.finalLoss.toFixed(4)})`,
    `profiled step: ${r.profiledMsPerStep.toFixed(1)} ms wall, ${r.kernelMsPerStep.toFixed(1)} ms inside kernels`,
    '',
    '| kernel | calls/step | ms/step | % of kernel time |',
    '|---|---:|---:|---:|',
    ...r.table
      .filter((row) => row.ms >= 0.05 || r.table.length <= 25)
      .map(
        (row) =>
          `| ${row.kernel} | ${row.calls.toFixed(0)} | ${row.ms.toFixed(2)} | ${((100 * row.ms) / r.kernelMsPerStep).toFixed(1)} |`,
      ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const results: RunResult[] = [];
  for (const backend of opts.backends) {
    if (backend === 'wasm') {
      if (opts.threads > 1) await enableWasmThreads(opts.threads);
      if (opts.kernels.length > 0) registerWasmTrainingKernels({ kernels: opts.kernels });
      else unregisterWasmTrainingKernels();
    }
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} could not be initialised`);
    const start = tf.memory().numTensors;
    const cnnSteps = backend === 'cpu' ? opts.cpuCnnSteps : opts.cnnSteps;
    if (cnnSteps > 0) {
      if (backend === 'wasm' && tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') == null) {
        log('cnn on wasm skipped: no Conv2DBackpropFilter kernel (tfjs-backend-wasm has none; see --kernels)');
      } else {
        results.push(await runNet(buildCnnNet, backend, cnnSteps, opts));
        printResult(results[results.length - 1]!);
      }
    }
    if (opts.mlpSteps > 0) {
      results.push(await runNet(buildMlpNet, backend, opts.mlpSteps, opts));
      printResult(results[results.length - 1]!);
    }
    const leaked = tf.memory().numTensors - start;
    if (leaked !== 0) log(`warning: ${leaked} tensors left on ${backend}`);
  }
  if (opts.json != null) {
    const tmp = `${opts.json}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
    fs.renameSync(tmp, opts.json);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
