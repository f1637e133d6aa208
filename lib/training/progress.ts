/**
 * Progress of long work, as data (`ProgressState`) and where it goes (`ProgressSink`). Nothing
 * here touches a stream: the Node sink that writes to stderr is in stderr-progress.ts, and a
 * browser page gives its own sink.
 */
export interface ProgressState {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** The newest loss read back. */
  loss?: number;
  /** The step `loss` was measured at, when not `step` (a GPU backend answers a few steps later). */
  lossStep?: number;
  elapsedSeconds: number;
  samplesPerSec?: number;
  /** Remaining time, when the caller knows better than steps left x time per step (a time budget). */
  etaSeconds?: number;
  /** The latest evaluation's test accuracy (train accuracy when there is no test split). */
  accuracy?: { value: number; split: 'test' | 'train' };
}

/**
 * What a logged line reports: `epoch` summaries and `eval` results can be folded into a live
 * progress line on a terminal; `info` (the default) is always shown as its own line.
 */
export type ProgressLineKind = 'epoch' | 'eval' | 'info';

export interface ProgressSink {
  update(state: ProgressState): void;
  /** A line to show (epoch summaries, evaluations); `kind` lets a live display fold it in. */
  log(line: string, kind?: ProgressLineKind): void;
  done(): void;
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The pieces of a progress line, each already worded; those without data are absent. */
export interface ProgressParts {
  /** `epoch 2/17 step 650/10000` */
  counts: string;
  loss?: string;
  accuracy?: string;
  rate?: string;
  elapsed: string;
  eta: string;
}

export function progressParts(s: ProgressState): ProgressParts {
  // A time budget overrun by the step in flight gives a slightly negative ETA: it is over, not unknown.
  const eta = s.etaSeconds !== undefined ? Math.max(0, s.etaSeconds) : s.step > 0 ? (s.elapsedSeconds / s.step) * (s.steps - s.step) : NaN;
  const of = (n: number) => (Number.isFinite(n) ? `/${n}` : '');
  return {
    counts: `epoch ${s.epoch}${of(s.epochs)} step ${s.step}${of(s.steps)}`,
    loss: s.loss === undefined ? undefined : `loss ${s.loss.toFixed(4)}${s.lossStep !== undefined && s.lossStep !== s.step ? ` (step ${s.lossStep})` : ''}`,
    accuracy: s.accuracy ? `${s.accuracy.split} acc ${(s.accuracy.value * 100).toFixed(2)}%` : undefined,
    rate: s.samplesPerSec ? `${Math.round(s.samplesPerSec).toLocaleString('en-US')} samples/s` : undefined,
    elapsed: `elapsed ${formatEta(s.elapsedSeconds)}`,
    eta: `ETA ${formatEta(eta)}`,
  };
}

export function formatProgress(s: ProgressState): string {
  const p = progressParts(s);
  return [p.counts, p.loss, p.accuracy, p.rate, p.elapsed, p.eta].filter(Boolean).join(' ');
}

/** A sink that prints nothing, for library use and tests. */
export const silentProgress: ProgressSink = { update() {}, log() {}, done() {} };
