import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { checkCudaLibraries, queryNvidiaSmi, TFJS_NODE, TFJS_NODE_GPU, visibleSharedLibraries } from './native';
import { bundleDir, installedVersion } from '../runtime';
import { probeForDoctor, statusLabel } from './select';
import type { BackendStatus, DoctorReport, GpuFacts, UseBackendOptions, WebGPUAdapterReport } from './types';
import { wasmFeatures } from './wasm';
import { adapterName, dawnPackageVersion, softwareAllowedByEnv, webgpuBackendVersion } from './webgpu';

/**
 * Facts about this machine that decide which backend runs and how fast: every backend's status
 * in `auto` order, versions, CPU, GPU (WebGPU adapter and what Dawn printed, nvidia-smi, CUDA
 * libraries), platform. Probes WebGPU afresh, which also refreshes the verdict `auto` caches.
 * Does not switch backends (see probeBackends).
 */
export async function doctor(options: Pick<UseBackendOptions, 'allowSoftwareWebGPU'> = {}): Promise<DoctorReport> {
  const { statuses, webgpu } = await probeForDoctor(options.allowSoftwareWebGPU ?? softwareAllowedByEnv());
  const visible = process.platform === 'linux' ? visibleSharedLibraries() : new Set<string>();
  const { simd, threads } = await wasmFeatures();
  const gpu: GpuFacts = {
    webgpu: webgpu.status.reason,
    nvidia: queryNvidiaSmi(),
    vulkanLoader: visible.has('libvulkan.so.1'),
  };
  if (webgpu.adapter) gpu.webgpuAdapter = webgpu.adapter;
  if (webgpu.dawn) gpu.dawn = { output: webgpu.dawn.output, seconds: webgpu.dawn.seconds, date: webgpu.dawn.date };
  if (process.platform === 'linux') gpu.cudaLibraries = checkCudaLibraries(visible);

  const cpus = os.cpus();
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const platform: DoctorReport['platform'] = { os: process.platform, arch: process.arch, release: os.release(), bundled: bundleDir() !== undefined };
  if (header?.glibcVersionRuntime) platform.glibc = header.glibcVersionRuntime;

  return {
    selected: statuses.find((s) => s.available)?.name ?? 'cpu',
    current: (tf.engine().backendName as string | null) ?? null,
    backends: statuses,
    versions: collectVersions(statuses),
    cpu: {
      model: cpus[0]?.model.trim() ?? 'unknown',
      cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
      simd,
      threads,
    },
    gpu,
    platform,
  };
}

function collectVersions(statuses: BackendStatus[]): Record<string, string> {
  const versions: Record<string, string> = {
    node: process.versions.node,
    napi: process.versions.napi ?? 'unknown',
    tfjs: tf.version.tfjs,
    'tfjs-core': tf.version['tfjs-core'],
  };
  const add = (key: string, value: string | undefined) => {
    if (value) versions[key] = value;
  };
  add('tfjs-backend-wasm', statuses.find((s) => s.name === 'wasm')?.version);
  add('tfjs-backend-webgpu', webgpuBackendVersion());
  add('webgpu (dawn.node)', dawnPackageVersion());
  add('tfjs-node-gpu', installedVersion(TFJS_NODE_GPU));
  add('tfjs-node', installedVersion(TFJS_NODE));
  const libtf = statuses.map((s) => s.details?.libtensorflow).find((v) => typeof v === 'string');
  add('libtensorflow', libtf as string | undefined);
  return versions;
}

/** A byte count in the largest binary unit that keeps it whole or nearly so. */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

