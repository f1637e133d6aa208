/**
 * The benchmark's blocks of README.md and docs/RESULTS.md from a bench results.json: its table
 * and the difference in a sentence (`benchSummary`), and what the runs did, the equal-budget views
 * and the per-digit comparison (`benchDetails`). scripts/docs-tables.ts writes them between their
 * markers (`table:bench`, `table:bench-seeds`, ...), so a rerun updates the docs without anyone
 * copying numbers. No links: one block's text stands in files that link from different folders.
 */
import { type BenchResult, benchHeadline, benchNotes, benchTable, comparisonSentence } from '../lib/jobs/bench-job';
import { formatDuration, formatNumber, markdownTable } from '../lib/report';

const pct = (x: number | null) => (x === null ? '-' : `${formatNumber(x * 100, 2)}%`);
const points = (g: number) => `${g >= 0 ? '+' : '-'}${formatNumber(Math.abs(g) * 100, 2)}`;

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
    const rows = [
      ...c.equalTime.map((p) => [`${formatDuration(p.at)} of training`, pct(p.accuracy[0].mean), pct(p.accuracy[1].mean)]),
      ...c.equalSamples.map((p) => [`${formatNumber(p.at)} samples seen`, pct(p.accuracy[0].mean), pct(p.accuracy[1].mean)]),
    ];
    if (rows.length) out.push(`Test accuracy at equal budgets (${c.backend}; means over the runs, read from the curves):`, '', markdownTable(['budget', a, b], rows, ['l', 'r', 'r']), '');
    const gains = [...c.perClass].sort((x, y) => y.gain - x.gain);
    out.push(
      `Per digit (${c.backend}), ${b}'s test accuracy minus ${a}'s in points, largest first: ` +
        gains.map((g) => `${g.digit}: ${points(g.gain)}`).join(', ') +
        `. ${formatNumber(c.digits.aWrongBRight.count)} test digits ${a} gets wrong and ${b} right in every run, ${formatNumber(c.digits.bWrongARight.count)} the reverse.`,
      '',
    );
  }
  return out.join('\n').trimEnd();
}
