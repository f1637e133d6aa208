import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InvalidArgumentError } from '../lib/errors';
import {
  barChartSvg,
  confusionMatrixSvg,
  downsampleMinMax,
  escapeXml,
  formatDuration,
  formatNumber,
  formatPercent,
  htmlPage,
  htmlTable,
  inlineSvg,
  lineChartSvg,
  markdownTable,
  smoothSeries,
  svgRow,
  pngSupport,
  pngTextRenders,
  svgToPng,
  writeFileAtomic,
} from '../lib/report';
import type { Series } from '../lib/report';
import { skipUnless } from './helpers/skips';

/**
 * Well-formedness without an XML library: every tag is syntactically a tag with quoted attributes,
 * tags nest and close in order, and text/attribute content has no raw '<' or stray '&'.
 * Returns the problem, or null.
 */
function xmlProblem(doc: string): string | null {
  const body = doc.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const token = /<[^>]*>|[^<]+/g;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = token.exec(body)) !== null) {
    const t = m[0];
    if (!t.startsWith('<')) {
      if (t.replace(entity, '').includes('&')) return `stray & in text ${JSON.stringify(t)}`;
      if (stack.length === 0 && t.trim() !== '') return `text outside the root: ${JSON.stringify(t)}`;
      continue;
    }
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>$/.exec(t);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) return `</${close[1]}> closes <${open}>`;
      continue;
    }
    const open = /^<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>$/.exec(t);
    if (!open) return `malformed tag ${t.slice(0, 80)}`;
    if (open[2]!.replace(entity, '').includes('&')) return `stray & in attributes of ${t.slice(0, 80)}`;
    if (stack.length === 0) roots++;
    if (open[3] !== '/') stack.push(open[1]!);
  }
  if (stack.length > 0) return `unclosed <${stack.join('> <')}>`;
  if (roots !== 1) return `${roots} root elements`;
  return null;
}

function count(haystack: string, re: RegExp): number {
  return (haystack.match(re) ?? []).length;
}

/** Text content of elements carrying `class="<cls>"` (attributes in any order). */
function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text[^>]*class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
}

const curve = (n: number, f: (i: number) => number): Array<[number, number]> =>
  Array.from({ length: n }, (_, i) => [i, f(i)] as [number, number]);

const png = pngSupport();
const resvgInstalled = png.available;
const resvgMissing = png.available ? '' : `@resvg/resvg-js does not load (${png.reason}); npm install brings it, an optional dependency`;
const pngTest = skipUnless(resvgInstalled, resvgMissing).test;

// A font file the machine has, for the text-rendering test; PNG text needs one and resvg ships none.
function findFontFile(): string | null {
  const dirs = ['/usr/share/fonts', '/usr/local/share/fonts', '/System/Library/Fonts', '/Library/Fonts', 'C:\\Windows\\Fonts'];
  const walk = (dir: string, depth: number): string | null => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    for (const e of entries) if (e.isFile() && /\.(ttf|otf)$/i.test(e.name)) return path.join(dir, e.name);
    for (const e of entries) {
      if (e.isDirectory() && depth < 4) {
        const found = walk(path.join(dir, e.name), depth + 1);
        if (found) return found;
      }
    }
    return null;
  };
  for (const d of dirs) {
    const found = walk(d, 0);
    if (found) return found;
  }
  return null;
}

describe('escapeXml', () => {
  test('escapes markup characters and replaces characters XML forbids', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;');
    expect(escapeXml('bell\u0007 lone\uD800 pair\uD83D\uDE00')).toBe('bell\uFFFD lone\uFFFD pair\uD83D\uDE00');
  });
});

