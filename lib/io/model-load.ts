/**
 * What both model loaders do once they hold model.json and the weights (model-io.ts from a folder,
 * model-url.ts by URL or from picked files): rebuild the tf.js model, complete its metadata
 * (completeMetadata), and read the history model.json names. Platform-neutral: each loader says
 * how it reads the history file and how its failure reads.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelIOError, errorMessage } from '../errors';
import { HISTORY_KEY, MetadataHints, ModelMetadata, ResolvedMetadata, completeMetadata, modelShape } from './model-format';

/** The model of `artifacts`; `where` names it when tf.js cannot rebuild it. */
export async function rebuildModel(artifacts: tf.io.ModelArtifacts, where: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new ModelIOError(where, `cannot rebuild the model: ${errorMessage(err)}`, { cause: err });
  }
}

/** How a loader reads the history file beside model.json, and what its note says when that fails. */
export interface HistoryReader {
  read(): Promise<string>;
  problem(err: unknown): string;
}

/**
 * The metadata of a rebuilt `model` (`recorded`: what `recordedMetadata` read from its model.json;
 * given in `hints`, or inferred; `notes` says which)
 * with the training history attached when model.json names one; a history that cannot be read is
 * a note, not an error.
 */
export async function describeModel(
  recorded: Partial<ModelMetadata> | undefined,
  source: string,
  model: tf.LayersModel,
  hints: MetadataHints,
  history: HistoryReader,
): Promise<ResolvedMetadata> {
  const { metadata, notes } = completeMetadata(recorded, source, modelShape(model), hints);
  if (metadata[HISTORY_KEY] !== undefined) {
    try {
      metadata.history = JSON.parse(await history.read());
    } catch (err) {
      notes.push(`training history not loaded: ${history.problem(err)}`);
    }
  }
  return { metadata, notes };
}
