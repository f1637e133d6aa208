/**
 * Loading, in a browser, the models `mnist-nets train --save` writes (model.json + weights.<hash>.bin,
 * the library's metadata under `userDefinedMetadata.mnistNets`, history.json), or any tf.js Layers
 * model, by URL or from files a user picked. model-format.ts checks model.json, assembles the
 * weights and fills in missing metadata exactly as the Node loader (model-io.ts) does, so a model
 * trained on a GPU box predicts in a page unchanged. No file system here.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelIOError, errorMessage } from '../errors';
import { HISTORY_FILE, MODEL_FILE, MetadataHints, ModelJson, ModelMetadata, modelArtifacts, parseModelJson, recordedMetadata } from './model-format';
import { describeModel, rebuildModel } from './model-load';

export interface LoadedModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
  /** The URL or file name the model came from. */
  source: string;
  /** Which metadata the model's folder did not record: given in the options, or inferred (one line each). */
  notes: string[];
}

type FetchFn = (url: string) => Promise<Response>;

/** Reads the weight files (through `read`, by their checked manifest path) and rebuilds the model. */
async function rebuild(text: string, source: string, read: (path: string) => Promise<Uint8Array>, hints: MetadataHints): Promise<LoadedModel> {
  const json: ModelJson = parseModelJson(text, source);
  const buffers: Uint8Array[] = [];
  for (const p of json.weightPaths) buffers.push(await read(p));
  const artifacts = modelArtifacts(json, buffers, source);
  const model = await rebuildModel(artifacts, source);
  try {
    // The history, when model.json names one, is read as the weights are, from beside model.json.
    const history = { read: async () => new TextDecoder().decode(await read(HISTORY_FILE)), problem: errorMessage };
    const { metadata, notes } = await describeModel(recordedMetadata(json, source), source, model, hints, history);
    return { model, metadata, source, notes };
  } catch (err) {
    model.dispose();
    throw err;
  }
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
 * `/`); weight files are fetched relative to model.json (model-format.ts refuses manifest paths
 * that would leave its folder). A relative URL resolves against the page.
 */
export async function loadModelFromUrl(url: string, options: { fetch?: FetchFn } & MetadataHints = {}): Promise<LoadedModel> {
  if (typeof url !== 'string' || url === '') throw new ModelIOError(String(url), 'the model URL must be a non-empty string');
  const fetchFn = options.fetch ?? ((u: string) => fetch(u));
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  let modelUrl: URL;
  try {
    modelUrl = new URL(url.endsWith('/') ? `${url}${MODEL_FILE}` : url, page);
  } catch {
    throw new ModelIOError(url, `not a URL${page ? '' : ' (give an absolute one: there is no page to resolve it against)'}`);
  }
  const source = modelUrl.href;
  const text = new TextDecoder().decode(await fetchBytes(fetchFn, source, MODEL_FILE));
  return rebuild(text, source, (p) => fetchBytes(fetchFn, new URL(p, modelUrl).href, 'weights file'), options);
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
export async function loadModelFromFiles(files: readonly PickedFile[], hints: MetadataHints = {}): Promise<LoadedModel> {
  const byName = new Map(Array.from(files, (f) => [f.name, f]));
  const jsonFile = byName.get(MODEL_FILE) ?? Array.from(byName.values()).find((f) => f.name.endsWith('.json') && f.name !== HISTORY_FILE);
  if (jsonFile === undefined) throw new ModelIOError('(picked files)', `pick ${MODEL_FILE} together with its weights.*.bin file`);
  const text = new TextDecoder().decode(await jsonFile.arrayBuffer());
  return rebuild(text, jsonFile.name, async (p) => {
    const name = p.split('/').pop() as string;
    const file = byName.get(name);
    if (file === undefined) throw new ModelIOError(name, `${jsonFile.name} names this ${name === HISTORY_FILE ? 'history' : 'weights'} file: pick it together with ${jsonFile.name}`);
    return new Uint8Array(await file.arrayBuffer());
  }, hints);
}
