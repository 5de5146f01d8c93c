// Debian's Chromium, headless, driven by playwright-core: a fresh profile per
// run, nothing fetched from the network but the gateway under test. Every page
// records its console errors and uncaught exceptions, and axe-core (injected
// from node_modules, not a CDN) reports accessibility violations.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const REPO_ROOT = resolve(__dirname, '../../../..');
export const SCREENSHOTS = join(REPO_ROOT, 'apps/web/test/screenshots');

/** Never a silent skip: without Chromium the suite fails and says how to get it. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser suite needs Chromium at ${CHROMIUM}: apt-get install chromium (bash scripts/setup.sh does), or set CHROMIUM_BIN`,
    );
  }
}

/** The web app and the inbox bundle as nginx serves them: built from the sources under test. */
export function buildWebApp(): void {
  execFileSync('pnpm', ['--filter', '@herald/web...', 'run', 'build'], { cwd: REPO_ROOT, stdio: 'pipe' });
}

export interface TestBrowser {
  browser: Browser;
  /** a fresh context (own storage) with one page that records its errors */
  open(): Promise<RecordingPage>;
  close(): Promise<void>;
}

export interface RecordingPage {
  page: Page;
  context: BrowserContext;
  /** console errors and uncaught exceptions seen so far */
  errors: string[];
  /** every URL the page requested, to prove it talks to nobody but the gateway */
  requests: string[];
}

export async function launchBrowser(): Promise<TestBrowser> {
  requireChromium();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    // playwright gives every launch a fresh --user-data-dir of its own (and removes it at close)
  });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async open() {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`exception: ${error.message}`));
      return { page, context, errors, requests };
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules). */
export async function seriousViolations(page: Page): Promise<string[]> {
  // evaluated over the DevTools protocol, not added as a <script>: the app's Content-Security-Policy
  // (rightly) refuses an inline script, and this must not weaken it
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations)`,
  )) as AxeViolation[];
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${JSON.stringify(violation.nodes.map((node) => node.target))}`,
    );
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
