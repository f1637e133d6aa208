/**
 * Loading, in a browser, the models `mnist-nets train --save` writes (model.json + weights.<hash>.bin,
 * the library's metadata under `mnistNets`): by URL, or from files a user picked. The format is the
 * one lib/io/model-io.ts writes and reads under Node, so a model trained on a GPU box predicts in a
 * page unchanged. No file system here.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelIOError, errorMessage } from '../errors';
// Type only: model-io.ts itself reads files, and its types vanish from the bundle.
import type { ModelMetadata } from './model-io';

/** The model topology file a save directory holds. @default 'model.json' */
export const MODEL_JSON = 'model.json';
/** Key of the library's metadata inside model.json. @default 'mnistNets' */
export const METADATA_KEY = 'mnistNets';

export interface LoadedModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
  /** The URL or file name the model came from. */
  source: string;
}

type FetchFn = (url: string) => Promise<Response>;

interface ModelJson {
  modelTopology: object;
  weightsManifest: tf.io.WeightsManifestConfig;
  format?: string;
  generatedBy?: string;
  metadata: ModelMetadata;
}

const BYTES_PER_DTYPE: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

/** Checks a parsed model.json: a tf.js layers model with this library's metadata. */
function checkModelJson(json: unknown, source: string): ModelJson {
  const j = json as Record<string, unknown> | null;
  if (j === null || typeof j !== 'object' || typeof j.modelTopology !== 'object' || j.modelTopology === null || !Array.isArray(j.weightsManifest)) {
    throw new ModelIOError(source, 'missing modelTopology or weightsManifest: not a tf.js layers model');
  }
  const metadata = j[METADATA_KEY] as ModelMetadata | undefined;
  if (metadata === null || typeof metadata !== 'object') {
    throw new ModelIOError(source, `no '${METADATA_KEY}' metadata: not saved by tfjs-mnist-nets (mnist-nets train --save)`);
  }
  for (const key of ['normalization', 'loss', 'layout'] as const) {
    if (typeof metadata[key] !== 'string') throw new ModelIOError(source, `'${METADATA_KEY}.${key}' is missing: the metadata is incomplete`);
  }
  for (const [i, group] of (j.weightsManifest as unknown[]).entries()) {
    const g = group as { paths?: unknown; weights?: unknown } | null;
    if (!Array.isArray(g?.paths) || !g.paths.every((p) => typeof p === 'string') || !Array.isArray(g.weights)) {
      throw new ModelIOError(source, `weightsManifest[${i}] needs "paths" (strings) and "weights"`);
    }
  }
  return {
    modelTopology: j.modelTopology as object,
    weightsManifest: j.weightsManifest as tf.io.WeightsManifestConfig,
    format: typeof j.format === 'string' ? j.format : undefined,
    generatedBy: typeof j.generatedBy === 'string' ? j.generatedBy : undefined,
    metadata,
  };
}

function parseJson(bytes: Uint8Array, source: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ModelIOError(source, `not valid JSON: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Reads the weights the manifest names (through `read`, by their manifest path), checks that they
 * hold exactly the bytes the specs describe, and rebuilds the model.
 */
async function rebuild(json: ModelJson, source: string, read: (path: string) => Promise<Uint8Array>): Promise<LoadedModel> {
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) for (const p of group.paths) buffers.push(await read(p));
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const expected = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (BYTES_PER_DTYPE[s.dtype] ?? 4), 0);
  if (total !== expected) throw new ModelIOError(source, `weights hold ${total} bytes, model.json describes ${expected}: the save is corrupt or incomplete`);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: weightData.buffer, format: json.format, generatedBy: json.generatedBy }),
    );
  } catch (err) {
    throw new ModelIOError(source, `cannot rebuild the model: ${errorMessage(err)}`, { cause: err });
  }
  return { model, metadata: json.metadata, source };
}

async function fetchBytes(fetchFn: FetchFn, url: string, what: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (err) {
    throw new ModelIOError(url, `cannot fetch the ${what}: ${errorMessage(err)}`, { cause: err });
  }
  if (!response.ok) throw new ModelIOError(url, `cannot fetch the ${what}: HTTP ${response.status} ${response.statusText}`.trim());
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Loads a saved model by the URL of its model.json, or of the folder holding it (a URL ending in
 * `/`); weight files are fetched relative to model.json. A relative URL resolves against the page.
 */
export async function loadModelFromUrl(url: string, options: { fetch?: FetchFn } = {}): Promise<LoadedModel> {
  if (typeof url !== 'string' || url === '') throw new ModelIOError(String(url), 'the model URL must be a non-empty string');
  const fetchFn = options.fetch ?? ((u: string) => fetch(u));
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  let modelUrl: URL;
  try {
    modelUrl = new URL(url.endsWith('/') ? `${url}${MODEL_JSON}` : url, page);
  } catch {
    throw new ModelIOError(url, `not a URL${page ? '' : ' (give an absolute one: there is no page to resolve it against)'}`);
  }
  const source = modelUrl.href;
  const json = checkModelJson(parseJson(await fetchBytes(fetchFn, source, 'model.json'), source), source);
  return rebuild(json, source, (p) => fetchBytes(fetchFn, new URL(p, modelUrl).href, 'weights file'));
}

/** A picked file: the browser's File, or anything with a name and bytes. */
export interface PickedFile {
  name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Loads a saved model from files a user picked (an `<input type=file multiple>`): model.json and
 * the weights file(s) it names, matched by file name.
 */
export async function loadModelFromFiles(files: readonly PickedFile[]): Promise<LoadedModel> {
  const byName = new Map(Array.from(files, (f) => [f.name, f]));
  const jsonFile = byName.get(MODEL_JSON) ?? Array.from(byName.values()).find((f) => f.name.endsWith('.json'));
  if (jsonFile === undefined) throw new ModelIOError('(picked files)', `pick ${MODEL_JSON} together with its weights.*.bin file`);
  const json = checkModelJson(parseJson(new Uint8Array(await jsonFile.arrayBuffer()), jsonFile.name), jsonFile.name);
  return rebuild(json, jsonFile.name, async (p) => {
    const name = p.split('/').pop() as string;
    const file = byName.get(name);
    if (file === undefined) throw new ModelIOError(name, `${jsonFile.name} names this weights file: pick it together with ${jsonFile.name}`);
    return new Uint8Array(await file.arrayBuffer());
  });
}
