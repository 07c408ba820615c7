/**
 * Accounts and their administration in a real browser (Debian's chromium, playwright-core),
 * with every piece real and on its own free port: identity (with its development mailbox),
 * the gateway (the identity-admin route of gateway.yaml, and the users service), the users
 * service and the console. A visitor signs up on the provider's page; an admin finds the
 * confirmation mail on the console's Mailbox page; the visitor confirms, signs in to the
 * console and calls the API. The admin, signed in with a password only, may read but not
 * disable (admin writes need two-step sign-in): they turn it on from the console (QR key,
 * first code, recovery codes), step up from the refusal's link (password and code again),
 * disable the account on the Users page, and the visitor's next API call through the
 * gateway is refused within seconds.
 * Screenshots go to test-results/identity-e2e/.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { browserSuite, skip } from './support/platform.ts';

describe('accounts and their administration, in chromium', { skip }, () => {
  const suite = browserSuite(databaseTargets()[0]!(), {
    folder: 'identity-e2e',
    pages: ['visitor', 'admin'],
    upstreams: ['users'],
  });
  const { pages, screenshot } = suite;

  /** The authenticator app: the code of the step `offset` steps from now. */
  const totp = (secret: string, offset = 0) =>
    new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
      timestamp: Date.now() + offset * 30_000,
    });

  const apiStatus = (p: Page) =>
    p.evaluate(async () => (await fetch('/api/v1/users/me', { credentials: 'same-origin' })).status);

  test('sign up, confirm from the Mailbox page, use the API; disabled by an admin, refused within seconds', () =>
    suite.run(journey));

  async function journey() {
    const { visitor, admin } = pages;
    const { idp, consoleUrl } = suite.platform;
    // A visitor signs up from the provider's sign-in page.
    await visitor.goto(consoleUrl);
    await visitor.getByRole('link', { name: 'Sign in' }).click();
    await visitor.getByRole('link', { name: 'Create an account' }).click();
    await visitor.getByLabel('Username').fill('nora');
    await visitor.getByLabel('Your name').fill('Nora N');
    await visitor.getByLabel('Email').fill('nora@example.org');
    await visitor.getByLabel('Password').fill('password123');
    await visitor.getByRole('button', { name: 'Create account' }).click();
    await visitor.getByRole('alert').filter({ hasText: 'commonly used' }).waitFor();
    await screenshot(visitor, 'signup-weak-password');
    await visitor.getByLabel('Password').fill('pelican sunrise 88');
    await visitor.getByRole('button', { name: 'Create account' }).click();
    await visitor.getByRole('heading', { name: 'Check your email' }).waitFor();

    // The admin reads the confirmation mail on the console's Mailbox page.
    await suite.signIn(admin, 'admin');
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await admin.getByRole('heading', { name: 'Users' }).waitFor();
    await admin.getByRole('link', { name: 'Mailbox' }).click();
    const mail = admin.getByText(/to nora@example\.org · Confirm your email/);
    for (let i = 0; i < 100 && !(await mail.isVisible()); i++) {
      await admin.reload();
      await admin.getByRole('heading', { name: 'Mailbox' }).waitFor();
    }
    await mail.click();
    const link = await admin.getByRole('link', { name: /\/account\/verify\?token=/ }).getAttribute('href');
    await screenshot(admin, 'mailbox');
    assert.ok(link);

    // The visitor confirms and signs in to the console; the API answers through the gateway.
    await visitor.goto(link);
    await visitor.getByRole('button', { name: 'Confirm my email address' }).click();
    await visitor.getByRole('heading', { name: 'Email confirmed' }).waitFor();
    await suite.signIn(visitor, 'nora', 'pelican sunrise 88');
    await visitor.getByText('Signed in as Nora N').waitFor();
    assert.equal(await apiStatus(visitor), 200);
    await screenshot(visitor, 'signed-in');

    // Signed in with a password only, the admin may read but not disable.
    const findNora = async () => {
      await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await admin.getByLabel('Search users').fill('nora');
      await admin.getByRole('button', { name: 'Search' }).click();
    };
    await findNora();
    await admin.getByRole('button', { name: 'Disable nora' }).click();
    await admin.getByText(/needs a sign-in with two-step verification/).waitFor();
    await screenshot(admin, 'disable-needs-two-step');
    assert.equal(await apiStatus(visitor), 200);

    // The admin turns two-step sign-in on from the console: the provider's pages.
    await admin.getByRole('link', { name: 'Two-step sign-in' }).click();
    await admin.getByLabel('Username').fill('admin');
    await admin.getByLabel('Password').fill(idp.password('admin'));
    await admin.getByRole('button', { name: 'Continue' }).click();
    await admin.getByRole('img', { name: /QR code/ }).waitFor();
    const secret = (await admin.locator('#totp-secret').innerText()).replaceAll(' ', '');
    await screenshot(admin, 'two-step-qr');
    await admin.getByLabel('The six-digit code the app shows').fill(totp(secret));
    await admin.getByRole('button', { name: 'Turn on' }).click();
    await admin.getByRole('heading', { name: 'Two-step sign-in is on' }).waitFor();
    assert.equal(await admin.locator('#recovery-codes li').count(), 10);
    await screenshot(admin, 'two-step-recovery-codes');

    // Back in the console, the refusal offers to step up (RFC 9470): the provider asks for the
    // password again and then the code (the next step's: this one is spent), and the console
    // comes back to the Users page with a two-step sign-in.
    await admin.goto(`${consoleUrl}/admin/users?q=nora`);
    await admin.getByRole('button', { name: 'Disable nora' }).click();
    await admin.getByRole('link', { name: 'Sign in again with two-step verification' }).click();
    await admin.getByLabel('Username').fill('admin');
    await admin.getByLabel('Password').fill(idp.password('admin'));
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByLabel('Code from your authenticator app').fill(totp(secret, 1));
    await screenshot(admin, 'two-step-code');
    await admin.getByRole('button', { name: 'Continue' }).click();
    await admin.waitForURL((url) => url.origin === consoleUrl && url.pathname === '/admin/users');
    await admin.getByText('Two-step sign-in on').waitFor();

    // The admin disables the account; the visitor's next call is refused within seconds.
    await admin.getByRole('button', { name: 'Disable nora' }).click();
    const disabledAt = performance.now();
    await admin.getByRole('button', { name: 'Enable nora' }).waitFor();
    await screenshot(admin, 'users-disabled');
    let status = await apiStatus(visitor);
    while (status !== 401 && performance.now() - disabledAt < 10_000) status = await apiStatus(visitor);
    assert.equal(status, 401, 'refused within 10 s');
    console.log(`disabled → refused through the gateway in ${Math.round(performance.now() - disabledAt)} ms`);

    await admin.getByRole('link', { name: 'Audit log' }).click();
    await admin.getByRole('cell', { name: 'user.disable (nora)' }).waitFor();
    await screenshot(admin, 'audit-log');
  }
});
