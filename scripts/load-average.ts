/** The machine's load, which measuring scripts record beside their numbers. */
import * as fs from 'fs';

/**
 * The line of /proc/loadavg, trimmed: the 1, 5 and 15 minute load averages, then running/total
 * tasks and the last pid. 'unknown' where there is no /proc/loadavg (not Linux).
 */
export function loadAverageLine(): string {
  return fs.existsSync('/proc/loadavg') ? fs.readFileSync('/proc/loadavg', 'utf8').trim() : 'unknown';
}
