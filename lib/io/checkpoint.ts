/**
 * Training checkpoints: a saved model (lib/io/model-io.ts) plus the state train() needs to carry
 * on exactly where it stopped (lib/training/train.ts `TrainState`: step, sampler and dropout
 * generators, optimiser slots, history).
 *
 * Layout of a checkpoint folder: the model's own files (model.json, weights) and two state files,
 * `train-state.<id>.json` (the small parts and a manifest) and `train-state.<id>.data` (the
 * sampler's permutation as int32, then every optimiser slot as float32, in manifest order). The
 * state files are written first, each atomically, then the model with a metadata entry naming the
 * state file: model.json is renamed into place last, so whatever model.json a reader finds
 * names a complete state of the same step. State files no model.json names are removed after.
 * A first save (no folder yet) is built in a temporary sibling folder that is renamed into place
 * whole, so a save killed at any point leaves either the previous checkpoint or none, never an
 * empty or partial folder; what such a save left behind (temporary files and folders, weights no
 * model.json names) is removed by the next save. One writer per folder (train's saves are
 * sequential). The binary is not named `.bin`, so that what looks for a model's weights by that
 * extension does not take it for them.
 */
import * as tf from '@tensorflow/tfjs';
import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { removeAbandonedTemps, tempSibling, writeFileAtomic } from '../atomic-write';
import { ModelIOError, errorMessage } from '../errors';
import type { EpochEntry, EvalEntry, TrainState } from '../training/train';
import { loadModel, removeSaveLeftovers, saveModel } from './model-io';
import { MODEL_FILE, ModelMetadata, modelMetadata, parseModelJson } from './model-format';

/** Metadata key (inside model.json's library metadata) naming the state file. */
export const TRAIN_STATE_KEY = 'trainState';
/** Format version of the state files. */
export const TRAIN_STATE_FORMAT = 1;
const STATE_FILE = /^train-state\.[0-9a-f]{16}\.(json|data)$/;

/** A checkpoint read back: the model with its metadata, and the state to resume with. */
export interface Checkpoint {
  model: tf.LayersModel;
  metadata: ModelMetadata;
  state: TrainState;
}

/** The JSON half of a state; the typed arrays are in the binary file. */
interface StateJson {
  format: number;
  step: number;
  seed: number;
  sampler: { rng: number; position: number; length: number };
  dropoutRng: number;
  trainSeconds: number;
  epochLossStart: number;
  history: { loss: number[]; evals: EvalEntry[]; epochs: EpochEntry[] };
  /** Each slot's arrays' lengths, in the order they follow the permutation in the binary file. */
  optimizer: Record<string, number[]>;
  binary: string;
  binaryBytes: number;
}

/**
 * Saves `model` with `metadata` and the training `state` into `dir` (created if missing), so
 * that {@link loadCheckpoint} and `train({ resume })` continue the run.
 */
