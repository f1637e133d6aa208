import type { Argv } from 'yargs';
import { BACKEND_CHOICES, useBackend, BackendChoice } from '../backends';
import { DATASET_NAMES, DatasetName, LoadOptions } from '../datasets';
import { checkInt } from '../checks';
import { InvalidArgumentError } from '../errors';
import { enableWasmThreads } from '../kernels/threads';
import { logLine } from './output';

export interface DataArgs {
  'data-dir'?: string;
  dataset: DatasetName;
  limit?: number;
}

export interface BackendArgs {
  backend: BackendChoice;
  threads?: number;
  verbose: boolean;
}

export function withDataOptions<T>(y: Argv<T>): Argv<T & DataArgs> {
  return y
    .option('data-dir', { type: 'string', describe: 'Directory holding the four IDX files (.gz or plain)' })
    .option('dataset', { choices: DATASET_NAMES, default: 'mnist' as DatasetName, describe: 'Dataset' })
    .option('limit', { type: 'number', describe: 'Use only the first N training (and test) examples' }) as never;
}

export function withBackendOption<T>(y: Argv<T>): Argv<T & BackendArgs> {
  return y
    .option('backend', {
      choices: BACKEND_CHOICES,
      default: 'auto' as BackendChoice,
      describe: 'Compute backend; auto picks the best one present (see `mnist-nets doctor`)',
    })
    .option('threads', {
      type: 'number',
      describe: 'wasm only: run its kernels on N threads (opt-in; pays for the CNN on idle cores, slows small MLPs; docs/PERF.md)',
    })
    .option('verbose', {
      type: 'boolean',
      default: false,
      describe: 'Say why each backend was skipped or chosen, and what Dawn printed while probing WebGPU',
    }) as never;
}

export function withJsonOption<T>(y: Argv<T>): Argv<T & { json: boolean }> {
  return y.option('json', { type: 'boolean', default: false, describe: 'Print one JSON object on stdout' }) as never;
}

/** What a command that loads a dataset and computes on a backend takes: data, backend and --json flags. */
export type RunArgs = DataArgs & BackendArgs & { json: boolean };

/** Adds the data, backend and --json flags, after the command's own (so `--help` lists those first). */
export function withRunOptions<T>(y: Argv<T>): Argv<T & RunArgs> {
  return withJsonOption(withBackendOption(withDataOptions(y)));
}

export function loadOptionsFrom(args: DataArgs): LoadOptions {
  return { dataDir: args['data-dir'], log: logLine };
}

/** Positive-integer flags are checked here, so the error names the flag. */
export function checkFlag(flag: string, value: number | undefined, { min = 1 } = {}): number | undefined {
  return value === undefined ? undefined : checkInt(`--${flag}`, value, { min });
}

/** Selects the backend and says which in one line; `doctor` (or `verbose`) gives the full reasons. */
export async function selectBackend(choice: BackendChoice, threads?: number, verbose = false): Promise<string> {
  if (threads !== undefined) {
    checkFlag('threads', threads);
    if (choice !== 'wasm') throw new InvalidArgumentError('--threads', 'applies to --backend wasm only');
    // Must come before the wasm backend is first initialised.
    if (threads > 1) await enableWasmThreads(threads);
  }
  const selection = await useBackend(choice, verbose ? { log: logLine, probeLog: logLine } : {});
  const skipped = selection.statuses.filter((s) => !s.available).map((s) => s.name);
  const why = skipped.length ? ` (skipped: ${[...new Set(skipped)].join(', ')}; \`mnist-nets doctor\` says why)` : '';
  const name = threads !== undefined && threads > 1 ? `${selection.selected} (${threads} threads)` : selection.selected;
  logLine(`backend: ${name}${why}`);
  return name;
}
