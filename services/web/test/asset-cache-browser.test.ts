/**
 * The console's modules in a real browser (Debian's chromium): a first load fetches each module
 * once, by its fingerprinted URL (the import map resolves every import, relative ones too), the
 * page's CSP lets its import map run, and a reload fetches no module at all: the requests the
 * console's server receives are counted on its socket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromiumMissing, launchChromium, skipOutsideCI } from '@portico/browser-testing';
import type { Browser, Page } from 'playwright-core';
import { freePort, type Stack, startStack } from './support/harness.ts';

const sqlite = { name: 'sqlite' as const, url: 'sqlite::memory:', cleanup: async () => {} };
const skip = skipOutsideCI(chromiumMissing);

describe('the console’s modules in chromium', { skip }, () => {
  let stack: Stack | undefined;
  let chromium: Browser | undefined;
  let origin: string;
  /** The paths the console's server was asked for, in order. */
  const received: string[] = [];

  before(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    stack = await startStack(sqlite, { publicUrl: origin });
    stack.web.server.on('request', (request: { url?: string }) => received.push(request.url ?? ''));
    await stack.web.listen({ port, host: '127.0.0.1' });
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    await stack?.close();
  });

  /** Loads (or reloads) the page until its script has run; the paths the server got meanwhile. */
  async function load(page: Page, how: () => Promise<unknown>): Promise<string[]> {
    const from = received.length;
    await how();
    await page.waitForFunction(() => document.querySelector('#main')?.textContent !== 'Loading…');
    return received.slice(from);
  }

  test('a first load fetches each module once by its fingerprinted URL; a reload fetches none', async () => {
    const context = await chromium!.newContext();
    try {
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|import ?map/i.test(message.text())) refused.push(message.text());
      });
      page.on('pageerror', (error) => refused.push(String(error)));

      const first = await load(page, () => page.goto(`${origin}/products`));
      const imports: Record<string, string> = await page.evaluate(
        () => JSON.parse(document.querySelector('script[type="importmap"]')!.textContent!).imports,
      );
      const fingerprinted = new Set(Object.values(imports));
      const assets = first.filter((path) => path.startsWith('/assets/'));
      const modules = assets.filter((path) => path.endsWith('.js'));
      // app.js and the 29 modules it imports; none by its plain URL, none twice.
      assert.ok(modules.length >= 30, `${modules.length} modules`);
      for (const path of modules)
        assert.ok(fingerprinted.has(path), `${path} is a mapped, fingerprinted URL`);
      assert.equal(new Set(modules).size, modules.length, 'each module once');
      assert.ok(
        assets.some((path) => /^\/assets\/app\.[\w-]{16}\.css$/.test(path)),
        'the style sheet by its fingerprint',
      );
      // Every module was evaluated from those URLs: the browser's own record of what it loaded.
      const loaded: string[] = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .map((entry) => new URL(entry.name).pathname)
          .filter((path) => path.endsWith('.js')),
      );
      assert.deepEqual(loaded.toSorted(), modules.toSorted());

      const again = await load(page, () => page.reload());
      assert.deepEqual(
        again.filter((path) => path.startsWith('/assets/')),
        [],
        'a reload fetches no asset',
      );
      assert.ok(again.includes('/products'), 'the page itself is asked for again');
      assert.deepEqual(refused, [], 'the CSP lets the import map run, and the page throws nothing');
    } finally {
      await context.close();
    }
  });
});