export async function saveCheckpoint(dir: string, model: tf.LayersModel, metadata: ModelMetadata, state: TrainState): Promise<void> {
  const parent = path.dirname(path.resolve(dir));
  await fsp.mkdir(parent, { recursive: true });
  await removeAbandonedTemps(parent);
  const exists = await fsp.stat(dir).then(() => true, () => false);
  if (exists) {
    await removeLeftovers(dir);
    await writeCheckpoint(dir, model, metadata, state);
    return;
  }
  const staging = tempSibling(path.resolve(dir), 'saving');
  try {
    await fsp.mkdir(staging);
    await writeCheckpoint(staging, model, metadata, state);
    await fsp.rename(staging, dir);
  } catch (err) {
    await fsp.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * What a save killed mid-way left in `dir`: temporary files of processes that no longer run, and
 * the in-flight markers of model saves (one writer per checkpoint folder, so none is in flight
 * now), which frees the weights they protected for the cleanup that ends this save.
 */
async function removeLeftovers(dir: string): Promise<void> {
  await removeAbandonedTemps(dir);
  await removeSaveLeftovers(dir);
}

async function writeCheckpoint(dir: string, model: tf.LayersModel, metadata: ModelMetadata, state: TrainState): Promise<void> {
  const id = randomBytes(8).toString('hex');
  const binary = `train-state.${id}.data`;
  const jsonName = `train-state.${id}.json`;
  const slots = Object.entries(state.optimizer);
  const arrays: ArrayBufferView[] = [state.sampler.order, ...slots.flatMap(([, values]) => values)];
  const bytes = arrays.reduce((n, a) => n + a.byteLength, 0);
  const data = new Uint8Array(bytes);
  let offset = 0;
  for (const a of arrays) {
    data.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  const json: StateJson = {
    format: TRAIN_STATE_FORMAT,
    step: state.step,
    seed: state.seed,
    sampler: { rng: state.sampler.rng, position: state.sampler.position, length: state.sampler.order.length },
    dropoutRng: state.dropoutRng,
    trainSeconds: state.trainSeconds,
    epochLossStart: state.epochLossStart,
    history: state.history,
    optimizer: Object.fromEntries(slots.map(([name, values]) => [name, values.map((v) => v.length)])),
    binary,
    binaryBytes: bytes,
  };
  await writeFileAtomic(path.join(dir, binary), data);
  await writeFileAtomic(path.join(dir, jsonName), JSON.stringify(json));
  await saveModel(model, dir, { ...metadata, [TRAIN_STATE_KEY]: jsonName, checkpointStep: state.step });
  await removeUnreferencedState(dir);
}

/** Removes state files that the current model.json does not name (earlier checkpoints). */
async function removeUnreferencedState(dir: string): Promise<void> {
  let keep: string | undefined;
  try {
    const text = await fsp.readFile(path.join(dir, MODEL_FILE), 'utf8');
    keep = String(modelMetadata(parseModelJson(text, MODEL_FILE), MODEL_FILE)[TRAIN_STATE_KEY]);
  } catch {
    return;
  }
  const keepBinary = keep.replace(/\.json$/, '.data');
  for (const name of await fsp.readdir(dir)) {
    if (STATE_FILE.test(name) && name !== keep && name !== keepBinary) await fsp.rm(path.join(dir, name), { force: true });
  }
}

/** Whether `dir` holds a checkpoint (a model.json); says nothing about whether it is intact. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return fsp
    .stat(path.join(dir, MODEL_FILE))
    .then((s) => s.isFile())
    .catch(() => false);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function checkStateJson(json: unknown, file: string): StateJson {
  const bad = (what: string): never => {
    throw new ModelIOError(file, `not a training state this version reads: ${what}`);
  };
  if (json === null || typeof json !== 'object') return bad('not a JSON object');
  const s = json as Partial<StateJson>;
  if (s.format !== TRAIN_STATE_FORMAT) bad(`format ${JSON.stringify(s.format)}, expected ${TRAIN_STATE_FORMAT}`);
  if (!isCount(s.step) || !isCount(s.seed) || !isCount(s.dropoutRng) || !isCount(s.epochLossStart)) bad('step, seed, dropoutRng or epochLossStart');
  if (!isNumber(s.trainSeconds) || s.trainSeconds < 0) bad('trainSeconds');
  const sampler = s.sampler;
  if (!sampler || !isCount(sampler.rng) || !isCount(sampler.position) || !isCount(sampler.length)) bad('sampler');
  const h = s.history;
  if (!h || !Array.isArray(h.loss) || !Array.isArray(h.evals) || !Array.isArray(h.epochs) || !h.loss.every(isNumber)) bad('history');
  if (h!.loss.length !== s.step) bad(`history holds ${h!.loss.length} losses for ${s.step} steps`);
  const optimizer = s.optimizer;
  if (!optimizer || typeof optimizer !== 'object' || !Object.values(optimizer).every((v) => Array.isArray(v) && v.every(isCount))) bad('optimizer');
  if (typeof s.binary !== 'string' || !STATE_FILE.test(s.binary) || !isCount(s.binaryBytes)) bad('binary');
  return s as StateJson;
}

async function readFile(file: string, what: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelIOError(file, missing ? `${what} not found` : `cannot read ${what}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Reads the checkpoint in `dir` written by {@link saveCheckpoint}. The caller owns the model. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const { model, metadata } = await loadModel(dir);
  try {
    const name = metadata[TRAIN_STATE_KEY];
    if (typeof name !== 'string' || !STATE_FILE.test(name)) {
      throw new ModelIOError(path.join(dir, MODEL_FILE), 'no training state to resume from: a final model saved without one, or not written by `mnist-nets train --save`');
    }
    const jsonFile = path.join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readFile(jsonFile, 'training state')).toString('utf8'));
    } catch (err) {
      if (err instanceof ModelIOError) throw err;
      throw new ModelIOError(jsonFile, `not valid JSON: ${errorMessage(err)}`);
    }
    const json = checkStateJson(parsed, jsonFile);
    const binaryFile = path.join(dir, json.binary);
    const bytes = await readFile(binaryFile, 'training state data');
    const slotLengths = Object.values(json.optimizer).flat();
    const expected = 4 * (json.sampler.length + slotLengths.reduce((a, b) => a + b, 0));
    if (bytes.byteLength !== expected || json.binaryBytes !== expected) {
      throw new ModelIOError(binaryFile, `holds ${bytes.byteLength} bytes, ${jsonFile} describes ${expected}: the checkpoint is corrupt`);
    }
    // A copy at offset 0 of its own buffer: typed arrays over it need 4-byte alignment.
    const buffer = new Uint8Array(bytes).buffer;
    let offset = 0;
    const take = <T>(make: (b: ArrayBuffer, o: number, n: number) => T, n: number): T => {
      const out = make(buffer, offset, n);
      offset += 4 * n;
      return out;
    };
    const order = take((b, o, n) => new Int32Array(b, o, n), json.sampler.length);
    const optimizer = Object.fromEntries(
      Object.entries(json.optimizer).map(([slot, lengths]) => [slot, lengths.map((n) => take((b, o, k) => new Float32Array(b, o, k), n))]),
    );
    const state: TrainState = {
      step: json.step,
      seed: json.seed,
      sampler: { rng: json.sampler.rng, position: json.sampler.position, order },
      dropoutRng: json.dropoutRng,
      optimizer,
      history: json.history,
      trainSeconds: json.trainSeconds,
      epochLossStart: json.epochLossStart,
    };
    return { model, metadata, state };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
