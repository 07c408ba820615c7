/**
 * The console's user, Clients and Signing keys pages in a real browser (Debian's chromium,
 * playwright-core), through the gateway's identity-admin route to a real identity service:
 * an admin opens a user's page, sees her session and grant (client, scopes) and revokes the
 * grant, changes her roles (a bad role refused); makes a client (a bad redirect URI refused with the field named, then a good one,
 * the secret shown once), gives it a new secret, disables it, edits its redirect URIs (a bad
 * one refused with the field named) and enables it again; sees which key signs, rotates
 * it, sees the new key published and from when it signs, and (reloading) that it signs, no restart; finds it all in the audit log.
 * Screenshots go to test-results/admin-clients-keys/. Admin writes need no two-step sign-in
 * here (`admin.requireMfa` off): identity-e2e.test.ts covers the step-up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { browserSuite, skip } from './support/platform.ts';

describe('clients and signing keys on the console, in chromium', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-console-keys-'));
  const suite = browserSuite(databaseTargets()[0]!(), {
    folder: 'admin-clients-keys',
    pages: ['admin'],
    viewport: { width: 1200, height: 900 },
    identity: {
      keysFile: join(dir, 'keys.json'),
      keyRotation: { activationDelaySeconds: 3, reloadSeconds: 1 },
      admin: { requireMfa: false },
    },
  });
  const screenshot = (name: string) => suite.screenshot(suite.pages.admin, name);
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("revoke a user's grant; make a client, new secret, disable, edit, enable; rotate the signing key; all in the audit log", () =>
    suite.run(journey));

  async function journey() {
    const { admin } = suite.pages;
    const { idp } = suite.platform;
    await suite.signIn(admin, 'admin');
    // alice signs in to the console in a browser of her own: a session and a grant at identity.
    const alice = await (await suite.browser.newContext()).newPage();
    await suite.signIn(alice, 'alice');
    await alice.context().close();

    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('heading', { name: 'Users' }).waitFor();
    await admin.getByRole('link', { name: 'alice', exact: true }).click();
    await admin.getByRole('heading', { name: 'User alice' }).waitFor();
    const grants = admin.getByRole('table', { name: 'What alice let each client do' });
    const grant = grants.getByRole('row').filter({ hasText: 'Portico console (portico-web)' });
    assert.equal(await grant.count(), 1);
    assert.match((await grant.textContent())!, /openid/);
    assert.equal(
      await admin.getByRole('table', { name: 'Browser sessions of alice' }).getByRole('row').count(),
      2,
      'a header and her one session',
    );
    await screenshot('user-grants');
    await grant.getByRole('button', { name: /^Revoke the grant to Portico console/ }).click();
    await admin.getByText(/The grant to Portico console \(portico-web\) was revoked/).waitFor();
    await admin.getByText('No live grants.').waitFor();
    await screenshot('user-grant-revoked');

    const roles = admin.getByRole('form', { name: 'Roles of alice' });
    await roles.getByLabel(/^Roles/).fill('customer Support!');
    await roles.getByRole('button', { name: 'Save roles' }).click();
    await roles.getByRole('alert').filter({ hasText: /roles/ }).waitFor();
    await roles.getByLabel(/^Roles/).fill('customer support');
    await roles.getByRole('button', { name: 'Save roles' }).click();
    await admin.getByText('alice has the roles customer, support from their next token refresh.').waitFor();
    await admin.getByText('customer, support', { exact: true }).waitFor();

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

    await admin.getByRole('link', { name: `Edit ${clientId}` }).click();
    const edit = admin.getByRole('form', { name: `Edit ${clientId}` });
    await edit
      .getByLabel(/^Redirect URIs/)
      .fill('https://shop.example.com/callback\nhttp://shop.example.com/cb');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByRole('alert').filter({ hasText: 'redirect_uris[1]' }).waitFor();
    await edit.getByLabel('Name').fill('Shop back office (new)');
    await edit.getByLabel(/^Redirect URIs/).fill('https://shop.example.com/new-callback');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await admin.getByText(`${clientId} was changed.`).waitFor();
    const edited = admin.getByRole('row').filter({ hasText: clientId });
    await edited.getByRole('cell', { name: 'https://shop.example.com/new-callback' }).waitFor();
    await edited.getByRole('cell', { name: 'Shop back office (new)' }).waitFor();
    await admin.getByRole('button', { name: `Enable ${clientId}` }).click();
    await admin.getByText(`${clientId} was enabled.`).waitFor();
    await edited.getByRole('cell', { name: 'Active' }).waitFor();
    assert.equal((await introspect(second)).status, 200, 'enabled, it authenticates again');
    await screenshot('client-edited-enabled');

    await admin.getByRole('link', { name: 'Signing keys' }).click();
    await admin.getByRole('heading', { name: 'Signing keys' }).waitFor();
    assert.equal(await admin.getByRole('cell', { name: 'Signs now' }).count(), 1);
    const before = (await admin.getByText(/^Tokens are signed now with key /).textContent())!;
    await admin.getByRole('button', { name: 'Rotate signing key' }).click();
    await admin.getByText(/was added and is published\. It signs from /).waitFor();
    await admin.getByRole('cell', { name: /^Signs from / }).waitFor();
    assert.equal(await admin.getByRole('cell', { name: 'Signs now' }).count(), 1);
    await screenshot('key-rotated');
    // After its grace period the new key signs, without a restart: the page says so on reload.
    const added = (await admin.getByText(/^Key \S+ was added/).textContent())!.split(' ')[1]!;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await admin.reload();
      await admin.getByRole('heading', { name: 'Signing keys' }).waitFor();
      if ((await admin.getByText(/^Tokens are signed now with key /).textContent())!.includes(added)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.notEqual(await admin.getByText(/^Tokens are signed now with key /).textContent(), before);
    assert.match(
      (await admin.getByText(/^Tokens are signed now with key /).textContent())!,
      new RegExp(added),
    );
    await screenshot('key-signing');

    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
    // The page adds the account's name to a user action: `user.roles (alice)`.
    for (const action of [
      'user.grant_revoke',
      'user.roles',
      'client.create',
      'client.secret_rotate',
      'client.disable',
      'client.update',
      'client.enable',
      'key.rotate',
    ])
      await admin
        .getByRole('cell', { name: new RegExp(`^${action.replace('.', '\\.')}( \\(|$)`) })
        .first()
        .waitFor();
    await screenshot('audit');

    // The sign-in ends under the open page: the typed client's 401 problems read as an expired sign-in.
    await admin.getByRole('link', { name: 'Signing keys' }).click();
    await admin.getByRole('heading', { name: 'Signing keys' }).waitFor();
    await admin.context().clearCookies();
    await admin.getByRole('button', { name: 'Rotate signing key' }).click();
    await admin.getByText('Your sign-in has expired. Sign in again to continue.').waitFor();
    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin
      .getByRole('alert')
      .filter({ hasText: 'Your sign-in has expired. Sign in again to continue.' })
      .waitFor();
    await screenshot('signed-out-under-the-page');
  }
});
