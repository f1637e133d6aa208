/**
 * Number and duration formatting for reports. Output does not depend on the process locale
 * (no `toLocaleString`), so reports and their tests are the same on every machine.
 */

import { InvalidArgumentError } from '../errors';

/** @default 0 */
export const DEFAULT_FRACTION_DIGITS = 0;
/** @default 2 */
export const DEFAULT_PERCENT_DIGITS = 2;

function checkDigits(name: string, digits: number): void {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new InvalidArgumentError(name, `must be an integer from 0 to 20, got ${digits}`);
  }
}

/**
 * `value` with comma-grouped thousands and a fixed number of decimals: `12345.6` -> `'12,346'`,
 * `formatNumber(0.98765, 3)` -> `'0.988'`. Non-finite values read `'NaN'`, `'∞'`, `'-∞'`, since a
 * report row with a diverged loss should still print.
 */
export function formatNumber(value: number, fractionDigits: number = DEFAULT_FRACTION_DIGITS): string {
  checkDigits('fractionDigits', fractionDigits);
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '\u221e' : '-\u221e';
  const abs = Math.abs(value);
  // toFixed switches to exponent notation at 1e21; grouping that would be nonsense.
  if (abs >= 1e21) return value.toExponential(3);
  const fixed = abs.toFixed(fractionDigits);
  const [int = '0', frac] = fixed.split('.');
  // A value that rounds to zero prints as '0', not '-0'.
  const negative = value < 0 && /[1-9]/.test(fixed);
  return (negative ? '-' : '') + int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac !== undefined ? '.' + frac : '');
}

/** A fraction as a percentage: `0.98765` -> `'98.77%'`. */
export function formatPercent(fraction: number, fractionDigits: number = DEFAULT_PERCENT_DIGITS): string {
  checkDigits('fractionDigits', fractionDigits);
  if (!Number.isFinite(fraction)) return formatNumber(fraction);
  return formatNumber(fraction * 100, fractionDigits) + '%';
}

/**
 * A duration in seconds, with the precision a reader of a training report needs:
 * `0.0042` -> `'4.2 ms'`, `12.34` -> `'12.3s'`, `83` -> `'1m 23s'`, `7500` -> `'2h 05m'`,
 * `200000` -> `'2d 08h'`. Below a minute the trailing unit is fractional; above, whole units.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError('seconds', `must be a finite number >= 0, got ${seconds}`);
  }
  if (seconds === 0) return '0s';
  if (seconds < 1e-3) return `${formatNumber(seconds * 1e6, seconds < 1e-5 ? 1 : 0)} \u00b5s`;
  if (seconds < 0.9995) {
    const ms = seconds * 1e3;
    return `${formatNumber(ms, ms < 10 ? 1 : 0)} ms`;
  }
  // Round before picking the unit so 59.97 s reads '1m 00s' rather than '60.0s'.
  if (seconds < 59.95) return `${seconds.toFixed(1)}s`;
  const total = Math.round(seconds);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (total < 3600) return `${Math.floor(total / 60)}m ${pad(total % 60)}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)}h ${pad(minutes % 60)}m`;
  const hours = Math.round(seconds / 3600);
  return `${Math.floor(hours / 24)}d ${pad(hours % 24)}h`;
}
