/**
 * Asking Dawn for adapters in a child process, and remembering the answer.
 *
 * Dawn prints its warnings (no Vulkan loader, limits it reduced) from native code straight to the
 * process's stderr, where JavaScript in the same process cannot catch them. So the probe runs
 * `process.execPath` on a small script whose output is captured, and the main process loads
 * dawn.node only when WebGPU is actually selected. The verdict is cached per machine, package
 * versions, graphics driver files and the environment variables that steer Dawn, so the cost of a
 * second Node process is paid once, not on every command.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../atomic-write';
import { defaultCacheDir } from '../datasets/locate';
import { errorMessage } from '../errors';
import { VERSION } from '../version';

/** Seconds the child may take before it is killed and the probe counts as failed (not cached). @default 30 */
export const DEFAULT_DAWN_PROBE_TIMEOUT_SECONDS = 30;
/** Set to `0` to probe every time and leave the cache alone (tests that swap Dawn's behaviour, or doubt). */
export const PROBE_CACHE_ENV = 'MNIST_NETS_WEBGPU_PROBE_CACHE';
/** File in the cache root holding the verdicts. */
export const DAWN_PROBE_CACHE_FILE = 'webgpu-probe.json';
/** Verdicts kept, newest first, so switching between a few environments does not re-probe. @default 8 */
export const DAWN_PROBE_CACHE_ENTRIES = 8;
/** Bumped when the shape of a cached verdict changes, which invalidates every older one. */
const CACHE_SCHEMA = 1;

/** How one attempt asks Dawn for an adapter (see adapterAttempts in webgpu.ts). */
export interface DawnAttempt {
  dawnOptions: string[];
  featureLevel: 'core' | 'compatibility';
  env?: Record<string, string>;
}

/** An adapter as the child saw it: the raw facts, interpreted by the main process. */
export interface RawAdapter {
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter: boolean;
  limits: Record<string, number>;
  features: string[];
}

/** What one attempt gave: an adapter, none (`null`), or an error Dawn threw. */
export type AttemptOutcome = { adapter: RawAdapter | null } | { error: string };

/** One run of the child: the outcomes of the attempts (up to the first adapter) and what Dawn printed. */
export interface DawnProbeRun {
  /** One per attempt made, in order; the child stops at the first adapter. */
  outcomes: AttemptOutcome[];
  /** Why the child could not ask at all: dawn.node failed to load, the child crashed or timed out. */
  failure?: string;
  /** Whether another run could turn out differently (a timeout or a failed spawn); such runs are not cached. */
  transient?: boolean;
  /** What Dawn (and the child) printed on stdout and stderr, line by line, empty lines dropped. */
  output: string[];
  /** Wall time of the child, start to exit. */
  seconds: number;
  /** When the child ran (ISO 8601). */
  date: string;
  /** Set when this run came from the cache: the cache file. */
  cachedIn?: string;
}

/** Options of `probeDawn`. */
export interface DawnProbeOptions {
  /**
   * `use`: a cached verdict if the key matches, else probe and store; `refresh`: probe and store;
   * `off`: probe only. @default 'use', or 'off' when MNIST_NETS_WEBGPU_PROBE_CACHE=0
   */
  cache?: 'use' | 'refresh' | 'off';
  /** @default {@link DEFAULT_DAWN_PROBE_TIMEOUT_SECONDS} */
  timeoutSeconds?: number;
  /** Cache root. @default defaultCacheDir() */
  cacheDir?: string;
}

/**
 * The child. Plain JavaScript run with `node -e`, so it works the same from the tsc build, under
 * jest (TypeScript sources) and from the single-file bundle; it imports nothing of this library.
 * argv: dawn.node path, the attempts as JSON, the limit names to report as JSON.
 */
