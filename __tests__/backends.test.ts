import * as tf from '@tensorflow/tfjs';
import {
  adapterAttempts,
  checkCudaLibraries,
  CUDA_LIBRARIES,
  doctor,
  explainNativeLoadError,
  formatDoctor,
  isSoftwareAdapter,
  parseLdconfig,
  parseNvidiaSmi,
  probeBackends,
  useBackend,
} from '../lib/backends';
import * as webgpuModule from '../lib/backends/webgpu';
import { CUDA_DOCS_LINK, TFJS_NODE, TFJS_NODE_GPU } from '../lib/backends/native';
import { resolvePackageDir } from '../lib/runtime';
import { BackendUnavailableError, InvalidArgumentError } from '../lib/errors';

let tensorsAtStart = 0;
beforeAll(() => {
  tensorsAtStart = tf.memory().numTensors;
});
afterAll(async () => {
  await tf.setBackend('cpu');
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
});

describe('explainNativeLoadError', () => {
  const needs = (reason: string) => {
    expect(reason).toContain('libtensorflow 2.9.1');
    expect(reason).toContain('CUDA 11.2');
    expect(reason).toContain('cuDNN 8.1');
  };

  test('missing CUDA runtime, as dlopen reports it', () => {
    const e = explainNativeLoadError('libcudart.so.11.0: cannot open shared object file: No such file or directory');
    expect(e.kind).toBe('cuda-runtime');
    expect(e.missing).toEqual(['libcudart.so.11.0']);
    expect(e.reason).toMatch(/^failed to load: libcudart\.so\.11\.0: cannot open shared object file/);
    needs(e.reason);
    expect(e.reason).toContain("ldconfig -p | grep -E 'libcudart|libcudnn'");
    expect(e.reason).toContain('nvidia-smi');
  });

  test('missing cuDNN, as TensorFlow logs it', () => {
    const e = explainNativeLoadError(
      "2024-03-01 10:00:00.000000: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/local/nvidia/lib64",
    );
    expect(e.kind).toBe('cudnn');
    expect(e.missing).toEqual(['libcudnn.so.8']);
    expect(e.reason).toContain('libcudnn.so.8');
    needs(e.reason);
  });

  test('several missing libraries are all named', () => {
    const e = explainNativeLoadError(
      [
        "Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory",
        "Could not load dynamic library 'libcublas.so.11'; dlerror: libcublas.so.11: cannot open shared object file: No such file or directory",
        "Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
      ].join('\n'),
    );
    expect(e.kind).toBe('cuda-runtime');
    expect(e.missing).toEqual(['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8']);
    expect(e.reason).toContain('libcudart.so.11.0, libcublas.so.11');
  });

  test('missing driver library', () => {
    const e = explainNativeLoadError('libcuda.so.1: cannot open shared object file: No such file or directory');
    expect(e.kind).toBe('cuda-driver');
    expect(e.reason).toContain('NVIDIA driver');
    expect(explainNativeLoadError('CUDA driver version is insufficient for CUDA runtime version').kind).toBe('cuda-driver');
  });

  test('missing libtensorflow', () => {
    const e = explainNativeLoadError(
      'libtensorflow.so.2: cannot open shared object file: No such file or directory',
    );
    expect(e.kind).toBe('libtensorflow');
    expect(e.missing).toEqual(['libtensorflow.so.2']);
    needs(e.reason);
  });

  test('addon never installed (the install script needs internet)', () => {
    const e = explainNativeLoadError(
      "The Node.js native addon module (tfjs_binding.node) can not be found at path: /app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node. \nPlease run command 'npm rebuild @tensorflow/tfjs-node-gpu --build-addon-from-source' to rebuild the native addon module. \nIf you have problem with building the addon module, please check https://github.com/tensorflow/tfjs/blob/master/tfjs-node/WINDOWS_TROUBLESHOOTING.md or file an issue.",
    );
    expect(e.kind).toBe('addon-missing');
    expect(e.reason).toContain('tfjs_binding.node');
    expect(e.reason).not.toContain('WINDOWS_TROUBLESHOOTING');
    needs(e.reason);
  });

  test('a C++ runtime too old for libtensorflow is not mistaken for a missing libtensorflow', () => {
    const e = explainNativeLoadError(
      "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.26' not found (required by /app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/libtensorflow_framework.so.2)",
    );
    expect(e.kind).toBe('glibc');
    expect(e.reason).toContain('GLIBCXX_3.4.26');
  });

  test('an addon built for another Node', () => {
    const e = explainNativeLoadError(
      "The module '/app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 93. This version of Node.js requires\nNODE_MODULE_VERSION 115.",
    );
    expect(e.kind).toBe('node-abi');
  });

  test('anything else keeps its message', () => {
    const e = explainNativeLoadError('Something unexpected happened');
    expect(e).toEqual({ kind: 'unknown', missing: [], reason: 'failed to load: Something unexpected happened' });
  });
});

