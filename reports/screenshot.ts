/**
 * Opens a report in headless Debian Chromium (playwright-core), offline: every request other than
 * the report file itself is blocked and recorded. Used by the runner and the report's browser test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PageFindings {
  consoleErrors: string[];
  /** Requests the page tried to make besides the report itself (all blocked). */
  blockedRequests: string[];
}

export async function withReportPage<T>(htmlPath: string, use: (page: Page, findings: PageFindings) => Promise<T>, options: { timeoutMs?: number; executablePath?: string } = {}): Promise<T> {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'lagstorm-chromium-'));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const reportUrl = pathToFileURL(path.resolve(htmlPath)).href;
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: options.executablePath ?? CHROMIUM_PATH,
    // A new empty profile: launchPersistentContext passes it as --user-data-dir.
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
    timeout: timeoutMs,
  });
  try {
    const findings: PageFindings = { consoleErrors: [], blockedRequests: [] };
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(timeoutMs);
    page.on('console', (message) => {
      if (message.type() === 'error') findings.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => findings.consoleErrors.push(error.message));
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === reportUrl) return route.continue();
      findings.blockedRequests.push(url);
      return route.abort('blockedbyclient');
    });
    await page.goto(reportUrl, { waitUntil: 'load', timeout: timeoutMs });
    return await use(page, findings);
  } finally {
    await context.close().catch(() => undefined);
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

/** Full-page PNG of a report; returns what the page logged or tried to fetch. */
export function screenshotReport(htmlPath: string, pngPath: string, options: { timeoutMs?: number } = {}): Promise<PageFindings> {
  return withReportPage(htmlPath, async (page, findings) => {
    await page.screenshot({ path: pngPath, fullPage: true, timeout: options.timeoutMs ?? 30_000 });
    return findings;
  }, options);
}