const CHILD_SOURCE = `
'use strict';
const [file, attemptsJson, limitsJson] = process.argv.slice(1);
const send = (message) => process.send(message, () => process.exit(0));
const text = (e) => String((e && e.message) || e).split('\\n')[0];
function load() {
  let dawn;
  try {
    dawn = require(file);
  } catch (e) {
    throw new Error('failed to load: ' + text(e) + ' (' + file + ')');
  }
  if (!dawn || typeof dawn.create !== 'function') throw new Error('failed to load: ' + file + ' has no create()');
  return dawn;
}
async function probe(dawn) {
  const outcomes = [];
  for (const attempt of JSON.parse(attemptsJson)) {
    for (const [k, v] of Object.entries(attempt.env || {})) if (process.env[k] === undefined) process.env[k] = v;
    try {
      const a = await dawn.create(attempt.dawnOptions).requestAdapter({ powerPreference: 'high-performance', featureLevel: attempt.featureLevel });
      if (!a) { outcomes.push({ adapter: null }); continue; }
      const info = a.info || {};
      const limits = {};
      for (const k of JSON.parse(limitsJson)) if (typeof a.limits[k] === 'number') limits[k] = a.limits[k];
      outcomes.push({ adapter: {
        info: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, isFallbackAdapter: info.isFallbackAdapter },
        isFallbackAdapter: a.isFallbackAdapter === true,
        limits,
        features: [...a.features].sort(),
      } });
      break;
    } catch (e) {
      outcomes.push({ error: text(e) });
    }
  }
  return outcomes;
}
Promise.resolve()
  .then(() => probe(load()))
  .then((outcomes) => send({ outcomes }), (e) => send({ failure: /^failed to load/.test(text(e)) ? text(e) : 'probe failed: ' + text(e), outcomes: [] }));
`;

/** Lines of captured output, without blank ones (Dawn separates its warnings with them). */
function outputLines(chunks: Buffer[]): string[] {
  return Buffer.concat(chunks)
    .toString('utf8')
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim().length > 0);
}

/** Runs the child once. Never throws: every way it can go wrong becomes `failure`. */
export function runDawnChild(file: string, attempts: DawnAttempt[], limitNames: readonly string[], timeoutSeconds: number): Promise<DawnProbeRun> {
  const started = performance.now();
  const date = new Date().toISOString();
  return new Promise((resolve) => {
    const output: Buffer[] = [];
    let message: { outcomes?: AttemptOutcome[]; failure?: string } | undefined;
    let timedOut = false;
    let spawnError: Error | undefined;
    const child = spawn(process.execPath, ['-e', CHILD_SOURCE, file, JSON.stringify(attempts), JSON.stringify(limitNames)], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // The env object the caller sees (jest gives each test file a copy of process.env).
      env: { ...process.env },
      windowsHide: true,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.stdout?.on('data', (b: Buffer) => output.push(b));
    child.stderr?.on('data', (b: Buffer) => output.push(b));
    child.on('message', (m) => {
      message = m as typeof message;
    });
    child.on('error', (err) => {
      spawnError = err;
    });
    // 'close' comes after the process exited and its pipes are drained, so late lines are kept.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const run: DawnProbeRun = { outcomes: message?.outcomes ?? [], output: outputLines(output), seconds: (performance.now() - started) / 1000, date };
      if (message?.failure) run.failure = message.failure;
      else if (!message) {
        if (timedOut) {
          run.failure = `probe timed out: Dawn gave no answer within ${timeoutSeconds} s`;
          run.transient = true;
        } else if (spawnError) {
          run.failure = `probe failed: could not start ${process.execPath}: ${errorMessage(spawnError)}`;
          run.transient = true;
        } else {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          const last = run.output.length > 0 ? `; its last line: ${run.output[run.output.length - 1]}` : '';
          run.failure = `probe crashed: the process that loaded dawn.node ${how} before answering${last}`;
        }
      }
      resolve(run);
    });
  });
}

/** Environment variables that change what Dawn, the Vulkan loader or Mesa find. */
const KEY_ENV = /^(MNIST_NETS_|VK_|DAWN_|EGL_|__EGL_|MESA_|LIBGL_|GALLIUM_|__GLX_|DRI_|CUDA_VISIBLE_DEVICES$|NVIDIA_)/;
const KEY_ENV_NAMES = new Set(['LD_LIBRARY_PATH', 'LD_PRELOAD', 'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_DATA_DIRS', 'XDG_DATA_HOME', 'XDG_CONFIG_DIRS']);

/** Size and modification time of a file, or the same for each entry of a directory; `-` when absent. */
function signature(p: string): string {
  try {
    const st = fs.statSync(p);
    if (!st.isDirectory()) return `${st.size}@${Math.round(st.mtimeMs)}`;
    return fs
      .readdirSync(p)
      .sort()
      .map((name) => `${name}:${signature(path.join(p, name))}`)
      .join(',');
  } catch {
    return '-';
  }
}

/**
 * Where Linux's Vulkan loader and glvnd look for drivers, plus the linker cache, which changes
 * whenever a library such as libvulkan.so.1 is installed or removed.
 */