describe('parsers', () => {
  test('nvidia-smi CSV', () => {
    expect(parseNvidiaSmi('NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\nTesla T4, 535.104.05, 15360 MiB\n\n')).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', driver: '550.54.15', memory: '81559 MiB' },
      { name: 'Tesla T4', driver: '535.104.05', memory: '15360 MiB' },
    ]);
    expect(parseNvidiaSmi('GeForce GTX 1080, 470.82.01')).toEqual([{ name: 'GeForce GTX 1080', driver: '470.82.01' }]);
    expect(parseNvidiaSmi('')).toEqual([]);
  });

  test('ldconfig -p and the CUDA libraries tfjs-node-gpu needs', () => {
    const visible = parseLdconfig(
      [
        '1234 libs found in cache `/etc/ld.so.cache\'',
        '\tlibcudnn.so.8 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.8',
        '\tlibcudart.so.11.0 (libc6,x86-64) => /usr/local/cuda-11.2/lib64/libcudart.so.11.0',
        '\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6',
      ].join('\n'),
    );
    expect([...visible].sort()).toEqual(['libc.so.6', 'libcudart.so.11.0', 'libcudnn.so.8']);
    const { found, missing } = checkCudaLibraries(visible);
    expect(found).toEqual(['libcudart.so.11.0', 'libcudnn.so.8']);
    expect(missing).toEqual(CUDA_LIBRARIES.filter((l) => l !== 'libcudart.so.11.0' && l !== 'libcudnn.so.8'));
  });

  test('software adapters are recognised by flag or name', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia', device: 'NVIDIA H100' }, true)).toBe(true);
  });

  test('the OpenGL fallback is tried on Linux only when no Dawn options were given', () => {
    expect(adapterAttempts('linux', []).map((a) => a.featureLevel)).toEqual(['core', 'compatibility']);
    expect(adapterAttempts('linux', ['backend=vulkan'])).toEqual([{ dawnOptions: ['backend=vulkan'], featureLevel: 'core' }]);
    expect(adapterAttempts('darwin', [])).toHaveLength(1);
  });
});

