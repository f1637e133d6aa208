import * as path from 'path';
import type { Argv } from 'yargs';
import { BACKEND_CHOICES, useBackend, BackendChoice, BackendName, WasmWorkload, recommendedWasmThreads } from '../backends';
import { DATASET_NAMES, DatasetName, LoadOptions, dataDirProblem } from '../datasets';
import { checkInt } from '../checks';
import { InvalidArgumentError } from '../errors';
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
      describe: 'wasm only: run its kernels on N threads (default: 2 for the cnn on 2+ cores, 1 for the MLPs, which threads slow down; docs/PERF.md)',
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

/** The data flags as the loader's options; a --data-dir that is not a directory is a usage error (exit 2) naming the flag. */
export function loadOptionsFrom(args: Pick<DataArgs, 'data-dir'>): LoadOptions {
  const dir = args['data-dir'];
  if (dir !== undefined) {
    const problem = dataDirProblem(dir);
    if (problem !== undefined) throw new InvalidArgumentError('--data-dir', `${path.resolve(dir)}: ${problem}`);
  }
  return { dataDir: dir, dataDirName: '--data-dir', log: logLine };
}

/** Positive-integer flags are checked here, so the error names the flag. */
export function checkFlag(flag: string, value: number | undefined, { min = 1 } = {}): number | undefined {
  return value === undefined ? undefined : checkInt(`--${flag}`, value, { min });
}

/** The backend {@link selectBackendAndLabel} selected, both as a name and as the CLI shows it. */
export interface SelectedBackend {
  /** What `useBackend` selected (`auto` resolved). */
  selected: BackendName;
  /** As logs and results show it, with wasm's threads when more than one: `wasm (2 threads)`. */
  label: string;
}

/**
 * Selects the backend and says which in one line; `doctor` (or `verbose`) gives the full reasons.
 * Without `--threads`, wasm runs the threads that pay for `workload` (none given: one thread), and
 * falls back to one thread, saying why, if its threaded build cannot start.
 */
export async function selectBackendAndLabel(choice: BackendChoice, threads?: number, verbose = false, workload?: WasmWorkload): Promise<SelectedBackend> {
  if (threads !== undefined) {
    checkFlag('threads', threads);
    if (choice !== 'wasm') throw new InvalidArgumentError('--threads', 'applies to --backend wasm only');
  }
  const wasmThreads = threads ?? (workload ? recommendedWasmThreads(workload) : 1);
  const logs = verbose ? { log: logLine, probeLog: logLine } : {};
  const selection = await useBackend(choice, { ...logs, wasmThreads, wasmThreadsFallback: threads === undefined });
  const skipped = selection.statuses.filter((s) => !s.available).map((s) => s.name);
  const why = skipped.length ? ` (skipped: ${[...new Set(skipped)].join(', ')}; \`mnist-nets doctor\` says why)` : '';
  const details = selection.statuses[selection.statuses.length - 1]?.details ?? {};
  const running = selection.selected === 'wasm' ? Number(details['runningThreads'] ?? 1) : 1;
  const name = running > 1 ? `${selection.selected} (${running} threads)` : selection.selected;
  logLine(`backend: ${name}${why}`);
  if (details['threadsReason']) logLine(`wasm: one thread, the threaded build did not start: ${String(details['threadsReason'])}`);
  return { selected: selection.selected, label: name };
}

/** {@link selectBackendAndLabel}'s label alone: the backend as the CLI shows it. */
export async function selectBackend(choice: BackendChoice, threads?: number, verbose = false, workload?: WasmWorkload): Promise<string> {
  return (await selectBackendAndLabel(choice, threads, verbose, workload)).label;
}

/**
 * Rethrows a library's InvalidArgumentError under the flag the user typed (`batchSize` becomes
 * `--batch-size`), so that errors name what is on the command line; others pass unchanged.
 */
export function namingFlags(flags: Readonly<Record<string, string>>): (err: unknown) => never {
  return (err) => {
    if (err instanceof InvalidArgumentError && flags[err.argument]) {
      throw new InvalidArgumentError(flags[err.argument]!, err.message.slice(err.argument.length + 2));
    }
    throw err;
  };
}
