import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DAWN_PROBE_CACHE_FILE, probeDawn, type DawnAttempt } from '../lib/backends/dawn-probe';
import { visibleSharedLibraries } from '../lib/backends/native';
import { KEY_LIMITS, probeWebGPU } from '../lib/backends/webgpu';
import { BUILT_CLI as CLI, dataDirArgs, runNode } from './helpers/run-node';
import { probeInChild, verdict, webgpuHere } from './helpers/webgpu';

/** The built CLI, as `npx mnist-nets` runs it (npm test builds first). */
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-nets-probe-'));

/** What Dawn prints from native code on a machine without Vulkan; any of these on our stderr is noise. */
const DAWN_NOISE = /Couldn't load Vulkan|artificially reduced|BackendVk\.cpp|^Warning: /m;

/**
 * A stand-in dawn.node: a CommonJS file (require() takes it as readily as an addon) that writes to
 * file descriptor 2 directly, as native code does, counts its loads, and answers as FAKE_DAWN_MODE says.
 */
const FAKE_DAWN = `
const fs = require('fs');
if (process.env.FAKE_DAWN_COUNT) fs.appendFileSync(process.env.FAKE_DAWN_COUNT, 'x');
fs.writeSync(2, 'Warning: fake native noise from Dawn\\n\\n');
const mode = process.env.FAKE_DAWN_MODE || 'software';
if (mode === 'throw') throw new Error('undefined symbol: wgpuFake');
const software = {
  info: { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'Mesa 22.3.6' },
  isFallbackAdapter: false,
  limits: { maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456, unrelatedLimit: 7 },
  features: new Set(['timestamp-query', 'shader-f16']),
};
module.exports = {
  globals: {},
  create(options) {
    return {
      async requestAdapter(request) {
        if (mode === 'crash') process.kill(process.pid, 'SIGKILL');
        if (mode === 'hang') { setInterval(() => {}, 1000); return new Promise(() => {}); }
        if (mode === 'none') return null;
        fs.writeSync(2, 'Warning: asked with [' + options.join(' ') + '] at ' + request.featureLevel + '\\n');
        return request.featureLevel === 'core' ? null : software;
      },
    };
  },
};
`;

function fakeDawn(dir: string): string {
  const file = path.join(dir, 'dawn.node.js');
  fs.writeFileSync(file, FAKE_DAWN);
  return file;
}

const ATTEMPTS: DawnAttempt[] = [
  { dawnOptions: [], featureLevel: 'core' },
  { dawnOptions: ['backend=opengl'], featureLevel: 'compatibility', env: { EGL_PLATFORM: 'surfaceless' } },
];

/** Sets environment variables for one test and puts the old values back after it. */
function withEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

