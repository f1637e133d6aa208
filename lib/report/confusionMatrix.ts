/** Confusion-matrix heatmaps as standalone SVG. */

import { InvalidArgumentError } from '../errors';
import { formatNumber, formatPercent } from './format';
import { checkSize, escapeXml, num, svgOpen, text, textWidth } from './svg';

export interface ConfusionMatrixOptions {
  title: string;
  /** Names of the classes, in row/column order. Default: `'0'`, `'1'`, ... */
  classNames?: string[];
  /** Side of one cell in pixels. Default: fits the matrix in about 560 px, between 16 and 56. */
  cellSize?: number;
}

const TITLE_SIZE = 16;
const LABEL_SIZE = 13;
const CLASS_SIZE = 12;

// Sequential single-hue blues (ColorBrewer "Blues"): ordered by lightness, so the scale still reads
// for colour-blind viewers and in greyscale print.
const BLUES: Array<[number, number, number]> = [
  [247, 251, 255], [222, 235, 247], [198, 219, 239], [158, 202, 225], [107, 174, 214],
  [66, 146, 198], [33, 113, 181], [8, 81, 156], [8, 48, 107],
];

/**
 * Colour for a share in [0, 1] of its row, on a square-root scale: on a trained net the errors are
 * fractions of a percent of their row and would be indistinguishable from zero on a linear scale.
 */
export function heatColor(t: number): string {
  const x = Math.sqrt(Math.min(1, Math.max(0, t))) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const f = x - i;
  const a = BLUES[i]!;
  const b = BLUES[i + 1]!;
  const hex = (k: number): string => Math.round(a[k]! + (b[k]! - a[k]!) * f).toString(16).padStart(2, '0');
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

function checkMatrix(matrix: number[][]): void {
  if (!Array.isArray(matrix) || matrix.length === 0) throw new InvalidArgumentError('matrix', 'must be a non-empty square array of rows');
  const n = matrix.length;
  matrix.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== n) {
      throw new InvalidArgumentError('matrix', `row ${r} has ${Array.isArray(row) ? row.length : 'no'} entries, expected ${n} (the matrix must be square)`);
    }
    row.forEach((v, c) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new InvalidArgumentError('matrix', `entry [${r}][${c}] must be a finite number >= 0, got ${v}`);
      }
    });
  });
}

/**
 * A heatmap of `matrix[trueLabel][predictedLabel]`. Each cell shows its count; its colour is the
 * cell's share of its row, so a rare class with 80% recall looks as pale on the diagonal as a common
 * one does, instead of every class's colour following its sample count. The diagonal is bold, and a
 * column on the right gives each row's recall; the subtitle gives overall accuracy and sample count.
 * Fractional entries (an already normalised matrix) are shown with two decimals.
 */
