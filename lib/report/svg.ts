/**
 * Shared pieces of the SVG charts: escaping, number-to-attribute formatting, tick placement,
 * the palette and a text-width estimate used for layout (there is no DOM to measure text with).
 */

import { InvalidArgumentError } from '../errors';

/**
 * Font stack for every chart. DejaVu Sans comes first because it is what Linux boxes (and the
 * resvg PNG path) most often have; the rest cover macOS/Windows viewers. resvg falls back to any
 * loaded font when none of these is present, so the list only sets a preference.
 */
export const FONT_FAMILY = 'DejaVu Sans, Verdana, Arial, Helvetica, sans-serif';

/**
 * Okabe-Ito palette, reordered so the first colours have the most contrast on white; the yellow
 * is last because it is hard to see as a thin line. Distinguishable under the common forms of
 * colour blindness.
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

/** Dash patterns used once the palette wraps, so series 9+ differ from series 1+ by more than hue. */
export const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

/** DejaVu Sans is wide; 0.6 em per character over-estimates slightly, which errs towards room. */
const AVERAGE_CHAR_EM = 0.6;

// Characters XML 1.0 forbids outright (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF) and lone
// surrogates: a single one of them makes the whole document unparseable.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for use in SVG element content and double- or single-quoted attributes. */
export function escapeXml(text: string): string {
  return text
    .replace(XML_INVALID, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Coordinates with two decimals: sub-pixel enough, and keeps 2000-point paths small. */
export function num(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** Rough rendered width of `text` in pixels at `fontSize`. */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * AVERAGE_CHAR_EM;
}

/**
 * Shortens `text` to fit `maxWidth` (by the estimate of `textWidth`) with an ellipsis in the middle:
 * series names often share a prefix and differ at the end ("cnn (wasm) train loss" / "... test loss"),
 * so keeping both ends keeps them distinguishable.
 */
export function truncateText(text: string, fontSize: number, maxWidth: number): string {
  const chars = [...text];
  const fit = Math.floor(maxWidth / (fontSize * AVERAGE_CHAR_EM));
  if (chars.length <= fit) return text;
  const keep = Math.max(2, fit - 1);
  const head = Math.ceil(keep / 2);
  return chars.slice(0, head).join('') + '\u2026' + chars.slice(chars.length - (keep - head)).join('');
}

/** Opening of a standalone SVG document with a white background (PNG output has no alpha surprises). */
export function svgOpen(width: number, height: number, label: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" ` +
    `viewBox="0 0 ${num(width)} ${num(height)}" font-family="${escapeXml(FONT_FAMILY)}" ` +
    `role="img" aria-label="${escapeXml(label)}">\n` +
    `<title>${escapeXml(label)}</title>\n` +
    `<rect x="0" y="0" width="${num(width)}" height="${num(height)}" fill="#ffffff"/>\n`
  );
}

/** `<text>` element; `attrs` are trusted attribute text, `content` is escaped here. */
export function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? ' ' + attrs : ''}>${escapeXml(content)}</text>`;
}

/**
 * A short, stable identifier derived from content (FNV-1a), so ids such as clip paths differ
 * between charts inlined into one HTML page while the output stays deterministic.
 */
export function contentId(prefix: string, content: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < content.length; i++) {
    hash ^= content.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `${prefix}-${(hash >>> 0).toString(36)}`;
}

/** Rejects sizes that cannot hold a chart; `name` is the option name for the error. */
export function checkSize(name: string, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min) {
    throw new InvalidArgumentError(name, `must be a finite number >= ${min}, got ${value}`);
  }
}

/** 1, 2, 5 or 10 times a power of ten near `x` (Heckbert's "nice numbers"). */
export function niceNumber(x: number, round: boolean): number {
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent;
  let nice: number;
  if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * 10 ** exponent;
}

// Multiples of a step such as 0.1 accumulate binary error (0.30000000000000004); twelve significant
// digits is far below anything a chart shows and removes it.
function clean(value: number): number {
  const v = Number(value.toPrecision(12));
  return Object.is(v, -0) ? 0 : v;
}

/** A resolved axis: the plotted domain, where ticks go, and how tick labels read. */
export interface Axis {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
  format(value: number): string;
}

/**
 * Linear axis over [min, max]. Each bound that is not `fixed` is widened to the next tick so the
 * data never touches an unlabelled edge; fixed bounds (user overrides) are kept exactly.
 */
export function linearAxis(min: number, max: number, fixedMin = false, fixedMax = false, target = 6): Axis {
  if (min === max) {
    // A flat series still needs a visible band; widen around the value on the free sides.
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    if (!fixedMin) min -= pad;
    if (!fixedMax) max += pad;
    if (min === max) max = min + 1;
  }
  const step = niceNumber(niceNumber(max - min, false) / (target - 1), true);
  const lo = fixedMin ? min : clean(Math.floor(min / step) * step);
  const hi = fixedMax ? max : clean(Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(clean(k * step));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { min: lo, max: hi, log: false, ticks, format: (v) => formatTick(v, decimals) };
}

/**
 * Log10 axis. Free bounds snap outward to decades. When the axis spans few decades the 2x and 5x
 * ticks are labelled too, otherwise a one-decade-wide loss curve would get only two labels.
 */
export function logAxis(min: number, max: number, fixedMin = false, fixedMax = false): Axis {
  let lo = fixedMin ? Math.log10(min) : Math.floor(Math.log10(min) + 1e-9);
  let hi = fixedMax ? Math.log10(max) : Math.ceil(Math.log10(max) - 1e-9);
  if (hi <= lo) {
    if (!fixedMax) hi = lo + 1;
    else if (!fixedMin) lo = hi - 1;
    else hi = lo + 1;
  }
  const decades = hi - lo;
  const mantissas = decades <= 2 ? [1, 2, 5] : [1];
  const stride = Math.max(1, Math.ceil(decades / 8));
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    if (mantissas.length === 1 && e % stride !== 0) continue;
    for (const m of mantissas) {
      const v = clean(m * 10 ** e);
      const l = Math.log10(v);
      if (l >= lo - 1e-9 && l <= hi + 1e-9) ticks.push(v);
    }
  }
  return {
    min: clean(10 ** lo),
    max: clean(10 ** hi),
    log: true,
    ticks,
    format: (v) => formatTick(v, Math.max(0, -Math.floor(Math.log10(v) + 1e-9))),
  };
}

/** Maps a data value into [0, 1] along the axis (log-aware); outside values map outside. */
export function axisFraction(axis: Axis, value: number): number {
  if (axis.log) return (Math.log10(value) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min));
  return (value - axis.min) / (axis.max - axis.min);
}

/** Tick label: grouped thousands, `decimals` places, exponent form where digits would sprawl. */
export function formatTick(value: number, decimals: number): string {
  // Same decimals as the neighbouring ticks ('0.0', '0.2', ...), not a bare '0'.
  if (value === 0) return decimals > 0 ? '0.' + '0'.repeat(Math.min(decimals, 10)) : '0';
  const abs = Math.abs(value);
  if (abs >= 1e7 || abs < 1e-4) return value.toExponential().replace(/\.?0+e/, 'e').replace('e+', 'e');
  const fixed = abs.toFixed(Math.min(decimals, 10));
  const [int = '0', frac] = fixed.split('.');
  return (value < 0 ? '-' : '') + int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? '.' + frac : '');
}

/**
 * Standalone SVG charts side by side in one document (nested `<svg>` elements keep each chart's
 * own coordinates), e.g. one curve against two x axes. Each chart's size is read from its root.
 */
export function svgRow(charts: string[], label: string): string {
  if (charts.length === 0) throw new InvalidArgumentError('charts', 'must hold at least one SVG');
  const sized = charts.map((svg, i) => {
    const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
    const width = Number(/\swidth="([\d.]+)"/.exec(root)?.[1]);
    const height = Number(/\sheight="([\d.]+)"/.exec(root)?.[1]);
    if (!(width > 0 && height > 0)) throw new InvalidArgumentError(`charts[${i}]`, 'must be an SVG document with width and height on its root');
    return { body: svg.replace(/^<\?xml[^>]*\?>\s*/, ''), width, height };
  });
  const width = sized.reduce((w, c) => w + c.width, 0);
  const height = Math.max(...sized.map((c) => c.height));
  const parts = [svgOpen(width, height, label)];
  let x = 0;
  for (const c of sized) {
    parts.push(c.body.replace(/^<svg\b/, `<svg x="${num(x)}" y="0"`));
    x += c.width;
  }
  parts.push('</svg>\n');
  return parts.join('\n');
}