describe('lineChartSvg', () => {
  const two: Series[] = [
    { name: 'train loss', points: curve(50, (i) => 2.3 * Math.exp(-i / 10) + 0.05) },
    { name: 'test loss', points: curve(50, (i) => 2.2 * Math.exp(-i / 12) + 0.08) },
  ];

  test('is a standalone, well-formed SVG with title, axis labels, legend and one path per series', () => {
    const svg = lineChartSvg(two, { title: 'Loss', xLabel: 'epoch', yLabel: 'cross-entropy' });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('width="720" height="440" viewBox="0 0 720 440"');
    expect(texts(svg, 'title')).toEqual(['Loss']);
    expect(texts(svg, 'x-label')).toEqual(['epoch']);
    expect(texts(svg, 'y-label')).toEqual(['cross-entropy']);
    expect(count(svg, /<path class="line"/g)).toBe(2);
    expect(count(svg, /<g class="legend-entry"/g)).toBe(2);
    expect(svg).toContain('>train loss</text>');
    expect(svg).toContain('>test loss</text>');
    // Distinct colours for the two curves.
    const colours = [...svg.matchAll(/<path class="line"[^>]* stroke="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]);
    expect(new Set(colours).size).toBe(2);
  });

  test('honours width and height', () => {
    const svg = lineChartSvg(two, { title: 't', xLabel: 'x', yLabel: 'y', width: 500, height: 300 });
    expect(svg).toContain('viewBox="0 0 500 300"');
  });

  test('escapes <, & and > in names, title and labels', () => {
    const svg = lineChartSvg([{ name: 'cnn <wasm> & "fast"', points: curve(5, (i) => i) }], {
      title: 'A & B', xLabel: 'x<1', yLabel: 'y>0',
    });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain('cnn &lt;wasm&gt; &amp; &quot;fast&quot;');
    expect(svg).toContain('>A &amp; B</text>');
    expect(svg).toContain('>x&lt;1</text>');
    expect(svg).toContain('>y&gt;0</text>');
    expect(svg).not.toContain('<wasm>');
  });

  test('draws axes and a "no data" note for no series, and for series without points', () => {
    const none = lineChartSvg([], { title: 'empty', xLabel: 'x', yLabel: 'y' });
    expect(xmlProblem(none)).toBeNull();
    expect(count(none, /<path class="line"/g)).toBe(0);
    expect(texts(none, 'no-data')).toEqual(['no data']);
    const hollow = lineChartSvg([{ name: 'a', points: [] }, { name: 'b', points: [[0, NaN]] }], { title: 'e', xLabel: 'x', yLabel: 'y' });
    expect(xmlProblem(hollow)).toBeNull();
    expect(count(hollow, /<g class="legend-entry"/g)).toBe(2);
    expect(texts(hollow, 'no-data')).toEqual(['no data']);
  });

  test('a single point gets a marker; non-finite points break the line into pieces', () => {
    const one = lineChartSvg([{ name: 'one', points: [[3, 0.5]] }], { title: 't', xLabel: 'x', yLabel: 'y' });
    expect(xmlProblem(one)).toBeNull();
    expect(one).toMatch(/<g class="markers" data-series="0"[^>]*>\n<circle /);
    const gap = lineChartSvg([{ name: 'g', points: [[0, 1], [1, 2], [2, NaN], [3, 2], [4, 1]] }], { title: 't', xLabel: 'x', yLabel: 'y' });
    const d = /<path class="line"[^>]* d="([^"]*)"/.exec(gap)![1]!;
    expect(count(d, /M/g)).toBe(2);
    expect(count(d, /L/g)).toBe(2);
  });

  test('yMin/yMax override the axis exactly; default y axis follows the data', () => {
    const acc: Series[] = [{ name: 'acc', points: curve(10, (i) => 0.9 + i / 120) }];
    const fixed = lineChartSvg(acc, { title: 'acc', xLabel: 'epoch', yLabel: 'accuracy', yMin: 0, yMax: 1 });
    const yTicks = (svg: string): string[] => [...svg.matchAll(/<text x="[^"]*" y="[^"]*" text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(yTicks(fixed)).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    const auto = yTicks(lineChartSvg(acc, { title: 'acc', xLabel: 'epoch', yLabel: 'accuracy' })).map(Number);
    expect(Math.min(...auto)).toBeGreaterThanOrEqual(0.85);
    expect(Math.max(...auto)).toBeLessThanOrEqual(1);
    expect(auto.length).toBeGreaterThanOrEqual(3);
  });

  test('logY labels decades and drops non-positive points', () => {
    const svg = lineChartSvg([{ name: 'loss', points: [[0, 2.3], [1, 0.5], [2, 0], [3, 0.02]] }], {
      title: 'log', xLabel: 'step', yLabel: 'loss', logY: true,
    });
    expect(xmlProblem(svg)).toBeNull();
    const ticks = [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]);
    expect(ticks).toEqual(expect.arrayContaining(['0.01', '0.1', '1', '10']));
    const d = /<path class="line"[^>]* d="([^"]*)"/.exec(svg)![1]!;
    expect(count(d, /[ML]/g)).toBe(3);
  });

  test('reduces long series to at most 2000 points and keeps spikes', () => {
    const points = curve(20000, (i) => 1 + Math.sin(i / 50) * 0.1);
    points[12345] = [12345, 40];
    points[777] = [777, -5];
    const svg = lineChartSvg([{ name: 'long', points }], { title: 'long', xLabel: 'step', yLabel: 'loss' });
    const d = /<path class="line"[^>]* d="([^"]*)"/.exec(svg)![1]!;
    expect(count(d, /[ML]/g)).toBeLessThanOrEqual(2000);
    expect(svg.length).toBeLessThan(60_000);
    // The axis still spans the spike and the dip, so both were kept.
    const ticks = [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => Number(m[1]!.replace(/,/g, '')));
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(40);
    expect(Math.min(...ticks)).toBeLessThanOrEqual(-5);
  });

  test('rejects bad options with the option named', () => {
    const opts = { title: 't', xLabel: 'x', yLabel: 'y' };
    expect(() => lineChartSvg(two, { ...opts, width: 10 })).toThrow(InvalidArgumentError);
    expect(() => lineChartSvg(two, { ...opts, yMin: 1, yMax: 0 })).toThrow(/yMin/);
    expect(() => lineChartSvg(two, { ...opts, logY: true, yMin: 0 })).toThrow(/yMin: must be > 0/);
  });
});