const loads = (counter: string) => (fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8').length : 0);

describe('probeDawn: Dawn in a child process, verdict cached', () => {
  let dir: string;
  let restore: () => void;
  beforeEach(() => {
    dir = tmp();
    restore = withEnv({ FAKE_DAWN_COUNT: path.join(dir, 'loads'), FAKE_DAWN_MODE: undefined, VK_ICD_FILENAMES: undefined });
  });
  afterEach(() => restore());

  test("keeps Dawn's output in the run, reads the adapter, and answers from the cache the second time", async () => {
    const file = fakeDawn(dir);
    const counter = path.join(dir, 'loads');
    const first = await probeDawn(file, '0.0.0-fake', ATTEMPTS, KEY_LIMITS, { cacheDir: dir });
    expect(first.failure).toBeUndefined();
    expect(first.cachedIn).toBeUndefined();
    expect(first.output).toEqual([
      'Warning: fake native noise from Dawn',
      'Warning: asked with [] at core',
      'Warning: asked with [backend=opengl] at compatibility',
    ]);
    expect(first.outcomes).toHaveLength(2);
    expect(first.outcomes[0]).toEqual({ adapter: null });
    const adapter = (first.outcomes[1] as { adapter: { info: { device: string }; limits: Record<string, number>; features: string[] } }).adapter;
    expect(adapter.info.device).toBe('llvmpipe (LLVM 15.0.6, 256 bits)');
    // Only the limits asked for, and the features as a sorted list.
    expect(adapter.limits).toEqual({ maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456 });
    expect(adapter.features).toEqual(['shader-f16', 'timestamp-query']);
    expect(loads(counter)).toBe(1);

    const second = await probeDawn(file, '0.0.0-fake', ATTEMPTS, KEY_LIMITS, { cacheDir: dir });
    expect(second.cachedIn).toBe(path.join(dir, DAWN_PROBE_CACHE_FILE));
    expect(second.outcomes).toEqual(first.outcomes);
    expect(second.output).toEqual(first.output);
    expect(loads(counter)).toBe(1);
  });

  test('a changed key probes again: a VK_ variable, the dawn.node file, the Dawn options; refresh always does', async () => {
    const file = fakeDawn(dir);
    const counter = path.join(dir, 'loads');
    const probe = (attempts = ATTEMPTS, cache: 'use' | 'refresh' = 'use') => probeDawn(file, '0.0.0-fake', attempts, KEY_LIMITS, { cacheDir: dir, cache });
    await probe();
    await probe();
    expect(loads(counter)).toBe(1);

    process.env.VK_ICD_FILENAMES = '/usr/share/vulkan/icd.d/nvidia_icd.json';
    await probe();
    expect(loads(counter)).toBe(2);
    await probe();
    expect(loads(counter)).toBe(2);

    // A new dawn.node (another size or time) is another Dawn.
    fs.appendFileSync(file, '\n// rebuilt\n');
    await probe();
    expect(loads(counter)).toBe(3);

    await probe([ATTEMPTS[0]!]);
    expect(loads(counter)).toBe(4);

    // The earlier environment's verdict is still there.
    delete process.env.VK_ICD_FILENAMES;
    fs.writeFileSync(file, FAKE_DAWN);
    fs.utimesSync(file, new Date(2020, 0, 1), new Date(2020, 0, 1));
    await probe();
    await probe();
    expect(loads(counter)).toBe(5);

    const refreshed = await probe(ATTEMPTS, 'refresh');
    expect(refreshed.cachedIn).toBeUndefined();
    expect(loads(counter)).toBe(6);
  });

  test('a crash is a verdict (cached); a timeout is not', async () => {
    const file = fakeDawn(dir);
    const counter = path.join(dir, 'loads');
    process.env.FAKE_DAWN_MODE = 'crash';
    const crashed = await probeDawn(file, undefined, ATTEMPTS, KEY_LIMITS, { cacheDir: dir });
    expect(crashed.failure).toMatch(/^probe crashed: the process that loaded dawn\.node was killed by SIGKILL before answering; its last line: Warning: fake native noise from Dawn$/);
    expect((await probeDawn(file, undefined, ATTEMPTS, KEY_LIMITS, { cacheDir: dir })).failure).toBe(crashed.failure);
    expect(loads(counter)).toBe(1);

    const hangDir = tmp();
    process.env.FAKE_DAWN_MODE = 'hang';
    const hung = await probeDawn(file, undefined, ATTEMPTS, KEY_LIMITS, { cacheDir: hangDir, timeoutSeconds: 1 });
    expect(hung.failure).toBe('probe timed out: Dawn gave no answer within 1 s');
    expect(hung.transient).toBe(true);
    expect(fs.existsSync(path.join(hangDir, DAWN_PROBE_CACHE_FILE))).toBe(false);
  });

  test('a dawn.node that fails to load is named with its path', async () => {
    const file = fakeDawn(dir);
    process.env.FAKE_DAWN_MODE = 'throw';
    const run = await probeDawn(file, undefined, ATTEMPTS, KEY_LIMITS, { cacheDir: dir, cache: 'off' });
    expect(run.failure).toBe(`failed to load: undefined symbol: wgpuFake (${file})`);
    expect(run.output).toContain('Warning: fake native noise from Dawn');
    expect(fs.existsSync(path.join(dir, DAWN_PROBE_CACHE_FILE))).toBe(false);
  });

  test('probeWebGPU reads the child\'s answer: a software adapter, refused unless allowed', async () => {
    const file = fakeDawn(dir);
    const undo = withEnv({ MNIST_NETS_DAWN_NODE: file, MNIST_NETS_DAWN_OPTIONS: undefined });
    try {
      const refused = await probeWebGPU({ allowSoftware: false, cacheDir: dir });
      expect(refused.status.available).toBe(false);
      expect(refused.status.reason).toMatch(/the only adapter is a CPU \(software\) device: llvmpipe \(LLVM 15\.0\.6, 256 bits\) \(Mesa 22\.3\.6\)/);
      expect(refused.adapter?.software).toBe(true);
      expect(refused.dawn?.output[0]).toBe('Warning: fake native noise from Dawn');
      const allowed = await probeWebGPU({ allowSoftware: true, cacheDir: dir });
      expect(allowed.status.available).toBe(true);
      expect(allowed.attempt?.dawnOptions).toEqual(['backend=opengl']);
      expect(allowed.dawn?.cachedIn).toBeDefined();
      expect(loads(path.join(dir, 'loads'))).toBe(1);
    } finally {
      undo();
    }
  });
});

describe('the CLI never shows what Dawn prints unless asked', () => {
  const cli = (args: string[], env: Record<string, string>) => runNode(CLI, args, { env });
  const train = ['train', '--model', 'mlp', '--steps', '3', '--limit', '200', ...dataDirArgs()];

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  });

  test('train --backend auto with the real Dawn: none of its lines on stderr; doctor and --verbose show exactly them', () => {
    const cache = tmp();
    // On lavapipe (helpers/webgpu.ts; CI provisions it) Dawn warns about the limits it reduces, and
    // without a Vulkan loader it says it cannot load one: either way there are lines to hide. The
    // software adapter is not allowed here, so auto still trains on wasm.
    const { MNIST_NETS_WEBGPU_ALLOW_SOFTWARE: _, ...dawnEnv } = webgpuHere().env;
    const env = { ...dawnEnv, MNIST_NETS_CACHE: cache };
    const dawnMustSpeak = dawnEnv.VK_DRIVER_FILES !== undefined || (process.platform === 'linux' && !visibleSharedLibraries().has('libvulkan.so.1'));
    const first = cli([...train, '--backend', 'auto'], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^backend: wasm \(skipped: tensorflow, webgpu;/m);
    const cacheFile = path.join(cache, DAWN_PROBE_CACHE_FILE);
    const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { entries: Array<{ run: { output: string[] } }> };
    expect(cached.entries).toHaveLength(1);
    const said = cached.entries[0]!.run.output;
    if (dawnMustSpeak) expect(said.length).toBeGreaterThan(0);
    else console.warn('webgpu-probe: this machine has a Vulkan loader and no lavapipe; Dawn may print nothing, so hiding its lines is not observed (bash scripts/gpu/lavapipe.sh)');
    expect(first.stderr).not.toMatch(DAWN_NOISE);
    for (const line of said) expect(first.stderr).not.toContain(line.trim());

    const shown = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
    const second = cli([...train, '--backend', 'auto', '--verbose'], env);
    expect(second.code).toBe(0);
    const header = said.length === 0 ? 'Dawn printed nothing' : `Dawn printed ${said.length} line${said.length === 1 ? '' : 's'}:`;
    expect(second.stderr).toMatch(new RegExp(`webgpu probe: cached verdict of .*; ${header}\\n`));
    expect(shown(second.stderr, 'webgpu probe:   ')).toEqual(said);

    const doctor = cli(['doctor'], env);
    expect(doctor.code).toBe(0);
    expect(doctor.stderr).not.toMatch(DAWN_NOISE);
    const fresh = (JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { entries: Array<{ run: { output: string[] } }> }).entries[0]!.run.output;
    const count = fresh.length === 0 ? 'nothing' : `${fresh.length} line${fresh.length === 1 ? '' : 's'}`;
    expect(doctor.stdout).toMatch(new RegExp(`Dawn printed ${count} while probing \\(child process, [\\d.]+ s\\)`));
    expect(shown(doctor.stdout.split('\n').map((l) => l.trimStart()).join('\n'), '| ')).toEqual(fresh);
    if (dawnEnv.VK_DRIVER_FILES !== undefined) expect(fresh.join('\n')).toMatch(/artificially reduced/);
    else if (dawnMustSpeak) expect(fresh.join('\n')).toMatch(/Vulkan/);
  });

  test('--backend wasm and cpu never load Dawn', () => {
    const dir = tmp();
    const env = { MNIST_NETS_CACHE: dir, MNIST_NETS_DAWN_NODE: fakeDawn(dir), FAKE_DAWN_COUNT: path.join(dir, 'loads') };
    for (const backend of ['wasm', 'cpu']) {
      const r = cli([...train, '--backend', backend], env);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`backend: ${backend}\n`);
      // tf.js's "Hi, looks like you are running TensorFlow.js in Node.js" banner is gone too.
      expect(r.stderr + r.stdout).not.toMatch(/looks like you are running TensorFlow\.js/);
    }
    expect(loads(path.join(dir, 'loads'))).toBe(0);
    expect(fs.existsSync(path.join(dir, DAWN_PROBE_CACHE_FILE))).toBe(false);

    const auto = cli([...train, '--backend', 'auto'], env);
    expect(auto.code).toBe(0);
    expect(auto.stderr).not.toMatch(/fake native noise/);
    expect(loads(path.join(dir, 'loads'))).toBe(1);
  });
});

