/**
 * Saving models into, and loading them from, a folder on disk with plain `fs` (no tfjs-node):
 * model.json plus one weights file, and the training history in history.json beside them. What
 * model.json may hold is model-format.ts's to decide. Any tf.js Layers folder loads (plain tf.js,
 * tensorflowjs_converter), its missing metadata given by the caller or inferred; a model saved
 * with its optimiser comes back compiled with it, state and all.
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
import { InvalidArgumentError, ModelIOError, errorMessage } from '../errors';
import { LOSS_NAMES, LossName, exampleLoss } from '../training/losses';
// Registers the recipe optimisers with tf.serialization, so that a saved one can be rebuilt.
import '../training/recipe-optimizers';
import { HistoryReader, describeModel, rebuildModel } from './model-load';
import {
  HISTORY_FILE,
  HISTORY_KEY,
  MODEL_FILE,
  MetadataHints,
  ModelJson,
  ModelMetadata,
  TRAINING_KEY,
  TrainingMetadata,
  modelArtifacts,
  modelJsonFor,
  parseModelJson,
  recordedMetadata,
  splitOptimizerWeights,
} from './model-format';

export { HISTORY_FILE, METADATA_FORMAT, METADATA_KEY, MODEL_FILE } from './model-format';
export type { MetadataHints, ModelMetadata } from './model-format';

export interface SavedModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
  /**
   * Which metadata the folder did not record, one line each: given in the load options, or
   * inferred (a plain tf.js folder). Empty for a folder this library saved.
   */
  notes: string[];
  /**
   * The optimiser saved with the model ({@link SaveModelOptions.includeOptimizer}), its state
   * restored. The model is compiled with it when the loss was saved too (tf.js's loss names and
   * the recipes' losses), so `model.fit` trains on; `train(model, data, { optimizer })` takes it too.
   */
  optimizer?: tf.Optimizer;
}

export interface SaveModelOptions {
  /**
   * Also save the optimiser's state and how to compile with it, so that the loaded model trains
   * on where it stopped. tf.js's own `includeOptimizer` writes it when plain tf.js can rebuild it
   * (a tf.js optimiser and a loss named by string); otherwise (a recipe optimiser, a recipe loss)
   * the weights go in the manifest the same way and the config in the library's metadata, so that
   * plain tf.js still loads the model. @default false
   */
  includeOptimizer?: boolean;
  /** The optimiser to save (one train() used, say). @default the compiled model's `model.optimizer` */
  optimizer?: tf.Optimizer;
}

/** Options of {@link loadModel}: metadata a folder lacks, or overrides of what it records. */
export type LoadModelOptions = MetadataHints;

/** The optimisers tf.js itself registers: a training config naming one of these loads in plain tf.js. */
const TFJS_OPTIMIZERS: ReadonlySet<string> = new Set(['SGD', 'Momentum', 'Adam', 'Adagrad', 'Adadelta', 'Adamax', 'RMSProp']);

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
 * Removes every in-flight marker in `dir`, whatever its age: for a folder whose one writer is the
 * caller, so no save is in flight there now. The weights the markers protected are then left to the
 * cleanup that ends the next save.
 */