describe('lineChartSvg: faint raw curves, log x, subtitle, legend', () => {
  const raw = curve(300, (i) => 2 * Math.exp(-i / 60) + 0.3 * ((i * 7919) % 13) / 13 + 0.05).map(([x, y]) => [x + 1, y] as [number, number]);
  const series: Series[] = [
    { name: 'mlp, every step', points: raw, faint: true, colorIndex: 1 },
    { name: 'mlp', points: smoothSeries(raw, 10, { logY: true }), colorIndex: 1 },
  ];

  test('a faint series is drawn first, thin and translucent, in its partner\'s colour, with no legend entry', () => {
    const svg = lineChartSvg(series, { title: 'Loss', xLabel: 'step', yLabel: 'loss', logY: true, subtitle: 'lines: fit; faint: every step' });
    expect(xmlProblem(svg)).toBeNull();
    const paths = [...svg.matchAll(/<path class="(line[^"]*)" data-series="(\d)"[^>]* stroke="(#[0-9A-F]{6})"([^>]*)>/g)];
    expect(paths.map((m) => [m[1], m[2]])).toEqual([['line faint', '0'], ['line', '1']]);
    expect(paths[0]![3]).toBe(paths[1]![3]);
    expect(paths[0]![3]).toBe('#D55E00');
    expect(paths[0]![4]).toContain('stroke-opacity="0.25"');
    expect(count(svg, /<g class="legend-entry"/g)).toBe(1);
    expect(svg).toContain('>mlp</text>');
    expect(svg).not.toContain('>mlp, every step</text>');
    expect(texts(svg, 'subtitle')).toEqual(['lines: fit; faint: every step']);
  });

  test('legend: false leaves the legend out and gives the plot its room', () => {
    const svg = lineChartSvg(series, { title: 'Loss', xLabel: 'step', yLabel: 'loss', legend: false });
    expect(count(svg, /class="legend/g)).toBe(0);
    const frame = /<rect class="frame" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg)!;
    expect(Number(frame[1]) + Number(frame[2])).toBeGreaterThan(720 - 25);
  });

  test('logX: decade ticks, points at x <= 0 dropped', () => {
    const svg = lineChartSvg([{ name: 's', points: [[0, 1], [50, 1], [500, 2], [1_000_000, 3]] }], { title: 't', xLabel: 'samples', yLabel: 'y', logX: true });
    const xTicks = [...svg.matchAll(/text-anchor="middle">([\d,]+)</g)].map((m) => m[1]);
    expect(xTicks).toEqual(['10', '100', '1,000', '10,000', '100,000', '1,000,000']);
    const d = /<path class="line"[^>]* d="([^"]*)"/.exec(svg)![1]!;
    expect(count(d, /[ML]/g)).toBe(3);
  });

  test('rejects a bad colorIndex with the series named', () => {
    expect(() => lineChartSvg([{ name: 'a', points: [], colorIndex: -1 }], { title: 't', xLabel: 'x', yLabel: 'y' })).toThrow(/series\[0\]\.colorIndex/);
  });
});

