import type { Argv } from 'yargs';
import { BACKEND_CHOICES, useBackend, BackendChoice } from '../backends';
import { DATASET_NAMES, DatasetName, LoadOptions } from '../datasets';
import { InvalidArgumentError } from '../errors';
import { logLine } from './output';

export interface DataArgs {
  'data-dir'?: string;
  dataset: DatasetName;
  limit?: number;
}

export interface BackendArgs {
  backend: BackendChoice;
}

export function withDataOptions<T>(y: Argv<T>): Argv<T & DataArgs> {
  return y
    .option('data-dir', { type: 'string', describe: 'Directory holding the four IDX files (.gz or plain)' })
    .option('dataset', { choices: DATASET_NAMES, default: 'mnist' as DatasetName, describe: 'Dataset' })
    .option('limit', { type: 'number', describe: 'Use only the first N training (and test) examples' }) as never;
}

export function withBackendOption<T>(y: Argv<T>): Argv<T & BackendArgs> {
  return y.option('backend', {
    choices: BACKEND_CHOICES,
    default: 'auto' as BackendChoice,
    describe: 'Compute backend; auto picks the best one present (see `mnist-nets doctor`)',
  }) as never;
}

export function withJsonOption<T>(y: Argv<T>): Argv<T & { json: boolean }> {
  return y.option('json', { type: 'boolean', default: false, describe: 'Print one JSON object on stdout' }) as never;
}

export function loadOptionsFrom(args: DataArgs): LoadOptions {
  return { dataDir: args['data-dir'], log: logLine };
}

/** Positive-integer flags are checked here, so the error names the flag. */
export function checkFlag(flag: string, value: number | undefined, { min = 1 } = {}): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`--${flag}`, `must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/** Selects the backend and says which in one line; `doctor` gives the full reasons. */
export async function selectBackend(choice: BackendChoice): Promise<string> {
  const selection = await useBackend(choice);
  const skipped = selection.statuses.filter((s) => !s.available).map((s) => s.name);
  const why = skipped.length ? ` (skipped: ${[...new Set(skipped)].join(', ')}; \`mnist-nets doctor\` says why)` : '';
  logLine(`backend: ${selection.selected}${why}`);
  return selection.selected;
}
