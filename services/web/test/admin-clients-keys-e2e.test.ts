/**
 * The console's Clients and Signing keys pages in a real browser (Debian's chromium,
 * playwright-core), through the gateway's identity-admin route to a real identity service:
 * an admin makes a client (a bad redirect URI refused with the field named, then a good one,
 * the secret shown once), gives it a new secret, disables it; sees which key signs, rotates
 * it and sees the new key waiting for a restart; finds it all in the audit log.
 * Screenshots go to test-results/admin-clients-keys/. Admin writes need no two-step sign-in
 * here (`admin.requireMfa` off): identity-e2e.test.ts covers the step-up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import type { Browser, Page } from 'playwright-core';
import type { RunningIdentity } from './support/harness.ts';
import {
  launchChromium,
  newPage,
  type Platform,
  screenshots,
  signInWithPassword,
  skip,
  startPlatform,
} from './support/platform.ts';

describe('clients and signing keys on the console, in chromium', { skip }, () => {
  const target = databaseTargets()[0]!();
  const dir = mkdtempSync(join(tmpdir(), 'portico-console-keys-'));
  let platform: Platform;
  let idp: RunningIdentity;
  let consoleUrl: string;
  let browser: Browser;
  let admin: Page;
  const shoot = screenshots('admin-clients-keys');
  const screenshot = (name: string) => shoot(admin, name);

  before(async () => {
    platform = await startPlatform(target, {
      identity: { keysFile: join(dir, 'keys.json'), admin: { requireMfa: false } },
    });
    ({ idp, consoleUrl } = platform);
    browser = await launchChromium();
    admin = await newPage(browser, { width: 1200, height: 900 });
  });

  after(async () => {
    await browser?.close();
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('make a client, new secret, disable; rotate the signing key; all in the audit log', async () => {
    try {
      await journey();
    } catch (err) {
      await screenshot('FAILED').catch(() => {});
      throw err;
    }
  });

  async function journey() {
    await signInWithPassword(admin, consoleUrl, 'admin', idp.password('admin'));
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('heading', { name: 'Users' }).waitFor();

    await admin.getByRole('link', { name: 'Clients' }).click();
    await admin.getByRole('heading', { name: 'Clients' }).waitFor();
    await admin.getByRole('cell', { name: 'portico-web' }).waitFor();
    await admin.getByLabel('Name').fill('Shop back office');
    await admin.getByLabel(/^Redirect URIs/).fill('http://shop.example.com/callback');
    await admin.getByRole('button', { name: 'Make client' }).click();
    await admin.getByRole('alert').filter({ hasText: 'redirect_uris[0]' }).waitFor();
    await screenshot('client-bad-redirect');

    await admin
      .getByLabel(/^Redirect URIs/)
      .fill('https://shop.example.com/callback\nhttp://localhost:4000/cb');
    await admin.getByRole('button', { name: 'Make client' }).click();
    await admin.getByText(/Copy it now: it is not shown again/).waitFor();
    const first = (await admin.locator('pre.secret').textContent())!.trim();
    assert.ok(first.length >= 40, first);
    const clientId = (await admin.getByText(/^Client client-\S+ was made\.$/).textContent())!.split(' ')[1]!;
    const row = admin.getByRole('row').filter({ hasText: clientId });
    await row.getByRole('cell', { name: 'Active' }).waitFor();
    assert.match(
      (await row.textContent())!,
      /https:\/\/shop\.example\.com\/callback http:\/\/localhost:4000\/cb/,
    );
    await screenshot('client-made');

    await admin.getByRole('button', { name: `New secret for ${clientId}` }).click();
    await admin.getByText(/the old one no longer works/).waitFor();
    const second = (await admin.locator('pre.secret').textContent())!.trim();
    assert.notEqual(second, first);
    // The provider takes the new secret and refuses the old one.
    const introspect = (secret: string) =>
      fetch(`${idp.issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'token=none',
      });
    assert.equal((await introspect(second)).status, 200);
    assert.equal((await introspect(first)).status, 401);

    await admin.getByRole('button', { name: `Disable ${clientId}` }).click();
    await admin.getByText(`${clientId} was disabled.`).waitFor();
    await admin
      .getByRole('row')
      .filter({ hasText: clientId })
      .getByRole('cell', { name: 'Disabled' })
      .waitFor();
    assert.equal(await admin.getByRole('button', { name: `Disable ${clientId}` }).count(), 0);
    assert.equal((await introspect(second)).status, 401);
    await screenshot('client-disabled');

    await admin.getByRole('link', { name: 'Signing keys' }).click();
    await admin.getByRole('heading', { name: 'Signing keys' }).waitFor();
    assert.equal(await admin.getByRole('cell', { name: 'Signs now' }).count(), 1);
    await admin.getByRole('button', { name: 'Rotate signing key' }).click();
    await admin.getByText(/It signs once the identity service restarts/).waitFor();
    await admin.getByRole('cell', { name: 'Signs from the next restart' }).waitFor();
    await admin.getByText(/A newer key is waiting/).waitFor();
    assert.equal(await admin.getByRole('cell', { name: 'Signs now' }).count(), 1);
    await screenshot('key-rotated');

    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
    for (const action of ['client.create', 'client.secret_rotate', 'client.disable', 'key.rotate'])
      await admin.getByRole('cell', { name: action, exact: true }).first().waitFor();
    await screenshot('audit');
  }
});
