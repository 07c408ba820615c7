/**
 * The console's Requests page in a real browser (Debian's chromium, playwright-core), with the
 * platform keeping its recent traces in process as `npm start` does: an admin opens a product
 * that does not exist, follows the error's link to its trace and sees the waterfall (console,
 * gateway, catalog, the catalog's SQL); on the Requests page, filtered to 4xx, that request is
 * listed with its status and user, and its trace id opens the same waterfall. A user who is not
 * an admin is told the page is not for them, and so is a page loaded as an admin whose session
 * is no longer an admin's, on its next call (a 403). An admin view's failed call (the typed API
 * client) links to its trace too. Screenshots go to test-results/requests/.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startTelemetry, stopTelemetry } from '@portico/telemetry';

// Before Fastify and undici load, so their instrumentations patch them (as `npm start` does).
await startTelemetry('portico', { recentTraces: 200 });
const { browserSuite, newPage, skip } = await import('./support/platform.ts');

const sqlite = { name: 'sqlite' as const, url: 'sqlite::memory:', cleanup: async () => {} };

describe('the Requests page, in chromium', { skip }, () => {
  const suite = browserSuite(sqlite, {
    folder: 'requests',
    pages: ['admin'],
    viewport: { width: 1200, height: 900 },
    upstreams: ['catalog'],
  });
  const shoot = suite.screenshot;
  after(() => stopTelemetry());

  test('an error links to its trace; the request is listed, filtered by status, and opens its waterfall', () =>
    suite.run(journey));

  test('a page loaded as admin whose session is no longer an admin’s leaves the admin view on its next call', async () => {
    const { consoleUrl } = suite.platform;
    const page = await newPage(suite.browser);
    try {
      await suite.signIn(page, 'admin');
      await page.goto(`${consoleUrl}/admin/requests`);
      await page.getByRole('table', { name: 'Recent requests' }).waitFor();

      // Signed out and in again as alice, in another tab of the same browser: the open page still
      // believes it is an admin's.
      await page.context().clearCookies();
      const other = await page.context().newPage();
      await suite.signIn(other, 'alice');
      await other.close();

      // The filter navigates in the page (no reload): its call is refused 403.
      await page.getByLabel('Status').selectOption('2xx');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL((url) => url.searchParams.get('status') === '2xx');
      await page.getByText('Only administrators can see this page.').waitFor();
      assert.equal(await page.getByRole('table', { name: 'Recent requests' }).count(), 0);
      assert.equal(await page.getByRole('heading', { name: 'Requests' }).count(), 1);
      await shoot(page, 'requests-no-longer-admin');

      // So is a trace's, opened in the page the same way a link does.
      await page.evaluate((id) => {
        history.pushState(null, '', `/admin/requests/${id}`);
        dispatchEvent(new PopStateEvent('popstate'));
      }, 'a'.repeat(32));
      await page.getByRole('heading', { name: 'Trace' }).waitFor();
      await page.getByText('Only administrators can see this page.').waitFor();
      assert.equal(
        await page
          .getByRole('alert')
          .filter({ hasText: /administrators/ })
          .count(),
        0,
      );
    } catch (err) {
      await shoot(page, 'FAILED-no-longer-admin').catch(() => {});
      throw err;
    } finally {
      await page.context().close();
    }
  });

  async function journey() {
    const { admin } = suite.pages;
    const { consoleUrl } = suite.platform;
    await suite.signIn(admin, 'admin');
    const me = await admin.evaluate(
      async () => (await (await fetch('/api/session')).json()).user.sub as string,
    );

    await admin.goto(`${consoleUrl}/products/no-such-product`);
    const alert = admin.getByRole('alert');
    await alert.waitFor();
    await shoot(admin, 'error-with-trace-link');
    const link = alert.getByRole('link', { name: 'View its trace' });
    const href = await link.getAttribute('href');
    const traceId = /^\/admin\/requests\/([0-9a-f]{32})$/.exec(href ?? '')?.[1];
    assert.ok(traceId, `a link to the trace: ${href}`);
    await link.click();
    await admin.getByRole('heading', { name: 'Trace' }).waitFor();
    const spans = admin.getByRole('list', { name: 'Spans by start' }).getByRole('listitem');
    // Browser to database: the catalog's SQL (SQLite, @portico/store's spans) is in the waterfall.
    for (const name of ['GET /api/*', 'GET /api/v1/products', 'GET /api/v1/products/:id', 'SELECT products'])
      await spans.filter({ hasText: name }).first().waitFor();
    assert.ok((await spans.count()) >= 4);
    await shoot(admin, 'waterfall');

    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
    await admin.getByRole('heading', { name: 'Requests' }).waitFor();
    await admin.getByLabel('Status').selectOption('4xx');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await admin.waitForURL((url) => url.searchParams.get('status') === '4xx');
    const table = admin.getByRole('table', { name: 'Recent requests' });
    const row = table.getByRole('row').filter({ has: admin.locator(`a[href="/admin/requests/${traceId}"]`) });
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /GET \/api\/v1\/products\/no-such-product/);
    assert.match(text, /\b404\b/);
    assert.ok(text.includes(me), `the user: ${text}`);
    for (const status of await table.getByRole('row').allInnerTexts())
      if (!status.startsWith('Time')) assert.match(status, /\b4\d\d\b/);
    await shoot(admin, 'requests-4xx');

    assert.match(text, /\b\d\d:\d\d:\d\d\.\d{3}\b/, 'the time, to the millisecond');
    await row.locator(`a[href="/admin/requests/${traceId}"]`).click();
    await admin.waitForURL(`${consoleUrl}/admin/requests/${traceId}`);
    await spans.filter({ hasText: 'GET /api/v1/products' }).first().waitFor();

    const alice = await newPage(suite.browser);
    await suite.signIn(alice, 'alice');
    await alice.goto(`${consoleUrl}/admin/requests`);
    await alice.getByText('Only administrators can see this page.').waitFor();
    await alice.context().close();

    // An admin view's failed call (the typed API client) links to its trace as well.
    await admin.goto(`${consoleUrl}/admin/users/no-such-user`);
    await admin.getByRole('alert').getByRole('link', { name: 'View its trace' }).click();
    await admin.getByRole('heading', { name: 'Trace' }).waitFor();
    await spans.filter({ hasText: 'GET /admin/users/:id' }).first().waitFor();
    await shoot(admin, 'admin-view-error-trace');
  }
});
