/**
 * Writes the benchmark's sections of README.md and docs/RESULTS.md from a bench results.json, so
 * that a rerun (on a quieter machine, say) updates the docs without anyone copying numbers:
 *
 *   npx mnist-nets bench --seeds 5 --recipe --out docs/results/bench-seeds
 *   node dist/scripts/bench-section.js --results docs/results/bench-seeds/results.json \
 *     --doc docs/RESULTS.md --marker bench-seeds
 *
 * The section replaces what lies between `<!-- MARKER:begin -->` and `<!-- MARKER:end -->` in the
 * doc (both must be there); without --doc it is printed. --rerender also rewrites the report
 * (report.md, report.html, plots) next to results.json with this build's report code.
 */
import * as fs from 'fs';
import * as path from 'path';
import { type BenchResult, benchHeadline, benchNotes, benchTable, comparisonSentence, writeBenchReport } from '../lib/jobs/bench-job';
import { formatDuration, formatNumber, markdownTable } from '../lib/report';
import { writeFileAtomic } from '../lib/atomic-write';

export interface SectionOptions {
  /** Where the doc links the report's files from: the results folder relative to the doc. */
  linkBase: string;
  /** Shorter: the table, the sentence and the accuracy plot (README). @default false */
  brief?: boolean;
}

const pct = (x: number | null) => (x === null ? '-' : `${formatNumber(x * 100, 2)}%`);

/** The markdown of the section. */
export function benchSection(bench: BenchResult, o: SectionOptions): string {
  const link = (file: string) => path.posix.join(o.linkBase, file);
  const out: string[] = [];
  if (bench.command) out.push('```sh', bench.command, '```', '');
  out.push(`${benchHeadline(bench)}; measured ${bench.date.slice(0, 10)} ([report](${link('report.md')}), [results.json](${link('results.json')})):`, '', benchTable(bench), '');
  for (const c of bench.comparisons) out.push(`**${comparisonSentence(c)}**`, '');
  if (!o.brief) {
    out.push(...benchNotes(bench).map((n) => `- ${n}`), '');
    for (const c of bench.comparisons) {
      const [a, b] = c.models;
      const eq = [
        ...c.equalTime.map((p) => [`${formatDuration(p.at)} of training`, pct(p.accuracy[0].mean), pct(p.accuracy[1].mean)]),
        ...c.equalSamples.map((p) => [`${formatNumber(p.at)} samples seen`, pct(p.accuracy[0].mean), pct(p.accuracy[1].mean)]),
      ];
      if (eq.length) out.push(`At equal budgets (${c.backend}; means over the runs, read from the curves):`, '', markdownTable(['budget', a, b], eq), '');
      const gains = [...c.perClass].sort((x, y) => y.gain - x.gain);
      const points = (g: number) => `${g >= 0 ? '+' : '-'}${formatNumber(Math.abs(g) * 100, 2)}`;
      out.push(
        `Per digit (${c.backend}), ${b}'s accuracy minus ${a}'s, in points, largest first: ` +
          gains.map((g) => `${g.digit}: ${points(g.gain)}`).join(', ') +
          `. ${formatNumber(c.digits.aWrongBRight.count)} test digits ${a} gets wrong and ${b} right in every run, ${formatNumber(c.digits.bWrongARight.count)} the reverse.`,
        '',
      );
    }
  }
  const suffix = (backend: string) => (backend === bench.backends[0] ? '' : `-${backend.replace(/[^a-z0-9]+/gi, '-')}`);
  for (const c of bench.comparisons.slice(0, o.brief ? 1 : undefined)) {
    const s = suffix(c.backend);
    out.push(`![Test accuracy against training time and samples seen, ${c.backend}: mean of the runs, band their range](${link(`accuracy${s}.png`)})`, '');
    if (!o.brief) out.push(`![Test digits ${c.models[0]} gets wrong and ${c.models[1]} right in every run](${link(`digits-${c.models[0]}-wrong${s}.png`)})`, '');
  }
  return out.join('\n').trimEnd();
}

/** `doc` with the text between the marker's begin and end comments replaced by `section`. */
export function replaceSection(doc: string, marker: string, section: string, file = 'doc'): string {
  const begin = `<!-- ${marker}:begin -->`;
  const end = `<!-- ${marker}:end -->`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file}: needs the lines ${begin} and ${end} around the section`);
  return `${doc.slice(0, i + begin.length)}\n<!-- written by scripts/bench-section.ts from the results.json it links; edit that, not this -->\n${section}\n${doc.slice(j)}`;
}

async function main(argv: string[]): Promise<void> {
  const get = (flag: string) => {
    const k = argv.indexOf(flag);
    return k >= 0 ? argv[k + 1] : undefined;
  };
  const results = get('--results');
  if (!results) throw new Error('usage: node dist/scripts/bench-section.js --results DIR/results.json [--doc FILE --marker NAME] [--brief] [--rerender]');
  const bench = JSON.parse(fs.readFileSync(results, 'utf8')) as BenchResult;
  if (argv.includes('--rerender')) await writeBenchReport(bench, path.dirname(results), bench.command);
  const doc = get('--doc');
  const linkBase = path.relative(doc ? path.dirname(doc) : '.', path.dirname(results)).split(path.sep).join('/');
  const section = benchSection(bench, { linkBase, brief: argv.includes('--brief') });
  if (!doc) {
    process.stdout.write(`${section}\n`);
    return;
  }
  const marker = get('--marker');
  if (!marker) throw new Error('--doc needs --marker NAME');
  await writeFileAtomic(doc, replaceSection(fs.readFileSync(doc, 'utf8'), marker, section, doc));
  process.stderr.write(`${doc}: section ${marker} written from ${results}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`bench-section: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