export function confusionMatrixSvg(matrix: number[][], options: ConfusionMatrixOptions): string {
  checkMatrix(matrix);
  const n = matrix.length;
  const names = options.classNames ?? Array.from({ length: n }, (_, i) => String(i));
  if (names.length !== n) throw new InvalidArgumentError('classNames', `has ${names.length} names for ${n} classes`);
  const cell = options.cellSize ?? Math.max(16, Math.min(56, Math.floor(560 / n)));
  checkSize('cellSize', cell, 8);

  const integral = matrix.every((row) => row.every(Number.isInteger));
  const fmt = (v: number): string => (integral ? formatNumber(v) : formatNumber(v, 2));
  const rowSums = matrix.map((row) => row.reduce((s, v) => s + v, 0));
  const total = rowSums.reduce((s, v) => s + v, 0);
  const correct = matrix.reduce((s, row, i) => s + row[i]!, 0);

  // Counts must fit their cell: shrink the font for wide numbers rather than spill into neighbours.
  const widest = Math.max(...matrix.flat().map((v) => [...fmt(v)].length), 1);
  const countSize = Math.max(6, Math.min(13, cell * 0.32, (cell - 6) / (widest * 0.62)));

  const maxName = Math.max(...names.map((s) => textWidth(s, CLASS_SIZE)));
  // Column labels turn diagonal when they would collide with the next column's.
  const rotate = maxName > cell - 4;
  const colLabelHeight = rotate ? maxName * 0.72 + CLASS_SIZE : CLASS_SIZE + 4;
  const recallWidth = textWidth('100.0%', CLASS_SIZE) + 16;

  const top = 20 + TITLE_SIZE + 8 + 14 + 16;
  const left = 14 + LABEL_SIZE + 12 + maxName + 10;
  const grid = cell * n;
  const width = Math.max(left + grid + recallWidth + 16, textWidth(options.title, TITLE_SIZE) + 40);
  const height = top + grid + 8 + colLabelHeight + 10 + LABEL_SIZE + 14;

  const parts: string[] = [svgOpen(width, height, options.title)];
  parts.push(text(width / 2, 20 + TITLE_SIZE - 2, options.title, `class="title" font-size="${TITLE_SIZE}" font-weight="bold" text-anchor="middle" fill="#222"`));
  const subtitle = total > 0
    ? `accuracy ${formatPercent(correct / total)} on ${fmt(total)} samples; colour = share of the true-label row`
    : 'no samples';
  parts.push(text(width / 2, 20 + TITLE_SIZE + 8 + 10, subtitle, `class="subtitle" font-size="11" text-anchor="middle" fill="#555"`));

  parts.push(`<g class="cells" font-size="${num(countSize)}" text-anchor="middle">`);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = matrix[r]![c]!;
      const share = rowSums[r]! > 0 ? v / rowSums[r]! : 0;
      const x = left + c * cell;
      const y = top + r * cell;
      const tip = `true ${names[r]}, predicted ${names[c]}: ${fmt(v)}` + (rowSums[r]! > 0 ? ` (${formatPercent(share, 1)} of row)` : '');
      parts.push(`<rect class="cell" data-row="${r}" data-col="${c}" x="${num(x)}" y="${num(y)}" width="${num(cell)}" height="${num(cell)}" fill="${heatColor(share)}" stroke="#ffffff" stroke-width="1"><title>${escapeXml(tip)}</title></rect>`);
      // Light text on the dark end of the scale, and zeros muted so the errors stand out.
      const fill = Math.sqrt(share) > 0.6 ? '#ffffff' : v === 0 ? '#b0b0b0' : '#1a1a1a';
      const weight = r === c ? ' font-weight="bold"' : '';
      parts.push(text(x + cell / 2, y + cell / 2 + countSize * 0.36, fmt(v), `class="count" data-row="${r}" data-col="${c}" fill="${fill}"${weight}`));
    }
  }
  parts.push('</g>');
  parts.push(`<rect class="frame" x="${num(left)}" y="${num(top)}" width="${num(grid)}" height="${num(grid)}" fill="none" stroke="#888" stroke-width="1"/>`);

  // Class names: rows on the left, columns underneath.
  parts.push(`<g class="class-names" font-size="${CLASS_SIZE}" fill="#222">`);
  names.forEach((name, i) => {
    parts.push(text(left - 8, top + i * cell + cell / 2 + CLASS_SIZE * 0.35, name, 'text-anchor="end"'));
    const cx = left + i * cell + cell / 2;
    const cy = top + grid + 8 + CLASS_SIZE * 0.8;
    parts.push(rotate
      ? text(cx + CLASS_SIZE * 0.3, cy - CLASS_SIZE * 0.3, name, `text-anchor="end" transform="rotate(-45 ${num(cx + CLASS_SIZE * 0.3)} ${num(cy - CLASS_SIZE * 0.3)})"`)
      : text(cx, cy, name, 'text-anchor="middle"'));
  });
  parts.push('</g>');

  // Per-row recall.
  const rx = left + grid + 10;
  parts.push(`<g class="recall" font-size="${CLASS_SIZE}" fill="#444">`);
  parts.push(text(rx, top - 6, 'recall', 'font-size="11" fill="#555"'));
  for (let r = 0; r < n; r++) {
    const recall = rowSums[r]! > 0 ? formatPercent(matrix[r]![r]! / rowSums[r]!, 1) : '\u2013';
    parts.push(text(rx, top + r * cell + cell / 2 + CLASS_SIZE * 0.35, recall));
  }
  parts.push('</g>');

  const xLabelY = top + grid + 8 + colLabelHeight + 10 + LABEL_SIZE - 2;
  parts.push(text(left + grid / 2, xLabelY, 'Predicted label', `class="x-label" font-size="${LABEL_SIZE}" text-anchor="middle" fill="#222"`));
  const yLabelX = 14 + LABEL_SIZE - 2;
  const yLabelY = top + grid / 2;
  parts.push(text(yLabelX, yLabelY, 'True label', `class="y-label" font-size="${LABEL_SIZE}" text-anchor="middle" fill="#222" transform="rotate(-90 ${num(yLabelX)} ${num(yLabelY)})"`));
  parts.push('</svg>\n');
  return parts.join('\n');
}
