/**
 * Self-contained HTML pages: tables and inline SVG charts with the style in the page itself, no
 * script and nothing fetched, so a report opens offline and can be mailed or archived as one file.
 */

import { InvalidArgumentError } from '../errors';
import { Align, tableAligns } from './markdown';
import { escapeXml } from './svg';

/** Escapes text for HTML element content and quoted attributes (the XML rules are a safe subset). */
export const escapeHtml = escapeXml;

const ALIGN_CSS: Record<Align, string> = { l: 'left', r: 'right', c: 'center' };

/** An HTML table with a header row; alignment as for `markdownTable`. Cells are escaped. */
export function htmlTable(headers: string[], rows: Array<Array<string | number>>, align?: Align[]): string {
  const aligns = tableAligns(headers, rows, align);
  const style = (c: number) => (aligns[c] === 'l' ? '' : ` style="text-align:${ALIGN_CSS[aligns[c]!]}"`);
  const head = headers.map((h, c) => `<th scope="col"${style(c)}>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((v, c) => `<td${style(c)}>${escapeHtml(String(v))}</td>`).join('')}</tr>`);
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

/** An SVG document made fit for inlining in HTML: without its XML declaration. */
export function inlineSvg(svg: string): string {
  if (!/^\s*(<\?xml[^>]*\?>\s*)?<svg\b/.test(svg)) throw new InvalidArgumentError('svg', 'must be an SVG document');
  return svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
}

const PAGE_CSS = `
body { font-family: "DejaVu Sans", Verdana, Arial, Helvetica, sans-serif; color: #222; margin: 24px auto; max-width: 1240px; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; white-space: nowrap; }
th { background: #f2f2f2; white-space: normal; vertical-align: bottom; }
tbody tr:nth-child(even) { background: #fafafa; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 8px 12px; overflow-x: auto; }
figure { margin: 1em 0; }
.row { display: flex; flex-wrap: wrap; gap: 0 24px; }
.row > figure { flex: 1 1 0; min-width: 420px; }
figcaption { font-size: 0.9em; color: #555; }
figure svg { max-width: 100%; height: auto; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dt { font-weight: bold; }
dd { margin: 0; }
.scroll { overflow-x: auto; }
`;

/** A whole page: `<title>`, the style above, and `body` (trusted HTML the caller built with the helpers here). */
export function htmlPage(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
