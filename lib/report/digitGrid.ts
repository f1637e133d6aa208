/**
 * A grid of digit images with captions, as one standalone SVG: each digit is a small greyscale PNG
 * inlined as a data URI (so the SVG, the HTML page that inlines it and the PNG that resvg renders
 * from it all carry their images), its pixels enlarged as squares rather than smoothed.
 */
import { InvalidArgumentError } from '../errors';
import { greyscalePng } from '../io/grey-png';
import { escapeXml, num, svgOpen, text, textWidth, truncateText } from './svg';

/** One cell: a square image of ink values (0 background .. 255 full ink, row-major: MNIST's own bytes) and up to three caption lines. */
export interface DigitCell {
  pixels: Uint8Array;
  caption: string[];
  /** Hover text (the SVG `<title>`): e.g. which test image this is. */
  title?: string;
}

export interface DigitGridOptions {
  title: string;
  /** A line under the title. */
  subtitle?: string;
  /** @default 12 */
  columns?: number;
  /** Screen pixels per image pixel (an integer: the PNG is drawn that large). @default 3 */
  scale?: number;
  /** Shown in place of the grid when there are no cells. @default 'none' */
  emptyText?: string;
}

/** @default 12 */
export const DEFAULT_DIGIT_GRID_COLUMNS = 12;
/** @default 3 */
export const DEFAULT_DIGIT_SCALE = 3;

const TITLE_SIZE = 15;
const SUBTITLE_SIZE = 12;
const CAPTION_SIZE = 11;
const CAPTION_LINE = 13;
const GAP = 10;
const MARGIN = 14;

/**
 * Ink values as an 8-bit greyscale PNG, dark ink on white like a digit on paper, each pixel a
 * `scale` x `scale` square: drawn at its own size, no renderer smooths it (resvg ignores CSS
 * `image-rendering: pixelated`).
 */
function greyPng(ink: Uint8Array, side: number, scale: number): Buffer {
  const out = side * scale;
  const grey = new Uint8Array(out * out);
  for (let y = 0; y < out; y++) {
    for (let x = 0; x < out; x++) grey[y * out + x] = 255 - ink[Math.floor(y / scale) * side + Math.floor(x / scale)]!;
  }
  return greyscalePng(grey, out, out);
}

/**
 * The cells in rows of `columns`, each image scaled by `scale` with its caption lines under it.
 * Cell width follows the longest caption line (estimated), so captions do not run into each other.
 */
export function digitGridSvg(cells: DigitCell[], options: DigitGridOptions): string {
  const columns = options.columns ?? DEFAULT_DIGIT_GRID_COLUMNS;
  const scale = options.scale ?? DEFAULT_DIGIT_SCALE;
  if (!(Number.isInteger(columns) && columns >= 1)) throw new InvalidArgumentError('columns', `must be a positive integer, got ${columns}`);
  if (!(Number.isInteger(scale) && scale >= 1 && scale <= 16)) throw new InvalidArgumentError('scale', `must be an integer from 1 to 16, got ${scale}`);
  let side = 0;
  cells.forEach((c, i) => {
    const s = Math.round(Math.sqrt(c?.pixels?.length ?? 0));
    if (!(c?.pixels instanceof Uint8Array) || s * s !== c.pixels.length || s === 0) {
      throw new InvalidArgumentError(`cells[${i}].pixels`, 'must be a Uint8Array holding a square image');
    }
    if (side !== 0 && s !== side) throw new InvalidArgumentError(`cells[${i}].pixels`, `is ${s}x${s}, the others ${side}x${side}`);
    side = s;
    if (!Array.isArray(c.caption) || c.caption.length > 3) throw new InvalidArgumentError(`cells[${i}].caption`, 'must be an array of at most 3 lines');
  });
  const image = side * scale;
  const lines = Math.max(0, ...cells.map((c) => c.caption.length));
  const captionWidth = Math.max(0, ...cells.flatMap((c) => c.caption.map((l) => textWidth(l, CAPTION_SIZE))));
  const cellW = Math.max(image, Math.min(captionWidth, 3 * image)) + GAP;
  const cellH = image + 4 + lines * CAPTION_LINE + GAP;
  const cols = Math.max(1, Math.min(columns, cells.length));
  const rows = Math.ceil(cells.length / cols);
  const top = MARGIN + TITLE_SIZE + (options.subtitle ? SUBTITLE_SIZE + 6 : 0) + 12;
  const titleWidth = Math.max(textWidth(options.title, TITLE_SIZE), options.subtitle ? textWidth(options.subtitle, SUBTITLE_SIZE) : 0);
  const width = Math.max(2 * MARGIN + cols * cellW, titleWidth + 2 * MARGIN, 240);
  const height = top + Math.max(1, rows) * cellH + MARGIN - GAP + (cells.length === 0 ? 20 : 0);
  const parts = [svgOpen(width, height, options.title)];
  parts.push(text(MARGIN, MARGIN + TITLE_SIZE - 2, options.title, `class="title" font-size="${TITLE_SIZE}" font-weight="bold" fill="#222"`));
  if (options.subtitle) parts.push(text(MARGIN, MARGIN + TITLE_SIZE + 6 + SUBTITLE_SIZE - 2, options.subtitle, `class="subtitle" font-size="${SUBTITLE_SIZE}" fill="#555"`));
  if (cells.length === 0) parts.push(text(MARGIN, top + 14, options.emptyText ?? 'none', `class="empty" font-size="${CAPTION_SIZE + 1}" fill="#888"`));
  cells.forEach((c, i) => {
    const x = MARGIN + (i % cols) * cellW;
    const y = top + Math.floor(i / cols) * cellH;
    const data = greyPng(c.pixels, side, scale).toString('base64');
    parts.push(`<g class="digit">${c.title ? `<title>${escapeXml(c.title)}</title>` : ''}`);
    parts.push(`<image x="${num(x)}" y="${num(y)}" width="${num(image)}" height="${num(image)}" href="data:image/png;base64,${data}"/>`);
    c.caption.forEach((line, k) => {
      const shown = truncateText(line, CAPTION_SIZE, cellW - GAP);
      parts.push(text(x, y + image + 4 + (k + 1) * CAPTION_LINE - 2, shown, `font-size="${CAPTION_SIZE}" fill="${k === 0 ? '#222' : '#555'}"`));
    });
    parts.push('</g>');
  });
  parts.push('</svg>\n');
  return parts.join('\n');
}
