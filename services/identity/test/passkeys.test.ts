/**
 * Passkey refusals on real sockets, without a browser (the ceremonies themselves run in
 * chromium in passkeys-e2e.test.ts): the sign-in challenge is issued only for a live login
 * interaction and spent by the first answer; an unknown credential, a malformed answer or no
 * challenge at all get the login page with the reason and a 4xx; adding a passkey needs the
 * password (and the two-step code when that is on), and a forged registration is refused
 * and spends its form.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createBrowser } from '../src/cli/browser.ts';
import {
  atLoginForm,
  codeAt,
  codeOf,
  csrfOf,
  enrol,
  type RunningIdentity,
  startIdentity,
  storageTargets,
  ticketOf,
} from './support/harness.ts';

const optionsOf = (html: string) =>
  JSON.parse(
    /<script type="application\/json" id="passkey-options">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null',
  );
const b64url = (bytes: number) => randomBytes(bytes).toString('base64url');

/** A well-formed assertion from no authenticator this service knows. */
function strangerAssertion(challenge: string, origin: string) {
  const id = b64url(32);
  const clientData = { type: 'webauthn.get', challenge, origin, crossOrigin: false };
  return {
    id,
    rawId: id,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: Buffer.from(JSON.stringify(clientData)).toString('base64url'),
      authenticatorData: b64url(37),
      signature: b64url(70),
      userHandle: Buffer.from('someone').toString('base64url'),
    },
  };
}