export async function removeSaveLeftovers(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    if (name.startsWith(SAVING_PREFIX)) await fsp.rm(path.join(dir, name), { force: true });
  }
}

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
  // The per-step history can run to megabytes: it goes beside model.json, which plain tf.js parses whole.
  const { history, ...rest } = metadata ?? {};
  const recorded = metadata === undefined ? undefined : ({ ...rest, ...(history === undefined ? {} : { [HISTORY_KEY]: HISTORY_FILE }) } as ModelMetadata);
  try {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(marker, '', { flag: 'wx' });
    try {
      await writeFileAtomic(path.join(dir, weightsFile), weights);
      if (history !== undefined) await writeFileAtomic(path.join(dir, HISTORY_FILE), JSON.stringify(history));
      // model.json last: until it is renamed into place the previous one, with its own weights, stands.
      await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(modelJsonFor(artifacts, weightsFile, recorded, new Date())));
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
    const text = (await readOrThrow(modelJson, MODEL_FILE, ' (is this a model folder: `mnist-nets train --save`, tf.js model.save, tensorflowjs_converter?)')).toString('utf8');
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
 * leaves the previous model.json pointing at its own, intact weights. With `metadata`, the
 * library's metadata goes into model.json (its history into history.json); without, the folder
 * is what tf.js itself would write.
 */
export function fileSystemHandler(dir: string, metadata?: ModelMetadata): tf.io.IOHandler {
  return {
    save: (artifacts) => saveArtifacts(dir, artifacts, metadata),
    load: async () => (await readModelFolder(dir)).artifacts,
  };
}

/** How plain tf.js, or else this library, can compile a model again with `optimizer`. */
function trainingFor(model: tf.LayersModel, optimizer: tf.Optimizer): 'tfjs' | TrainingMetadata {
  const loss: unknown = model.optimizer === optimizer ? model.loss : undefined;
  const named = typeof loss === 'string' || (Array.isArray(loss) && loss.every((l) => typeof l === 'string'));
  if (named && TFJS_OPTIMIZERS.has(optimizer.getClassName())) return 'tfjs';
  const recipe = typeof loss === 'function' ? (loss as { lossName?: unknown }).lossName : undefined;
  return {
    optimizer: { className: optimizer.getClassName(), config: optimizer.getConfig() as Record<string, unknown> },
    ...(typeof loss === 'string' ? { loss: { tfjs: loss } } : typeof recipe === 'string' ? { loss: { recipe } } : {}),
  };
}

/**
 * Saves a model and its metadata into `dir` (created if missing); with `includeOptimizer`, the
 * optimiser's state too ({@link SaveModelOptions}).
 */
export async function saveModel(model: tf.LayersModel, dir: string, metadata: ModelMetadata, options: SaveModelOptions = {}): Promise<void> {
  if (!options.includeOptimizer) {
    await model.save(fileSystemHandler(dir, metadata));
    return;
  }
  const optimizer = options.optimizer ?? (model.optimizer as tf.Optimizer | undefined);
  if (optimizer == null) throw new InvalidArgumentError('includeOptimizer', 'the model has no optimiser to save: compile it, or pass options.optimizer');
  const training = trainingFor(model, optimizer);
  if (training === 'tfjs') {
    await model.save(fileSystemHandler(dir, metadata), { includeOptimizer: true });
    return;
  }
  let weights: Array<{ name: string; tensor: tf.Tensor }>;
  try {
    weights = await optimizer.getWeights();
  } catch (err) {
    throw new InvalidArgumentError('includeOptimizer', `${optimizer.getClassName()} cannot save its state (getWeights): ${errorMessage(err)}`);
  }
  try {
    const encoded = await tf.io.encodeWeights(weights, 'optimizer');
    await model.save({
      save: (artifacts) =>
        saveArtifacts(
          dir,
          {
            ...artifacts,
            weightSpecs: [...(artifacts.weightSpecs ?? []), ...encoded.specs],
            weightData: tf.io.concatenateArrayBuffers([tf.io.CompositeArrayBuffer.join(artifacts.weightData!), encoded.data]),
          },
          { ...metadata, [TRAINING_KEY]: training },
        ),
    });
  } finally {
    // The step counter comes as a fresh scalar; the rest are the optimiser's own variables.
    tf.dispose(weights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  }
}

/** Rebuilds the optimiser a folder's metadata names, with its saved state, and compiles the model with it where the loss is known. */
async function restoreOptimizer(model: tf.LayersModel, training: TrainingMetadata, weights: { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }, file: string): Promise<tf.Optimizer> {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[training.optimizer?.className];
  if (entry === undefined) {
    throw new ModelIOError(file, `the saved optimiser '${String(training.optimizer?.className)}' is not registered with tf.serialization: import the module that defines it first`);
  }
  const optimizer = entry[1](entry[0], training.optimizer.config as tf.serialization.ConfigDict) as unknown as tf.Optimizer;
  const named = tf.io.decodeWeights(weights.data, weights.specs);
  try {
    await optimizer.setWeights(weights.specs.map((s) => ({ name: s.name, tensor: named[s.name]! })));
  } catch (err) {
    optimizer.dispose();
    throw new ModelIOError(file, `cannot restore the saved optimiser state: ${errorMessage(err)}`, { cause: err });
  } finally {
    tf.dispose(Object.values(named));
  }
  const loss = training.loss;
  if (loss !== undefined && 'recipe' in loss && !(LOSS_NAMES as readonly string[]).includes(loss.recipe)) {
    optimizer.dispose();
    throw new ModelIOError(file, `the saved loss '${String(loss.recipe)}' is not one of the recipes' (${LOSS_NAMES.join(', ')}): corrupt metadata`);
  }
  if (loss !== undefined) model.compile({ optimizer, loss: 'tfjs' in loss ? loss.tfjs : exampleLoss(loss.recipe as LossName) });
  return optimizer;
}

/** The history file beside a folder's model.json, and how its failure reads in a note. */
function folderHistory(dir: string): HistoryReader {
  const file = path.join(dir, HISTORY_FILE);
  return {
    read: () => fsp.readFile(file, 'utf8'),
    problem: (err) => `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : errorMessage(err)}`,
  };
}

/**
 * Loads a model folder, from one reading of model.json: one saved by {@link saveModel} with its
 * metadata (and history, and optimiser when saved with it), or any tf.js Layers folder, whose
 * missing metadata comes from `options` or is inferred ({@link SavedModel.notes} says which).
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<SavedModel> {
  const { model: json, artifacts, modelJson } = await readModelFolder(dir);
  const recorded = recordedMetadata(json, modelJson);
  const training = recorded?.[TRAINING_KEY] as TrainingMetadata | undefined;
  // tf.js drops optimiser weights it has no optimiser for: ours are taken out first and restored here.
  const parts = training ? splitOptimizerWeights(artifacts) : undefined;
  const model = await rebuildModel(parts?.model ?? artifacts, dir);
  try {
    const { metadata, notes } = await describeModel(recorded, modelJson, model, options, folderHistory(dir));
    const optimizer = parts ? await restoreOptimizer(model, training!, parts.optimizer, modelJson) : ((model.optimizer as tf.Optimizer | undefined) ?? undefined);
    return { model, metadata, notes, ...(optimizer ? { optimizer } : {}) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
