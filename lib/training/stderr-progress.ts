/**
 * Progress lines for long work, on stderr (Node). On a terminal one line is rewritten in place; in
 * logs (CI, pipes) a line is printed at most every `intervalSeconds`, so logs stay readable.
 */
import { ProgressSink, formatProgress } from './progress';

/** Seconds between lines when stderr is not a terminal. @default 5 */
export const DEFAULT_PROGRESS_INTERVAL = 5;

export function stderrProgress(options: { intervalSeconds?: number; stream?: NodeJS.WriteStream } = {}): ProgressSink {
  const stream = options.stream ?? process.stderr;
  const interval = (options.intervalSeconds ?? DEFAULT_PROGRESS_INTERVAL) * 1000;
  const tty = Boolean(stream.isTTY);
  let last = 0;
  let pending = false;
  return {
    update(state) {
      const now = Date.now();
      if (tty && now - last > 100) {
        stream.write(`\r\x1b[K${formatProgress(state)}`);
        pending = true;
        last = now;
      } else if (!tty && now - last >= interval) {
        stream.write(`${formatProgress(state)}\n`);
        last = now;
      }
    },
    log(line) {
      stream.write(`${tty && pending ? '\r\x1b[K' : ''}${line}\n`);
      pending = false;
    },
    done() {
      if (tty && pending) stream.write('\n');
      pending = false;
    },
  };
}
