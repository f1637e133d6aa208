/** Markdown (GitHub-flavoured) tables whose raw text is aligned too, for reading in a terminal. */

import { InvalidArgumentError } from '../errors';

/** Column alignment: left, right, centre. */
export type Align = 'l' | 'r' | 'c';

// A '|' would end the cell and a newline the row; both must survive as content.
function cell(value: string | number): string {
  return String(value).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: Align): string {
  const gap = w - width(s);
  if (gap <= 0) return s;
  if (align === 'r') return ' '.repeat(gap) + s;
  if (align === 'c') return ' '.repeat(Math.floor(gap / 2)) + s + ' '.repeat(Math.ceil(gap / 2));
  return s + ' '.repeat(gap);
}

/**
 * A pipe table, lines joined by `\n` with no trailing newline. Cells are padded so columns line up
 * in the raw text. Without `align`, columns whose cells are all numbers are right-aligned and the
 * rest left-aligned. Numbers are printed with `String()`: format them first (see `formatNumber`)
 * when grouping or fixed decimals are wanted.
 *
 * ```
 * markdownTable(['model', 'acc'], [['mlp', 0.98]]) ===
 *   '| model |  acc |\n| :---- | ---: |\n| mlp   | 0.98 |'
 * ```
 */
export function markdownTable(headers: string[], rows: Array<Array<string | number>>, align?: Align[]): string {
  const aligns = tableAligns(headers, rows, align);
  const head = headers.map(cell);
  const body = rows.map((r) => r.map(cell));
  // Three dashes plus the alignment colons is the narrowest separator every renderer accepts.
  const widths = head.map((h, c) => Math.max(width(h), ...body.map((r) => width(r[c] ?? '')), aligns[c] === 'c' ? 5 : 4));
  const line = (cells: string[]): string => `| ${cells.map((s, c) => pad(s, widths[c]!, aligns[c]!)).join(' | ')} |`;
  const rule = widths.map((w, c) => {
    const a = aligns[c]!;
    if (a === 'r') return '-'.repeat(w - 1) + ':';
    if (a === 'c') return ':' + '-'.repeat(w - 2) + ':';
    return ':' + '-'.repeat(w - 1);
  });
  return [line(head), `| ${rule.join(' | ')} |`, ...body.map(line)].join('\n');
}

/**
 * Checks a table's shape and returns each column's alignment: `align` when given, else right for
 * columns whose cells are all numbers and left for the rest. Shared by the markdown and HTML tables.
 */
export function tableAligns(headers: string[], rows: Array<Array<string | number>>, align?: Align[]): Align[] {
  if (headers.length === 0) throw new InvalidArgumentError('headers', 'must name at least one column');
  rows.forEach((row, i) => {
    if (row.length !== headers.length) {
      throw new InvalidArgumentError('rows', `row ${i} has ${row.length} cells, expected ${headers.length}`);
    }
  });
  if (align !== undefined) {
    if (align.length !== headers.length) {
      throw new InvalidArgumentError('align', `has ${align.length} entries, expected ${headers.length}`);
    }
    align.forEach((a, i) => {
      if (a !== 'l' && a !== 'r' && a !== 'c') throw new InvalidArgumentError('align', `entry ${i} is '${a}', expected 'l', 'r' or 'c'`);
    });
  }
  return align ?? headers.map((_, c) => (rows.length > 0 && rows.every((r) => typeof r[c] === 'number') ? 'r' : 'l'));
}
