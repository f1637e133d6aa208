import { MnistNetsError } from '../errors';
import { endProgressLine, writeAboveProgress } from '../training/stderr-progress';

/** Machine-readable output: one JSON document, alone on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** NaN and Infinity are not JSON; emit null rather than an unparsable document. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/** Human-readable results go to stdout; progress and logs go to stderr. */
export function printText(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A log line on stderr; on a terminal it goes above a live progress line, not into it. */
export function logLine(line: string): void {
  writeAboveProgress(line);
}

/** An error message on stderr, below a live progress line left as it was. */
export function logError(line: string): void {
  endProgressLine();
  process.stderr.write(`${line}\n`);
}

/** Exit code for an error: the error's own for library errors, 1 otherwise. */
export function exitCodeFor(err: unknown): number {
  return err instanceof MnistNetsError ? err.exitCode : 1;
}

/**
 * One line naming the problem, no stack for the library's own errors (they carry their context);
 * an unexpected error keeps its stack, since that is a bug to report.
 */
export function formatError(err: unknown): string {
  if (err instanceof MnistNetsError) return `mnist-nets: ${err.message}`;
  if (err instanceof Error) return `mnist-nets: unexpected error: ${err.stack ?? err.message}`;
  return `mnist-nets: unexpected error: ${String(err)}`;
}
