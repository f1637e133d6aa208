/**
 * `bench`'s child process: one model, all its seeds, on one backend. tf.js picks the wasm thread
 * count once per process, and `train` gives the cnn two threads and the MLPs one (docs/PERF.md),
 * so `bench` runs each model in a process of its own to measure what `train` would do. The parent
 * sends a {@link BenchWorkerRequest} over the IPC channel and gets one {@link BenchWorkerReply}.
 */
import type { CommandModule } from 'yargs';
import { type BackendChoice, type BackendName, wasmWorkloadOf } from '../../backends';
import type { DatasetName } from '../../datasets';
import { BackendUnavailableError, InvalidArgumentError } from '../../errors';
import { type BenchDataFacts, type BenchModelResult, type BenchRunOptions, benchModel, benchRunOptions, dataFacts, testImagesOf } from '../../jobs/bench-job';
import { loadPresetData } from '../../jobs/train-job';
import { getPreset } from '../../recipes';
import { stderrProgress } from '../../training/stderr-progress';
import { type SelectedBackend, selectBackendAndLabel } from '../common-options';
import { exitCodeFor, formatError, logLine } from '../output';

/** What to run: `benchModel`'s options for one preset, and the backend, threads and data to run them on. */
export interface BenchWorkerRequest extends BenchRunOptions {
  model: string;
  backend: BackendChoice;
  threads?: number;
  verbose: boolean;
  dataset: DatasetName;
  dataDir?: string;
  /** The progress line: live on a terminal unless false (`--json`). */
  live?: boolean;
}

export type BenchWorkerReply =
  | {
      type: 'result';
      /** The backend as selected, threads included (`wasm (2 threads)`). */
      backend: string;
      /** The backend's name alone (`auto` resolved), which the results group runs by. */
      selected: BackendName;
      result: BenchModelResult;
      predictions: Uint8Array[];
      data: BenchDataFacts;
      labels: Uint8Array;
      /** Pixels of every test image some run got wrong: the digit grids draw from these. */
      pixels: Array<[number, Uint8Array]>;
    }
  | { type: 'unavailable'; reason: string }
  | { type: 'error'; message: string; exitCode: number };

async function work(request: BenchWorkerRequest): Promise<BenchWorkerReply> {
  const preset = getPreset(request.model);
  let backend: SelectedBackend;
  try {
    backend = await selectBackendAndLabel(request.backend, request.threads, request.verbose, wasmWorkloadOf(preset.family));
  } catch (err) {
    if (err instanceof BackendUnavailableError) return { type: 'unavailable', reason: err.reason };
    throw err;
  }
  const data = await loadPresetData(preset, { dataset: request.dataset, load: { dataDir: request.dataDir, log: logLine }, limit: request.limit });
  const { result, predictions } = await benchModel({
    preset: request.model,
    data,
    ...benchRunOptions(request, request.limit),
    backend: backend.label,
    progress: stderrProgress({ live: request.live }),
    log: logLine,
  });
  const images = testImagesOf(data);
  const wrong = new Set<number>();
  for (const p of predictions) p.forEach((c, i) => c !== images.labels[i] && wrong.add(i));
  return { type: 'result', backend: backend.label, selected: backend.selected, result, predictions, data: dataFacts(data), labels: images.labels, pixels: [...wrong].map((i) => [i, images.pixels(i)]) };
}

export const benchWorkerCommand: CommandModule<object, object> = {
  command: 'bench-worker',
  // Internal: started by `bench`, never listed.
  describe: false,
  handler: async () => {
    const send = process.send?.bind(process);
    if (!send) throw new InvalidArgumentError('bench-worker', 'is started by `mnist-nets bench`, not run by hand');
    // A parent that is gone (killed, or stopped by a signal its children did not get) closes the
    // channel: nobody is left to read the result, so stop rather than train on as an orphan.
    const orphaned = () => process.exit(1);
    process.once('disconnect', orphaned);
    const request = await new Promise<BenchWorkerRequest>((resolve) => process.once('message', (m) => resolve(m as BenchWorkerRequest)));
    let reply: BenchWorkerReply;
    try {
      reply = await work(request);
    } catch (err) {
      reply = { type: 'error', message: formatError(err), exitCode: exitCodeFor(err) };
    }
    await new Promise<void>((resolve, reject) => send(reply, undefined, {}, (err) => (err ? reject(err) : resolve())));
    process.off('disconnect', orphaned);
  },
};