describe('smoothSeries', () => {
  test('follows a straight line exactly, ends included (no lag, no flattening)', () => {
    const line = curve(101, (i) => 3 - 0.02 * i);
    const out = smoothSeries(line, 10);
    expect(out).toHaveLength(101);
    out.forEach(([x, y], i) => {
      expect(x).toBe(line[i]![0]);
      expect(y).toBeCloseTo(line[i]![1], 9);
    });
  });

  test('removes noise: the residual spread shrinks by about the square root of the window', () => {
    // Deterministic noise of spread 0.5 around an exponential decay, on a log axis as the loss plot uses.
    const noise = (i: number) => (((i * 2654435761) % 1000) / 1000 - 0.5) * 1;
    const truth = (x: number) => 2 * Math.exp(-x / 3000) + 0.1;
    const pts = curve(10000, (i) => truth(i) * 10 ** (0.2 * noise(i)));
    const out = smoothSeries(pts, 200, { logY: true });
    const spread = (ys: number[]) => Math.sqrt(ys.reduce((a, d) => a + d * d, 0) / ys.length);
    const rawErr = spread(pts.map(([x, y]) => Math.log10(y / truth(x))));
    const smoothErr = spread(out.map(([x, y]) => Math.log10(y / truth(x))));
    expect(rawErr).toBeGreaterThan(0.05);
    expect(smoothErr).toBeLessThan(rawErr / 8);
  });

  test('the window is in axis units: a sparse and a dense curve of the same data agree', () => {
    const f = (x: number) => Math.sin(x / 20);
    const dense = Array.from({ length: 1001 }, (_, i) => [i / 10, f(i / 10)] as [number, number]);
    const sparse = Array.from({ length: 101 }, (_, i) => [i, f(i)] as [number, number]);
    const d = smoothSeries(dense, 5);
    const s = smoothSeries(sparse, 5);
    for (const k of [0, 25, 50, 100]) expect(s[k]![1]).toBeCloseTo(d[k * 10]![1], 2);
  });

  test('logX measures the window in decades; drops what a log axis cannot show; checks its input', () => {
    // 10 and 20 are 0.3 decades apart, inside each other's half-window of 0.5; 1000 is alone.
    const out = smoothSeries([[0, 1], [1, -1], [10, 2], [20, 8], [100, NaN], [1000, 4]], 0.5, { logX: true, logY: true });
    expect(out.map(([x]) => x)).toEqual([10, 20, 1000]);
    expect(out[0]![1]).toBeCloseTo(2, 9);
    expect(out[1]![1]).toBeCloseTo(8, 9);
    expect(out[2]![1]).toBeCloseTo(4, 9);
    // 0.2 decades around 15 hold 10 and 20 (in linear x, a window of 0.2 would hold 15 alone): the spike is fitted down.
    const mid = smoothSeries([[10, 2], [15, 100], [20, 8]], 0.2, { logX: true, logY: true });
    expect(mid[1]![1]).not.toBeCloseTo(100, 0);
    expect(smoothSeries([], 1)).toEqual([]);
    expect(() => smoothSeries([[2, 1], [1, 1]], 1)).toThrow(/points: must be in increasing x/);
    expect(() => smoothSeries([[1, 1]], -1)).toThrow(/halfWidth/);
  });
});

