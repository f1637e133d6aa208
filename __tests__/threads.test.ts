/**
 * Threads as a default: the CLI starts the threaded wasm build for the cnn (and not for the
 * MLPs), the process exits on its own after success and after an error, and a threaded build
 * that cannot start leaves a working single-threaded backend.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { recommendedWasmThreads, useBackend } from '../lib/backends';
import { BackendUnavailableError, InvalidArgumentError } from '../lib/errors';
import { BUILT_CLI as CLI, runNode } from './helpers/run-node';

const TWO_CORES = os.availableParallelism() >= 2;

/** Runs the built CLI; a process that does not exit by itself is killed and fails the test. */
function run(args: string[], nodeArgs: string[] = []) {
  const r = runNode(CLI, args, { nodeArgs, timeout: 240_000 });
  expect(r.signal).toBeNull();
  return r;
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
});

describe('recommendedWasmThreads', () => {
  it('gives conv nets two threads on two or more cores and dense nets one', () => {
    expect(recommendedWasmThreads('conv', 2)).toBe(2);
    expect(recommendedWasmThreads('conv', 16)).toBe(2);
    expect(recommendedWasmThreads('conv', 1)).toBe(1);
    expect(recommendedWasmThreads('dense', 16)).toBe(1);
  });
});

describe('useBackend with wasmThreads', () => {
  it('checks the count, and falls back to one thread only when allowed, saying why', async () => {
    await useBackend('wasm');
    await expect(useBackend('wasm', { wasmThreads: 0 })).rejects.toThrow(InvalidArgumentError);
    // Already initialised single-threaded in this process: the threaded build cannot replace it.
    await expect(useBackend('wasm', { wasmThreads: 2 })).rejects.toThrow(BackendUnavailableError);
    const selection = await useBackend('wasm', { wasmThreads: 2, wasmThreadsFallback: true });
    expect(selection.statuses[0]!.details).toMatchObject({ runningThreads: 1, threadsReason: expect.stringMatching(/already initialised/) });
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.tidy(() => tf.add(1, 2).dataSync()[0])).toBe(3);
  });
});

describe('the CLI', () => {
  it('trains the cnn on two threads by default, and the process exits', () => {
    const r = run(['train', '--model', 'cnn', '--steps', '2', '--limit', '100', '--log-interval', '0', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: TWO_CORES ? 'wasm (2 threads)' : 'wasm', steps: 2 });
  });

  it('trains the MLPs on one thread by default', () => {
    const r = run(['train', '--model', 'two-layer-net', '--steps', '5', '--limit', '100', '--log-interval', '0', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'wasm', steps: 5 });
  });

  it('exits with one error line after the threads started, without hanging', () => {
    const r = run(['train', '--model', 'cnn', '--steps', '2', '--data-dir', path.join(os.tmpdir(), 'no-such-mnist-dir'), '--log-interval', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(TWO_CORES ? /backend: wasm \(2 threads\)/ : /backend: wasm\n/);
    expect(r.stderr).toMatch(/no-such-mnist-dir/);
  });

  it('falls back to one thread when the threaded build fails to start', () => {
    // A preload that makes instantiating the threaded binary (the one with shared memory) fail.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threads-fail-'));
    const preload = path.join(dir, 'fail-threaded.js');
    fs.writeFileSync(
      preload,
      `const instantiate = WebAssembly.instantiate;
       WebAssembly.instantiate = function (source, imports) {
         const memory = imports && imports.env && imports.env.memory;
         if (memory && memory.buffer instanceof SharedArrayBuffer) return Promise.reject(new Error('simulated: no threaded build'));
         return instantiate.apply(this, arguments);
       };`,
    );
    try {
      const r = run(['train', '--model', 'cnn', '--steps', '1', '--limit', '100', '--log-interval', '0', '--json'], ['-r', preload]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'wasm', steps: 1 });
      // On one core nothing asks for the threaded build, so nothing falls back.
      if (TWO_CORES) expect(r.stderr).toMatch(/wasm: one thread, the threaded build did not start/);
      else expect(r.stderr).not.toMatch(/threaded build/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
