/**
 * Debian's Chromium driven by playwright-core (its own browser download
 * does not work on machines like CI's), found as scripts/browser.mjs finds
 * it (GENPT_CHROMIUM, then Chromium or Chrome on PATH); the root install
 * sets one up when it can.
 */
import { chromium, type Browser } from 'playwright-core';
import { findChromium, NO_CHROMIUM } from '../../../scripts/browser.mjs';

export function chromiumPath(): string {
  const found = findChromium();
  if (found === undefined) throw new Error(NO_CHROMIUM);
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
