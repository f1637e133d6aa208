/**
 * Tests that need the full MNIST (the official files, 60,000 + 10,000 images, their exact
 * contents) run where it is present and skip elsewhere with a reason that starts with
 * {@link NEEDS_FULL_MNIST}, so that a report of skipped tests can tell these intended skips (the
 * offline CI pass runs without MNIST on purpose) from a dependency that is missing by accident
 * (helpers/skips.ts, whose reporter allows them in the offline pass only).
 */
import { FULL_MNIST, MNIST_DIR } from './mnist-dir';
import { Gate, NEEDS_FULL_MNIST, skipUnless, skippedTitle as titleWithReason } from './skips';

export { NEEDS_FULL_MNIST };

/** Why a test that needs the official files skips here. */
function reason(why: string): string {
  return `${NEEDS_FULL_MNIST} ${why}; not in ${MNIST_DIR}`;
}

/** The title a skipped test gets: its own, then `(skipped: needs full MNIST: <why>; not in <dir>)`. */
export function skippedTitle(title: string, why: string): string {
  return titleWithReason(title, reason(why));
}

/** `it`, `test` and `describe` that run where the full MNIST is present and skip saying why elsewhere; combine with others through `allOf`. */
export function withMnist(why: string): Gate {
  return skipUnless(FULL_MNIST, reason(why));
}

/** `it` where the full MNIST is present; elsewhere a skipped test whose title says why. */
export function itWithMnist(why: string, title: string, fn: jest.ProvidesCallback, timeout?: number): void {
  withMnist(why).it(title, fn, timeout);
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
  withMnist(why).describe(title, fn);
}

export { FULL_MNIST };
