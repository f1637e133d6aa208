/**
 * Saving models into, and loading them from, a folder on disk with plain `fs` (no tfjs-node):
 * model.json plus one weights file. What model.json may hold is model-format.ts's to decide.
 *
 * Several saves into one folder may run at once (a checkpoint and a final save, two processes):
 * each writes its weights under a name no other save uses, marks them as in flight until its
 * model.json is in place, and afterwards removes only weight files that neither the current
 * model.json nor a save in flight refers to. So every model.json on disk names weights that exist,
 * and a load, which reads model.json once, gets metadata and weights of one save.
 */
import * as tf from '@tensorflow/tfjs';
import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic-write';
import { ModelIOError, errorMessage } from '../errors';
import { MODEL_FILE, ModelJson, ModelMetadata, modelArtifacts, modelJsonFor, modelMetadata, parseModelJson } from './model-format';

export { METADATA_FORMAT, METADATA_KEY, MODEL_FILE } from './model-format';
export type { ModelMetadata } from './model-format';

export interface SavedModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
}

/** Weight files this library writes: `weights.<16 hex digits>.bin`, the digits random per save. */
const WEIGHTS_FILE = /^weights\.[0-9a-f]{16}\.bin$/;
/** Marks a save in flight; the rest of the name is the weights file it protects. */
export const SAVING_PREFIX = '.saving-';
/**
 * Age after which a marker counts as left behind by a save that died (a save writes two files, a
 * few MB, in well under a second), so its weights may be cleaned up. @default 600000
 */
export const STALE_SAVE_MS = 600_000;
/** Reads of model.json a load makes at most, when it keeps changing before its weights are opened. @default 10 */
export const LOAD_ATTEMPTS = 10;

/**
 * Removes weight files that no save needs any more. The order of the three looks is what makes it
 * safe beside saves in flight: a weights file seen in the first listing was created after its
 * marker, so the second listing sees that marker, unless that save already finished, in which case
 * the model.json read last is its own or a newer one.
 */
async function removeUnreferencedWeights(dir: string): Promise<void> {
  const weights = (await fsp.readdir(dir)).filter((n) => WEIGHTS_FILE.test(n));
  const inFlight = new Set<string>();
  for (const name of await fsp.readdir(dir)) {
    if (!name.startsWith(SAVING_PREFIX)) continue;
    const marker = path.join(dir, name);
    const stat = await fsp.stat(marker).catch(() => undefined);
    if (stat !== undefined && Date.now() - stat.mtimeMs > STALE_SAVE_MS) await fsp.rm(marker, { force: true });
    else inFlight.add(name.slice(SAVING_PREFIX.length));
  }
  let current: ModelJson;
  try {
    current = parseModelJson(await fsp.readFile(path.join(dir, MODEL_FILE), 'utf8'), MODEL_FILE);
  } catch {
    // Without a readable model.json nothing is known to be unreferenced.
    return;
  }
  const referenced = new Set(current.weightPaths);
  for (const name of weights) {
    if (!inFlight.has(name) && !referenced.has(name)) await fsp.rm(path.join(dir, name), { force: true });
  }
}

async function saveArtifacts(dir: string, artifacts: tf.io.ModelArtifacts, metadata: ModelMetadata | undefined): Promise<tf.io.SaveResult> {
  if (!artifacts.weightSpecs || artifacts.weightData === undefined) {
    throw new ModelIOError(dir, 'the model has no weights to save');
  }
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const weightsFile = `weights.${randomBytes(8).toString('hex')}.bin`;
  const marker = path.join(dir, SAVING_PREFIX + weightsFile);
  try {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(marker, '', { flag: 'wx' });
    try {
      await writeFileAtomic(path.join(dir, weightsFile), weights);
      // model.json last: until it is renamed into place the previous one, with its own weights, stands.
      await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(modelJsonFor(artifacts, weightsFile, metadata, new Date())));
    } catch (err) {
      await fsp.rm(path.join(dir, weightsFile), { force: true });
      throw err;
    } finally {
      await fsp.rm(marker, { force: true });
    }
    await removeUnreferencedWeights(dir);
  } catch (err) {
    if (err instanceof ModelIOError) throw err;
    throw new ModelIOError(dir, `cannot save the model: ${errorMessage(err)}`, { cause: err });
  }
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
}

async function readOrThrow(file: string, what: string, hint = ''): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelIOError(file, code === 'ENOENT' ? `${what} not found${hint}` : `cannot read ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** The file a checked weight path names, refusing one that a symbolic link takes out of the folder. */
async function weightFile(dir: string, weightPath: string, modelJson: string): Promise<string> {
  const file = path.join(dir, ...weightPath.split('/'));
  let realFile: string;
  try {
    realFile = await fsp.realpath(file);
  } catch {
    return file; // Reading it says what is wrong.
  }
  if (!realFile.startsWith((await fsp.realpath(dir)) + path.sep)) {
    throw new ModelIOError(modelJson, `weight path "./${weightPath}" leaves the model's folder (a link to ${realFile})`);
  }
  return file;
}

interface ReadModel {
  model: ModelJson;
  artifacts: tf.io.ModelArtifacts;
  modelJson: string;
}

/**
 * Reads model.json once and the weights it names. When a weights file is gone because a newer
 * save replaced model.json meanwhile, starts again from the new model.json.
 */
async function readModelFolder(dir: string): Promise<ReadModel> {
  const modelJson = path.join(dir, MODEL_FILE);
  for (let attempt = 1; ; attempt++) {
    const text = (await readOrThrow(modelJson, MODEL_FILE, ' (is this a directory written by `mnist-nets train --save`?)')).toString('utf8');
    const model = parseModelJson(text, modelJson);
    const buffers: Uint8Array[] = [];
    try {
      for (const p of model.weightPaths) buffers.push(await readOrThrow(await weightFile(dir, p, modelJson), 'weights file'));
    } catch (err) {
      const replaced = attempt < LOAD_ATTEMPTS && (await fsp.readFile(modelJson, 'utf8').then((t) => t !== text, () => false));
      if (replaced) continue;
      throw err;
    }
    return { model, artifacts: modelArtifacts(model, buffers, dir), modelJson };
  }
}

/**
 * A tf.io handler that saves into and loads from a directory with plain `fs` (no tfjs-node).
 * A save writes the weights, then renames model.json into place: a save interrupted at any point
 * leaves the previous model.json pointing at its own, intact weights.
 */
export function fileSystemHandler(dir: string, metadata?: ModelMetadata): tf.io.IOHandler {
  return {
    save: (artifacts) => saveArtifacts(dir, artifacts, metadata),
    load: async () => (await readModelFolder(dir)).artifacts,
  };
}

/** Saves a model and its metadata into `dir` (created if missing). */
export async function saveModel(model: tf.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  await model.save(fileSystemHandler(dir, metadata));
}

/** Loads a model saved by {@link saveModel}, with its metadata, from one reading of model.json. */
export async function loadModel(dir: string): Promise<SavedModel> {
  const { model: json, artifacts, modelJson } = await readModelFolder(dir);
  const metadata = modelMetadata(json, modelJson);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel({ load: async () => artifacts });
  } catch (err) {
    throw new ModelIOError(dir, `cannot rebuild the model: ${errorMessage(err)}`, { cause: err });
  }
  return { model, metadata };
}
