/**
 * A jest reporter for skipped and to-do tests (registered in jest.config.js beside the default one).
 *
 * A skip carries its reason in its title, `<title> (skipped: <reason>)`, or in the title of a
 * block around it (helpers/skips.ts writes those). After the run:
 * - outside CI, each skip is listed with its reason on stderr;
 * - under CI=true, any skip or to-do fails the run (jest exits 1), listed the same way: .ci/run
 *   installs every dependency, so a skip there is a missing dependency nobody would see. In the
 *   offline pass (MNIST_NETS_OFFLINE_PASS=1: no network, no MNIST, on purpose) skips whose reason
 *   starts with 'needs full MNIST:' are expected and allowed; every other skip still fails.
 * With a test name filter (-t), tests the filter left out are not skips of this kind, so only the
 * ones with a reason are listed. Written to stderr: `jest --json` keeps stdout to itself.
 * CommonJS JavaScript, because jest loads reporters without transforming them.
 */
'use strict';

const NEEDS_FULL_MNIST = 'needs full MNIST:';
const REASON = /\(skipped: (.*)\)\s*$/s;

/** The reason in a test's title, else in the innermost block title that has one. */
function skipReason(title, ancestorTitles) {
  for (const t of [title, ...[...ancestorTitles].reverse()]) {
    const m = REASON.exec(t);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The skips and to-dos of a run's results, each with its file, name and reason (undefined when
 * none was given), and which of them fail the run under `env`.
 * @param results jest's AggregatedResult
 * @param env process.env or a stand-in
 * @param filtered whether a test name filter was given (tests it left out have no reason)
 */
function judgeSkips(results, env, filtered = false) {
  const skips = [];
  for (const file of results.testResults) {
    for (const t of file.testResults) {
      if (t.status !== 'pending' && t.status !== 'skipped' && t.status !== 'todo') continue;
      const reason = t.status === 'todo' ? 'a to-do: written down, not yet a test' : skipReason(t.title, t.ancestorTitles);
      if (reason === undefined && filtered) continue;
      // Shown without the reason marks, which the listing prints once after the name.
      const name = [...t.ancestorTitles, t.title].map((x) => x.replace(REASON, '').trimEnd()).join(' › ');
      skips.push({ file: file.testFilePath, name, reason });
    }
  }
  const ci = env.CI === 'true' || env.CI === '1';
  const offline = env.MNIST_NETS_OFFLINE_PASS === '1';
  const allowed = (s) => !ci || (offline && s.reason !== undefined && s.reason.startsWith(NEEDS_FULL_MNIST));
  return { skips, failing: skips.filter((s) => !allowed(s)), ci, offline };
}

/** The report's lines. */
function describeSkips(verdict, rootDir) {
  const { skips, failing, ci } = verdict;
  if (skips.length === 0) return [];
  const rel = (f) => (rootDir && f.startsWith(rootDir + '/') ? f.slice(rootDir.length + 1) : f);
  const line = (s) => `  ${rel(s.file)} › ${s.name}: ${s.reason ?? 'no reason given (skip with skipUnless/skipIf from __tests__/helpers/skips.ts)'}`;
  if (!ci) return [`${skips.length} test${skips.length === 1 ? '' : 's'} skipped here:`, ...skips.map(line)];
  const out = [];
  if (failing.length > 0) {
    out.push(
      `CI: ${failing.length} test${failing.length === 1 ? '' : 's'} skipped, which fails the run: under CI=true every dependency is installed (.ci/run), so a skip is one missing:`,
      ...failing.map(line),
    );
  }
  const expected = skips.filter((s) => !failing.includes(s));
  if (expected.length > 0) {
    out.push(`${expected.length} test${expected.length === 1 ? '' : 's'} skipped as expected in the offline pass (MNIST_NETS_OFFLINE_PASS=1, reasons '${NEEDS_FULL_MNIST} ...'):`, ...expected.map(line));
  }
  return out;
}

class SkipReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    const verdict = judgeSkips(results, process.env, Boolean(this.globalConfig.testNamePattern));
    const lines = describeSkips(verdict, this.globalConfig.rootDir);
    if (lines.length > 0) process.stderr.write(`\n${lines.join('\n')}\n`);
    if (verdict.failing.length > 0) {
      this.error = new Error(`${verdict.failing.length} test(s) skipped under CI=true: ${verdict.failing.map((s) => `${s.name}: ${s.reason ?? 'no reason given'}`).join('; ')}`);
    }
  }

  /** jest fails the run (exit 1) when a reporter has an error. */
  getLastError() {
    return this.error;
  }
}

module.exports = SkipReporter;
module.exports.judgeSkips = judgeSkips;
module.exports.describeSkips = describeSkips;
module.exports.skipReason = skipReason;
module.exports.NEEDS_FULL_MNIST = NEEDS_FULL_MNIST;
