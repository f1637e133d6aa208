import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { ModelIOError } from '../errors';
import { writeFileAtomic } from '../atomic-write';

/** The model topology file. Written last, so its presence means a complete save. */
export const MODEL_FILE = 'model.json';
/** Library-specific metadata key inside model.json. */
export const METADATA_KEY = 'mnistNets';
/** Format version of {@link METADATA_KEY}. */
export const METADATA_FORMAT = 1;

/**
 * What a saved model carries besides its weights: enough to evaluate it the way it was trained
 * (input normalisation and layout, loss and targets) and to say where it came from.
 */
export interface ModelMetadata {
  /** Preset id, when built from a preset. */
  preset?: string;
  family?: string;
  dataset?: string;
  normalization: string;
  layout: 'flat' | 'image';
  loss: string;
  targets?: { off: number; on: number };
  /** Hyperparameters as used: optimiser, batch size, sampling, steps, seed, backend... */
  hyperparameters: Record<string, unknown>;
  /** Anything else worth keeping (test accuracy at save time, training history...). */
  [key: string]: unknown;
}

export interface SavedModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
}

/**
 * A tf.io handler that saves into and loads from a directory with plain `fs` (no tfjs-node).
 * Weights go to a file named by their content hash, then model.json is renamed into place: a save
 * interrupted at any point leaves the previous model.json pointing at its own, intact weights.
 */
export function fileSystemHandler(dir: string, metadata?: ModelMetadata): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (!artifacts.weightSpecs || artifacts.weightData === undefined) {
        throw new ModelIOError(dir, 'the model has no weights to save');
      }
      await fsp.mkdir(dir, { recursive: true });
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const hash = createHash('sha256').update(weights).digest('hex').slice(0, 16);
      const weightsFile = `weights.${hash}.bin`;
      await writeFileAtomic(path.join(dir, weightsFile), weights);
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${weightsFile}`], weights: artifacts.weightSpecs }],
        [METADATA_KEY]: { format: METADATA_FORMAT, savedAt: new Date().toISOString(), ...metadata },
      };
      await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json));
      // Older weight files are unreferenced now; removing them last keeps every state loadable.
      for (const name of await fsp.readdir(dir)) {
        if (/^weights\.[0-9a-f]{16}\.bin$/.test(name) && name !== weightsFile) {
          await fsp.rm(path.join(dir, name), { force: true });
        }
      }
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const { json } = await readModelJson(dir);
      const manifest = json.weightsManifest as tf.io.WeightsManifestConfig;
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of manifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) {
          const file = path.join(dir, p);
          buffers.push(await readOrThrow(file, 'weights file'));
        }
      }
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
      const expected = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPer(s.dtype), 0);
      if (total !== expected) {
        throw new ModelIOError(dir, `weights hold ${total} bytes, model.json describes ${expected}: the save is corrupt`);
      }
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology as object,
        weightSpecs,
        weightData: weightData.buffer,
        format: json.format as string | undefined,
        generatedBy: json.generatedBy as string | undefined,
      };
    },
  };
}

function bytesPer(dtype: string): number {
  return dtype === 'float32' || dtype === 'int32' ? 4 : dtype === 'bool' ? 1 : 4;
}

async function readOrThrow(file: string, what: string, hint = ''): Promise<Uint8Array> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelIOError(file, code === 'ENOENT' ? `${what} not found${hint}` : `cannot read ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function readModelJson(dir: string): Promise<{ json: Record<string, unknown> }> {
  const file = path.join(dir, MODEL_FILE);
  const text = await readOrThrow(file, 'model.json', ' (is this a directory written by `mnist-nets train --save`?)');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(Buffer.from(text).toString('utf8'));
  } catch (err) {
    throw new ModelIOError(file, `not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelIOError(file, 'missing modelTopology or weightsManifest: not a tf.js layers model');
  }
  return { json };
}

/** Saves a model and its metadata into `dir` (created if missing). */
export async function saveModel(model: tf.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  await model.save(fileSystemHandler(dir, metadata));
}

/** Loads a model saved by {@link saveModel}, with its metadata. */
export async function loadModel(dir: string): Promise<SavedModel> {
  const { json } = await readModelJson(dir);
  const metadata = json[METADATA_KEY] as ModelMetadata | undefined;
  if (!metadata || typeof metadata !== 'object') {
    throw new ModelIOError(path.join(dir, MODEL_FILE), `no '${METADATA_KEY}' metadata: not saved by tfjs-mnist-nets`);
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileSystemHandler(dir));
  } catch (err) {
    if (err instanceof ModelIOError) throw err;
    throw new ModelIOError(dir, `cannot rebuild the model: ${(err as Error).message}`, { cause: err });
  }
  return { model, metadata };
}