describe('useBackend', () => {
  test('rejects an unknown choice, naming the argument', async () => {
    await expect(useBackend('gpu' as never)).rejects.toThrow(InvalidArgumentError);
    await expect(useBackend('gpu' as never)).rejects.toThrow(/^backend: /);
  });

  test("explicit 'cpu' works", async () => {
    const sel = await useBackend('cpu');
    expect(sel.selected).toBe('cpu');
    expect(sel.statuses).toHaveLength(1);
    expect(sel.statuses[0]).toMatchObject({ name: 'cpu', available: true });
    expect(tf.getBackend()).toBe('cpu');
  });

  test("explicit 'tensorflow' throws BackendUnavailableError with the reason, and does not switch", async () => {
    await useBackend('cpu');
    const err = await useBackend('tensorflow').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendUnavailableError);
    const e = err as BackendUnavailableError;
    expect(e.backend).toBe('tensorflow');
    expect(e.reason).toMatch(/^(not installed \(npm i @tensorflow\/tfjs-node-gpu|failed to load: )/);
    expect(e.message).toBe(`backend 'tensorflow' is not available: ${e.reason}`);
    expect(tf.getBackend()).toBe('cpu');
  });

  test("explicit 'webgpu' without a usable adapter throws its probe's reason rather than falling back", async () => {
    // The probe's finding injected, so this holds on a host with a GPU as on one without
    // (backends-policy.test.ts runs the real probe against a stand-in Dawn).
    const reason = 'no adapter: requestAdapter returned null (injected)';
    const probe = jest.spyOn(webgpuModule, 'probeWebGPU').mockResolvedValue({ status: { name: 'webgpu', available: false, reason } });
    const activate = jest.spyOn(webgpuModule, 'activateWebGPU');
    try {
      await useBackend('cpu');
      const err = await useBackend('webgpu', { allowSoftwareWebGPU: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendUnavailableError);
      expect(err).toMatchObject({ backend: 'webgpu', reason, message: `backend 'webgpu' is not available: ${reason}` });
      expect(probe).toHaveBeenCalledWith({ allowSoftware: false });
      expect(activate).not.toHaveBeenCalled();
      expect(tf.getBackend()).toBe('cpu');
    } finally {
      probe.mockRestore();
      activate.mockRestore();
    }
  });

  test("explicit 'wasm' reports SIMD and threads", async () => {
    const sel = await useBackend('wasm');
    expect(sel.selected).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const details = sel.statuses[0].details ?? {};
    expect(typeof details.simd).toBe('boolean');
    expect(details.threads).toBe(false);
    // lib/kernels adds the conv backprop tfjs-backend-wasm lacks, which CNN training needs.
    expect(details.trainingKernels).toBe(true);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeDefined();
    expect(sel.statuses[0].reason).toMatch(/^SIMD (yes|no), threads no/);
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.eye(2)));
    expect(Array.from(await product.data())).toEqual([1, 2, 3, 4]);
    product.dispose();
  });

  test('auto picks the first available backend and says why each better one was skipped', async () => {
    const lines: string[] = [];
    const sel = await useBackend('auto', { log: (l) => lines.push(l), allowSoftwareWebGPU: false });
    const last = sel.statuses[sel.statuses.length - 1];
    expect(last.name).toBe(sel.selected);
    expect(last.available).toBe(true);
    for (const skipped of sel.statuses.slice(0, -1)) {
      expect(skipped.available).toBe(false);
      expect(skipped.reason.length).toBeGreaterThan(0);
    }
    expect(lines).toHaveLength(sel.statuses.length);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^backend: .*${sel.selected}.* selected`));
    expect(tf.getBackend()).toBe(sel.selected);

    // auto's order, stopping at the selected one; wasm always works under Node, so it gets no further.
    expect(sel.statuses.map((s) => s.name)).toEqual(['tensorflow', 'webgpu', 'tensorflow', 'wasm', 'cpu'].slice(0, sel.statuses.length));
    expect(sel.statuses.length).toBeLessThanOrEqual(4);
    // The tensorflow tiers' reasons, against what npm installed (decided apart from the loader).
    // (A tfjs-node-gpu that loaded without a GPU is the CPU tier's TensorFlow too.)
    const gpuLoaded = /^loaded, but TensorFlow registered no CUDA GPU/.test(sel.statuses[0]!.reason);
    const tiers = [
      { status: sel.statuses[0], pkg: TFJS_NODE_GPU, absent: `not installed (npm i @tensorflow/tfjs-node-gpu@4.22.0; not installed by default; exactly CUDA 11.2 + cuDNN 8.1, see ${CUDA_DOCS_LINK})` },
      { status: sel.statuses[2], pkg: gpuLoaded ? TFJS_NODE_GPU : TFJS_NODE, absent: 'not installed (npm i @tensorflow/tfjs-node@4.22.0)' },
    ];
    for (const { status, pkg, absent } of tiers.filter((t) => t.status !== undefined)) {
      expect(status).toMatchObject({ name: 'tensorflow', package: pkg });
      if (resolvePackageDir(pkg) === undefined) expect(status).toMatchObject({ available: false, reason: absent });
      else if (!status!.available) expect(status!.reason).toMatch(/^(failed to load|loaded, but)/);
      else expect(status!.reason).toMatch(/^TensorFlow/);
    }
  });

  test('probeBackends lists all five tiers and does not switch', async () => {
    await useBackend('cpu');
    const statuses = await probeBackends({ allowSoftwareWebGPU: false });
    expect(statuses.map((s) => s.name)).toEqual(['tensorflow', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    expect(statuses[4].available).toBe(true);
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('doctor', () => {
  test('report shape', async () => {
    const report = await doctor({ allowSoftwareWebGPU: false });
    expect(Object.keys(report).sort()).toEqual(['backends', 'cpu', 'current', 'gpu', 'platform', 'selected', 'versions']);
    expect(report.backends.map((s) => s.name)).toEqual(['tensorflow', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    expect(report.selected).toBe(report.backends.find((s) => s.available)?.name);
    expect(report.versions).toMatchObject({ node: process.versions.node, tfjs: '4.22.0', 'tfjs-core': '4.22.0', 'tfjs-backend-wasm': '4.22.0' });
    expect(report.cpu.cores).toBeGreaterThan(0);
    expect(typeof report.cpu.model).toBe('string');
    expect(typeof report.cpu.simd).toBe('boolean');
    expect(report.cpu.threads).toBe(false);
    expect(typeof report.gpu.webgpu).toBe('string');
    expect('gpus' in report.gpu.nvidia || 'reason' in report.gpu.nvidia).toBe(true);
    expect(typeof report.gpu.vulkanLoader).toBe('boolean');
    if (process.platform === 'linux') {
      const { found, missing } = report.gpu.cudaLibraries ?? { found: [], missing: [] };
      expect([...found, ...missing].sort()).toEqual([...CUDA_LIBRARIES].sort());
    }
    if (report.gpu.webgpuAdapter) {
      expect(report.gpu.webgpuAdapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
      expect(report.gpu.webgpuAdapter.limits.maxComputeWorkgroupStorageSize).toBeGreaterThan(0);
    } else {
      // No adapter of any kind: the line says why.
      expect(report.gpu.webgpu).toMatch(/^(no adapter|not installed|no Dawn)/);
    }
    expect(report.platform).toMatchObject({ os: process.platform, arch: process.arch, bundled: false });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  test('formatDoctor lists every backend with its reason and marks the selected one', async () => {
    const report = await doctor({ allowSoftwareWebGPU: false });
    const text = formatDoctor(report);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^platform +\w+ \w+, kernel /);
    expect(text).toMatch(/^cpu +.*\d+ cores; wasm SIMD (yes|no), threads no$/m);
    expect(text).toMatch(/^gpu +nvidia-smi: /m);
    expect(text).toContain(`webgpu: ${report.gpu.webgpu}`);
    expect(text).toContain('backends, in auto order');
    for (const s of report.backends) expect(text).toContain(s.reason);
    expect(lines.filter((l) => l.endsWith('<- selected'))).toHaveLength(1);
    expect(lines[lines.length - 1]).toBe(`selected: ${report.selected} (current tf.js backend: ${report.current ?? 'none yet'})`);
  });
});

// WebGPU's results against the cpu backend's on a software adapter: webgpu-compute.test.ts, in a
// child process, so that what Dawn prints there does not reach the test output.
// Whether auto takes a software adapter only when allowed is decided on every host in
// backends-policy.test.ts, against a stand-in Dawn.
