/**
 * What a saved model's model.json holds and which of it this library accepts: parsing and checking
 * the JSON, its weights manifest (paths that stay inside the model's folder, dtypes it can read,
 * no quantisation), its metadata, and assembling the tf.js artifacts from the weight bytes. No file
 * system, no network, no Node API: the Node loader (model-io.ts) and a browser loader that fetches
 * the files both read models through here.
 */
import type * as tf from '@tensorflow/tfjs';
import { ModelIOError } from '../errors';

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

/** A checked model.json. */
export interface ModelJson {
  /** The whole parsed document. */
  json: Record<string, unknown>;
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  /**
   * Weight files in manifest order, relative to the model's folder, '/'-separated, without '.'
   * segments: each names a file inside the folder.
   */
  weightPaths: string[];
  /** Bytes the weight files hold together. */
  weightBytes: number;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** Bytes per element of the dtypes a layers model's weights come in. */
const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks one weight path of the manifest in `file` and returns it normalised. Refused: URLs (any
 * `scheme:`, which also covers Windows drive letters), absolute paths, backslashes (a separator
 * on Windows), `..` segments, and segments that are `..` or hold a separator once percent-decoded
 * (a browser resolving the path against the model's URL decodes them).
 */
export function checkWeightPath(p: unknown, file: string): string {
  const refuse = (why: string): never => {
    throw new ModelIOError(file, `weight path ${JSON.stringify(p)} ${why}`);
  };
  if (typeof p !== 'string' || p === '') return refuse('is not a file name');
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p)) return refuse('is a URL; weights must be files in the model\'s folder');
  if (p.startsWith('/')) return refuse('is absolute; weights must be files in the model\'s folder');
  if (/[\\\u0000-\u001f]/.test(p)) return refuse("leaves the model's folder or is not a plain path (backslash or control character)");
  const segments: string[] = [];
  for (const segment of p.split('/')) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // Not percent-encoded: the segment stands as written.
    }
    if (segment === '..' || decoded === '..' || /[/\\]/.test(decoded)) return refuse("leaves the model's folder");
    if (segment === '' || segment === '.' || decoded === '.') continue;
    segments.push(segment);
  }
  if (segments.length === 0) return refuse('is not a file name');
  return segments.join('/');
}

function checkWeightSpec(spec: unknown, file: string): tf.io.WeightsManifestEntry {
  if (!isObject(spec) || typeof spec.name !== 'string' || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelIOError(file, `weightsManifest has an entry without a name and a shape of non-negative integers: corrupt`);
  }
  const quantization = spec.quantization;
  if (quantization !== undefined) {
    const dtype = isObject(quantization) && typeof quantization.dtype === 'string' ? quantization.dtype : 'unknown dtype';
    throw new ModelIOError(file, `weight ${spec.name} is quantized (${dtype}): quantized weights are not supported; save the model unquantized`);
  }
  if (typeof spec.dtype !== 'string' || DTYPE_BYTES[spec.dtype] === undefined) {
    throw new ModelIOError(file, `weight ${spec.name} has dtype ${JSON.stringify(spec.dtype)}; supported: ${Object.keys(DTYPE_BYTES).join(', ')}`);
  }
  return spec as unknown as tf.io.WeightsManifestEntry;
}

/**
 * Parses and checks the text of a model.json; `file` names it in errors (a path or a URL). Throws
 * `ModelIOError` for anything this library cannot load, saying what: not JSON, not a layers model,
 * weight paths that leave the folder, quantised or unsupported weights.
 */
export function parseModelJson(text: string, file: string): ModelJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelIOError(file, `not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw new ModelIOError(file, 'missing modelTopology or weightsManifest: not a tf.js layers model');
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const weightPaths: string[] = [];
  for (const group of json.weightsManifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ModelIOError(file, 'weightsManifest has a group without paths and weights: corrupt');
    }
    for (const p of group.paths) weightPaths.push(checkWeightPath(p, file));
    for (const spec of group.weights) weightSpecs.push(checkWeightSpec(spec, file));
  }
  const weightBytes = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[s.dtype], 0);
  return {
    json,
    modelTopology: json.modelTopology,
    weightSpecs,
    weightPaths,
    weightBytes,
    format: typeof json.format === 'string' ? json.format : undefined,
    generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
    convertedBy: typeof json.convertedBy === 'string' ? json.convertedBy : null,
  };
}

/** The library's metadata in a checked model.json, or a `ModelIOError` saying why there is none usable. */
export function modelMetadata(model: ModelJson, file: string): ModelMetadata {
  const metadata = model.json[METADATA_KEY];
  if (!isObject(metadata)) throw new ModelIOError(file, `no '${METADATA_KEY}' metadata: not saved by tfjs-mnist-nets`);
  if (typeof metadata.format === 'number' && metadata.format > METADATA_FORMAT) {
    throw new ModelIOError(file, `'${METADATA_KEY}' metadata format ${metadata.format} is newer than this version reads (${METADATA_FORMAT}): update tfjs-mnist-nets`);
  }
  const bad = (key: string, what: string) => new ModelIOError(file, `'${METADATA_KEY}.${key}' must be ${what}: corrupt metadata`);
  if (typeof metadata.normalization !== 'string') throw bad('normalization', 'a string');
  if (metadata.layout !== 'flat' && metadata.layout !== 'image') throw bad('layout', "'flat' or 'image'");
  if (typeof metadata.loss !== 'string') throw bad('loss', 'a string');
  if (!isObject(metadata.hyperparameters)) throw bad('hyperparameters', 'an object');
  return metadata as ModelMetadata;
}

/**
 * The tf.js artifacts of a checked model.json and the bytes of its weight files, in
 * `weightPaths` order. `where` names the model in the error when the bytes do not add up.
 */
export function modelArtifacts(model: ModelJson, buffers: readonly Uint8Array[], where: string): tf.io.ModelArtifacts {
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  if (total !== model.weightBytes) {
    throw new ModelIOError(where, `weights hold ${total} bytes, model.json describes ${model.weightBytes}: the save is corrupt`);
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  return {
    modelTopology: model.modelTopology,
    weightSpecs: model.weightSpecs,
    weightData: weightData.buffer,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy ?? undefined,
  };
}

/** The model.json document for `artifacts` whose weights are in the one file `weightsFile`. */
export function modelJsonFor(artifacts: tf.io.ModelArtifacts, weightsFile: string, metadata: ModelMetadata | undefined, savedAt: Date): Record<string, unknown> {
  return {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [`./${weightsFile}`], weights: artifacts.weightSpecs }],
    [METADATA_KEY]: { format: METADATA_FORMAT, savedAt: savedAt.toISOString(), ...metadata },
  };
}
