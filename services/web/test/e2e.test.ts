/**
 * The whole platform in a real browser: Debian's chromium driven by playwright-core against
 * `npm start` (services/platform), on a fresh data dir. The customer signs in, searches, adds
 * to the cart, checks out, pays, sees the order on the dashboard and signs out; then an admin
 * changes a price and a customer page that is already open shows it without a reload.
 * Screenshots of every step go to test-results/e2e/.
 *
 * The platform listens on the fixed embedded ports, so this is the one test file that starts
 * it; when a port is taken it skips (outside CI) rather than fight another platform.
 * PORTICO_E2E_DATA_DIR points it at a platform that is already running with that data dir.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium, skipOutsideCI } from '@portico/browser-testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SHOTS = join(ROOT, 'test-results', 'e2e');
const CONSOLE = 'http://localhost:3000';
const PUBLIC_PORTS = [3000, 8000, 8001, 8002, 8003, 8004, 9000];
/** `npm start` opens each service's operator listener too, at its port + 10000. */
const PORTS = [...PUBLIC_PORTS, ...PUBLIC_PORTS.map((port) => port + 10_000)];
const STEP_TIMEOUT = 15_000;

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function whyNot(): Promise<string | undefined> {
  if (process.env.PORTICO_E2E_DATA_DIR) return undefined;
  if (chromiumMissing) return chromiumMissing;
  const taken = [];
  for (const port of PORTS) if (await portTaken(port)) taken.push(port);
  if (taken.length) return `ports ${taken.join(', ')} are in use: another platform is running`;
  return undefined;
}

const EXTERNAL = process.env.PORTICO_E2E_DATA_DIR;
const dataDir = EXTERNAL ?? mkdtempSync(join(tmpdir(), 'portico-e2e-'));
let platform: ChildProcess | undefined;

/** `npm start` on the test's data dir; resolves with the milliseconds to its ready banner. */
async function startPlatform(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'services/platform/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORTICO_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  platform = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the platform did not start in 120 s:\n${output}`));
    }, 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Ctrl-C stops everything')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the platform exited with ${code}:\n${output}`));
    });
  });
  return Math.round(performance.now() - t0);
}

/** Ctrl-C: it must stop cleanly (exit 0) within 10 s, or the test says so and kills it. */
async function stopPlatform() {
  const child = platform;
  platform = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const stuck = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(stuck);
  assert.equal(code, 0, 'the platform stops cleanly on Ctrl-C');
}

// Started here, before the tests are declared: a port taken between the check and the start
// (another platform starting at that moment) is then a skip too, not a failure.
let skip = await whyNot();
let firstStartMs = 0;
if (!skip && !EXTERNAL) {
  try {
    firstStartMs = await startPlatform();
  } catch (err) {
    const clash = /cannot listen on port|EADDRINUSE/.exec(String(err));
    if (!clash) throw err;
    skip = `a port is in use: ${String(err).split('\n')[1] ?? 'another platform is running'}`;
  }
}
skipOutsideCI(skip);
if (skip && !EXTERNAL) rmSync(dataDir, { recursive: true, force: true });

