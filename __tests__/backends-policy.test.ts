/**
 * How `useBackend` decides, on every host whatever its GPUs: the real probes and selection code run
 * against injected facts. Dawn is a stand-in module loaded through MNIST_NETS_DAWN_NODE (so it must
 * be set before this file's first probe, hence a file of its own: jest gives each file fresh
 * modules), and the tensorflow tiers are made unavailable, so that a host with tfjs-node-gpu and CUDA
 * gets past them just as one without does.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError } from '../lib/errors';
import * as native from '../lib/backends/native';
import * as webgpu from '../lib/backends/webgpu';
import { PROBE_CACHE_ENV } from '../lib/backends/dawn-probe';
import { useBackend } from '../lib/backends';

/** A Dawn whose only adapter is Mesa's llvmpipe on Vulkan, or which has none. */
const FAKE_DAWN = `
const adapter = {
  info: { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'Mesa 22.3.6 (stand-in)' },
  isFallbackAdapter: false,
  limits: { maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456, maxComputeWorkgroupStorageSize: 32768 },
  features: new Set(),
  requestDevice: async () => { throw new Error('stand-in adapter: no device'); },
};
exports.globals = {};
exports.create = () => ({
  requestAdapter: async ({ featureLevel }) => (featureLevel === 'core' && process.env.FAKE_DAWN_ADAPTER === 'software' ? adapter : null),
});
`;

let dir: string;
const saved: Record<string, string | undefined> = {};
const ENV = [webgpu.DAWN_NODE_ENV, webgpu.DAWN_OPTIONS_ENV, webgpu.ALLOW_SOFTWARE_ENV, PROBE_CACHE_ENV, 'FAKE_DAWN_ADAPTER'];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-dawn-'));
  fs.writeFileSync(path.join(dir, 'dawn.js'), FAKE_DAWN);
  for (const k of ENV) saved[k] = process.env[k];
  process.env[webgpu.DAWN_NODE_ENV] = path.join(dir, 'dawn.js');
  delete process.env[webgpu.DAWN_OPTIONS_ENV];
  delete process.env[webgpu.ALLOW_SOFTWARE_ENV];
  process.env.FAKE_DAWN_ADAPTER = 'software';
  // FAKE_DAWN_ADAPTER changes what the stand-in answers, which the probe's cache key cannot see.
  process.env[PROBE_CACHE_ENV] = '0';
});
afterAll(async () => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  fs.rmSync(dir, { recursive: true, force: true });
  await tf.setBackend('cpu');
});

beforeEach(() => {
  const absent = (pkg: string) => async () => ({ name: 'tensorflow' as const, package: pkg, available: false, reason: 'not installed (injected)' });
  jest.spyOn(native, 'probeTensorflowGpu').mockImplementation(absent(native.TFJS_NODE_GPU));
  jest.spyOn(native, 'probeTensorflowCpu').mockImplementation(absent(native.TFJS_NODE));
});
afterEach(() => {
  jest.restoreAllMocks();
});

test("explicit 'webgpu' when the only adapter is a software one throws, naming it, and does not switch", async () => {
  await useBackend('cpu');
  const err = await useBackend('webgpu', { allowSoftwareWebGPU: false }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BackendUnavailableError);
  expect((err as BackendUnavailableError).reason).toBe(
    `adapter is a CPU (software) device: llvmpipe (LLVM 15.0.6, 256 bits) (Mesa 22.3.6 (stand-in)); ${webgpu.ALLOW_SOFTWARE_ENV}=1 allows it for testing`,
  );
  expect(tf.getBackend()).toBe('cpu');
});

test('auto takes the software adapter only when allowed', async () => {
  // Making the adapter current needs a real device; what is under test is the choice.
  const activate = jest.spyOn(webgpu, 'activateWebGPU').mockResolvedValue(undefined);
  const allowed = await useBackend('auto', { allowSoftwareWebGPU: true });
  expect(allowed.selected).toBe('webgpu');
  expect(allowed.statuses.map((s) => [s.name, s.available])).toEqual([
    ['tensorflow', false],
    ['webgpu', true],
  ]);
  expect(allowed.statuses[1].reason).toBe(
    `adapter: llvmpipe (LLVM 15.0.6, 256 bits) (Mesa 22.3.6 (stand-in)), a CPU (software) device allowed by ${webgpu.ALLOW_SOFTWARE_ENV}`,
  );
  expect(activate).toHaveBeenCalledTimes(1);
  expect(activate.mock.calls[0][0].adapter).toMatchObject({ software: true, featureLevel: 'core' });

  activate.mockClear();
  const refused = await useBackend('auto', { allowSoftwareWebGPU: false });
  expect(activate).not.toHaveBeenCalled();
  expect(refused.statuses.map((s) => [s.name, s.available])).toEqual([
    ['tensorflow', false],
    ['webgpu', false],
    ['tensorflow', false],
    ['wasm', true],
  ]);
  expect(refused.statuses[1].reason).toMatch(/^adapter is a CPU \(software\) device: llvmpipe/);
  expect(refused.selected).toBe('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

test('auto with no adapter at all says so and goes on', async () => {
  process.env.FAKE_DAWN_ADAPTER = 'none';
  try {
    const sel = await useBackend('auto', { allowSoftwareWebGPU: true });
    const status = sel.statuses.find((s) => s.name === 'webgpu');
    expect(status).toMatchObject({ available: false, reason: expect.stringMatching(/^no adapter: requestAdapter returned null/) });
    expect(sel.selected).toBe('wasm');
  } finally {
    process.env.FAKE_DAWN_ADAPTER = 'software';
  }
});
