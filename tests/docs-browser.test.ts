import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { skip, vmProfile } from '../test-support';

// The docs site in a real browser (Debian's chromium, driven by
// playwright-core): every page opens without a console error, every link
// inside the site resolves, search finds a word only a guide has and an
// API symbol, and the home page and the tutorial are photographed into
// .cache/docs-screenshots/ for a human to look at.

const CHROMIUM = '/usr/bin/chromium';
const root = new URL('..', import.meta.url).pathname;

test('the docs site: every page clean, no broken link, search over guides and API', async () => {
  if (vmProfile()) return skip('docs site', `a browser and typedoc do not depend on the kernel: host only (this is the ${vmProfile()} guest, where they take minutes)`);
  if (!existsSync(CHROMIUM)) return skip('docs site', `${CHROMIUM} missing (scripts/setup.sh installs Debian's chromium)`);
  const { chromium } = await import('playwright-core');
  // @ts-expect-error plain .mjs helper without types
  const { build, serve } = await import('../scripts/docs.mjs');
  const out = mkdtempSync(join(tmpdir(), 'ctr-site-'));
  const profile = mkdtempSync(join(tmpdir(), 'ctr-chromium-'));
  let server: Server | undefined;
  let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    const log: string = build(out, { embed: false });
    assert.not.match(log, /\[warning\]/, log);
    const site = (await serve(out, 0)) as { server: Server; url: string };
    server = site.server;
    // Chromium's own download is impossible here: the apt build, headless,
    // with everything that would phone home switched off, in a fresh profile.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const problems: string[] = [];
    let current = '';
    page.on('console', (m) => m.type() === 'error' && problems.push(`${current}: console error: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`${current}: page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`${current}: request failed: ${r.url()}`));
    page.on('response', (r) => r.status() >= 400 && problems.push(`${current}: ${r.status()} ${r.url()}`));

    // Crawl from the home page: every same-site link, each page once.
    const seen = new Set<string>();
    const queue = [site.url];
    const ids = new Map<string, Set<string>>(); // page -> element ids, for links to #anchors
    const anchors: { from: string; page: string; hash: string }[] = [];
    while (queue.length) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      current = url.slice(site.url.length) || '/';
      const res = await page.goto(url, { waitUntil: 'load' });
      if (!res || res.status() !== 200) {
        problems.push(`broken link: ${current} (${res?.status()})`);
        continue;
      }
      ids.set(url, new Set(await page.$$eval('[id], a[name]', (es) => es.map((e) => e.id || e.getAttribute('name') || ''))));
      const links: string[] = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
      for (const href of links) {
        if (!href.startsWith(site.url)) continue; // GitHub and other outside links are not followed
        const [target, hash] = href.split('#');
        if (hash) anchors.push({ from: current, page: target, hash: decodeURIComponent(hash) });
        if (!seen.has(target)) queue.push(target);
      }
    }
    for (const a of anchors) if (!ids.get(a.page)?.has(a.hash)) problems.push(`broken anchor: ${a.from} -> ${a.page.slice(site.url.length)}#${a.hash}`);
    assert.equal(problems, []);
    assert.ok(seen.size > 100, `${seen.size} pages`);
    assert.ok(anchors.length > 100, `${anchors.length} links to anchors checked`);
    for (const doc of ['Tutorial', 'Getting_started', 'Security', 'Performance', 'The_ctrun_command_line', '_ctr_ns__namespaces']) {
      assert.ok([...seen].some((u) => u.endsWith(`documents/${doc}.html`)), `${doc} reachable from the navigation`);
    }

    // Search, as a reader does: open the dialog, type, read the results.
    const search = async (words: string) => {
      await page.goto(site.url, { waitUntil: 'load' });
      await page.click('#tsd-search-trigger');
      await page.fill('#tsd-search-input', words);
      await page.waitForSelector('#tsd-search-results li a', { timeout: 10_000 });
      return page.$$eval('#tsd-search-results li a', (as) => as.map((a) => `${a.textContent} ${(a as HTMLAnchorElement).getAttribute('href')}`));
    };
    const guide = await search('OOM killer');
    assert.ok(guide.some((r) => /documents\/Tutorial\.html/.test(r)), `OOM killer: ${guide.join(' | ')}`);
    const symbol = await search('BridgeNetwork');
    assert.ok(symbol.some((r) => /classes\/.*BridgeNetwork\.html/.test(r)), `BridgeNetwork: ${symbol.join(' | ')}`);

    const shots = join(root, '.cache/docs-screenshots');
    mkdirSync(shots, { recursive: true });
    await page.goto(site.url, { waitUntil: 'load' });
    await page.screenshot({ path: join(shots, 'home.png') });
    await page.goto(`${site.url}documents/Tutorial.html`, { waitUntil: 'load' });
    await page.screenshot({ path: join(shots, 'tutorial.png') });
  } finally {
    await browser?.close();
    server?.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
});

test.run();
