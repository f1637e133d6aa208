/** Line charts (loss and accuracy curves) as standalone SVG. */

import { InvalidArgumentError } from '../errors';
import {
  Axis, DASHES, PALETTE, axisFraction, checkSize, contentId, escapeXml, linearAxis, logAxis, num, svgOpen, text,
  textWidth, truncateText,
} from './svg';

/** One named curve. Points are `[x, y]` in drawing order; non-finite points leave a gap. */
export interface Series {
  name: string;
  points: Array<[number, number]>;
  /**
   * Drawn thin and translucent under the other curves, without markers or a legend entry: the raw
   * data behind a smoothed curve of the same colour. @default false
   */
  faint?: boolean;
  /** Which palette colour (and dash and marker) to use, so a faint curve matches its smoothed one. @default the series' index */
  colorIndex?: number;
  /**
   * `[x, low, high]` in increasing x: a translucent area in the series' colour, drawn under every
   * curve, e.g. the range of several runs around their mean. Points that cannot be drawn (not
   * finite, or <= 0 on a log axis) split it, as they split a curve.
   */
  band?: Array<[number, number, number]>;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Pixel width of the whole figure. @default 720 */
  width?: number;
  /** Pixel height of the whole figure. @default 440 */
  height?: number;
  /** Logarithmic y axis; points with y <= 0 are left out. @default false */
  logY?: boolean;
  /** Logarithmic x axis; points with x <= 0 are left out. @default false */
  logX?: boolean;
  /** A line under the title, e.g. how the curves were smoothed. */
  subtitle?: string;
  /** Draw the legend (right of the plot). @default true */
  legend?: boolean;
  /** Lower end of the y axis, kept exactly (e.g. 0 for accuracy). Default: the data, widened to a tick. */
  yMin?: number;
  /** Upper end of the y axis, kept exactly (e.g. 1 for accuracy). Default: the data, widened to a tick. */
  yMax?: number;
}

/** @default 720 */
export const DEFAULT_LINE_CHART_WIDTH = 720;
/** @default 440 */
export const DEFAULT_LINE_CHART_HEIGHT = 440;
/** Points kept per series; above this a series is reduced by `downsampleMinMax`. @default 2000 */
export const MAX_POINTS_PER_SERIES = 2000;
/** Series with at most this many points also get markers, so sparse per-epoch curves read as data. @default 40 */
export const MARKER_MAX_POINTS = 40;

const TITLE_SIZE = 16;
const SUBTITLE_SIZE = 12;
/** Opacity of faint (raw) curves: visible as a band of noise without hiding the smoothed line. */
const FAINT_OPACITY = 0.25;
/** Opacity of bands: two overlapping bands stay distinguishable, and the lines over them readable. */
const BAND_OPACITY = 0.2;
const LABEL_SIZE = 13;
const TICK_SIZE = 11;
const LEGEND_SIZE = 12;
const LEGEND_ROW = 20;
const LEGEND_SWATCH = 24;

/**
 * Reduces `points` to at most `maxPoints` while keeping the envelope: the sequence is cut into
 * equal runs and each run contributes its lowest and highest point, in their original order, so
 * spikes (a loss blowing up for a few steps) survive. The first and last points are always kept.
 */
export function downsampleMinMax(points: Array<[number, number]>, maxPoints: number): Array<[number, number]> {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) {
    throw new InvalidArgumentError('maxPoints', `must be an integer >= 4, got ${maxPoints}`);
  }
  const n = points.length;
  if (n <= maxPoints) return points.slice();
  const buckets = Math.floor((maxPoints - 2) / 2);
  const out: Array<[number, number]> = [points[0]!];
  for (let b = 0; b < buckets; b++) {
    // Interior points only; first and last are pushed separately.
    const start = 1 + Math.floor((b * (n - 2)) / buckets);
    const end = 1 + Math.floor(((b + 1) * (n - 2)) / buckets);
    if (end <= start) continue;
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (points[i]![1] < points[lo]![1]) lo = i;
      if (points[i]![1] > points[hi]![1]) hi = i;
    }
    if (lo === hi) out.push(points[lo]!);
    else if (lo < hi) out.push(points[lo]!, points[hi]!);
    else out.push(points[hi]!, points[lo]!);
  }
  out.push(points[n - 1]!);
  return out;
}