describe('svgRow and HTML', () => {
  test('svgRow: charts side by side in one well-formed document', () => {
    const a = lineChartSvg([{ name: 'a', points: curve(5, (i) => i) }], { title: 'A', xLabel: 'x', yLabel: 'y', width: 400, height: 300 });
    const b = lineChartSvg([{ name: 'b', points: curve(5, (i) => i) }], { title: 'B', xLabel: 'x', yLabel: 'y', width: 500, height: 320 });
    const row = svgRow([a, b], 'A and B');
    expect(xmlProblem(row)).toBeNull();
    expect(row).toContain('width="900" height="320"');
    expect(row).toContain('<svg x="0" y="0" xmlns=');
    expect(row).toContain('<svg x="400" y="0" xmlns=');
    expect(count(row, /<\?xml/g)).toBe(1);
    expect(() => svgRow([], 'x')).toThrow(/charts/);
    expect(() => svgRow(['<svg></svg>'], 'x')).toThrow(/charts\[0\]/);
  });

  test('htmlTable: escaped cells, alignment by column, shape checked', () => {
    const t = htmlTable(['model', 'acc'], [['<cnn>', '98.1%'], ['a&b', '9.0%']], ['l', 'r']);
    expect(t).toContain('<th scope="col">model</th><th scope="col" style="text-align:right">acc</th>');
    expect(t).toContain('<tr><td>&lt;cnn&gt;</td><td style="text-align:right">98.1%</td></tr>');
    expect(t).toContain('<td>a&amp;b</td>');
    expect(() => htmlTable(['a', 'b'], [['1']])).toThrow(/rows: row 0 has 1 cells, expected 2/);
  });

  test('inlineSvg and htmlPage', () => {
    const svg = lineChartSvg([], { title: 't', xLabel: 'x', yLabel: 'y' });
    expect(inlineSvg(svg).startsWith('<svg ')).toBe(true);
    expect(() => inlineSvg('<html></html>')).toThrow(/svg: must be an SVG document/);
    const page = htmlPage('A <b> report', '<p>hi</p>');
    expect(page).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(page).toContain('<title>A &lt;b&gt; report</title>');
    // Nothing the page would fetch: no external stylesheet, script or image.
    expect(page).not.toMatch(/<link|<script|src=|url\(/);
  });
});

describe('downsampleMinMax', () => {
  test('keeps first, last, global min and max, in order, within the budget', () => {
    const pts = curve(10001, (i) => Math.sin(i / 7));
    pts[4321] = [4321, 9];
    pts[8765] = [8765, -9];
    const out = downsampleMinMax(pts, 500);
    expect(out.length).toBeLessThanOrEqual(500);
    expect(out[0]).toEqual([0, 0]);
    expect(out[out.length - 1]).toEqual(pts[10000]);
    expect(out).toContainEqual([4321, 9]);
    expect(out).toContainEqual([8765, -9]);
    for (let i = 1; i < out.length; i++) expect(out[i]![0]).toBeGreaterThan(out[i - 1]![0]);
  });

  test('returns short input unchanged (as a copy)', () => {
    const pts = curve(10, (i) => i);
    const out = downsampleMinMax(pts, 100);
    expect(out).toEqual(pts);
    expect(out).not.toBe(pts);
  });
});

describe('confusionMatrixSvg', () => {
  const m = [
    [50, 2, 0],
    [1, 1234, 5],
    [0, 0, 7],
  ];

  test('has n*n cells with the counts, row = true, column = predicted', () => {
    const svg = confusionMatrixSvg(m, { title: 'CM' });
    expect(xmlProblem(svg)).toBeNull();
    expect(count(svg, /<rect class="cell"/g)).toBe(9);
    const cells = [...svg.matchAll(/<text [^>]*class="count" data-row="(\d+)" data-col="(\d+)"[^>]*>([^<]*)<\/text>/g)];
    expect(cells).toHaveLength(9);
    for (const [, r, c, v] of cells) expect(v).toBe(formatNumber(m[Number(r)]![Number(c)]!));
    expect(svg).toContain('>1,234</text>');
    expect(texts(svg, 'title')).toEqual(['CM']);
    expect(texts(svg, 'x-label')).toEqual(['Predicted label']);
    expect(texts(svg, 'y-label')).toEqual(['True label']);
    // Accuracy = trace / total = 1291 / 1299.
    expect(svg).toContain('accuracy 99.38% on 1,299 samples');
  });

  test('colours each cell by its share of the row', () => {
    const svg = confusionMatrixSvg([[10, 0, 0], [90, 10, 0], [500, 500, 0]], { title: 'rows' });
    const fill = (r: number, c: number): string => new RegExp(`data-row="${r}" data-col="${c}"[^>]* fill="(#[0-9a-f]{6})"`).exec(svg)![1]!;
    // The same count 10 is all of row 0 but a tenth of row 1.
    expect(fill(0, 0)).toBe('#08306b');
    expect(fill(1, 1)).not.toBe(fill(0, 0));
    // Equal shares look the same whatever the counts; zero is the palest colour.
    expect(fill(2, 0)).toBe(fill(2, 1));
    expect(fill(0, 1)).toBe('#f7fbff');
  });

  test('uses and escapes class names; handles an all-zero row', () => {
    const svg = confusionMatrixSvg([[1, 0], [0, 0]], { title: 'T', classNames: ['T-shirt/top', 'a<b&c'] });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain('>T-shirt/top</text>');
    expect(svg).toContain('>a&lt;b&amp;c</text>');
    expect(svg).not.toContain('NaN');
  });

  test('rejects non-square or negative matrices and mismatched class names', () => {
    expect(() => confusionMatrixSvg([[1, 2], [3]], { title: 't' })).toThrow(InvalidArgumentError);
    expect(() => confusionMatrixSvg([], { title: 't' })).toThrow(/matrix/);
    expect(() => confusionMatrixSvg([[1, -1], [0, 1]], { title: 't' })).toThrow(/\[0\]\[1\]/);
    expect(() => confusionMatrixSvg([[1]], { title: 't', classNames: ['a', 'b'] })).toThrow(/classNames/);
  });
});

describe('barChartSvg', () => {
  test('one bar per entry with labels and values, well-formed', () => {
    const svg = barChartSvg(
      [{ label: 'mlp (wasm)', value: 41234.5 }, { label: 'cnn <gpu>', value: 98765 }],
      { title: 'Throughput', valueLabel: 'samples/s' },
    );
    expect(xmlProblem(svg)).toBeNull();
    expect(count(svg, /<rect class="bar"/g)).toBe(2);
    expect(texts(svg, 'bar-label')).toEqual(['mlp (wasm)', 'cnn &lt;gpu&gt;']);
    expect(texts(svg, 'bar-value')).toEqual(['41,235', '98,765']);
    expect(texts(svg, 'x-label')).toEqual(['samples/s']);
  });

  test('handles no bars, and custom value formatting', () => {
    const empty = barChartSvg([], { title: 'none', valueLabel: 'v' });
    expect(xmlProblem(empty)).toBeNull();
    expect(texts(empty, 'no-data')).toEqual(['no data']);
    const pct = barChartSvg([{ label: 'a', value: 0.9876 }], { title: 'acc', valueLabel: 'accuracy', formatValue: (v) => formatPercent(v) });
    expect(texts(pct, 'bar-value')).toEqual(['98.76%']);
    expect(() => barChartSvg([{ label: 'a', value: NaN }], { title: 't', valueLabel: 'v' })).toThrow(/bars\[0\]/);
  });
});

describe('markdownTable', () => {
  test('pads columns; numeric columns right-aligned by default', () => {
    expect(markdownTable(['model', 'acc'], [['mlp', 0.98]])).toBe(
      '| model |  acc |\n' +
      '| :---- | ---: |\n' +
      '| mlp   | 0.98 |',
    );
    expect(markdownTable(['model', 'test acc', 'samples/s'], [['MLP', '98.12%', 41235], ['TwoLayerNet', '98.40%', 9]])).toBe(
      '| model       | test acc | samples/s |\n' +
      '| :---------- | :------- | --------: |\n' +
      '| MLP         | 98.12%   |     41235 |\n' +
      '| TwoLayerNet | 98.40%   |         9 |',
    );
  });

  test('explicit alignment, including centre', () => {
    expect(markdownTable(['a', 'b', 'c'], [['x', 'yy', 'z']], ['r', 'c', 'l'])).toBe(
      '|    a |   b   | c    |\n' +
      '| ---: | :---: | :--- |\n' +
      '|    x |  yy   | z    |',
    );
  });

  test('escapes pipes and newlines in cells; allows no rows', () => {
    expect(markdownTable(['k|v'], [['a|b\nc']])).toBe('| k\\|v      |\n| :-------- |\n| a\\|b<br>c |');
    expect(markdownTable(['h'], [])).toBe('| h    |\n| :--- |');
  });

  test('rejects ragged rows and bad alignment', () => {
    expect(() => markdownTable(['a', 'b'], [['1']])).toThrow(/rows: row 0 has 1 cells, expected 2/);
    expect(() => markdownTable(['a'], [['1']], ['r', 'l'])).toThrow(/align/);
    expect(() => markdownTable([], [])).toThrow(/headers/);
  });
});

describe('formatting', () => {
  test('formatNumber', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(1234567.891, 2)).toBe('1,234,567.89');
    expect(formatNumber(-1234.5, 1)).toBe('-1,234.5');
    expect(formatNumber(-0.4)).toBe('0');
    expect(formatNumber(999.5)).toBe('1,000');
    expect(formatNumber(0.98765, 3)).toBe('0.988');
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(-Infinity)).toBe('-\u221e');
    expect(() => formatNumber(1, 1.5)).toThrow(/fractionDigits/);
  });

  test('formatPercent', () => {
    expect(formatPercent(0.98765)).toBe('98.77%');
    expect(formatPercent(1, 1)).toBe('100.0%');
  });

  test('formatDuration', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(0.0000042)).toBe('4.2 \u00b5s');
    expect(formatDuration(0.0042)).toBe('4.2 ms');
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(0.9999)).toBe('1.0s');
    expect(formatDuration(12.34)).toBe('12.3s');
    expect(formatDuration(59.97)).toBe('1m 00s');
    expect(formatDuration(83)).toBe('1m 23s');
    expect(formatDuration(3599.6)).toBe('1h 00m');
    expect(formatDuration(7500)).toBe('2h 05m');
    expect(formatDuration(200000)).toBe('2d 08h');
    expect(() => formatDuration(-1)).toThrow(/seconds/);
    expect(() => formatDuration(NaN)).toThrow(InvalidArgumentError);
  });
});

