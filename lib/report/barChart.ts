/** Horizontal bar charts (throughput, accuracy per model) as standalone SVG. */

import { InvalidArgumentError } from '../errors';
import { PALETTE, axisFraction, checkSize, formatTick, linearAxis, num, svgOpen, text, textWidth, truncateText } from './svg';

export interface Bar {
  label: string;
  value: number;
}

export interface BarChartOptions {
  title: string;
  /** Label of the value axis, e.g. `'samples/s'`. */
  valueLabel: string;
  /** Pixel width of the whole figure. @default 720 */
  width?: number;
  /** Pixel height of one bar's row; the figure grows with the number of bars. @default 30 */
  rowHeight?: number;
  /** Text printed at the end of each bar. Default: the axis tick format with one more decimal. */
  formatValue?: (value: number) => string;
}

/** @default 720 */
export const DEFAULT_BAR_CHART_WIDTH = 720;
/** @default 30 */
export const DEFAULT_BAR_ROW_HEIGHT = 30;

const TITLE_SIZE = 16;
const LABEL_SIZE = 13;
const TICK_SIZE = 11;
const BAR_LABEL_SIZE = 12;

/**
 * One horizontal bar per entry, in the given order, labelled on the left with the value printed at
 * the bar's end. Horizontal because category labels here are model names, which do not fit under
 * vertical bars. The value axis always includes zero, so bar lengths compare honestly.
 */
export function barChartSvg(bars: Bar[], options: BarChartOptions): string {
  const width = options.width ?? DEFAULT_BAR_CHART_WIDTH;
  const rowHeight = options.rowHeight ?? DEFAULT_BAR_ROW_HEIGHT;
  checkSize('width', width, 240);
  checkSize('rowHeight', rowHeight, 10);
  bars.forEach((b, i) => {
    if (typeof b?.label !== 'string' || typeof b.value !== 'number' || !Number.isFinite(b.value)) {
      throw new InvalidArgumentError(`bars[${i}]`, 'must be { label: string, value: finite number }');
    }
  });

  const values = bars.map((b) => b.value);
  const axis = linearAxis(Math.min(0, ...values), Math.max(0, ...values, bars.length === 0 ? 1 : 0));
  const step = axis.ticks.length > 1 ? axis.ticks[1]! - axis.ticks[0]! : 1;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + 1);
  const formatValue = options.formatValue ?? ((v: number) => formatTick(v, decimals));
  const valueTexts = bars.map((b) => formatValue(b.value));

  const labelMax = width * 0.3;
  const labels = bars.map((b) => truncateText(b.label, BAR_LABEL_SIZE, labelMax));
  const labelWidth = Math.max(0, ...labels.map((l) => textWidth(l, BAR_LABEL_SIZE)));
  const valueWidth = Math.max(0, ...valueTexts.map((v) => textWidth(v, BAR_LABEL_SIZE)));
  const left = 16 + labelWidth + 10;
  // Room for the value text past the longest bar, on whichever side bars extend.
  const right = 16 + valueWidth + 8;
  const top = 20 + TITLE_SIZE + 14;
  const plotH = Math.max(1, bars.length) * rowHeight;
  const height = top + plotH + 8 + TICK_SIZE + 10 + LABEL_SIZE + 12;
  const plotW = width - left - right - (axis.min < 0 ? valueWidth + 8 : 0);
  if (plotW < 60) throw new InvalidArgumentError('width', `${width} leaves no room for bars next to the labels`);
  const plotLeft = left + (axis.min < 0 ? valueWidth + 8 : 0);
  const px = (v: number): number => plotLeft + axisFraction(axis, v) * plotW;

  const parts: string[] = [svgOpen(width, height, options.title)];
  parts.push(text(width / 2, 20 + TITLE_SIZE - 2, options.title, `class="title" font-size="${TITLE_SIZE}" font-weight="bold" text-anchor="middle" fill="#222"`));
  parts.push('<g class="grid" stroke="#e3e3e3" stroke-width="1">');
  for (const t of axis.ticks) parts.push(`<line x1="${num(px(t))}" y1="${num(top)}" x2="${num(px(t))}" y2="${num(top + plotH)}"/>`);
  parts.push('</g>');
  parts.push(`<g class="ticks" font-size="${TICK_SIZE}" fill="#444" text-anchor="middle">`);
  for (const t of axis.ticks) parts.push(text(px(t), top + plotH + 8 + TICK_SIZE, axis.format(t)));
  parts.push('</g>');

  const zero = px(0);
  const barH = rowHeight * 0.68;
  parts.push(`<g class="bars" font-size="${BAR_LABEL_SIZE}">`);
  bars.forEach((b, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    const x1 = Math.min(zero, px(b.value));
    const x2 = Math.max(zero, px(b.value));
    parts.push(`<rect class="bar" data-index="${i}" x="${num(x1)}" y="${num(cy - barH / 2)}" width="${num(Math.max(x2 - x1, 0.5))}" height="${num(barH)}" fill="${PALETTE[0]}"/>`);
    parts.push(text(16 + labelWidth, cy + BAR_LABEL_SIZE * 0.35, labels[i]!, 'class="bar-label" text-anchor="end" fill="#222"'));
    const atEnd = b.value < 0 ? text(x1 - 5, cy + BAR_LABEL_SIZE * 0.35, valueTexts[i]!, 'class="bar-value" text-anchor="end" fill="#333"')
      : text(x2 + 5, cy + BAR_LABEL_SIZE * 0.35, valueTexts[i]!, 'class="bar-value" fill="#333"');
    parts.push(atEnd);
  });
  parts.push('</g>');
  if (bars.length === 0) parts.push(text(plotLeft + plotW / 2, top + plotH / 2 + 4, 'no data', `class="no-data" font-size="${LABEL_SIZE}" text-anchor="middle" fill="#888"`));
  parts.push(`<line x1="${num(zero)}" y1="${num(top)}" x2="${num(zero)}" y2="${num(top + plotH)}" stroke="#666" stroke-width="1"/>`);
  parts.push(text(plotLeft + plotW / 2, height - 12, options.valueLabel, `class="x-label" font-size="${LABEL_SIZE}" text-anchor="middle" fill="#222"`));
  parts.push('</svg>\n');
  return parts.join('\n');
}
