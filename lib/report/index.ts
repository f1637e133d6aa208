/**
 * Reporting: markdown tables, SVG charts (line, bar, confusion matrix), PNG conversion, number and
 * duration formatting, and atomic file writes. Pure functions over plain data; no tf.js here.
 */

export { lineChartSvg, downsampleMinMax, DEFAULT_LINE_CHART_WIDTH, DEFAULT_LINE_CHART_HEIGHT, MAX_POINTS_PER_SERIES, MARKER_MAX_POINTS } from './lineChart';
export type { Series, LineChartOptions } from './lineChart';
export { confusionMatrixSvg, heatColor } from './confusionMatrix';
export type { ConfusionMatrixOptions } from './confusionMatrix';
export { barChartSvg, DEFAULT_BAR_CHART_WIDTH, DEFAULT_BAR_ROW_HEIGHT } from './barChart';
export type { Bar, BarChartOptions } from './barChart';
export { svgToPng, pngSupport, pngTextRenders, DEFAULT_PNG_BACKGROUND, DEFAULT_PNG_FONT_FAMILY } from './png';
export type { SvgToPngOptions } from './png';
export { markdownTable, tableAligns } from './markdown';
export { htmlTable, htmlPage, inlineSvg, escapeHtml } from './html';
export type { Align } from './markdown';
export { formatNumber, formatPercent, formatDuration, DEFAULT_FRACTION_DIGITS, DEFAULT_PERCENT_DIGITS } from './format';
export { writeFileAtomic } from '../atomic-write';
export { escapeXml, svgRow, PALETTE, FONT_FAMILY } from './svg';
export { smoothSeries } from './smooth';
export type { SmoothOptions } from './smooth';
export { digitGridSvg, DEFAULT_DIGIT_GRID_COLUMNS, DEFAULT_DIGIT_SCALE } from './digitGrid';
export type { DigitCell, DigitGridOptions } from './digitGrid';
