import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';
import { tempDir } from './helpers.js';
import { readPng } from './png.js';

// Runs in the page (the package's tsconfig has no DOM lib).
declare const getComputedStyle: (el: unknown) => { backgroundColor: string; borderLeftColor: string };
import { genpt } from './run-cli.js';

describe('genpt dump --html in headless Chromium', () => {
  const dir = tempDir('html');
  const html = path.join(dir, 'table.html');
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const r = genpt(['dump', '--html', html]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`html: ${html}\n`);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 600 } });
    // Nothing may come from elsewhere: the page is self-contained.
    const external: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith('file:')) external.push(req.url());
    });
    await page.goto(pathToFileURL(html).href);
    expect(external).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the summary, the legend and the top table open, the lower tables closed', async () => {
    expect(await page.title()).toBe('genpt: amdv1 page table (host-l6)');
    expect(await page.textContent('.summary')).toMatch(/^top level 2 @0x10000000000, 4 tables, 515 leaf entries mapping 1G\+4M\+64K$/);
    expect(await page.locator('.legend .swatch').allTextContents()).toEqual(['4K', '64K', '2M', '1G', 'r-', 'rw', 'table']);
    expect(await page.locator('details.table[data-path=""]').getAttribute('open')).not.toBeNull();
    expect(await page.locator('details.table[data-path="0"]').getAttribute('open')).toBeNull();
    // the 1G leaf sits in the open top table; the 4K pages are two levels down
    await expect.poll(() => page.locator('li.leaf[data-size="1G"]').isVisible()).toBe(true);
    expect(await page.locator('li.leaf[data-va="0x1000"]').isVisible()).toBe(false);
  });

  it('expanding tables shows their entries, coloured by size and prot', async () => {
    await page.click('details.table[data-path="0"] > summary');
    const twoM = page.locator('li.leaf[data-size="2M"]');
    expect(await twoM.isVisible()).toBe(true);
    expect(await twoM.textContent()).toBe('[1] 0x200000-0x3fffff → 0x40000000-0x401fffff 2M r- clean');
    expect(await page.locator('li.leaf[data-va="0x1000"]').isVisible()).toBe(false);

    await page.click('details.table[data-path="0.0"] > summary');
    const dirty = page.locator('li.leaf[data-va="0x1000"]');
    expect(await dirty.isVisible()).toBe(true);
    expect(await dirty.textContent()).toBe('[1] 0x1000-0x1fff → 0x1234402000-0x1234402fff 4K rw dirty');
    expect(await dirty.getAttribute('data-dirty')).toBe('true');
    expect(await page.locator('details.table[data-path="0.0"] li.leaf').count()).toBe(3);
    expect(await page.locator('details.table[data-path="0.0"] > summary').textContent()).toBe(
      'L0 table @0x10000002000 VA 0x0-0x1fffff 512 x 4K 512 used',
    );

    const style = (sel: string) =>
      page.$eval(sel, (el) => {
        const s = getComputedStyle(el);
        return { bg: s.backgroundColor, edge: s.borderLeftColor };
      });
    const small = await style('li.leaf[data-va="0x1000"]');
    const mid = await style('li.leaf[data-size="2M"]');
    const big = await style('li.leaf[data-size="1G"]');
    expect(new Set([small.bg, mid.bg, big.bg]).size).toBe(3);
    // prot: rw and r- differ, the two rw leaves agree
    expect(small.edge).not.toBe(mid.edge);
    expect(small.edge).toBe(big.edge);
    // the item map of the full level 0 table has a cell per item
    expect(await page.locator('details.table[data-path="0.0"] > .body > svg.items > rect > title').count()).toBe(512);
  });

  it('expand all and collapse all', async () => {
    await page.click('#expand-all');
    expect(await page.locator('li.leaf[data-size="64K"]').isVisible()).toBe(true);
    expect(await page.locator('li.leaf[data-size="64K"]').textContent()).toContain('contiguous, 16 items');
    await page.click('#collapse-all');
    expect(await page.locator('li.leaf[data-size="2M"]').isVisible()).toBe(false);
    expect(await page.locator('li.leaf[data-size="1G"]').isVisible()).toBe(true);
  });

  it('a screenshot of the expanded tree is a real picture, larger and more colourful than the collapsed one', async () => {
    await page.click('#collapse-all');
    const collapsed = path.join(dir, 'collapsed.png');
    await page.screenshot({ path: collapsed, fullPage: true });
    await page.click('#expand-all');
    const png = path.join(dir, 'table.png');
    await page.screenshot({ path: png, fullPage: true });
    const info = readPng(readFileSync(png));
    const before = readPng(readFileSync(collapsed));
    expect(statSync(png).size).toBeGreaterThan(20_000);
    expect(info).toMatchObject({ width: 1200, bitDepth: 8 });
    // the expanded tree no longer fits the 600 px viewport; the collapsed one does
    expect(before.height).toBe(600);
    expect(info.height).toBeGreaterThan(600);
    // text, the size colours, the prot edges, the item maps
    expect(info.colors).toBeGreaterThan(50);
    expect(info.colors).toBeGreaterThan(before.colors);
  });
});
