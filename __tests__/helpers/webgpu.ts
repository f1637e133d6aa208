/**
 * Where the WebGPU tests run, decided once per test file before its tests are defined: on Mesa's
 * lavapipe (a core WebGPU adapter through Vulkan, as a GPU is driven) when scripts/gpu/lavapipe.sh
 * has provisioned it, which .ci/run does and a developer does once; else on whatever adapter Dawn
 * finds (a GPU, or llvmpipe through OpenGL in compatibility mode).
 *
 * Only a machine where Dawn finds no adapter skips, saying why. A probe that crashes, times out or
 * cannot load dawn.node is a failure, as is CI without lavapipe or lavapipe that Dawn does not pick.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { lavapipeEnv } from '../../scripts/gpu/lavapipe-env';

const REPO = path.resolve(__dirname, '../..');
const BUILT_WEBGPU = path.join(REPO, 'dist/lib/backends/webgpu.js');

/** What the probe child says: the status, the adapter's facts, and why Dawn could not be asked. */
export interface ProbeAnswer {
  available: boolean;
  reason: string;
  device?: string;
  featureLevel?: string;
  software?: boolean;
  /** Set when the child that loads dawn.node crashed, timed out or failed to load it. */
  failure?: string;
}

/** The verdict for a test file: run on `adapter` with `env`, skip (no adapter), or fail. */
export type WebGPUVerdict =
  | { run: true; adapter: string; env: Record<string, string>; lavapipe?: string }
  | { run: false; skip: string; env: Record<string, string> }
  | { run: false; failure: string; env: Record<string, string> };

/**
 * Asks Dawn for an adapter, software allowed and the probe cache off, in a child on the built
 * library with `env` added to this process's. Never throws: a child that fails is a `failure`.
 */
export function probeInChild(env: Record<string, string>): ProbeAnswer {
  if (!fs.existsSync(BUILT_WEBGPU)) return { available: false, reason: '', failure: `${BUILT_WEBGPU} is missing: run \`npm run build\`` };
  const script = `
    require(${JSON.stringify(BUILT_WEBGPU)}).probeWebGPU({ allowSoftware: true, cache: 'off' }).then((p) => {
      const answer = { available: p.status.available, reason: p.status.reason, device: p.status.device, featureLevel: p.adapter && p.adapter.featureLevel, software: p.adapter && p.adapter.software, failure: p.dawn && p.dawn.failure };
      process.stdout.write(JSON.stringify(answer), () => process.exit(0));
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  try {
    return JSON.parse(r.stdout) as ProbeAnswer;
  } catch {
    const how = r.error ? r.error.message : r.signal ? `was killed by ${r.signal}` : `exited ${r.status}`;
    return { available: false, reason: '', failure: `the probe's parent process ${how} without an answer: ${(r.stderr || '').trim().split('\n').pop() ?? ''}` };
  }
}

/** Reasons that mean "this machine has no WebGPU adapter" (or no Dawn build for it), not a fault. */
const NO_ADAPTER = /^(no adapter: requestAdapter returned null|not installed \(npm i webgpu\)|no Dawn: the webgpu package has no dawn\.node for)/;

/** Turns a probe's answer into run, skip or fail. Pure; `lavapipe` is Mesa's version when its env was used. */
export function verdict(answer: ProbeAnswer, env: Record<string, string>, lavapipe?: string): WebGPUVerdict {
  if (answer.failure) return { run: false, env, failure: `the WebGPU probe failed (a fault, not a missing adapter): ${answer.failure}` };
  if (!answer.available) {
    if (NO_ADAPTER.test(answer.reason) && lavapipe === undefined) return { run: false, env, skip: answer.reason };
    return { run: false, env, failure: `no usable WebGPU adapter${lavapipe ? ` with lavapipe (Mesa ${lavapipe}) provisioned` : ''}: ${answer.reason}` };
  }
  if (lavapipe !== undefined && !(answer.featureLevel === 'core' && /llvmpipe|lavapipe/i.test(answer.device ?? ''))) {
    return { run: false, env, failure: `lavapipe (Mesa ${lavapipe}) is provisioned, but Dawn chose ${answer.device} (${answer.featureLevel}): ${answer.reason}` };
  }
  return { run: true, env, adapter: answer.reason.replace(/^adapter: /, ''), ...(lavapipe ? { lavapipe } : {}) };
}

/**
 * The verdict for this machine: lavapipe's environment when provisioned (required under CI=true),
 * else this process's with software adapters allowed.
 */
export function webgpuHere(): WebGPUVerdict {
  const lavapipe = lavapipeEnv();
  if ('reason' in lavapipe) {
    const env = { MNIST_NETS_WEBGPU_ALLOW_SOFTWARE: '1' };
    if (process.env.CI === 'true') return { run: false, env, failure: `CI runs the WebGPU tests on lavapipe, which .ci/run provisions: ${lavapipe.reason}` };
    return verdict(probeInChild(env), env);
  }
  return verdict(probeInChild(lavapipe.env), lavapipe.env, lavapipe.version);
}

/** A describe title that says where the tests run, or why they skip. */
export function describeTitle(subject: string, v: WebGPUVerdict): string {
  if (v.run) return `${subject} on ${v.adapter}`;
  return 'skip' in v ? `${subject} (skipped: ${v.skip})` : `${subject} (probe failed)`;
}
