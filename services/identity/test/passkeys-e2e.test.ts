/**
 * Passkeys in a real browser (Debian's chromium, playwright-core) with the DevTools virtual
 * authenticator (CTAP2, platform, resident keys, user verification): sign in with a password,
 * add a passkey, sign out, sign in with the passkey alone — the ID and access tokens say
 * `hwk user mfa` — an assertion made for a challenge the server did not issue is refused, and
 * the password is then followed by the passkey as the second step (`pwd hwk user mfa`), adding another passkey takes an existing one after the password; an
 * admin's MFA reset removes the passkey, and the authenticator's is refused from then on.
 * WebAuthn wants a domain as RP ID, so the issuer is http://localhost:<port> (a secure context).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  addVirtualAuthenticator,
  chromiumMissing,
  launchChromium,
  skipOutsideCI,
} from '@portico/browser-testing';
import { freePort } from '@portico/http/testing';
import { databaseTargets } from '@portico/store/testing';
import * as jose from 'jose';
import * as client from 'openid-client';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import {
  API_SCOPES,
  cliClient,
  codeAt,
  enrol,
  pkce,
  type RunningIdentity,
  signInWeb,
  startIdentity,
} from './support/harness.ts';

const skip = skipOutsideCI(chromiumMissing);

describe('passkeys, in chromium with a virtual authenticator', { skip }, () => {
  const target = databaseTargets()[0]!();
  let identity: RunningIdentity;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  let callbackServer: Server;
  let redirect: string;

  before(async () => {
    const port = await freePort();
    identity = await startIdentity(target, { port, issuer: `http://localhost:${port}`, demoAccounts: true });
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(15_000);

    // The token CLI's loopback redirect (any port, RFC 8252 §7.3): a real listener that answers a page.
    callbackServer = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>callback</p>'),
    );
    await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
    redirect = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
    ({ cdp, authenticatorId } = await addVirtualAuthenticator(page));
  });

  after(async () => {
    await browser?.close();
    callbackServer?.close();
    await identity?.close();
    await target.cleanup();
  });

  /** Starts an authorization request as the web client; `signIn` gets the page to the callback. */
  async function authorize(signIn: () => Promise<void>) {
    const config = await cliClient(identity.issuer);
    const p = await pkce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect,
      scope: `openid profile ${API_SCOPES}`,
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
      state: p.state,
      nonce: p.nonce,
    });
    await page.goto(url.href);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const callback = page.waitForRequest((r) => r.url().startsWith(redirect));
    await signIn();
    const tokens = await client.authorizationCodeGrant(config, new URL((await callback).url()), {
      pkceCodeVerifier: p.verifier,
      expectedState: p.state,
      expectedNonce: p.nonce,
    });
    await page.waitForURL((u) => u.href.startsWith(redirect));
    return { idToken: tokens.claims()!, accessToken: jose.decodeJwt(tokens.access_token) };
  }

  test('add a passkey after a password sign-in, sign out, sign in with the passkey alone', async () => {
    const alice = identity.login('alice');

    const withPassword = await authorize(async () => {
      await page.getByLabel('Username').fill(alice.username);
      await page.getByLabel('Password').fill(alice.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    });
    assert.deepEqual(withPassword.idToken.amr, ['pwd']);

    await page.goto(new URL('/account/passkeys', identity.issuer).href);
    await page.getByLabel('Username').fill(alice.username);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Create a passkey' }).click();
    await page.locator('#passkey-added').waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]!.isResidentCredential, true, 'a discoverable credential');
    assert.equal(credentials[0]!.rpId, 'localhost');

    await page.goto(new URL('/session/end', identity.issuer).href);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();

    const withPasskey = await authorize(async () => {
      await page.getByRole('button', { name: 'Use a passkey' }).click();
    });
    assert.equal(withPasskey.idToken.sub, withPassword.idToken.sub);
    assert.deepEqual(withPasskey.idToken.amr, ['hwk', 'user', 'mfa']);
    assert.equal(withPasskey.idToken.acr, 'urn:portico:acr:mfa');
    assert.deepEqual(withPasskey.accessToken.amr, ['hwk', 'user', 'mfa']);
    assert.equal(withPasskey.accessToken.acr, 'urn:portico:acr:mfa');
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.ok(
      after.credentials[0]!.signCount > credentials[0]!.signCount,
      'the authenticator signed once more',
    );
  });

  test('an assertion for a challenge the server did not issue is refused on the login page', async () => {
    await page.goto(new URL('/session/end', identity.issuer).href);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    const config = await cliClient(identity.issuer);
    const p = await pkce();
    await page.goto(
      client.buildAuthorizationUrl(config, {
        redirect_uri: redirect,
        scope: 'openid',
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
        state: p.state,
      }).href,
    );
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The server's challenge is issued (and kept for this interaction); the authenticator is
    // asked to sign another one, as a phishing page relaying an old answer would.
    await page.evaluate(async () => {
      const form = document.getElementById('passkey-form') as HTMLFormElement;
      const issued = await fetch(form.dataset.options!, { method: 'POST' });
      if (!issued.ok) throw new Error(`options ${issued.status}`);
      const webauthn = (
        window as unknown as { SimpleWebAuthnBrowser: typeof import('@simplewebauthn/browser') }
      ).SimpleWebAuthnBrowser;
      const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
        .replaceAll('+', '-')
        .replaceAll('/', '_')
        .replaceAll('=', '');
      const answer = await webauthn.startAuthentication({
        optionsJSON: { challenge: other, rpId: 'localhost', userVerification: 'required' },
      });
      (form.elements.namedItem('response') as HTMLInputElement).value = JSON.stringify(answer);
      form.submit();
    });
    await page.getByRole('alert').filter({ hasText: 'could not be checked' }).waitFor();
    assert.match(page.url(), /\/interaction\/[^/]+\/passkey$/);
  });

  test('after the password, the passkey is the second step (instead of a code)', async () => {
    // A browser without a session; the passkey stays on the authenticator.
    await context.clearCookies();
    const alice = identity.login('alice');
    const twoStep = await authorize(async () => {
      await page.getByLabel('Username').fill(alice.username);
      await page.getByLabel('Password').fill(alice.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Two-step sign-in' }).waitFor();
      assert.equal(await page.getByLabel('Code from your authenticator app').count(), 0, 'alice has no app');
      await page.getByRole('button', { name: 'Use a passkey' }).click();
    });
    assert.deepEqual(twoStep.idToken.amr, ['pwd', 'hwk', 'user', 'mfa']);
    assert.equal(twoStep.idToken.acr, 'urn:portico:acr:mfa');
    assert.deepEqual(twoStep.accessToken.amr, ['pwd', 'hwk', 'user', 'mfa']);
  });

  test('with a passkey and no app, adding another needs one of the account’s passkeys after the password', async () => {
    const alice = identity.login('alice');
    await page.goto(new URL('/account/passkeys', identity.issuer).href);
    await page.getByLabel('Username').fill(alice.username);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Confirm with a passkey' }).waitFor();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
    const options = JSON.parse((await page.locator('#passkey-options').textContent()) ?? 'null');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.deepEqual(
      options.excludeCredentials.map((c: { id: string }) => c.id),
      credentials.map((c) => Buffer.from(c.credentialId, 'base64').toString('base64url')),
      'the authenticator is told which passkey it holds already',
    );

    // Nor does the password alone add an authenticator app beside the passkey.
    await page.goto(new URL('/account/two-step', identity.issuer).href);
    await page.getByLabel('Username').fill(alice.username);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('[data-code="SECOND_FACTOR_ALREADY_ON"]').waitFor();
  });

  test('an admin’s MFA reset removes the passkeys: the authenticator’s passkey is then refused', async () => {
    const adminLogin = identity.login('admin');
    const { secret } = await enrol(identity, adminLogin);
    const code = await codeAt(secret, 0);
    const token = (await signInWeb(identity.issuer, { ...adminLogin, code: () => code })).tokens.access_token;
    const api = (path: string, method = 'GET') =>
      fetch(new URL(path, identity.issuer), { method, headers: { authorization: `Bearer ${token}` } });
    const aliceId = (await (await api('/admin/users?q=alice')).json()).data[0].id as string;
    assert.deepEqual((await (await api(`/admin/users/${aliceId}`)).json()).mfa, {
      totp: false,
      recovery_codes_left: 0,
      passkeys: 1,
    });
    assert.equal((await api(`/admin/users/${aliceId}/mfa`, 'DELETE')).status, 204);
    assert.equal((await (await api(`/admin/users/${aliceId}`)).json()).mfa.passkeys, 0);
    const audit = await (await api(`/admin/audit?target=${aliceId}`)).json();
    const actions = audit.data.map((e: { action: string }) => e.action);
    assert.ok(
      actions.includes('account.passkey_added') && actions.includes('user.mfa_reset'),
      actions.join(),
    );

    await context.clearCookies();
    const config = await cliClient(identity.issuer);
    const p = await pkce();
    await page.goto(
      client.buildAuthorizationUrl(config, {
        redirect_uri: redirect,
        scope: 'openid',
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
        state: p.state,
      }).href,
    );
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('alert').filter({ hasText: 'That passkey is not known here' }).waitFor();
  });
});
