/**
 * GraphiQL in a real browser (Debian's chromium through playwright-core) under the page's CSP:
 * its inline scripts allowed by their hashes and nothing else, it renders, loads the schema,
 * runs a query and a subscription (WebSocket), and the browser reports no CSP violation. An inline script the page was not
 * served with is refused. Skips where chromium is not installed, except in CI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromiumMissing, launchChromium, skipOutsideCI } from '@portico/browser-testing';
import { databaseTargets } from '@portico/store/testing';
import type { Browser, Page } from 'playwright-core';
import { buildCatalog, type Harness } from './support/harness.ts';

const skip = skipOutsideCI(chromiumMissing);

describe('GraphiQL under its CSP, in Chromium', { skip }, () => {
  const target = databaseTargets()[0]!();
  let h: Harness;
  let base: string;
  let browser: Browser;

  before(async () => {
    h = await buildCatalog(target, { config: { graphql: { introspection: true, graphiql: true } } });
    base = await h.server.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  /** A page that records every CSP violation (the event, and the console's report of it). */
  async function watchedPage(): Promise<{ page: Page; violations: string[]; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const violations: string[] = [];
    const errors: string[] = [];
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { reportViolation(v: string): void }).reportViolation(
          `${e.effectiveDirective} ${e.blockedURI}`,
        ),
      );
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return { page, violations, errors };
  }

  test('renders, loads the schema, runs a query and a subscription with no CSP violation', async () => {
    const { page, violations, errors } = await watchedPage();
    const res = await page.goto(`${base}/graphql`);
    const csp = new Map(
      res!
        .headers()
        ['content-security-policy']!.split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values]),
    );
    const scripts = csp.get('script-src')!;
    assert.ok(
      scripts.length > 0 && scripts.every((s) => /^'sha256-[A-Za-z0-9+/]+=*'$/.test(s)),
      String(scripts),
    );
    assert.deepEqual(csp.get('object-src'), ["'none'"]);
    assert.deepEqual(csp.get('base-uri'), ["'none'"]);

    // The schema arrived (connect-src): the documentation explorer lists the query type.
    await page.getByRole('button', { name: /Show Documentation Explorer/i }).click();
    await page.getByText('Query', { exact: true }).first().waitFor();

    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ products(first: 1) { name } }');
    await page.getByRole('button', { name: /Execute query/i }).click();
    await page.locator('.graphiql-response').getByText('"name"').waitFor();

    // A subscription goes over a WebSocket to this origin ('self' in connect-src covers ws:).
    const acked = new Promise<void>((resolve) =>
      page.on('websocket', (ws) =>
        ws.on('framereceived', ({ payload }) => {
          if (String(payload).includes('connection_ack')) resolve();
        }),
      ),
    );
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('subscription { productUpdated { id } }');
    await page.getByRole('button', { name: /Execute subscription|Execute query/i }).click();
    await acked;

    assert.deepEqual(violations, []);
    assert.deepEqual(
      errors.filter((e) => /Refused|Content Security Policy|EvalError/i.test(e)),
      [],
    );
  });

  test('an inline script the page was not served with does not run', async () => {
    const { page, violations } = await watchedPage();
    await page.goto(`${base}/graphql`);
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
      return (window as unknown as { injected?: boolean }).injected === true;
    });
    assert.equal(ran, false);
    assert.ok(
      violations.some((v) => /script-src/.test(v)),
      violations.join('\n'),
    );
  });
});