describe('svgToPng', () => {
  const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

  pngTest('renders every chart kind to a PNG of the requested width', async () => {
    const charts = [
      lineChartSvg([{ name: 'a & b', points: curve(100, (i) => 1 / (i + 1)) }], { title: 'L', xLabel: 'x', yLabel: 'y', logY: true }),
      confusionMatrixSvg([[5, 1], [0, 4]], { title: 'CM', classNames: ['x<', '&y'] }),
      barChartSvg([{ label: 'a', value: 3 }], { title: 'B', valueLabel: 'v' }),
    ];
    for (const svg of charts) {
      const png = await svgToPng(svg);
      expect(png).not.toBeNull();
      expect([...png!.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    }
    const wide = (await svgToPng(charts[0]!, { width: 1440 }))!;
    // IHDR width, big-endian, right after the signature and chunk header.
    expect(wide.readUInt32BE(16)).toBe(1440);
    expect(wide.readUInt32BE(20)).toBe(880);
  });

  pngTest('invalid SVG is an InvalidArgumentError', async () => {
    await expect(svgToPng('<svg xmlns="http://www.w3.org/2000/svg"><g>')).rejects.toThrow(InvalidArgumentError);
    await expect(svgToPng('')).rejects.toThrow(/svg/);
  });

  const fontFile = findFontFile();
  skipUnless(resvgInstalled && fontFile !== null, resvgInstalled ? 'no .ttf or .otf font file on this machine (apt-get install fonts-dejavu-core)' : resvgMissing).test('text renders with a font file, and is detected missing without one', () => {
    expect(pngTextRenders({ loadSystemFonts: false, fontFiles: [fontFile!] })).toBe(true);
    expect(pngTextRenders({ loadSystemFonts: false })).toBe(false);
    // The default (system fonts) finds the same directories this test searched.
    expect(pngTextRenders()).toBe(true);
  });

  pngTest('warns once, and still renders, when no font can be found', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const svg = barChartSvg([{ label: 'a', value: 1 }], { title: 'B', valueLabel: 'v' });
    const png = await svgToPng(svg, { loadSystemFonts: false });
    await svgToPng(svg, { loadSystemFonts: false });
    expect([...png!.subarray(0, 4)]).toEqual(PNG_SIGNATURE.slice(0, 4));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/no usable font.*fonts-dejavu-core.*fontFiles/s);
    warn.mockRestore();
  });

  test('resolves to null, without throwing, when @resvg/resvg-js cannot be loaded', async () => {
    let isolated: typeof import('../lib/report') | undefined;
    jest.isolateModules(() => {
      jest.doMock('@resvg/resvg-js', () => {
        throw new Error("Cannot find module '@resvg/resvg-js'");
      // Virtual only where the package is absent: a virtual mock would not shadow the installed one.
      }, { virtual: !resvgInstalled });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      isolated = require('../lib/report');
    });
    await expect(isolated!.svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')).resolves.toBeNull();
    expect(isolated!.pngSupport()).toEqual({ available: false, reason: expect.stringContaining('Cannot find module') });
    expect(isolated!.pngTextRenders()).toBeNull();
    jest.dontMock('@resvg/resvg-js');
  });
});

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-atomic-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes and replaces, leaving no temporary file', async () => {
    const target = path.join(dir, 'report.md');
    await writeFileAtomic(target, 'first');
    await writeFileAtomic(target, new Uint8Array([0x68, 0x69]));
    expect(fs.readFileSync(target, 'utf8')).toBe('hi');
    expect(fs.readdirSync(dir)).toEqual(['report.md']);
  });

  test('a failed rename leaves the old target and no temporary file', async () => {
    const target = path.join(dir, 'chart.svg');
    fs.writeFileSync(target, 'old');
    jest.spyOn(fs.promises, 'rename').mockRejectedValueOnce(Object.assign(new Error('EXDEV: simulated'), { code: 'EXDEV' }));
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow(/simulated/);
    expect(fs.readFileSync(target, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['chart.svg']);
  });

  test('a target that is a directory is left alone; a missing directory rejects', async () => {
    const target = path.join(dir, 'sub');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(fs.readdirSync(target)).toEqual(['keep']);
    expect(fs.readdirSync(dir)).toEqual(['sub']);
    await expect(writeFileAtomic(path.join(dir, 'missing', 'f.txt'), 'x')).rejects.toThrow(/ENOENT/);
  });
});
