/**
 * SVG to PNG through `@resvg/resvg-js`, an optional dependency: a prebuilt native renderer that may
 * be missing (install without optional deps, or a platform with no prebuilt binary). Everything here
 * degrades to "no PNG" rather than failing, since the SVG next to it carries the same chart.
 */

import { InvalidArgumentError } from '../errors';
import { FONT_FAMILY } from './svg';

export interface SvgToPngOptions {
  /** Output width in pixels; height follows the aspect ratio. Default: the SVG's own width. */
  width?: number;
  /** Background painted under the drawing. @default '#ffffff' */
  background?: string;
  /** Font files to load in addition to (or, with `loadSystemFonts: false`, instead of) system fonts. */
  fontFiles?: string[];
  /** Directories whose fonts are loaded, as for `fontFiles`. */
  fontDirs?: string[];
  /** Whether resvg scans the system font directories. @default true */
  loadSystemFonts?: boolean;
}

/** @default '#ffffff' */
export const DEFAULT_PNG_BACKGROUND = '#ffffff';

/** Family resvg uses for text that names none, and for the generic `sans-serif`; charts name it first too. */
export const DEFAULT_PNG_FONT_FAMILY = FONT_FAMILY.split(',')[0]!.trim();

// The slice of the resvg-js API used here, declared locally so this file compiles without the
// optional package installed.
interface ResvgRendered {
  asPng(): Buffer;
  readonly pixels: Buffer;
  readonly width: number;
  readonly height: number;
}
interface ResvgModule {
  Resvg: new (svg: string | Buffer, options?: Record<string, unknown>) => { render(): ResvgRendered };
}

let loaded: { module: ResvgModule } | { error: string } | undefined;

function loadResvg(): ResvgModule | null {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require('@resvg/resvg-js') as Partial<ResvgModule>;
      loaded = typeof mod?.Resvg === 'function' ? { module: mod as ResvgModule } : { error: '@resvg/resvg-js has no Resvg export' };
    } catch (err) {
      // Missing package and a native binding that fails to load (wrong libc, CPU) both land here.
      loaded = { error: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
    }
  }
  return 'module' in loaded ? loaded.module : null;
}

/** Whether PNG output is possible here, and if not, why (for a `doctor` report or a log line). */
export function pngSupport(): { available: true } | { available: false; reason: string } {
  loadResvg();
  return loaded !== undefined && 'error' in loaded ? { available: false, reason: loaded.error } : { available: true };
}

function renderOptions(options: SvgToPngOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    background: options.background ?? DEFAULT_PNG_BACKGROUND,
    font: {
      loadSystemFonts: options.loadSystemFonts ?? true,
      fontFiles: options.fontFiles ?? [],
      fontDirs: options.fontDirs ?? [],
      defaultFontFamily: DEFAULT_PNG_FONT_FAMILY,
      sansSerifFamily: DEFAULT_PNG_FONT_FAMILY,
    },
    logLevel: 'off',
  };
  if (options.width !== undefined) out.fitTo = { mode: 'width', value: Math.round(options.width) };
  return out;
}

const probeResults = new Map<string, boolean>();
let warnedNoFont = false;

/**
 * Whether text comes out in PNGs rendered with these font options. resvg ships no font and, finding
 * none, silently drops every `<text>`, which would leave charts without titles or tick labels; this
 * renders a probe word and looks for ink. `null` when resvg itself is unavailable. Cached per options.
 */
export function pngTextRenders(options: Pick<SvgToPngOptions, 'fontFiles' | 'fontDirs' | 'loadSystemFonts'> = {}): boolean | null {
  const resvg = loadResvg();
  if (!resvg) return null;
  const key = JSON.stringify([options.fontFiles ?? [], options.fontDirs ?? [], options.loadSystemFonts ?? true]);
  let ok = probeResults.get(key);
  if (ok === undefined) {
    const probe =
      '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30">' +
      `<text x="4" y="22" font-size="20" font-family="${FONT_FAMILY}">Hg09</text></svg>`;
    const { pixels } = new resvg.Resvg(probe, renderOptions({ ...options, background: '#ffffff' })).render();
    ok = false;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i]! < 128) {
        ok = true;
        break;
      }
    }
    probeResults.set(key, ok);
  }
  return ok;
}

/**
 * Renders `svg` to a PNG, or resolves to `null` when `@resvg/resvg-js` is not installed or cannot
 * load. Text uses system fonts (DejaVu Sans preferred, else whatever resvg finds); if no font can be
 * found at all the PNG is still produced, without text, and a warning (once per process) says to
 * install one (e.g. Debian/Ubuntu `fonts-dejavu-core`) or pass `fontFiles`. Invalid SVG is an
 * `InvalidArgumentError`.
 */
export async function svgToPng(svg: string, options: SvgToPngOptions = {}): Promise<Buffer | null> {
  if (typeof svg !== 'string' || svg.length === 0) throw new InvalidArgumentError('svg', 'must be a non-empty SVG string');
  if (options.width !== undefined && (!Number.isFinite(options.width) || options.width < 1 || options.width > 16384)) {
    throw new InvalidArgumentError('width', `must be a number from 1 to 16384, got ${options.width}`);
  }
  const resvg = loadResvg();
  if (!resvg) return null;
  if (!warnedNoFont && /<text[\s>]/.test(svg) && pngTextRenders(options) === false) {
    warnedNoFont = true;
    process.emitWarning(
      'svgToPng: no usable font found, so PNG charts have no text. Install a system font ' +
        '(Debian/Ubuntu: apt-get install fonts-dejavu-core) or pass fontFiles.',
      { code: 'MNIST_NETS_NO_FONT' },
    );
  }
  let rendered: ResvgRendered;
  try {
    rendered = new resvg.Resvg(svg, renderOptions(options)).render();
  } catch (err) {
    throw new InvalidArgumentError('svg', `cannot be rendered: ${err instanceof Error ? err.message : String(err)}`);
  }
  return rendered.asPng();
}
