/**
 * Tests that need the full MNIST (the official files, 60,000 + 10,000 images, their exact
 * contents) run where it is present and skip elsewhere with a reason that starts with
 * {@link NEEDS_FULL_MNIST}, so that a report of skipped tests can tell these intended skips (the
 * offline CI pass runs without MNIST on purpose) from a dependency that is missing by accident.
 */
import { FULL_MNIST, MNIST_DIR } from './mnist-dir';

/** How every such skip's reason begins. */
export const NEEDS_FULL_MNIST = 'needs full MNIST:';

/** The title a skipped test gets: its own, then `(skipped: needs full MNIST: <why>)`. */
export function skippedTitle(title: string, why: string): string {
  return `${title} (skipped: ${NEEDS_FULL_MNIST} ${why}; not in ${MNIST_DIR})`;
}

/** `it` where the full MNIST is present; elsewhere a skipped test whose title says why. */
export function itWithMnist(why: string, title: string, fn: jest.ProvidesCallback, timeout?: number): void {
  if (FULL_MNIST) it(title, fn, timeout);
  else it.skip(skippedTitle(title, why), fn, timeout);
}

/** `it.each` likewise: each case runs where the full MNIST is present, and skips saying why elsewhere. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function itEachWithMnist(why: string, cases: readonly (readonly unknown[])[]) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (title: string, fn: (...args: any[]) => unknown, timeout?: number): void => {
    if (FULL_MNIST) it.each(cases as unknown[][])(title, fn, timeout);
    else it.skip.each(cases as unknown[][])(skippedTitle(title, why), fn, timeout);
  };
}

/** `describe` where the full MNIST is present; elsewhere every test in it skips, the block's title saying why. */
export function describeWithMnist(why: string, title: string, fn: () => void): void {
  if (FULL_MNIST) describe(title, fn);
  else describe.skip(skippedTitle(title, why), fn);
}

export { FULL_MNIST };
