/**
 * Skips say why, and CI fails on them: the skip helpers (helpers/skips.ts) and the reporter that
 * reads their reasons (helpers/skip-reporter.js), on made-up results and on a real jest run of a
 * small test file under CI=true, outside CI, and in the offline pass.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NEEDS_FULL_MNIST, skipIf, skipUnless, skippedTitle } from './helpers/skips';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const reporter = require('./helpers/skip-reporter.js') as {
  judgeSkips: (results: unknown, env: Record<string, string | undefined>, filtered?: boolean) => { skips: Array<{ name: string; reason?: string }>; failing: Array<{ name: string }> };
  describeSkips: (verdict: unknown, rootDir?: string) => string[];
  skipReason: (title: string, ancestors: string[]) => string | undefined;
  NEEDS_FULL_MNIST: string;
};

const ROOT = path.resolve(__dirname, '..');

/** jest's aggregated results, as much of them as the reporter reads. */
function results(tests: Array<{ title: string; ancestorTitles?: string[]; status: string }>) {
  return { testResults: [{ testFilePath: `${ROOT}/__tests__/x.test.ts`, testResults: tests.map((t) => ({ ancestorTitles: [], ...t })) }] };
}

describe('the skip helpers', () => {
  it('put the reason at the end of the title, where the reporter finds it', () => {
    const title = skippedTitle('draws a digit', 'no Chromium at /x (apt-get install chromium)');
    expect(title).toBe('draws a digit (skipped: no Chromium at /x (apt-get install chromium))');
    expect(reporter.skipReason(title, [])).toBe('no Chromium at /x (apt-get install chromium)');
    expect(reporter.skipReason('a test', ['outer (skipped: outer reason)', skippedTitle('inner', 'inner reason')])).toBe('inner reason');
    expect(reporter.skipReason('a test', ['a block'])).toBeUndefined();
    expect(reporter.NEEDS_FULL_MNIST).toBe(NEEDS_FULL_MNIST);
  });

  it('give jest itself when the dependency is there, and refuse a skip without a reason', () => {
    expect(skipUnless(true, 'unused')).toMatchObject({ runs: true, it, test, describe });
    expect(skipIf(undefined)).toMatchObject({ runs: true, it });
    expect(skipIf('no torch')).toMatchObject({ runs: false, reason: 'no torch' });
    expect(() => skipUnless(false, ' ')).toThrow(/needs a reason/);
  });
});

describe('judgeSkips', () => {
  const run = results([
    { title: 'passes', status: 'passed' },
    { title: skippedTitle('peer', 'no torch'), status: 'pending' },
    { title: 'md5s', ancestorTitles: [skippedTitle('real MNIST', `${NEEDS_FULL_MNIST} the official files`)], status: 'pending' },
    { title: 'later', status: 'todo' },
    { title: 'unexplained', status: 'pending' },
  ]);

  it('outside CI lists every skip and fails none', () => {
    const v = reporter.judgeSkips(run, {});
    expect(v.skips.map((s) => [s.name, s.reason])).toEqual([
      ['peer', 'no torch'],
      ['real MNIST › md5s', `${NEEDS_FULL_MNIST} the official files`],
      ['later', 'a to-do: written down, not yet a test'],
      ['unexplained', undefined],
    ]);
    expect(v.failing).toEqual([]);
    const lines = reporter.describeSkips(v, ROOT);
    expect(lines[0]).toBe('4 tests skipped here:');
    expect(lines[1]).toBe('  __tests__/x.test.ts › peer: no torch');
    expect(lines[4]).toMatch(/unexplained: no reason given \(skip with skipUnless\/skipIf/);
  });

  it('under CI=true fails every skip and to-do', () => {
    const v = reporter.judgeSkips(run, { CI: 'true' });
    expect(v.failing).toHaveLength(4);
    expect(reporter.describeSkips(v, ROOT)[0]).toMatch(/^CI: 4 tests skipped, which fails the run/);
  });

  it("in the offline pass allows only the 'needs full MNIST:' skips", () => {
    const v = reporter.judgeSkips(run, { CI: 'true', MNIST_NETS_OFFLINE_PASS: '1' });
    expect(v.failing.map((s) => s.name)).toEqual(['peer', 'later', 'unexplained']);
    // The offline variable alone, outside CI, changes nothing: nothing fails there anyway.
    expect(reporter.judgeSkips(run, { MNIST_NETS_OFFLINE_PASS: '1' }).failing).toEqual([]);
  });

  it('with a name filter (-t), leaves out the tests the filter skipped (no reason) and keeps the rest', () => {
    const v = reporter.judgeSkips(run, { CI: 'true' }, true);
    expect(v.skips.map((s) => s.name)).toEqual(['peer', 'real MNIST › md5s', 'later']);
  });
});

describe('a real jest run with the reporter', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skip-reporter-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(
    path.join(dir, 'sample.test.js'),
    [
      "it('runs', () => expect(1).toBe(1));",
      `it.skip(${JSON.stringify(skippedTitle('reads the files', `${NEEDS_FULL_MNIST} the official files`))}, () => {});`,
      'if (process.env.WITH_TORCH_SKIP) ',
      `  describe.skip(${JSON.stringify(skippedTitle('peer', 'python3 cannot import torch'))}, () => { it('trains', () => {}); });`,
    ].join('\n'),
  );
  const config = { rootDir: dir, testEnvironment: 'node', reporters: ['default', path.join(ROOT, '__tests__/helpers/skip-reporter.js')] };

  function jest(env: Record<string, string>) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/jest/bin/jest.js'), '--config', JSON.stringify(config), '--json'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      timeout: 120_000,
    });
    return { code: r.status, stderr: r.stderr, json: JSON.parse(r.stdout) as { numPendingTests: number; success: boolean } };
  }

  it('exits 1 under CI=true naming the skipped test and its reason, with --json still on stdout', () => {
    const r = jest({ CI: 'true', WITH_TORCH_SKIP: '1' });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ numPendingTests: 2, success: false });
    expect(r.stderr).toContain('CI: 2 tests skipped, which fails the run');
    expect(r.stderr).toContain('sample.test.js › peer › trains: python3 cannot import torch');
  });

  it("passes the offline pass when its only skips are 'needs full MNIST:', and fails it on any other", () => {
    const offline = jest({ CI: 'true', MNIST_NETS_OFFLINE_PASS: '1' });
    expect(offline.code).toBe(0);
    expect(offline.stderr).toMatch(/1 test skipped as expected in the offline pass/);
    expect(jest({ CI: 'true', MNIST_NETS_OFFLINE_PASS: '1', WITH_TORCH_SKIP: '1' }).code).toBe(1);
  });

  it('outside CI passes and prints each skip with its reason', () => {
    const r = jest({ WITH_TORCH_SKIP: '1' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 tests skipped here:');
    expect(r.stderr).toContain(`sample.test.js › reads the files: ${NEEDS_FULL_MNIST} the official files`);
  });
});
