/** The figures the benchmark over seeds added to lib/report: bands under line charts, digit grids. */
import { PNG } from 'pngjs';
import { InvalidArgumentError } from '../lib/errors';
import { PALETTE, digitGridSvg, lineChartSvg, pngSupport, svgToPng } from '../lib/report';
import { skipUnless } from './helpers/skips';

const base = { title: 'Test accuracy', xLabel: 'time', yLabel: 'accuracy' };

describe('bands under line charts', () => {
  test('one filled path per series with a band, in its colour, under the lines; the axis makes room for it', () => {
    const svg = lineChartSvg(
      [
        { name: 'a', points: [[0, 0.5], [1, 0.6]], band: [[0, 0.4, 0.55], [1, 0.5, 1.4]] },
        { name: 'b', points: [[0, 0.2], [1, 0.3]] },
      ],
      base,
    );
    const bands = [...svg.matchAll(/<path class="band" data-series="(\d+)" d="([^"]+)" fill="([^"]+)"/g)];
    expect(bands.map((m) => [m[1], m[3]])).toEqual([['0', PALETTE[0]]]);
    // Upper edge left to right, lower edge back, closed: four points.
    expect(bands[0]![2]!.match(/[ML]/g)).toHaveLength(4);
    expect(bands[0]![2]!.endsWith('Z')).toBe(true);
    expect(svg.indexOf('class="bands"')).toBeLessThan(svg.indexOf('class="series"'));
    // The band reaches 1.4, above every point: the axis goes to a tick at or above it.
    const ticks = [...svg.matchAll(/<text[^>]*text-anchor="end">([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(1.4);
  });

  test('points that cannot be drawn split the band, as they split a line', () => {
    const svg = lineChartSvg([{ name: 'a', points: [[1, 1], [2, 2], [3, 3], [4, 4]], band: [[1, 0.5, 1.5], [2, 1, 3], [3, NaN, 4], [4, 3, 5]] }], base);
    expect((svg.match(/<path class="band"/g) ?? []).length).toBe(2);
    const log = lineChartSvg([{ name: 'a', points: [[1, 1], [2, 2]], band: [[1, 0, 1.5], [2, 1, 3]] }], { ...base, logY: true });
    // The first point's low edge is 0, not drawable on a log axis: one point left, still a path.
    expect((log.match(/<path class="band"/g) ?? []).length).toBe(1);
  });

  test('a malformed band is an error naming the series', () => {
    expect(() => lineChartSvg([{ name: 'a', points: [], band: [[1, 2]] as never }], base)).toThrow(new InvalidArgumentError('series[0].band', 'must be an array of [x, low, high]'));
  });
});

describe('digit grids', () => {
  // A 28 x 28 image: ink 255 on the diagonal, background 0.
  const digit = Uint8Array.from({ length: 784 }, (_, i) => (Math.floor(i / 28) === i % 28 ? 255 : 0));

  test('each cell an inline PNG of the digit, dark ink on white, with its captions escaped', () => {
    const svg = digitGridSvg(
      [
        { pixels: digit, caption: ['7, test #0', 'mlp: 2', 'cnn: 7'], title: 'test image 0' },
        { pixels: digit, caption: ['<1>', 'a & b'] },
      ],
      { title: 'Digits mlp gets wrong', subtitle: 'sub', columns: 8 },
    );
    const images = [...svg.matchAll(/<image [^>]*href="data:image\/png;base64,([^"]+)"/g)];
    expect(images).toHaveLength(2);
    const png = PNG.sync.read(Buffer.from(images[0]![1]!, 'base64'));
    // Drawn at 3 screen pixels per image pixel (the default), as squares.
    expect([png.width, png.height]).toEqual([84, 84]);
    // Ink is drawn black on white: diagonal pixel (5, 5) is the square (15..17, 15..17); (5, 6) white.
    for (const [y, x] of [[15, 15], [17, 17], [15, 17]]) expect(png.data[4 * (y! * 84 + x!)]).toBe(0);
    expect(png.data[4 * (15 * 84 + 18)]).toBe(255);
    expect(svg).toContain('>7, test #0</text>');
    expect(svg).toContain('&lt;1&gt;');
    expect(svg).toContain('a &amp; b');
    expect(svg).toContain('<title>test image 0</title>');
  });

  test('no cells: the title and a line saying so', () => {
    const svg = digitGridSvg([], { title: 'Digits cnn gets wrong', emptyText: 'none' });
    expect(svg).not.toContain('<image');
    expect(svg).toMatch(/class="empty"[^>]*>none<\/text>/);
  });

  test('rows of `columns` cells', () => {
    const cells = Array.from({ length: 10 }, () => ({ pixels: digit, caption: ['x'] }));
    const ys = [...digitGridSvg(cells, { title: 't', columns: 4 }).matchAll(/<image x="[\d.]+" y="([\d.]+)"/g)].map((m) => m[1]);
    expect(new Set(ys).size).toBe(3);
  });

  test('images that are not square, or differ in size, and fractional scales are errors naming the argument', () => {
    expect(() => digitGridSvg([], { title: 't', scale: 2.5 })).toThrow(new InvalidArgumentError('scale', 'must be an integer from 1 to 16, got 2.5'));
    expect(() => digitGridSvg([{ pixels: new Uint8Array(10), caption: [] }], { title: 't' })).toThrow(/cells\[0\]\.pixels: must be a Uint8Array holding a square image/);
    expect(() => digitGridSvg([{ pixels: digit, caption: [] }, { pixels: new Uint8Array(16), caption: [] }], { title: 't' })).toThrow(/cells\[1\]\.pixels: is 4x4, the others 28x28/);
  });

  const png = pngSupport();
  skipUnless(png.available, png.available ? '' : `@resvg/resvg-js does not load (${png.reason}); npm install brings it, an optional dependency`).test('resvg draws the inline digits into the PNG', async () => {
    const image = PNG.sync.read((await svgToPng(digitGridSvg([{ pixels: digit, caption: ['d'] }], { title: 't', scale: 3 })))!);
    // The diagonal, 28 squares of 3 x 3, comes out black: not smoothed into grey.
    let black = 0;
    for (let i = 0; i < image.data.length; i += 4) if (image.data[i]! < 10) black++;
    expect(black).toBeGreaterThanOrEqual(28 * 9);
  });
});