describe('the console, end to end in chromium', { skip: skip ? `skipped: ${skip}` : false }, () => {
  let browser: Browser;
  let customer: BrowserContext;
  let page: Page;
  let adminContext: BrowserContext | undefined;
  let admin: Page | undefined;
  const logins = new Map<string, string>();
  let shot = 0;
  const state: { product?: string; productUrl?: string; price?: string; newPrice?: string; order?: string } =
    {};

  async function screenshot(p: Page, name: string) {
    shot++;
    await p.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  }

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    if (!EXTERNAL)
      console.log(`platform ready in ${firstStartMs} ms (spawn to banner, first start with demo data)`);
    const file = JSON.parse(readFileSync(join(dataDir, 'identity-demo-logins.json'), 'utf8')) as {
      logins: Array<{ username: string; password: string }>;
    };
    for (const login of file.logins) logins.set(login.username, login.password);

    browser = await launchChromium();
    customer = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    customer.setDefaultTimeout(STEP_TIMEOUT);
    page = await customer.newPage();
  });

  after(async () => {
    await adminContext?.close();
    await browser?.close();
    await stopPlatform();
    if (!process.env.PORTICO_E2E_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A step of the journey; when it fails, the page as it was goes into the screenshots. */
  function step(name: string, fn: () => Promise<void>) {
    test(name, async () => {
      try {
        await fn();
      } catch (err) {
        await screenshot(page, `FAILED-${name.replaceAll(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
        throw err;
      }
    });
  }

  /** The provider's pages: username and password, then consent when it asks. */
  async function signInAtProvider(p: Page, username: string) {
    await p.getByLabel('Username').fill(username);
    await p.getByLabel('Password').fill(logins.get(username)!);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const allow = p.getByRole('button', { name: 'Allow' });
    await p.waitForURL((url) => url.origin === CONSOLE || url.pathname.includes('/interaction/'));
    if (new URL(p.url()).origin !== CONSOLE) {
      await screenshot(p, `consent-${username}`);
      await allow.click();
    }
    await p.waitForURL((url) => url.origin === CONSOLE);
  }

  step('the customer signs in', async () => {
    await page.goto(CONSOLE);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await screenshot(page, 'catalog-signed-out');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Username').waitFor();
    await screenshot(page, 'provider-login');
    await signInAtProvider(page, 'alice');
    await page.getByText('Signed in as Alice Example').waitFor();
    await screenshot(page, 'signed-in');
  });

  step('pages through the catalog', async () => {
    await page.getByRole('link', { name: 'Next →' }).click();
    await page.getByText(/products · page 2 of \d+/).waitFor();
    await page.getByRole('link', { name: '← Previous' }).click();
    await page.getByText(/products · page 1 of \d+/).waitFor();
  });

  step('searches the catalog', async () => {
    await page.getByLabel('Search products').fill('keyboard');
    await page.getByLabel('Search products').press('Enter');
    const result = page.getByRole('link', { name: 'Mechanical keyboard' });
    await result.waitFor();
    await page.getByText(/1 product · page 1 of 1/).waitFor();
    await screenshot(page, 'search-results');
    await result.click();
    await page.waitForURL(/\/products\/[^/?]+$/);
    await page.locator('h1', { hasText: 'Mechanical keyboard' }).waitFor();
    await page.locator('[data-action]').first().waitFor();
    state.price = (await page.locator(`[data-price-for]`).first().textContent()) ?? '';
    state.productUrl = page.url();
    state.product = state.productUrl.split('/').pop();
  });

  step('adds the product to the cart with the button its actions offer', async () => {
    // Customers get add_to_cart and no write actions.
    assert.equal(await page.locator('[data-action]').count(), 1);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByText('Added 1 × “Mechanical keyboard” to your cart.').waitFor();
    await screenshot(page, 'added-to-cart');
  });

  step('checks out', async () => {
    await page.getByRole('link', { name: 'Cart' }).click();
    await page.getByRole('rowheader', { name: 'Mechanical keyboard' }).waitFor();
    await page.getByText(`Subtotal: ${state.price}`).waitFor();
    await screenshot(page, 'cart');
    await page.getByRole('button', { name: 'Check out' }).click();
    await page.waitForURL(/\/orders\/[^/]+$/);
    await page.getByRole('heading', { name: /^Order / }).waitFor();
    state.order = page.url().split('/').pop();
    await screenshot(page, 'order-pending');
  });

  step('pays with the test card', async () => {
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByText('Payment accepted. Thank you!').waitFor();
    await screenshot(page, 'payment-accepted');
    // The payments service tells the orders service; the order is paid once it has.
    const deadline = Date.now() + STEP_TIMEOUT;
    while ((await page.locator('#order-status').textContent()) !== 'paid') {
      assert.ok(Date.now() < deadline, 'the order did not become paid');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await page.reload();
      await page.locator('#order-status').waitFor();
    }
    await screenshot(page, 'order-paid');
  });

  step('sees the order on the dashboard', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Recent orders' }).waitFor();
    await page.getByRole('link', { name: `Order ${state.order!.slice(-8)}` }).waitFor();
    await screenshot(page, 'dashboard');
  });

  step('a phone-sized screen keeps its layout', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      const small = await phone.newPage();
      small.setDefaultTimeout(STEP_TIMEOUT);
      for (const [path, name] of [
        ['/products', 'phone-catalog'],
        [new URL(state.productUrl!).pathname, 'phone-product'],
      ] as const) {
        await small.goto(`${CONSOLE}${path}`);
        await small.locator('h1').waitFor();
        const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 390px`);
        await screenshot(small, name);
      }
    } finally {
      await phone.close();
    }
    // The signed-in pages too, in the customer's own window narrowed to a phone's width.
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, name] of [
        [`/orders/${state.order}`, 'phone-order'],
        ['/dashboard', 'phone-dashboard'],
      ] as const) {
        await page.goto(`${CONSOLE}${path}`);
        await page.locator('h1').waitFor();
        await page.locator('table').first().waitFor();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 390px`);
        await screenshot(page, name);
      }
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
    }
  });

  step('works with the keyboard alone', async () => {
    await page.goto(`${CONSOLE}/products`);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    // The skip link moves the user into the page; it must not reload the view under them.
    let reloads = 0;
    const count = (request: { url(): string }) => {
      if (request.url().includes('/api/v1/products')) reloads++;
    };
    page.on('request', count);
    await page.keyboard.press('Enter');
    await page.waitForURL(/#main$/);
    // Tab on to the search box and search without the mouse.
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.id === 'q')) break;
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'q', 'Tab reaches the search box');
    page.off('request', count);
    assert.equal(reloads, 0, 'following the skip link fetched nothing');
    await page.keyboard.type('refactoring');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Refactoring' }).waitFor();
  });

  step('the customer signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    // RP-initiated logout: the provider asks to confirm ending its session too.
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL((url) => url.origin === CONSOLE);
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'signed-out');
    const session = await page.evaluate(() => fetch('/api/session').then((r) => r.json()));
    assert.equal(session.authenticated, false);
  });

  step('an admin changes a price; an open customer page shows it without a reload', async () => {
    await page.goto(state.productUrl!);
    await page.locator('h1', { hasText: 'Mechanical keyboard' }).waitFor();
    await page.waitForFunction(() => document.body.dataset.live === 'on');
    const marker = await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'still the same page';
      return 'still the same page';
    });

    // A price the product cannot have had yet, so the change is visible.
    const newPrice = (100 + Math.floor(Math.random() * 90_000) / 1000).toFixed(2);
    state.newPrice = newPrice;
    adminContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    adminContext.setDefaultTimeout(STEP_TIMEOUT);
    admin = await adminContext.newPage();
    await admin.goto(`${CONSOLE}/login?return_to=${encodeURIComponent(new URL(state.productUrl!).pathname)}`);
    await signInAtProvider(admin, 'admin');
    await admin.locator('h1', { hasText: 'Mechanical keyboard' }).waitFor();
    // Admins get the write actions too, from the same hypermedia.
    for (const name of ['Add to cart', 'Mark out of stock', 'Edit', 'Delete'])
      await admin.getByRole('button', { name }).waitFor();
    await screenshot(admin, 'admin-product');
    await admin.getByRole('button', { name: 'Edit' }).click();
    await admin.getByLabel('Price').fill('0');
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByRole('alert').filter({ hasText: /price/i }).waitFor();
    await screenshot(admin, 'admin-invalid-price');
    await admin.getByLabel('Price').fill(newPrice);
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByText('Saved.').waitFor();
    await screenshot(admin, 'admin-saved');

    await page.locator(`[data-price-for="${state.product}"]`, { hasText: `$${newPrice}` }).waitFor();
    await page.getByText(`The price is now $${newPrice}.`).waitFor();
    assert.equal(
      await page.evaluate(() => (window as unknown as { marker: string }).marker),
      marker,
      'no reload',
    );
    await screenshot(page, 'customer-sees-new-price');

    // Stock too, and the buttons follow: out of stock, the product offers no add_to_cart.
    await admin.getByRole('button', { name: 'Mark out of stock' }).click();
    await admin.getByRole('button', { name: 'Mark in stock' }).waitFor();
    await admin.getByText('Marked out of stock.').waitFor();
    await page.locator(`[data-stock-for="${state.product}"]`, { hasText: 'Out of stock' }).waitFor();
    await page.getByText('Now out of stock.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add to cart' }).count(), 0);
    await screenshot(page, 'customer-sees-out-of-stock');
    await admin.getByRole('button', { name: 'Mark in stock' }).click();
    await admin.getByRole('button', { name: 'Mark out of stock' }).waitFor();
    await admin.getByText('Marked in stock.').waitFor();
    await page.getByRole('button', { name: 'Add to cart' }).waitFor();
    assert.equal(
      await page.evaluate(() => (window as unknown as { marker: string }).marker),
      marker,
      'still no reload',
    );
  });

  step('the admin creates a product, and deletes it', async () => {
    assert.ok(admin, 'the admin signed in in the step before');
    await admin.getByRole('link', { name: 'New product' }).click();
    await admin.getByRole('heading', { name: 'New product' }).waitFor();
    await admin.getByLabel('Name').fill('E2E test lamp');
    await admin.getByLabel('Description').fill('Made by the browser test');
    await admin.getByLabel('Price').fill('12.50');
    await admin.locator('#p-category option').first().waitFor({ state: 'attached' });
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.locator('h1', { hasText: 'E2E test lamp' }).waitFor();
    await admin.getByText('$12.50').waitFor();
    await screenshot(admin, 'admin-created');
    admin.once('dialog', (dialog) => void dialog.accept());
    await admin.getByRole('button', { name: 'Delete' }).click();
    await admin.getByText('“E2E test lamp” was deleted.').waitFor();
    await admin.getByRole('heading', { name: 'Catalog' }).waitFor();
    await screenshot(admin, 'admin-deleted');
  });

  step('a second start keeps the data of the first, and the admin stays signed in', async () => {
    if (process.env.PORTICO_E2E_DATA_DIR) return; // not ours to restart
    assert.ok(admin);
    await stopPlatform();
    const ms = await startPlatform();
    console.log(`platform ready in ${ms} ms (spawn to banner, second start on the same data)`);
    await admin.goto(state.productUrl!);
    await admin.locator('h1', { hasText: 'Mechanical keyboard' }).waitFor();
    await admin.getByText('Signed in as Portico Admin').waitFor();
    await admin.locator(`[data-price-for="${state.product}"]`, { hasText: `$${state.newPrice}` }).waitFor();
    // The session's token still verifies: the signing keys were kept too.
    await admin.getByRole('link', { name: 'Cart' }).click();
    await admin.getByText('Your cart is empty.').waitFor();
    await screenshot(admin, 'after-restart');
  });
});
