/**
 * The benchmark's blocks of README.md and docs/RESULTS.md from a bench results.json: its table
 * and the difference in a sentence (`benchSummary`), and what the runs did, the equal-budget views
 * and the per-digit comparison (`benchDetails`). scripts/docs-tables.ts writes them between their
 * markers (`table:bench`, `table:bench-seeds`, ...), so a rerun updates the docs without anyone
 * copying numbers. No links: one block's text stands in files that link from different folders.
 */
import { type BenchResult, benchHeadline, benchNotes, benchTable, comparisonSentence } from '../lib/jobs/bench-job';
import { digitsByGain, equalBudgetRows, signedPoints } from '../lib/jobs/bench-report';
import { formatDuration, formatNumber, formatPercent, markdownTable } from '../lib/report';
import type { Summary } from '../lib/stats';

/** An accuracy's mean alone, `-` for none. */
const meanPercent = (s: Summary) => (s.mean === null ? '-' : formatPercent(s.mean));

/** What was measured where, the table, and each backend's difference in a sentence (the doc shows the command beside it). */
export function benchSummary(bench: BenchResult): string {
  const when = `measured ${bench.date.slice(0, 10)}${bench.wallSeconds === undefined ? '' : `, ${formatDuration(bench.wallSeconds)} in all`}`;
  return [
    `${benchHeadline(bench)}; ${when}:`,
    '',
    benchTable(bench),
    '',
    ...bench.comparisons.map((c) => `**${comparisonSentence(c)}**`),
  ].join('\n');
}

/** What the numbers mean, then per backend the equal-budget views and the per-digit comparison. */
export function benchDetails(bench: BenchResult): string {
  const out: string[] = [...benchNotes(bench).map((n) => `- ${n}`), ''];
  for (const c of bench.comparisons) {
    const [a, b] = c.models;
    const t = c.testAccuracy;
    out.push(`Difference ${a} − ${b} on ${c.backend}: ${t.description}.`, '');
    const { rows } = equalBudgetRows(c, meanPercent);
    if (rows.length) out.push(`Test accuracy at equal budgets (${c.backend}; means over the runs, read from the curves):`, '', markdownTable(['budget', a, b], rows, ['l', 'r', 'r']), '');
    out.push(
      `Per digit (${c.backend}), ${b}'s test accuracy minus ${a}'s in points, largest first: ` +
        digitsByGain(c).map((g) => `${g.digit}: ${signedPoints(g.gain)}`).join(', ') +
        `. ${formatNumber(c.digits.aWrongBRight.count)} test digits ${a} gets wrong and ${b} right in every run, ${formatNumber(c.digits.bWrongARight.count)} the reverse.`,
      '',
    );
  }
  return out.join('\n').trimEnd();
}
