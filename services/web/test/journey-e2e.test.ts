/**
 * The closing journey of "identity for real users", in one real browser (Debian's chromium,
 * playwright-core, the DevTools virtual authenticator) against the platform on free ports:
 * identity, users, catalog, orders, the gateway on its embedded routes, and the console.
 * A new visitor signs up from the console's sign-in, confirms the address from the mail in
 * the development mailbox, signs in with the password, adds a passkey from the console's
 * link, signs out, signs in with the passkey alone (multi-factor), orders from the catalog
 * through the gateway, and names and removes the passkey on the sign-in methods page (a
 * passkey opens it; a wrong password removes nothing). An admin then disables the account on the console's Users
 * page, and the visitor's next API call through the gateway is refused within seconds with
 * a problem+json 401. The issuer is http://localhost:<port>: WebAuthn wants a domain as RP ID.
 * Admin writes need no two-step sign-in here (identity-e2e.test.ts covers the step-up).
 * Screenshots go to test-results/journey-e2e/.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { addVirtualAuthenticator } from '@portico/browser-testing';
import { databaseTargets } from '@portico/store/testing';
import { obtainToken } from '../../identity/src/cli/token-flow.ts';
import { browserSuite, skip } from './support/platform.ts';

const EMAIL = 'ines@example.org';
const PASSWORD = 'heron lantern 2047';

describe('a new user’s journey, in chromium', { skip }, () => {
  const suite = browserSuite(databaseTargets()[0]!(), {
    folder: 'journey-e2e',
    pages: ['visitor', 'admin'],
    upstreams: ['users', 'catalog', 'orders'],
    issuerHost: 'localhost',
    identity: { admin: { requireMfa: false } },
  });
  const { pages, screenshot } = suite;

  before(() => addVirtualAuthenticator(pages.visitor));

  test('sign up, confirm, add a passkey, sign in with it, order; disabled, refused within seconds', () =>
    suite.run(journey));

  /** The confirmation link from the development mailbox, once the mail is there. */
  async function confirmationLink(): Promise<string> {
    const mailbox = suite.platform.idp.server.mailer.mailbox!;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const mail = mailbox.list({ to: EMAIL }).find((m) => /\/account\/verify\?token=/.test(m.text));
      if (mail) return /https?:\/\/\S+\/account\/verify\?token=[\w-]+/.exec(mail.text)![0];
      assert.ok(Date.now() < deadline, 'the confirmation mail arrives within 15 s');
      await sleep(50);
    }
  }

  /** What the console's API answers the visitor's browser, through the gateway. */
  const callApi = (path: string) =>
    pages.visitor.evaluate(async (p) => {
      const res = await fetch(p, { credentials: 'same-origin' });
      return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
    }, path);

  /** The username and password again, on the provider's account pages. */
  async function confirmItIsMe() {
    const { visitor } = pages;
    await visitor.getByLabel('Username').fill('ines');
    await visitor.getByLabel('Password').fill(PASSWORD);
    await visitor.getByRole('button', { name: 'Continue' }).click();
  }

  async function journey() {
    const { platform } = suite;
    const { visitor, admin } = suite.pages;
    const { consoleUrl } = platform;

    // A visitor signs up from the sign-in page the console sends them to.
    await visitor.goto(consoleUrl);
    await visitor.getByRole('link', { name: 'Sign in' }).click();
    await visitor.getByRole('link', { name: 'Create an account' }).click();
    await visitor.getByLabel('Username').fill('ines');
    await visitor.getByLabel('Your name').fill('Ines I');
    await visitor.getByLabel('Email').fill(EMAIL);
    await visitor.getByLabel('Password').fill(PASSWORD);
    await visitor.getByRole('button', { name: 'Create account' }).click();
    await visitor.getByRole('heading', { name: 'Check your email' }).waitFor();
    await screenshot(visitor, 'signed-up');

    // The link in the mail confirms the address.
    await visitor.goto(await confirmationLink());
    await visitor.getByRole('button', { name: 'Confirm my email address' }).click();
    await visitor.getByRole('heading', { name: 'Email confirmed' }).waitFor();
    // The same user's command-line client, holding its own access token (signed in with the
    // password while that is the only way in).
    const cliToken = (
      await obtainToken({
        issuer: platform.idp.issuer,
        clientId: 'portico-cli',
        redirectUri: 'http://127.0.0.1/callback',
        scope: 'openid orders:read',
        credentials: { username: 'ines', password: PASSWORD },
      })
    ).access_token;
    const gatewayOrders = () =>
      fetch(`${platform.gatewayUrl}/api/v1/orders`, { headers: { authorization: `Bearer ${cliToken}` } });
    assert.equal((await gatewayOrders()).status, 200);

    // Signed in to the console with the password, the visitor adds a passkey from its link.
    await suite.signIn(visitor, 'ines', PASSWORD);
    await visitor.getByText('Signed in as Ines I').waitFor();
    await visitor.getByRole('link', { name: 'Sign-in methods' }).click();
    await confirmItIsMe();
    await visitor.getByText('No passkeys.').waitFor();
    await visitor.getByRole('link', { name: 'Add a passkey' }).click();
    await confirmItIsMe();
    await visitor.getByRole('button', { name: 'Create a passkey' }).click();
    await visitor.locator('#passkey-added').waitFor();
    await screenshot(visitor, 'passkey-added');

    // Signed out of the console and of the provider.
    await visitor.goto(consoleUrl);
    await visitor.getByRole('button', { name: 'Sign out' }).click();
    await visitor.getByRole('button', { name: 'Yes, sign me out' }).click();
    await visitor.waitForURL((url) => url.origin === consoleUrl);
    await visitor.getByRole('link', { name: 'Sign in' }).waitFor();

    // Signed in again with the passkey alone: a multi-factor sign-in.
    await visitor.getByRole('link', { name: 'Sign in' }).click();
    await visitor.getByRole('button', { name: 'Use a passkey' }).click();
    await visitor.waitForURL((url) => url.origin === consoleUrl);
    await visitor.getByText('Signed in as Ines I').waitFor();
    await visitor.getByText('Two-step sign-in on').waitFor();
    const session = JSON.parse((await callApi('/api/session')).body);
    assert.deepEqual(session.user.amr, ['hwk', 'user', 'mfa']);
    await screenshot(visitor, 'signed-in-with-passkey');

    // An order from the catalog, through the gateway.
    const main = visitor.getByRole('navigation', { name: 'Main' });
    await main.getByRole('link', { name: 'Catalog' }).click();
    await visitor.getByRole('heading', { name: 'Catalog' }).waitFor();
    await visitor.locator('.card', { hasText: 'In stock' }).first().getByRole('link').click();
    await visitor.getByRole('button', { name: 'Add to cart' }).click();
    await visitor
      .getByRole('status')
      .filter({ hasText: /Added 1 × / })
      .waitFor();
    await main.getByRole('link', { name: 'Cart' }).click();
    await visitor.getByRole('button', { name: 'Check out' }).click();
    await visitor.getByText('Order placed. Pay for it below.').waitFor();
    const orderId = decodeURIComponent(new URL(visitor.url()).pathname.split('/').pop()!);
    await screenshot(visitor, 'order-placed');
    const orders = await callApi('/api/v1/orders');
    assert.equal(orders.status, 200, orders.body);
    assert.deepEqual(
      JSON.parse(orders.body).data.map((o: { id: string; status: string }) => [o.id, o.status]),
      [[orderId, 'pending']],
    );

    // The passkey is listed on the sign-in methods page, which a passkey (after the password)
    // opens; naming it and removing it take the password again: a wrong one changes nothing.
    await visitor.goto(consoleUrl);
    await visitor.getByRole('link', { name: 'Sign-in methods' }).click();
    await confirmItIsMe();
    await visitor.getByRole('heading', { name: 'Confirm with a passkey' }).waitFor();
    await visitor.getByRole('button', { name: 'Use a passkey' }).click();
    await visitor.getByRole('heading', { name: 'Your sign-in methods' }).waitFor();
    await visitor.getByRole('row', { name: /Passkey 1/ }).waitFor();
    await screenshot(visitor, 'sign-in-methods');
    await visitor.getByLabel('New name for Passkey 1').fill('This laptop');
    await visitor.getByLabel('Password').fill(PASSWORD);
    await visitor.getByRole('button', { name: 'Rename Passkey 1' }).click();
    await visitor.getByRole('row', { name: /This laptop/ }).waitFor();
    await visitor.getByLabel('Password').fill('not my password');
    await visitor.getByRole('button', { name: 'Remove This laptop' }).click();
    await visitor.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
    await visitor.getByRole('row', { name: /This laptop/ }).waitFor();
    await visitor.getByLabel('Password').fill(PASSWORD);
    await visitor.getByRole('button', { name: 'Remove This laptop' }).click();
    await visitor.getByText(/The passkey is removed/).waitFor();
    await visitor.getByText('No passkeys.').waitFor();
    await screenshot(visitor, 'passkey-removed');
    await visitor.goto(consoleUrl);
    await visitor.getByText('Signed in as Ines I').waitFor();

    // An admin disables the account on the console's Users page.
    await suite.signIn(admin, 'admin');
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await admin.getByLabel('Search users').fill('ines');
    await admin.getByRole('button', { name: 'Search' }).click();
    await admin.getByRole('button', { name: 'Disable ines' }).click();
    const disabledAt = performance.now();
    await admin.getByRole('button', { name: 'Enable ines' }).waitFor();
    await screenshot(admin, 'user-disabled');

    // The visitor's next API call through the gateway is refused within seconds: the console
    // is refused its token, cannot refresh it, and signs the browser out.
    let refused = await callApi('/api/v1/orders');
    while (refused.status !== 401 && performance.now() - disabledAt < 15_000) {
      await sleep(100);
      refused = await callApi('/api/v1/orders');
    }
    assert.equal(refused.status, 401, `refused within 15 s: ${refused.status} ${refused.body}`);
    assert.match(refused.type, /^application\/problem\+json/);
    const problem = JSON.parse(refused.body);
    assert.equal(problem.status, 401);
    assert.equal(typeof problem.title, 'string');
    assert.equal(problem.code, 'SESSION_EXPIRED');
    console.log(`disabled → refused through the gateway in ${Math.round(performance.now() - disabledAt)} ms`);
    assert.equal(JSON.parse((await callApi('/api/session')).body).authenticated, false);
    // The gateway itself refuses the token the user's other client holds.
    const direct = await gatewayOrders();
    assert.equal(direct.status, 401);
    assert.match(direct.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(direct.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.equal((await direct.json()).status, 401);
  }
});
