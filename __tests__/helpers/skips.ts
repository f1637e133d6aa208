/**
 * Skips that say why. A test, or a block of them, that cannot run on this machine is skipped with
 * its reason in its title: `<title> (skipped: <reason>)`. The reporter beside this file
 * (skip-reporter.js, registered in jest.config.js) reads that title:
 * - outside CI it lists every skip and its reason after the run;
 * - under CI=true every skip fails the run, naming the test and the reason, because .ci/run
 *   installs what every test needs; the only exception is the offline pass
 *   (MNIST_NETS_OFFLINE_PASS=1), where reasons that start with {@link NEEDS_FULL_MNIST} are
 *   expected.
 *
 *   const torch = skipUnless(hasTorch, `${PYTHON} cannot import torch: install python3-torch`);
 *   torch.describe('PyTorch peer', () => { ... });
 *   skipIf(browserUnavailable()).it('draws in Chromium', async () => { ... });
 *
 * Any helper that puts `(skipped: <reason>)` at the end of a skipped test's or block's title is
 * understood the same way.
 */

/** How the reason of a skip is marked in a title; skip-reporter.js parses this. */
export const SKIP_MARK = 'skipped: ';

/**
 * The start of the reason of a test that needs the official MNIST files: the only skips the
 * offline pass (MNIST_NETS_OFFLINE_PASS=1, a machine with no network and no MNIST) allows.
 */
export const NEEDS_FULL_MNIST = 'needs full MNIST:';

/** `title`, followed by the reason it is skipped here. */
export function skippedTitle(title: string, reason: string): string {
  return `${title} (${SKIP_MARK}${reason})`;
}

type TestFn = (title: string, fn: jest.ProvidesCallback, timeout?: number) => void;
type DescribeFn = (title: string, fn: () => void) => void;

/** jest's `it`, `test` and `describe`: real ones, or ones that skip with a reason. */
export interface Gate {
  /** Whether the tests run here. */
  readonly runs: boolean;
  /** Why not, when they do not. */
  readonly reason?: string;
  it: TestFn;
  test: TestFn;
  describe: DescribeFn;
}

/** Tests that run when `ok`, and otherwise skip, saying `reason` (which must say what is missing and how to get it). */
export function skipUnless(ok: boolean, reason: string): Gate {
  if (ok) return { runs: true, it, test, describe };
  if (!reason.trim()) throw new Error('skipUnless: a skip needs a reason');
  const skipTest: TestFn = (title, fn, timeout) => it.skip(skippedTitle(title, reason), fn, timeout);
  return { runs: false, reason, it: skipTest, test: skipTest, describe: (title, fn) => describe.skip(skippedTitle(title, reason), fn) };
}

/** Tests that skip when `why` names something missing (a non-empty string), and run when it is undefined or empty. */
export function skipIf(why: string | undefined): Gate {
  return skipUnless(!why, why ?? '');
}

/** Tests that run only where every gate runs; otherwise they skip with the first missing one's reason. */
export function allOf(...gates: Gate[]): Gate {
  return gates.find((g) => !g.runs) ?? skipUnless(true, '');
}
