/**
 * Driving the demo page in headless Chromium with playwright-core, pointed at an installed
 * Chromium (Debian's /usr/bin/chromium): playwright's own browser downloads are not used. Shared by
 * __tests__/browser.test.ts and scripts/demo-screenshot.ts.
 */
import type { BrowserContext, Page } from 'playwright-core';

/** Debian's `chromium` package. @default '/usr/bin/chromium' (or $CHROMIUM_PATH) */
export const DEFAULT_CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless and quiet: no sandbox (containers and root), no GPU process (software WebGL still
 * works), nothing fetched from Google's services.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Starts Chromium with a fresh profile in `profileDir` (its --user-data-dir). */
export async function launchChromium(profileDir: string, options: { executablePath?: string; width?: number; height?: number } = {}): Promise<BrowserContext> {
  // Loaded here, not at the top: the module is a devDependency, and only callers that drive a browser need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launchPersistentContext(profileDir, {
    executablePath: options.executablePath ?? DEFAULT_CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: options.width ?? 1200, height: options.height ?? 900 },
  });
}

/** Opens the demo at `url` and waits until it has picked its backend and loaded its data. */
export async function openDemo(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.evaluate(() => (window as unknown as { mnistDemo: { ready: Promise<void> } }).mnistDemo.ready);
  return page;
}

/** Calls `window.mnistDemo[name](...args)` in the page (examples/browser/main.ts) and returns its result. */
export function callDemo<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([n, a]) => (window as unknown as { mnistDemo: Record<string, (...x: unknown[]) => unknown> }).mnistDemo[n as string](...(a as unknown[])),
    [name, args] as const,
  ) as Promise<T>;
}

/**
 * Draws on the page's pad with the mouse: each stroke is a list of points given as fractions of
 * the pad's width and height, pressed from the first to the last.
 */
export async function drawStrokes(page: Page, strokes: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): Promise<void> {
  const pad = page.locator('#pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  if (box === null) throw new Error('the drawing pad is not visible');
  const at = ([fx, fy]: readonly [number, number]): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]));
    await page.mouse.down();
    for (const point of stroke.slice(1)) await page.mouse.move(...at(point), { steps: 4 });
    await page.mouse.up();
  }
}