describe('the WebGPU tests\' verdict (helpers/webgpu.ts): only a missing adapter skips', () => {
  const withFake = (mode: string) => {
    const dir = tmp();
    return { MNIST_NETS_DAWN_NODE: fakeDawn(dir), FAKE_DAWN_MODE: mode, MNIST_NETS_CACHE: dir, MNIST_NETS_DAWN_OPTIONS: '', VK_DRIVER_FILES: '' };
  };

  test('a probe whose child crashes is a failure, never a skip', () => {
    const env = withFake('crash');
    const answer = probeInChild(env);
    expect(answer.failure).toMatch(/^probe crashed: the process that loaded dawn\.node was killed by SIGKILL/);
    const v = verdict(answer, env);
    expect(v.run).toBe(false);
    expect('failure' in v && v.failure).toMatch(/^the WebGPU probe failed \(a fault, not a missing adapter\): probe crashed/);
    expect('skip' in v).toBe(false);
  });

  test('a dawn.node that fails to load is a failure too', () => {
    const v = verdict(probeInChild(withFake('throw')), {});
    expect('failure' in v && v.failure).toMatch(/failed to load: undefined symbol: wgpuFake/);
  });

  test('no adapter at all skips, naming the reason; with lavapipe provisioned it is a failure', () => {
    const answer = probeInChild(withFake('none'));
    expect(answer.failure).toBeUndefined();
    expect(answer.reason).toMatch(/^no adapter: requestAdapter returned null/);
    expect(verdict(answer, {})).toEqual({ run: false, env: {}, skip: answer.reason });
    expect(verdict(answer, {}, '25.0.7')).toMatchObject({ run: false, failure: expect.stringMatching(/^no usable WebGPU adapter with lavapipe \(Mesa 25\.0\.7\) provisioned/) });
  });

  test('a software adapter runs; lavapipe provisioned but another adapter chosen is a failure', () => {
    const answer = probeInChild(withFake('software'));
    expect(answer).toMatchObject({ available: true, featureLevel: 'compatibility', software: true });
    expect(verdict(answer, {})).toMatchObject({ run: true, adapter: expect.stringMatching(/^llvmpipe/) });
    // The fake's adapter came through OpenGL in compatibility mode, not lavapipe's core Vulkan one.
    expect(verdict(answer, {}, '25.0.7')).toMatchObject({ run: false, failure: expect.stringMatching(/lavapipe \(Mesa 25\.0\.7\) is provisioned, but Dawn chose llvmpipe/) });
  });
});
