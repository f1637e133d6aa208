/**
 * WebGPU in headless Chromium on a machine without a GPU, recorded (docs/GPU.md, "WebGPU in the
 * browser"):
 *
 * 1. Which switches give a page an adapter: Chromium is started with each set of switches in
 *    {@link ATTEMPTS} (some with Mesa's lavapipe as the Vulkan driver, from scripts/gpu/lavapipe.sh),
 *    a page asks navigator.gpu for an adapter and runs a small compute shader on it; each attempt
 *    records the adapter, the shader's answer, the Vulkan drivers Chromium's processes mapped and
 *    what Chromium printed about GPUs.
 * 2. The demo page on that adapter: two-layer-net and cnn trained a few steps on webgpu and on wasm
 *    with the same seed (every step's loss compared), and the GPU programs per training step the
 *    page shows (tf.profile, lib/profiling/kernel-profile.ts).
 *
 * Usage (after `npm run build`; needs Chromium, e.g. Debian's `chromium`):
 *   node dist/scripts/browser-webgpu.js [--out docs/results/browser-webgpu.json] [--update]
 *   node dist/scripts/browser-webgpu.js --from docs/results/browser-webgpu.json   # the tables again
 * docs/GPU.md's tables are written from the record by scripts/docs-tables.ts (--update runs it).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { writeFileAtomic } from '../lib/atomic-write';
import { errorMessage } from '../lib/errors';
import { machineFacts } from '../lib/jobs/machine';
import { getPreset } from '../lib/recipes';
import { buildDemo } from './build-browser';
import { ROOT } from './repo-root';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM, browserUnavailable, callDemo, launchChromium, openDemo } from './demo-driver';
import { startDemoServer } from './demo-server';
import { lavapipeEnv } from './gpu/lavapipe-env';

/** One way of starting Chromium. */
export interface Attempt {
  /** Chromium's switches besides `--no-sandbox` (and the headless ones playwright adds). */
  args: string[];
  /** Run with lavapipe's environment (VK_DRIVER_FILES, LD_LIBRARY_PATH) from scripts/gpu/lavapipe.sh. */
  lavapipe?: boolean;
}

const WEBGPU = '--enable-unsafe-webgpu';
const ANGLE_VULKAN = ['--use-angle=vulkan', '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan', '--ignore-gpu-blocklist'];

/** The switch sets tried, in order: without the unsafe-WebGPU switch, with it, then with lavapipe. */
export const ATTEMPTS: readonly Attempt[] = [
  { args: ['--disable-gpu'] },
  { args: [] },
  { args: ['--enable-features=Vulkan'] },
  { args: ['--use-webgpu-adapter=swiftshader'] },
  { args: ['--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'] },
  { args: ['--ignore-gpu-blocklist', '--enable-dawn-features=allow_unsafe_apis', '--disable-dawn-features=disallow_unsafe_apis'] },
  { args: ANGLE_VULKAN },
  { args: [WEBGPU] },
  { args: ['--disable-gpu', WEBGPU] },
  { args: [WEBGPU, '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader'] },
  { args: [WEBGPU, ...ANGLE_VULKAN] },
  { args: ['--enable-features=Vulkan', '--use-vulkan=native', '--ignore-gpu-blocklist'], lavapipe: true },
  { args: [WEBGPU, '--enable-features=Vulkan', '--use-vulkan=native', '--ignore-gpu-blocklist'], lavapipe: true },
  { args: [WEBGPU, ...ANGLE_VULKAN], lavapipe: true },
  { args: [WEBGPU, '--enable-features=Vulkan', '--use-vulkan=native', '--use-webgpu-adapter=default', '--enable-dawn-features=allow_unsafe_apis', '--disable-dawn-features=disallow_unsafe_apis'], lavapipe: true },
];

/** What the page found: an adapter per request, and whether a compute shader ran on it. */
interface PageAnswer {
  navigatorGpu: boolean;
  /** Per request (`default`, `high-performance`, `fallback`): the adapter, null, or the error. */
  adapters: Record<string, { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean | null; features: number } | null | string>;
  /** A shader doubling [1, 2, 3, 4] on the high-performance adapter's device, read back. */
  compute?: number[] | string;
}

/** One attempt's record. */
export interface AttemptResult extends Attempt {
  answer?: PageAnswer;
  /** Why the attempt did not get as far as the page (Chromium failed to start, lavapipe missing). */
  failure?: string;
  /** Vulkan drivers and loaders Chromium's processes had mapped while the page ran. */
  vulkanLibraries: string[];
  /** Chromium's stderr lines about GPUs, WebGPU, Dawn, Vulkan or ANGLE (at most 12). */
  said: string[];
  seconds: number;
}

