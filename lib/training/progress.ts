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
  loss?: number;
  elapsedSeconds: number;
  samplesPerSec?: number;
  /** Remaining time, when the caller knows better than steps left x time per step (a time budget). */
  etaSeconds?: number;
}

export interface ProgressSink {
  update(state: ProgressState): void;
  /** A line that must be shown (epoch summaries, evaluations). */
  log(line: string): void;
  done(): void;
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatProgress(s: ProgressState): string {
  const eta = s.etaSeconds ?? (s.step > 0 ? (s.elapsedSeconds / s.step) * (s.steps - s.step) : NaN);
  const loss = s.loss === undefined ? '' : ` loss ${s.loss.toFixed(4)}`;
  const rate = s.samplesPerSec ? ` ${Math.round(s.samplesPerSec).toLocaleString('en-US')} samples/s` : '';
  const of = (n: number) => (Number.isFinite(n) ? `/${n}` : '');
  return `epoch ${s.epoch}${of(s.epochs)} step ${s.step}${of(s.steps)}${loss}${rate} elapsed ${formatEta(s.elapsedSeconds)} ETA ${formatEta(eta)}`;
}

/** A sink that prints nothing, for library use and tests. */
export const silentProgress: ProgressSink = { update() {}, log() {}, done() {} };
