/**
 * Driving the demo page in headless Chromium with playwright-core, pointed at an installed
 * Chromium (Debian's /usr/bin/chromium): playwright's own browser downloads are not used. Shared by
 * __tests__/browser.test.ts and scripts/demo-screenshot.ts.
 */
import * as fs from 'fs';
import type { BrowserContext, Page } from 'playwright-core';

/**
 * $CHROMIUM_PATH when set (as it is, so a wrong one is reported), else Debian's `chromium`
 * package, else Ubuntu's `chromium-browser`. @default '/usr/bin/chromium' when neither exists
 */
export const DEFAULT_CHROMIUM =
  process.env.CHROMIUM_PATH || (['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p)) ?? '/usr/bin/chromium');

/** Why a browser cannot be driven here (no Chromium, no playwright-core), or undefined when it can. */
export function browserUnavailable(executablePath: string = DEFAULT_CHROMIUM): string | undefined {
  if (!fs.existsSync(executablePath)) return `no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return undefined;
}

/**
 * Headless and quiet: no sandbox (containers and root), no GPU process (software WebGL still
 * works), nothing fetched from Google's services. `--enable-unsafe-webgpu` gives the page
 * Chromium's software WebGPU adapter (Dawn on SwiftShader's Vulkan, a fallback adapter) on a
 * machine without a GPU, where requestAdapter otherwise returns null (docs/GPU.md, "WebGPU in the
 * browser"); the page then reports it as software and picks wasm unless asked for webgpu.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** @default {@link DEFAULT_CHROMIUM} */
  executablePath?: string;
  /** @default 1200 */
  width?: number;
  /** @default 900 */
  height?: number;
  /** Chromium's switches. @default {@link CHROMIUM_ARGS} */
  args?: readonly string[];
  /** Environment variables added to this process's for the browser (e.g. a Vulkan driver's). */
  env?: Record<string, string>;
}

/** Starts Chromium with a fresh profile in `profileDir` (its --user-data-dir). */
export async function launchChromium(profileDir: string, options: LaunchOptions = {}): Promise<BrowserContext> {
  // Loaded here, not at the top: the module is a devDependency, and only callers that drive a browser need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launchPersistentContext(profileDir, {
    executablePath: options.executablePath ?? DEFAULT_CHROMIUM,
    headless: true,
    args: [...(options.args ?? CHROMIUM_ARGS)],
    ...(options.env ? { env: { ...process.env, ...options.env } as Record<string, string> } : {}),
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