/** Runs in the page: plain JavaScript, nothing of the library. */
async function askForAdapters(): Promise<PageAnswer> {
  type Nav = { gpu?: { requestAdapter(o?: object): Promise<GPUAdapterLike | null> } };
  type GPUAdapterLike = { info?: Record<string, unknown>; isFallbackAdapter?: boolean; features: Set<string>; requestDevice(): Promise<GPUDeviceLike> };
  type GPUDeviceLike = {
    createShaderModule(d: object): unknown;
    createComputePipeline(d: object): { getBindGroupLayout(i: number): unknown };
    createBuffer(d: object): { mapAsync(mode: number): Promise<void>; getMappedRange(): ArrayBuffer; unmap(): void };
    createBindGroup(d: object): unknown;
    createCommandEncoder(): {
      beginComputePass(): { setPipeline(p: unknown): void; setBindGroup(i: number, g: unknown): void; dispatchWorkgroups(n: number): void; end(): void };
      copyBufferToBuffer(a: unknown, ao: number, b: unknown, bo: number, n: number): void;
      finish(): unknown;
    };
    queue: { writeBuffer(b: unknown, o: number, d: Float32Array): void; submit(c: unknown[]): void };
  };
  const gpu = (navigator as unknown as Nav).gpu;
  const out: PageAnswer = { navigatorGpu: gpu !== undefined, adapters: {} };
  if (!gpu) return out;
  let chosen: GPUAdapterLike | null = null;
  for (const [name, options] of [['default', {}], ['high-performance', { powerPreference: 'high-performance' }], ['fallback', { forceFallbackAdapter: true }]] as const) {
    try {
      const a = await gpu.requestAdapter(options);
      const info = (a?.info ?? {}) as Record<string, string | boolean | undefined>;
      out.adapters[name] = a && {
        vendor: String(info.vendor ?? ''),
        architecture: String(info.architecture ?? ''),
        device: String(info.device ?? ''),
        description: String(info.description ?? ''),
        isFallbackAdapter: typeof info.isFallbackAdapter === 'boolean' ? info.isFallbackAdapter : typeof a.isFallbackAdapter === 'boolean' ? a.isFallbackAdapter : null,
        features: a.features.size,
      };
      if (name === 'high-performance') chosen = a;
    } catch (err) {
      out.adapters[name] = `error: ${(err as Error).message}`;
    }
  }
  if (!chosen) return out;
  try {
    const device = await chosen.requestDevice();
    const module = device.createShaderModule({
      code: '@group(0) @binding(0) var<storage, read_write> v: array<f32>; @compute @workgroup_size(4) fn main(@builtin(global_invocation_id) i: vec3u) { v[i.x] = v[i.x] * 2.0; }',
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    // GPUBufferUsage: STORAGE 0x80 | COPY_SRC 0x4 | COPY_DST 0x8; MAP_READ 0x1.
    const data = device.createBuffer({ size: 16, usage: 0x80 | 0x4 | 0x8 });
    const read = device.createBuffer({ size: 16, usage: 0x1 | 0x8 });
    device.queue.writeBuffer(data, 0, new Float32Array([1, 2, 3, 4]));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: data } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    encoder.copyBufferToBuffer(data, 0, read, 0, 16);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(1);
    out.compute = Array.from(new Float32Array(read.getMappedRange()));
    read.unmap();
  } catch (err) {
    out.compute = `error: ${(err as Error).message}`;
  }
  return out;
}

/** Vulkan drivers/loaders mapped by the processes whose command line holds `marker` (Chromium's profile folder). */
function mappedVulkan(marker: string): string[] {
  const found = new Set<string>();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) continue;
      for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
        const file = line.trim().split(/\s+/).slice(5).join(' ');
        if (/libvulkan|vk_swiftshader|_icd|lvp/.test(file)) found.add(file);
      }
    } catch {
      // The process ended, or is not ours to read.
    }
  }
  return [...found].sort();
}

/** A page on 127.0.0.1 (a secure context, as WebGPU needs) that does nothing by itself. */
async function blankServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><title>webgpu</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Chromium's stderr goes to a file through a small wrapper (playwright keeps the browser's own
 * output to itself); the wrapper execs Chromium, so the DevTools pipe stays connected.
 */
