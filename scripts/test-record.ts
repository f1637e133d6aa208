/**
 * A record of one `npm test` run, for the README's sentence about the test suite (written from it
 * by scripts/docs-tables.ts): how many tests and files, how many skipped, how long, on which
 * machine under which load. Runs jest itself (after `npm run build`, as `npm test` does), with
 * CI=true by default so that a skip fails the run as it does in CI; only a passing run is
 * recorded, and recording into docs/results/tests.json rewrites the docs' blocks from it.
 *
 *   npm run build && node dist/scripts/test-record.js --out docs/results/tests.json [-- JEST ARGS]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import yargs from 'yargs';
import { writeFileAtomic } from '../lib/atomic-write';
import { machineFacts } from '../lib/jobs/machine';
import { loadAverageLine } from './load-average';
import { ROOT } from './repo-root';
import { parseOrUsage } from './usage';

export interface TestsRecord {
  date: string;
  machine: ReturnType<typeof machineFacts>;
  /** The 1-minute load average when the run started. */
  load: string;
  ci: boolean;
  command: string;
  suites: number;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  /** Wall time of the jest run, in seconds. */
  seconds: number;
  success: boolean;
}

interface JestJson {
  numTotalTestSuites: number;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  success: boolean;
}

async function main(argv: string[]): Promise<number> {
  const args = await parseOrUsage(
    yargs(argv)
      .option('out', { type: 'string', demandOption: true })
      // What follows `--` goes to jest as written: not parsed, numbers left as text.
      .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false }),
    'usage: node dist/scripts/test-record.js --out FILE [-- JEST ARGS]',
    ['out'],
  );
  if (!args) return 2;
  const jestArgs = ((args as { '--'?: unknown[] })['--'] ?? []).map(String);
  const out = path.resolve(args.out);
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'test-record-')), 'jest.json');
  const ci = process.env.CI !== 'false';
  const load = loadAverageLine().split(' ')[0]!;
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/jest/bin/jest.js'), '--json', '--outputFile', json, ...jestArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CI: ci ? 'true' : 'false' },
  });
  const seconds = (Date.now() - started) / 1000;
  if (!fs.existsSync(json)) {
    process.stderr.write(`test-record: jest wrote no results (exit ${r.status ?? r.signal})\n`);
    return 1;
  }
  const j = JSON.parse(fs.readFileSync(json, 'utf8')) as JestJson;
  const record: TestsRecord = {
    date: new Date(started).toISOString(),
    machine: machineFacts(),
    load,
    ci,
    command: ['npx jest', ...jestArgs].join(' '),
    suites: j.numTotalTestSuites,
    tests: j.numTotalTests,
    passed: j.numPassedTests,
    failed: j.numFailedTests,
    skipped: j.numPendingTests,
    todo: j.numTodoTests,
    seconds,
    success: j.success && r.status === 0,
  };
  // Only a passing run is a record of the suite; a failing one is reported and not kept.
  if (!record.success) {
    process.stderr.write(`test-record: the run failed (exit ${r.status}): ${record.failed} failed, ${record.skipped} skipped; nothing recorded\n`);
    return 1;
  }
  await writeFileAtomic(out, `${JSON.stringify(record, null, 2)}\n`);
  process.stderr.write(`test-record: ${record.tests} tests in ${seconds.toFixed(0)} s -> ${out}\n`);
  // The README's sentence about the suite is written from this record: rewrite it now, so the
  // next run's check of the docs (in the suite itself) finds them in agreement.
  if (out === path.join(ROOT, 'docs/results/tests.json')) {
    await (await import('./docs-tables')).rewriteDocs('test-record');
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`test-record: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