/** Maximal runs of consecutive items that pass `drawable`; the items that fail it break the runs and are dropped. */
function splitRuns<T>(items: T[], drawable: (item: T) => boolean): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  for (const item of items) {
    if (drawable(item)) run.push(item);
    else if (run.length > 0) {
      out.push(run);
      run = [];
    }
  }
  if (run.length > 0) out.push(run);
  return out;
}

/** Runs of drawable points between undrawable ones (NaN, infinities, values <= 0 on a log axis). */
function segments(points: Array<[number, number]>, logY: boolean, logX = false): Array<Array<[number, number]>> {
  return splitRuns(points, ([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0) && (!logX || x > 0));
}

/** Runs of drawable band points, as for `segments`; both edges must be drawable. */
function bandSegments(band: Array<[number, number, number]>, logY: boolean, logX: boolean): Array<Array<[number, number, number]>> {
  return splitRuns(band, ([x, lo, hi]) => [x, lo, hi].every(Number.isFinite) && (!logY || (lo > 0 && hi > 0)) && (!logX || x > 0));
}

/** Each segment gets a share of the point budget in proportion to its length. */
function reduce(segs: Array<Array<[number, number]>>): Array<Array<[number, number]>> {
  const total = segs.reduce((s, r) => s + r.length, 0);
  if (total <= MAX_POINTS_PER_SERIES) return segs;
  return segs.map((r) => downsampleMinMax(r, Math.max(4, Math.floor((MAX_POINTS_PER_SERIES * r.length) / total))));
}

function checkOptionalBound(name: string, value: number | undefined, logY: boolean): void {
  if (value === undefined) return;
  if (!Number.isFinite(value)) throw new InvalidArgumentError(name, `must be finite, got ${value}`);
  if (logY && value <= 0) throw new InvalidArgumentError(name, `must be > 0 with logY, got ${value}`);
}

// Shapes cycle against the palette (offset by one per palette wrap) so that series 9 is not a
// blue circle like series 1, differing only in a dash pattern the markers hide.
function marker(series: number, x: number, y: number, color: string): string {
  const r = 3.2;
  switch ((series + Math.floor(series / PALETTE.length)) % 4) {
    case 1:
      return `<rect x="${num(x - r)}" y="${num(y - r)}" width="${num(2 * r)}" height="${num(2 * r)}" fill="${color}"/>`;
    case 2:
      return `<path d="M${num(x)} ${num(y - r * 1.3)}L${num(x + r * 1.3)} ${num(y)}L${num(x)} ${num(y + r * 1.3)}L${num(x - r * 1.3)} ${num(y)}Z" fill="${color}"/>`;
    case 3:
      return `<path d="M${num(x)} ${num(y - r * 1.3)}L${num(x + r * 1.2)} ${num(y + r * 0.9)}L${num(x - r * 1.2)} ${num(y + r * 0.9)}Z" fill="${color}"/>`;
    default:
      return `<circle cx="${num(x)}" cy="${num(y)}" r="${num(r)}" fill="${color}"/>`;
  }
}

/**
 * A line chart with a title, labelled axes with round-number ticks, a grid and a legend to the right
 * of the plot. Colours come from a colour-blind-safe palette; past eight series the dash pattern
 * changes too, and sparse series get marker shapes that differ per series. Curves are clipped to the
 * plot area, so `yMin`/`yMax` can zoom in. Series longer than 2000 points are reduced with
 * `downsampleMinMax`. With no drawable points the axes are drawn with a "no data" note.
 */
export function lineChartSvg(series: Series[], options: LineChartOptions): string {
  const width = options.width ?? DEFAULT_LINE_CHART_WIDTH;
  const height = options.height ?? DEFAULT_LINE_CHART_HEIGHT;
  checkSize('width', width, 240);
  checkSize('height', height, 160);
  const logY = options.logY ?? false;
  const logX = options.logX ?? false;
  checkOptionalBound('yMin', options.yMin, logY);
  checkOptionalBound('yMax', options.yMax, logY);
  if (options.yMin !== undefined && options.yMax !== undefined && options.yMin >= options.yMax) {
    throw new InvalidArgumentError('yMin', `must be below yMax (${options.yMax}), got ${options.yMin}`);
  }
  series.forEach((s, i) => {
    if (typeof s?.name !== 'string' || !Array.isArray(s.points)) {
      throw new InvalidArgumentError(`series[${i}]`, 'must be { name: string, points: [x, y][] }');
    }
    if (s.colorIndex !== undefined && !(Number.isInteger(s.colorIndex) && s.colorIndex >= 0)) {
      throw new InvalidArgumentError(`series[${i}].colorIndex`, `must be an integer >= 0, got ${s.colorIndex}`);
    }
    if (s.band !== undefined && !(Array.isArray(s.band) && s.band.every((p) => Array.isArray(p) && p.length === 3))) {
      throw new InvalidArgumentError(`series[${i}].band`, 'must be an array of [x, low, high]');
    }
  });
  const style = (i: number) => series[i]!.colorIndex ?? i;
  const colorOf = (i: number) => PALETTE[style(i) % PALETTE.length]!;
  const dashOf = (i: number) => DASHES[Math.floor(style(i) / PALETTE.length) % DASHES.length]!;
  const legendSeries = options.legend === false ? [] : series.map((s, i) => ({ s, i })).filter(({ s }) => !s.faint);

  const drawn = series.map((s) => reduce(segments(s.points, logY, logX)));
  const bands = series.map((s) => (s.band ? bandSegments(s.band, logY, logX) : []));
  let xMin = Infinity, xMax = -Infinity, yLo = Infinity, yHi = -Infinity;
  const extend = (x: number, ...ys: number[]) => {
    if (x < xMin) xMin = x;
    if (x > xMax) xMax = x;
    for (const y of ys) {
      if (y < yLo) yLo = y;
      if (y > yHi) yHi = y;
    }
  };
  for (const segs of drawn) for (const seg of segs) for (const [x, y] of seg) extend(x, y);
  for (const segs of bands) for (const seg of segs) for (const [x, lo, hi] of seg) extend(x, lo, hi);
  const hasData = xMin <= xMax;
  if (!hasData) {
    xMin = logX ? 1 : 0;
    xMax = logX ? 10 : 1;
    yLo = logY ? 0.1 : 0;
    yHi = 1;
  }
  const xAxis = logX ? logAxis(xMin, xMax) : linearAxis(xMin, xMax);
  // A little headroom on free linear bounds so extreme points and their markers are not cut in half
  // by the frame; never across zero, since a loss or accuracy axis that dips below 0 misleads.
  if (!logY && hasData && yHi > yLo) {
    const pad = (yHi - yLo) * 0.03;
    if (options.yMin === undefined) yLo = yLo >= 0 ? Math.max(0, yLo - pad) : yLo - pad;
    if (options.yMax === undefined) yHi = yHi <= 0 ? Math.min(0, yHi + pad) : yHi + pad;
  }
  const yMin = options.yMin ?? (options.yMax !== undefined ? Math.min(yLo, options.yMax) : yLo);
  const yMax = options.yMax ?? Math.max(yHi, yMin);
  const yAxis: Axis = logY
    ? logAxis(yMin, yMax, options.yMin !== undefined, options.yMax !== undefined)
    : linearAxis(yMin, yMax, options.yMin !== undefined, options.yMax !== undefined);

  // Layout: everything is sized from estimated text widths so long labels push the plot, not overlap.
  const yTickWidth = Math.max(...yAxis.ticks.map((t) => textWidth(yAxis.format(t), TICK_SIZE)), 0);
  const legendMaxWidth = Math.min(width * 0.32, 240);
  const legendNames = legendSeries.map(({ s }) => truncateText(s.name, LEGEND_SIZE, legendMaxWidth - LEGEND_SWATCH - 8));
  const legendWidth = legendSeries.length > 0 ? Math.max(...legendNames.map((n) => textWidth(n, LEGEND_SIZE))) + LEGEND_SWATCH + 8 : 0;
  const left = 14 + LABEL_SIZE + 10 + yTickWidth + 8;
  const right = legendSeries.length > 0 ? legendWidth + 28 : 20;
  const top = 20 + TITLE_SIZE + 14 + (options.subtitle ? SUBTITLE_SIZE + 6 : 0);
  const bottom = 8 + TICK_SIZE + 10 + LABEL_SIZE + 12;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  if (plotW < 60 || plotH < 40) {
    throw new InvalidArgumentError('width', `${width}x${height} leaves no room for the plot next to the legend and labels`);
  }
  const px = (x: number): number => left + axisFraction(xAxis, x) * plotW;
  const py = (y: number): number => top + plotH - axisFraction(yAxis, y) * plotH;

  const clipId = contentId('plot', options.title + '\u0000' + series.map((s) => s.name).join('\u0000'));
  const parts: string[] = [svgOpen(width, height, options.title)];
  parts.push(`<defs><clipPath id="${clipId}"><rect x="${num(left)}" y="${num(top)}" width="${num(plotW)}" height="${num(plotH)}"/></clipPath></defs>`);
  parts.push(text(width / 2, 20 + TITLE_SIZE - 2, options.title, `class="title" font-size="${TITLE_SIZE}" font-weight="bold" text-anchor="middle" fill="#222"`));
  if (options.subtitle) {
    parts.push(text(width / 2, 20 + TITLE_SIZE + 6 + SUBTITLE_SIZE - 2, options.subtitle, `class="subtitle" font-size="${SUBTITLE_SIZE}" text-anchor="middle" fill="#555"`));
  }

  // Grid and ticks.
  parts.push('<g class="grid" stroke="#e3e3e3" stroke-width="1">');
  for (const t of yAxis.ticks) parts.push(`<line x1="${num(left)}" y1="${num(py(t))}" x2="${num(left + plotW)}" y2="${num(py(t))}"/>`);
  for (const t of xAxis.ticks) parts.push(`<line x1="${num(px(t))}" y1="${num(top)}" x2="${num(px(t))}" y2="${num(top + plotH)}"/>`);
  parts.push('</g>');
  parts.push(`<g class="ticks" font-size="${TICK_SIZE}" fill="#444">`);
  for (const t of yAxis.ticks) parts.push(text(left - 6, py(t) + TICK_SIZE * 0.35, yAxis.format(t), 'text-anchor="end"'));
  for (const t of xAxis.ticks) parts.push(text(px(t), top + plotH + 8 + TICK_SIZE, xAxis.format(t), 'text-anchor="middle"'));
  parts.push('</g>');
  parts.push(`<rect class="frame" x="${num(left)}" y="${num(top)}" width="${num(plotW)}" height="${num(plotH)}" fill="none" stroke="#888" stroke-width="1"/>`);
  parts.push(text(left + plotW / 2, height - 12, options.xLabel, `class="x-label" font-size="${LABEL_SIZE}" text-anchor="middle" fill="#222"`));
  const yLabelX = 14 + LABEL_SIZE - 2;
  const yLabelY = top + plotH / 2;
  parts.push(text(yLabelX, yLabelY, options.yLabel, `class="y-label" font-size="${LABEL_SIZE}" text-anchor="middle" fill="#222" transform="rotate(-90 ${num(yLabelX)} ${num(yLabelY)})"`));

  // Bands under everything: the upper edge left to right, then the lower edge back.
  if (bands.some((b) => b.length > 0)) {
    parts.push(`<g class="bands" clip-path="url(#${clipId})" stroke="none" fill-opacity="${BAND_OPACITY}">`);
    bands.forEach((segs, i) => {
      for (const seg of segs) {
        const upper = seg.map(([x, , hi], k) => `${k === 0 ? 'M' : 'L'}${num(px(x))} ${num(py(hi))}`).join('');
        const lower = [...seg].reverse().map(([x, lo]) => `L${num(px(x))} ${num(py(lo))}`).join('');
        parts.push(`<path class="band" data-series="${i}" d="${upper}${lower}Z" fill="${colorOf(i)}"><title>${escapeXml(series[i]!.name)}: range</title></path>`);
      }
    });
    parts.push('</g>');
  }

  // Curves: faint (raw) ones first, so the smoothed ones are drawn over them.
  parts.push(`<g class="series" clip-path="url(#${clipId})" fill="none" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round">`);
  const paintOrder = [...drawn.keys()].sort((a, b) => Number(Boolean(series[b]!.faint)) - Number(Boolean(series[a]!.faint)));
  for (const i of paintOrder) {
    const segs = drawn[i]!;
    if (segs.length === 0) continue;
    const faint = Boolean(series[i]!.faint);
    const color = colorOf(i);
    const dash = dashOf(i);
    const d = segs.map((seg) => seg.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${num(px(x))} ${num(py(y))}`).join('')).join('');
    const look = faint ? ` stroke-width="1" stroke-opacity="${FAINT_OPACITY}"` : dash ? ` stroke-dasharray="${dash}"` : '';
    parts.push(`<path class="line${faint ? ' faint' : ''}" data-series="${i}" d="${d}" stroke="${color}"${look}><title>${escapeXml(series[i]!.name)}</title></path>`);
    const count = segs.reduce((n, r) => n + r.length, 0);
    if (!faint && count <= MARKER_MAX_POINTS) {
      parts.push(`<g class="markers" data-series="${i}" stroke="none">`);
      for (const seg of segs) for (const [x, y] of seg) parts.push(marker(style(i), px(x), py(y), color));
      parts.push('</g>');
    }
  }
  parts.push('</g>');
  if (!hasData) {
    parts.push(text(left + plotW / 2, top + plotH / 2, 'no data', `class="no-data" font-size="${LABEL_SIZE}" text-anchor="middle" fill="#888"`));
  }

  // Legend, right of the plot, top-aligned with it; faint curves share their smoothed curve's entry.
  if (legendSeries.length > 0) {
    const lx = left + plotW + 16;
    parts.push(`<g class="legend" font-size="${LEGEND_SIZE}" fill="#222">`);
    // Rows tighten rather than run past the bottom of the plot when there are many series.
    const row = Math.max(LEGEND_SIZE + 1, Math.min(LEGEND_ROW, (plotH - 6) / legendSeries.length));
    legendSeries.forEach(({ s, i }, k) => {
      const color = colorOf(i);
      const dash = dashOf(i);
      const y = top + 6 + k * row;
      parts.push(`<g class="legend-entry" data-series="${i}">`);
      parts.push(`<line x1="${num(lx)}" y1="${num(y + 6)}" x2="${num(lx + LEGEND_SWATCH - 4)}" y2="${num(y + 6)}" stroke="${color}" stroke-width="2.2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
      if (drawn[i]!.reduce((n, r) => n + r.length, 0) <= MARKER_MAX_POINTS) parts.push(marker(style(i), lx + (LEGEND_SWATCH - 4) / 2, y + 6, color));
      parts.push(text(lx + LEGEND_SWATCH + 2, y + 6 + LEGEND_SIZE * 0.35, legendNames[k]!));
      if (legendNames[k] !== s.name) parts.push(`<title>${escapeXml(s.name)}</title>`);
      parts.push('</g>');
    });
    parts.push('</g>');
  }
  parts.push('</svg>\n');
  return parts.join('\n');
}