for (const { name, target, overrides } of storageTargets()) {
  describe(`passkey refusals (${name})`, () => {
    let identity: RunningIdentity;

    before(async () => {
      identity = await startIdentity(target, { ...overrides, demoAccounts: true });
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
    });

    test('sign-in options are issued only for a live login interaction, as problem+json otherwise', async () => {
      const stranger = await fetch(new URL('/interaction/not-a-real-one/passkey/options', identity.issuer), {
        method: 'POST',
      });
      assert.equal(stranger.status, 400);
      assert.match(stranger.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal((await stranger.json()).code, 'INTERACTION_EXPIRED');

      const { browser, interaction } = await atLoginForm(identity.issuer);
      const page = await (await browser.request(interaction)).text();
      assert.match(
        page,
        /id="passkey-form"[^>]*hidden/,
        'the passkey button waits for the script to show it',
      );
      const issued = await browser.request(
        new URL(`${interaction.pathname}/passkey/options`, identity.issuer),
        {},
      );
      assert.equal(issued.status, 200);
      assert.equal(issued.headers.get('cache-control'), 'no-store');
      const options = await issued.json();
      assert.equal(options.rpId, new URL(identity.issuer).hostname);
      assert.equal(options.userVerification, 'required');
      assert.ok(
        !options.allowCredentials?.length,
        'any passkey of this site: the authenticator names the account',
      );
      assert.ok(Buffer.from(options.challenge, 'base64url').length >= 32);
    });

    test('an unknown credential is refused, and its challenge is spent with it', async () => {
      const { browser, interaction } = await atLoginForm(identity.issuer);
      const optionsUrl = new URL(`${interaction.pathname}/passkey/options`, identity.issuer);
      const signInUrl = new URL(`${interaction.pathname}/passkey`, identity.issuer);
      const { challenge } = await (await browser.request(optionsUrl, {})).json();
      const answer = JSON.stringify(strangerAssertion(challenge, new URL(identity.issuer).origin));

      const unknown = await browser.request(signInUrl, { response: answer });
      assert.equal(unknown.status, 401);
      assert.match(await unknown.text(), /role="alert"[^>]*>That passkey is not known here/);

      const again = await browser.request(signInUrl, { response: answer });
      assert.equal(again.status, 400);
      assert.match(await again.text(), /This passkey sign-in has expired/);

      await browser.request(optionsUrl, {});
      const malformed = await browser.request(signInUrl, { response: '{"id":' });
      assert.equal(malformed.status, 400);
      assert.match(await malformed.text(), /The browser did not send a passkey/);
    });

    test('an answer without an issued challenge is refused; the login page still signs in with a password', async () => {
      const { browser, interaction, loginUrl } = await atLoginForm(identity.issuer);
      const answer = strangerAssertion(b64url(32), new URL(identity.issuer).origin);
      const refused = await browser.request(new URL(`${interaction.pathname}/passkey`, identity.issuer), {
        response: JSON.stringify(answer),
      });
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /This passkey sign-in has expired/);
      const alice = identity.login('alice');
      const signedIn = await browser.request(loginUrl, alice);
      assert.equal(signedIn.status, 303);
    });

    test('adding a passkey needs the password, then a real authenticator; a forged answer spends the form', async () => {
      const alice = identity.login('alice');
      const browser = createBrowser();
      const start = new URL('/account/passkeys', identity.issuer);
      const form = await (await browser.request(start)).text();

      const wrong = await browser.request(start, {
        csrf: csrfOf(form),
        username: alice.username,
        password: 'nope',
      });
      const wrongHtml = await wrong.text();
      assert.equal(wrong.status, 401);
      assert.equal(codeOf(wrongHtml), 'WRONG_PASSWORD');

      const begun = await browser.request(start, { csrf: csrfOf(wrongHtml), ...alice });
      const page = await begun.text();
      assert.equal(begun.status, 200, page);
      assert.match(begun.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      const options = optionsOf(page);
      assert.equal(options.rp.id, new URL(identity.issuer).hostname);
      assert.equal(options.user.name, alice.username);
      assert.equal(options.authenticatorSelection.residentKey, 'required');
      assert.equal(options.authenticatorSelection.userVerification, 'required');

      const register = new URL('/account/passkeys/register', identity.issuer);
      const id = b64url(32);
      const forged = {
        id,
        rawId: id,
        type: 'public-key',
        clientExtensionResults: {},
        response: {
          clientDataJSON: Buffer.from(
            JSON.stringify({
              type: 'webauthn.create',
              challenge: options.challenge,
              origin: 'https://evil.example',
            }),
          ).toString('base64url'),
          attestationObject: b64url(64),
        },
      };
      const fields = { csrf: csrfOf(page), ticket: ticketOf(page), response: JSON.stringify(forged) };
      const refused = await browser.request(register, fields);
      const refusedHtml = await refused.text();
      assert.equal(refused.status, 400, refusedHtml);
      assert.equal(codeOf(refusedHtml), 'PASSKEY_NOT_ACCEPTED');

      const replayed = await browser.request(register, { ...fields, csrf: csrfOf(refusedHtml) });
      const replayedHtml = await replayed.text();
      assert.equal(replayed.status, 400);
      assert.equal(codeOf(replayedHtml), 'LINK_INVALID');

      const confirm = await browser.request(new URL('/account/passkeys/confirm', identity.issuer), {
        csrf: csrfOf(replayedHtml),
        ticket: b64url(32),
        response: JSON.stringify(strangerAssertion(b64url(32), new URL(identity.issuer).origin)),
      });
      assert.equal(confirm.status, 400);
      assert.equal(
        codeOf(await confirm.text()),
        'LINK_INVALID',
        'no confirmation without an issued challenge',
      );
    });

    test('with two-step sign-in on, the password alone does not add a passkey', async () => {
      const admin = identity.login('admin');
      const { secret } = await enrol(identity, admin);
      const browser = createBrowser();
      const start = new URL('/account/passkeys', identity.issuer);
      const form = await (await browser.request(start)).text();
      const passwordOnly = await browser.request(start, { csrf: csrfOf(form), ...admin });
      const html = await passwordOnly.text();
      assert.equal(passwordOnly.status, 401);
      assert.equal(codeOf(html), 'WRONG_CODE');
      const withCode = await browser.request(start, {
        csrf: csrfOf(html),
        ...admin,
        code: await codeAt(secret, 0),
      });
      assert.equal(withCode.status, 200);
      assert.ok(optionsOf(await withCode.text()).challenge);
    });
  });
}
