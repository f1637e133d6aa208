/**
 * Progress on stderr (Node).
 *
 * On a terminal: one live line per run, rewritten in place as Keras and tqdm do (percentage, bar,
 * epoch, step, loss, latest accuracy, samples/s, elapsed, ETA). Epoch summaries and evaluation
 * lines fold into it instead of scrolling, and when the run ends the line stays as its summary.
 * Elsewhere (CI logs, pipes), or with `live: false` (the CLI's `--json`): plain lines, one per
 * evaluation and per epoch, and a progress line at most every `intervalSeconds`.
 *
 * Own code rather than cli-progress (3.12, 170 KB with string-width and four more packages): its
 * single bar cannot print lines above itself, its non-terminal mode repeats the bar on a timer
 * rather than logging what happened, and the two escape codes and the width check needed here
 * are a few lines.
 */
import { ProgressLineKind, ProgressSink, ProgressState, formatProgress, progressParts } from './progress';

/** Seconds between progress lines when the output is not live. @default 5 */
export const DEFAULT_PROGRESS_INTERVAL = 5;
/** Milliseconds between redraws of the live line (a terminal is slower than a training step). @default 100 */
export const LIVE_REDRAW_MS = 100;
/** Widest bar drawn, in characters between the brackets. @default 30 */
export const BAR_MAX_WIDTH = 30;
/** Narrower than this, the bar is left out rather than drawn uselessly small. @default 10 */
export const BAR_MIN_WIDTH = 10;
/** Terminal width assumed when the stream does not say. @default 80 */
export const DEFAULT_COLUMNS = 80;

/** Options of `stderrProgress`. */
export interface StderrProgressOptions {
  /** Seconds between progress lines when not live. @default {@link DEFAULT_PROGRESS_INTERVAL} */
  intervalSeconds?: number;
  /** @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** One line rewritten in place. @default whether `stream` is a terminal */
  live?: boolean;
}

/**
 * How far the run is, in [0, 1]: by steps when their number is known, by time when an ETA is
 * (a time budget), whichever is further; undefined when neither is known.
 */
export function progressFraction(s: ProgressState): number | undefined {
  const bySteps = Number.isFinite(s.steps) && s.steps > 0 ? s.step / s.steps : undefined;
  const byTime =
    s.etaSeconds !== undefined && Number.isFinite(s.etaSeconds) && s.elapsedSeconds + s.etaSeconds > 0
      ? s.elapsedSeconds / (s.elapsedSeconds + Math.max(0, s.etaSeconds))
      : undefined;
  if (bySteps === undefined && byTime === undefined) return undefined;
  return Math.min(1, Math.max(0, bySteps ?? 0, byTime ?? 0));
}

/** `[=======>      ]`, `width` characters between the brackets. */
export function progressBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  const body = filled >= width ? '='.repeat(width) : filled === 0 ? ' '.repeat(width) : `${'='.repeat(filled - 1)}>${' '.repeat(width - filled)}`;
  return `[${body}]`;
}

/**
 * The live line for `columns` terminal columns, at most one character short of the width: writing
 * the last column makes some terminals wrap, and a wrapped line can no longer be rewritten with
 * `\r`. Parts are kept by priority (percentage, epoch and step, ETA, loss, samples/s, accuracy,
 * elapsed time) and shown in reading order; the bar takes what room is left.
 */
export function liveProgressLine(s: ProgressState, columns: number): string {
  const width = Math.max(20, columns) - 1;
  const p = progressParts(s);
  const fraction = progressFraction(s);
  const pct = fraction === undefined ? undefined : `${Math.floor(fraction * 100)}%`.padStart(4);
  const order = [pct, p.counts, p.loss, p.accuracy, p.rate, p.elapsed, p.eta];
  const priority = [pct, p.counts, p.eta, p.loss, p.rate, p.accuracy, p.elapsed];
  const kept = new Set<string>();
  let used = -1;
  for (const part of priority) {
    if (part === undefined || used + 1 + part.length > width) continue;
    kept.add(part);
    used += 1 + part.length;
  }
  let line = order.filter((part): part is string => part !== undefined && kept.has(part)).join(' ');
  if (pct !== undefined && kept.has(pct)) {
    const barWidth = Math.min(BAR_MAX_WIDTH, width - line.length - 3);
    if (barWidth >= BAR_MIN_WIDTH) line = `${pct} ${progressBar(fraction as number, barWidth)}${line.slice(pct.length)}`;
  }
  return line.length > width ? line.slice(0, width) : line;
}

const CLEAR_LINE = '\r\x1b[K';

/** Live lines now on screen, by stream, so other output can go above one instead of into it. */
const onScreen = new Map<NodeJS.WritableStream, { redraw(): void; end(): void }>();

/**
 * Writes `line` on its own line of `stream`: above the live progress line when one is showing
 * (which is then redrawn), as tqdm.write does.
 */
export function writeAboveProgress(line: string, stream: NodeJS.WriteStream = process.stderr): void {
  const live = onScreen.get(stream);
  stream.write(`${live ? CLEAR_LINE : ''}${line}\n`);
  live?.redraw();
}

/** Leaves the live line where it is and moves to a new line (before an error message, say). */
export function endProgressLine(stream: NodeJS.WriteStream = process.stderr): void {
  onScreen.get(stream)?.end();
}

export function stderrProgress(options: StderrProgressOptions = {}): ProgressSink {
  const stream = options.stream ?? process.stderr;
  const live = options.live ?? Boolean(stream.isTTY);
  return live ? liveSink(stream) : lineSink(stream, (options.intervalSeconds ?? DEFAULT_PROGRESS_INTERVAL) * 1000);
}

function liveSink(stream: NodeJS.WriteStream): ProgressSink {
  let state: ProgressState | undefined;
  let last = -Infinity;
  const screen = {
    redraw() {
      if (state === undefined) return;
      stream.write(`${CLEAR_LINE}${liveProgressLine(state, stream.columns || DEFAULT_COLUMNS)}`);
      last = performance.now();
      onScreen.set(stream, screen);
    },
    end() {
      if (onScreen.get(stream) === screen) {
        stream.write('\n');
        onScreen.delete(stream);
      }
    },
  };
  return {
    update(s) {
      state = s;
      if (performance.now() - last >= LIVE_REDRAW_MS || s.step === s.steps) screen.redraw();
    },
    log(line, kind: ProgressLineKind = 'info') {
      // The live line already shows the epoch and the latest accuracy.
      if (kind !== 'info' && state !== undefined) return;
      writeAboveProgress(line, stream);
    },
    done() {
      screen.redraw();
      screen.end();
      state = undefined;
      last = -Infinity;
    },
  };
}

function lineSink(stream: NodeJS.WriteStream, intervalMillis: number): ProgressSink {
  let last = -Infinity;
  return {
    update(s) {
      const now = performance.now();
      if (now - last >= intervalMillis) {
        stream.write(`${formatProgress(s)}\n`);
        last = now;
      }
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    done() {},
  };
}