function stderrWrapper(dir: string, chromium: string, log: string): string {
  const file = path.join(dir, 'chromium-wrapper.sh');
  fs.writeFileSync(file, `#!/bin/sh\nexec ${JSON.stringify(chromium)} "$@" 2>>${JSON.stringify(log)}\n`, { mode: 0o755 });
  return file;
}

const GPU_LINE = /webgpu|dawn|vulkan|swiftshader|angle|adapter|gpu/i;

async function tryAttempt(attempt: Attempt, chromium: string, url: string, lavapipe: Record<string, string> | string): Promise<AttemptResult> {
  const started = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-webgpu-'));
  const log = path.join(dir, 'stderr.log');
  const result: AttemptResult = { ...attempt, vulkanLibraries: [], said: [], seconds: 0 };
  try {
    if (attempt.lavapipe && typeof lavapipe === 'string') {
      result.failure = lavapipe;
      return result;
    }
    const profile = path.join(dir, 'profile');
    const context = await launchChromium(profile, {
      executablePath: stderrWrapper(dir, chromium, log),
      args: ['--no-sandbox', ...attempt.args, '--enable-logging=stderr'],
      env: attempt.lavapipe ? (lavapipe as Record<string, string>) : undefined,
    });
    try {
      const page = await context.newPage();
      await page.goto(url);
      result.answer = (await page.evaluate(askForAdapters)) as PageAnswer;
      result.vulkanLibraries = mappedVulkan(profile);
    } finally {
      await context.close();
    }
  } catch (err) {
    result.failure = errorMessage(err).split('\n')[0];
  } finally {
    const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n') : [];
    // Chromium's prefix ([pid:tid:time:LEVEL:file]) differs from run to run; the message does not.
    result.said = [...new Set(lines.filter((l) => GPU_LINE.test(l)).map((l) => l.replace(/^\[[^\]]*\]\s*/, '').trim()))].slice(0, 12);
    result.seconds = (performance.now() - started) / 1000;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/** The models trained on webgpu and wasm, and how: few steps, every loss read back. */
export const PAGE_RUNS: Readonly<Record<string, { steps: number; batchSize?: number }>> = {
  'two-layer-net': { steps: 20 },
  // Batch 10: a cnn step at the recipe's 50 takes seconds on SwiftShader; the kernels are the same.
  cnn: { steps: 3, batchSize: 10 },
};

/** One model on one backend, as the page's `train` returns it. */
export interface PageRun {
  steps: number;
  lossHistory: number[];
  backend: string;
  programsPerStep?: number;
  dispatchesPerStep?: number;
  kernelCallsPerStep?: number;
}

/** The largest relative difference between two loss curves of the same length. */
export function worstRelativeDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`loss curves of ${a.length} and ${b.length} steps`);
  return a.reduce((worst, x, i) => Math.max(worst, Math.abs(x - b[i]!) / Math.max(Math.abs(b[i]!), 1e-12)), 0);
}