function driverPaths(env: NodeJS.ProcessEnv): string[] {
  if (process.platform !== 'linux') return [];
  const home = os.homedir();
  const dataHome = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
  const dataDirs = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const configDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const roots = [...configDirs, '/etc', dataHome, ...dataDirs];
  const paths = ['/etc/ld.so.cache', '/dev/dri', '/proc/driver/nvidia/version', '/usr/share/glvnd/egl_vendor.d', '/etc/glvnd/egl_vendor.d'];
  for (const root of roots) paths.push(path.join(root, 'vulkan', 'icd.d'), path.join(root, 'vulkan', 'implicit_layer.d'));
  return [...new Set(paths)];
}

/** The NVIDIA driver version as the kernel module reports it (procfs files have no size to compare). */
function nvidiaDriver(): string {
  try {
    return fs.readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0] ?? '';
  } catch {
    return '-';
  }
}

/**
 * Everything a cached verdict depends on: this machine, Node, this library and Dawn's versions and
 * file, the graphics driver and loader files, and the environment variables that steer them.
 */
export function dawnProbeFacts(file: string, dawnVersion: string | undefined, attempts: DawnAttempt[]): Record<string, unknown> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (KEY_ENV.test(k) || KEY_ENV_NAMES.has(k))) env[k] = v;
  }
  const files: Record<string, string> = {};
  for (const p of driverPaths(process.env)) files[p] = signature(p);
  if (process.platform === 'linux') {
    let devices: string[] = [];
    try {
      devices = fs.readdirSync('/dev').filter((d) => d.startsWith('nvidia')).sort();
    } catch {
      // No /dev to list: nothing to key on.
    }
    files['/dev/nvidia*'] = devices.join(',');
    files.nvidiaDriver = nvidiaDriver();
  }
  return {
    schema: CACHE_SCHEMA,
    library: VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    host: os.hostname(),
    dawn: { file, version: dawnVersion ?? null, file_signature: signature(file) },
    attempts,
    env: Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b))),
    files,
  };
}

/** A short hash of the facts. */
export function dawnProbeKey(facts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 16);
}

interface CacheEntry {
  key: string;
  facts: Record<string, unknown>;
  run: DawnProbeRun;
}

interface CacheFile {
  schema: number;
  entries: CacheEntry[];
}

function readCache(file: string): CacheEntry[] {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CacheFile>;
    if (parsed.schema !== CACHE_SCHEMA || !Array.isArray(parsed.entries)) return [];
    return parsed.entries.filter((e) => typeof e?.key === 'string' && e.run && Array.isArray(e.run.outcomes) && Array.isArray(e.run.output));
  } catch {
    // Missing, unreadable or half-understood: probing again is always correct.
    return [];
  }
}

async function writeCache(file: string, entry: CacheEntry): Promise<void> {
  const entries = [entry, ...readCache(file).filter((e) => e.key !== entry.key)].slice(0, DAWN_PROBE_CACHE_ENTRIES);
  try {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify({ schema: CACHE_SCHEMA, entries } satisfies CacheFile, null, 2)}\n`);
  } catch {
    // A read-only home or cache only costs the next command another probe.
  }
}

/**
 * Asks Dawn (at `file`) for an adapter with each attempt in a child process, or returns the cached
 * answer for the same facts. Never throws.
 */
export async function probeDawn(
  file: string,
  dawnVersion: string | undefined,
  attempts: DawnAttempt[],
  limitNames: readonly string[],
  options: DawnProbeOptions = {},
): Promise<DawnProbeRun> {
  const mode = process.env[PROBE_CACHE_ENV] === '0' ? 'off' : options.cache ?? 'use';
  const cacheFile = path.join(options.cacheDir ?? defaultCacheDir(), DAWN_PROBE_CACHE_FILE);
  const facts = dawnProbeFacts(file, dawnVersion, attempts);
  const key = dawnProbeKey(facts);
  if (mode === 'use') {
    const hit = readCache(cacheFile).find((e) => e.key === key);
    if (hit) return { ...hit.run, cachedIn: cacheFile };
  }
  const run = await runDawnChild(file, attempts, limitNames, options.timeoutSeconds ?? DEFAULT_DAWN_PROBE_TIMEOUT_SECONDS);
  if (mode !== 'off' && !run.transient) await writeCache(cacheFile, { key, facts, run });
  return run;
}
