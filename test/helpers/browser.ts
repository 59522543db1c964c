import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';

// A real browser for the inspector's page: Debian's Chromium driven by playwright-core (which never downloads a
// browser: it is given this one). Each launch has a fresh temporary profile. Without Chromium the browser tests
// are skipped on a developer's machine (one line on stderr says how to get it) and fail in CI (`CI` set), which
// must run them.

// What runs in the page (page.evaluate, waitForFunction) uses the page's globals. The node program has no DOM lib
// (only the page's own tsconfig does), so they are declared here, loosely, for this file only.
declare const window: any;
declare const document: any;

/** The Chromium the browser tests use: ONEPUSH_CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.ONEPUSH_CHROMIUM || '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

export const CI_NEEDS_CHROMIUM = 'CI needs Chromium: apt-get install -y chromium';
const SKIPPED = `browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set ONEPUSH_CHROMIUM)`;

let told = false;
/**
 * The `skip` option of a browser test: false when it can run (or must run and fail: CI without Chromium), else the
 * reason. The first call of a process without Chromium prints the reason once, on stderr.
 */
export function browserSkip(): string | false {
  if (HAS_CHROMIUM || IN_CI) return false;
  if (!told) {
    told = true;
    process.stderr.write(`${SKIPPED}\n`);
  }
  return SKIPPED;
}

/** Launches Chromium headless (throws CI_NEEDS_CHROMIUM when it is missing). */
export async function launchChromium(): Promise<Browser> {
  if (!HAS_CHROMIUM) assert.fail(IN_CI ? CI_NEEDS_CHROMIUM : SKIPPED);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

/** A page of its own context, and what went wrong in it: console errors, uncaught errors, CSP violations. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions, as text. */
  problems: string[];
  /** Content-Security-Policy violations the page reported (securitypolicyviolation events). */
  cspViolations(): Promise<string[]>;
  close(): Promise<void>;
}

/** Opens a new context (its own storage) and page at `viewport`, watching for errors; does not navigate. */
export async function watchedPage(browser: Browser, options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 }, colorScheme: options.colorScheme ?? 'light' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Playwright runs init scripts outside the page's CSP (they are not the page's scripts).
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; blockedURI: string }) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return {
    page,
    context,
    problems,
    cspViolations: () => page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []),
    close: () => context.close(),
  };
}