async function trainInPage(chromium: string, dataDir: string | undefined) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-webgpu-page-'));
  await buildDemo(path.join(work, 'demo'));
  const server = await startDemoServer({ port: 0, root: path.join(work, 'demo'), dataDir });
  const context = await launchChromium(path.join(work, 'profile'), { executablePath: chromium });
  try {
    const page = await openDemo(context, `${server.url}?backend=wasm&limit=2000`);
    const statuses = await callDemo<Array<{ name: string; available: boolean; reason: string; software?: boolean }>>(page, 'statuses');
    const runs: Record<string, Record<string, PageRun & { seconds: number; shown: string | null }>> = { webgpu: {}, wasm: {} };
    for (const backend of ['webgpu', 'wasm']) {
      await callDemo(page, 'setBackend', backend);
      for (const [id, run] of Object.entries(PAGE_RUNS)) {
        const t0 = performance.now();
        const r = await callDemo<Record<string, PageRun>>(page, 'train', [id], { ...run, seed: 1, seconds: 3600, evaluate: false, lossEvery: 1 });
        runs[backend]![id] = { ...r[id]!, seconds: (performance.now() - t0) / 1000, shown: await page.textContent(`#panel-${id} .programs`) };
      }
    }
    const models = Object.fromEntries(
      Object.keys(PAGE_RUNS).map((id) => {
        const gpu = runs.webgpu![id]!;
        const wasm = runs.wasm![id]!;
        return [id, {
          ...PAGE_RUNS[id],
          programsPerStep: gpu.programsPerStep,
          dispatchesPerStep: gpu.dispatchesPerStep,
          kernelCallsPerStep: gpu.kernelCallsPerStep,
          pageShows: gpu.shown,
          worstLossDifference: worstRelativeDifference(gpu.lossHistory, wasm.lossHistory),
          webgpuSeconds: gpu.seconds,
          wasmSeconds: wasm.seconds,
          webgpuLosses: gpu.lossHistory,
          wasmLosses: wasm.lossHistory,
        }];
      }),
    );
    return { userAgent: await page.evaluate(() => navigator.userAgent), webgpuStatus: statuses.find((s) => s.name === 'webgpu'), models };
  } finally {
    await context.close();
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function versionOf(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The record this script writes (docs/results/browser-webgpu.json). */
export type BrowserWebGPURecord = Awaited<ReturnType<typeof record>>;

async function record(chromium: string, dataDir: string | undefined) {
  const lavapipe = lavapipeEnv();
  const server = await blankServer();
  const attempts: AttemptResult[] = [];
  try {
    for (const attempt of ATTEMPTS) {
      const r = await tryAttempt(attempt, chromium, server.url, 'reason' in lavapipe ? lavapipe.reason : lavapipe.env);
      process.stderr.write(`browser-webgpu: [${r.lavapipe ? 'lavapipe ' : ''}${r.args.join(' ')}] -> ${describeAnswer(r)}\n`);
      attempts.push(r);
    }
  } finally {
    await server.close();
  }
  const chromiumDir = path.dirname(fs.realpathSync('/usr/lib/chromium/chromium'));
  return {
    date: new Date().toISOString(),
    command: 'node dist/scripts/browser-webgpu.js --update',
    machine: { ...machineFacts(), gpu: 'none' },
    chromium: {
      path: chromium,
      version: versionOf(chromium, ['--version']).split('\n').pop(),
      debianPackage: versionOf('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'chromium']),
      swiftshaderFiles: fs.existsSync(chromiumDir) ? fs.readdirSync(chromiumDir).filter((f) => /swiftshader|vulkan|VkICD|VkLayer/i.test(f) && !f.endsWith('.TOC')) : [],
      baseArgs: ['--no-sandbox', '--headless (playwright-core)'],
    },
    playwrightCore: (require('playwright-core/package.json') as { version: string }).version,
    lavapipe: 'reason' in lavapipe ? { missing: lavapipe.reason } : { version: lavapipe.version, VK_DRIVER_FILES: lavapipe.env.VK_DRIVER_FILES, provisioned: lavapipe.provisioned },
    attempts,
    demoArgs: CHROMIUM_ARGS,
    page: await trainInPage(chromium, dataDir),
  };
}

function describeAnswer(r: AttemptResult): string {
  if (r.failure) return `not run: ${r.failure}`;
  const a = r.answer;
  if (!a?.navigatorGpu) return 'no navigator.gpu';
  const adapter = a.adapters['high-performance'];
  if (adapter === null || adapter === undefined) return 'requestAdapter returned null';
  if (typeof adapter === 'string') return adapter;
  const name = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' ');
  const compute = Array.isArray(a.compute) ? `shader gave [${a.compute.join(', ')}]` : `shader: ${a.compute}`;
  return `${name}${adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}; ${compute}`;
}

/** Chromium's lines that tell attempts apart (the sandbox and DRM lines come every time). */
const NOTABLE = /No available adapters|crashed \d+ time|Exiting GPU process|Extension not supported|Failed to create WebGPU|Preferred device ICD/;

function notable(said: readonly string[]): string {
  const picked = said.filter((l) => NOTABLE.test(l)).map((l) => l.replace(/, source: .*$/, '').replace(/\|/g, '\\|'));
  const crashes = picked.filter((l) => /crashed \d+ time/.test(l));
  const rest = picked.filter((l) => !/crashed \d+ time/.test(l));
  return [...rest, ...crashes.slice(-1)].map((l) => `\`${l.length > 90 ? `${l.slice(0, 87)}...` : l}\``).join('; ') || '-';
}

/** scripts/gpu/lavapipe.sh's stamp in words. */
function provisioning(p: Record<string, string> | undefined): string {
  if (!p?.debs) return 'provisioning not recorded';
  const mib = (bytes: string | undefined) => `${(Number(bytes) / 2 ** 20).toFixed(1)} MiB`;
  return `scripts/gpu/lavapipe.sh fetched ${p.debs.split(' ').length} .debs, ${mib(p.deb_bytes)}, in ${p.seconds} s on ${p.date?.slice(0, 10)}; its cache holds ${mib(p.cache_bytes)}`;
}

const fmt = (x: number | undefined, digits = 1) => (x === undefined ? '-' : x.toFixed(digits));

/** The two markdown tables docs/GPU.md shows, from a record. */
export function tables(r: BrowserWebGPURecord): string {
  const lines = [
    `Chromium ${r.chromium.version?.replace(/^Chromium\s+/, '')} (${r.chromium.debianPackage}), playwright-core ${r.playwrightCore}, headless, \`--no-sandbox\`; ` +
      `lavapipe ${'version' in r.lavapipe ? `Mesa ${r.lavapipe.version} (${provisioning(r.lavapipe.provisioned)})` : `missing (${r.lavapipe.missing})`}; ${r.date.slice(0, 10)}. ` +
      `Debian's package ships ${r.chromium.swiftshaderFiles.map((f) => `\`${f}\``).join(', ')}.`,
    '',
    '| switches | Vulkan driver | page\'s adapter (powerPreference high-performance) | compute shader | Vulkan drivers mapped | Chromium said (notable lines) |',
    '|---|---|---|---|---|---|',
  ];
  for (const a of r.attempts) {
    const adapterText = describeAnswer({ ...a, answer: a.answer ? { ...a.answer, compute: undefined } : undefined }).replace(/; shader: undefined$/, '');
    const compute = a.answer?.compute === undefined ? '-' : Array.isArray(a.answer.compute) ? `[${a.answer.compute.join(', ')}]` : a.answer.compute;
    const libs = a.vulkanLibraries.map((l) => path.basename(l)).join(', ') || '-';
    lines.push(`| \`${a.args.join(' ') || '(none)'}\` | ${a.lavapipe ? 'lavapipe (VK_DRIVER_FILES)' : 'Chromium\'s own'} | ${adapterText} | ${compute} | ${libs} | ${notable(a.said)} |`);
  }
  lines.push(
    '',
    `The demo page with the demo's switches (\`${r.demoArgs.join(' ')}\`): webgpu reported as "${r.page.webgpuStatus?.reason}"; ` +
      'each model trained on webgpu, then on wasm, same seed, every loss read back:',
    '',
    '| model | steps | batch | GPU programs / step (page) | dispatches / step | kernel calls / step | worst loss difference, webgpu vs wasm | webgpu s (training + count) | wasm s |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const [id, m] of Object.entries(r.page.models)) {
    lines.push(
      `| ${id} | ${m.steps} | ${m.batchSize ?? `${getPreset(id).recipe.batchSize} (recipe)`} | ${m.programsPerStep ?? '-'} (shows "${m.pageShows}") | ${m.dispatchesPerStep ?? '-'} | ${m.kernelCallsPerStep ?? '-'} | ` +
        `${m.worstLossDifference.toExponential(1)} | ${fmt(m.webgpuSeconds)} | ${fmt(m.wasmSeconds, 2)} |`,
    );
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const args = await yargs(argv)
    .option('out', { type: 'string', default: path.join(ROOT, 'docs', 'results', 'browser-webgpu.json'), describe: 'The record to write' })
    .option('update', { type: 'boolean', default: false, describe: "Then rewrite the docs' tables from their records (scripts/docs-tables.ts), these included" })
    .option('from', { type: 'string', describe: 'Take the record from this file instead of running Chromium' })
    .option('chromium', { type: 'string', default: DEFAULT_CHROMIUM })
    .option('data-dir', { type: 'string', describe: 'MNIST for the page (default: $MNIST_DIR, else the cache)' })
    .strict()
    .fail((message, err) => {
      process.stderr.write(`browser-webgpu: ${message ?? errorMessage(err)}\n`);
      process.exit(2);
    })
    .parseAsync();
  let r: BrowserWebGPURecord;
  if (args.from) {
    r = JSON.parse(fs.readFileSync(args.from, 'utf8')) as BrowserWebGPURecord;
  } else {
    const unavailable = browserUnavailable(args.chromium);
    if (unavailable !== undefined) throw new Error(`--chromium: ${unavailable}`);
    r = await record(args.chromium, args['data-dir']);
    await fs.promises.mkdir(path.dirname(args.out), { recursive: true });
    await writeFileAtomic(args.out, `${JSON.stringify(r, null, 2)}\n`);
    process.stderr.write(`browser-webgpu: wrote ${path.relative(process.cwd(), args.out)}\n`);
  }
  process.stdout.write(`${tables(r)}\n`);
  if (args.update) {
    // Loaded here: docs-tables imports this module for its renderer.
    await (await import('./docs-tables')).rewriteDocs('browser-webgpu');
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`browser-webgpu: ${errorMessage(err)}\n`);
      process.exit(1);
    },
  );
}