function formatAdapter(a: WebGPUAdapterReport): string[] {
  const size = (k: string) => (a.limits[k] === undefined ? undefined : `${k} ${bytes(a.limits[k])}`);
  const count = (k: string) => (a.limits[k] === undefined ? undefined : `${k} ${a.limits[k]}`);
  const limits = [
    size('maxStorageBufferBindingSize'),
    size('maxBufferSize'),
    size('maxComputeWorkgroupStorageSize'),
    count('maxComputeInvocationsPerWorkgroup'),
    count('maxStorageBuffersPerShaderStage'),
  ].filter((l): l is string => l !== undefined);
  return [
    `adapter: ${adapterName(a)}${a.software ? ' [CPU, software]' : ''}`,
    `  vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', description '${a.description}'`,
    `  ${a.featureLevel} WebGPU${a.dawnOptions.length > 0 ? ` via Dawn options ${a.dawnOptions.join(' ')}` : ''}`,
    `  limits: ${limits.join(', ')}`,
    `  features: ${a.features.length > 0 ? a.features.join(', ') : 'none'}`,
  ];
}

/** The report as aligned, human-readable lines (no trailing newline). */
export function formatDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  const section = (title: string, rows: string[]) => rows.forEach((r, i) => lines.push(`${i === 0 ? title.padEnd(10) : ' '.repeat(10)}${r}`));
  const p = report.platform;
  section('platform', [
    `${p.os} ${p.arch}, kernel ${p.release}${p.glibc ? `, glibc ${p.glibc}` : ''}, Node ${report.versions.node} (N-API ${report.versions.napi})${p.bundled ? ', single-file bundle' : ''}`,
  ]);
  section('cpu', [
    `${report.cpu.model}, ${report.cpu.cores} cores; wasm SIMD ${report.cpu.simd ? 'yes' : 'no'}, threads ${report.cpu.threads ? 'yes' : 'no'}`,
  ]);
  const g = report.gpu;
  const gpuRows = [
    'gpus' in g.nvidia
      ? `nvidia-smi: ${g.nvidia.gpus.map((x) => `${x.name}, driver ${x.driver}${x.memory ? `, ${x.memory}` : ''}`).join('; ')}`
      : `nvidia-smi: ${g.nvidia.reason}`,
  ];
  if (g.cudaLibraries) {
    gpuRows.push(
      g.cudaLibraries.missing.length === 0
        ? `CUDA libraries for tfjs-node-gpu: all found (${g.cudaLibraries.found.join(', ')})`
        : `CUDA libraries for tfjs-node-gpu: missing ${g.cudaLibraries.missing.join(', ')}${g.cudaLibraries.found.length > 0 ? `; found ${g.cudaLibraries.found.join(', ')}` : ''}`,
    );
  }
  if (p.os === 'linux') gpuRows.push(`Vulkan loader libvulkan.so.1: ${g.vulkanLoader ? 'present' : 'missing'}`);
  if (g.webgpuAdapter) gpuRows.push(...formatAdapter(g.webgpuAdapter));
  gpuRows.push(`webgpu: ${g.webgpu}`);
  if (g.dawn) {
    // The probe ran in a child process; this is the only place its native output is shown.
    const n = g.dawn.output.length;
    gpuRows.push(`Dawn printed ${n === 0 ? 'nothing' : `${n} line${n === 1 ? '' : 's'}`} while probing (child process, ${g.dawn.seconds.toFixed(1)} s)${n ? ':' : ''}`);
    gpuRows.push(...g.dawn.output.map((l) => `  | ${l}`));
  }
  section('gpu', gpuRows);
  section('versions', [Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')]);
  lines.push('backends, in auto order (the first available one is selected):');
  const width = Math.max(...report.backends.map((s) => statusLabel(s).length));
  let marked = false;
  for (const s of report.backends) {
    const pick = !marked && s.available && s.name === report.selected;
    if (pick) marked = true;
    const version = s.version ? ` ${s.version}` : '';
    lines.push(`  ${s.available ? '[ok]' : '[--]'} ${statusLabel(s).padEnd(width)}${version.padEnd(8)}  ${s.reason}${pick ? '  <- selected' : ''}`);
  }
  lines.push(`selected: ${report.selected} (current tf.js backend: ${report.current ?? 'none yet'})`);
  return lines.join('\n');
}
