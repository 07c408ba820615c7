/**
 * Two-step sign-in on real sockets: enrolment (QR code, first code, recovery codes shown
 * once), sign-in with a code and with a recovery code (each spent once), a replayed code
 * refused, code guesses throttled like passwords, `amr`/`acr` in the ID token and the
 * access token, and the admin API's writes refused without MFA (RFC 9470 step-up error)
 * and allowed with it, including the audited MFA reset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { type Browser, createBrowser, FlowError } from '../src/cli/browser.ts';
import {
  codeAt,
  codeOf,
  csrfOf,
  type Enrolled,
  enrol,
  pkce,
  type RunningIdentity,
  signInWeb,
  startIdentity,
  storageTargets,
  WEB,
  webClient,
} from './support/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not by types
type Json = any;

const MFA_ACR = 'urn:portico:acr:mfa';
const PASSWORD_ACR = 'urn:portico:acr:pwd';

for (const { name, target, overrides } of storageTargets()) {
  describe(`two-step sign-in (${name})`, () => {
    let identity: RunningIdentity;
    let alice: Enrolled;
    let admin: Enrolled;
    const api = (path: string, token: string | undefined, init: { method?: string; body?: unknown } = {}) =>
      fetch(new URL(path, identity.issuer), {
        method: init.method ?? 'GET',
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    const json = async (res: Response) => (await res.json()) as Json;
    /** The admin's token from a two-step sign-in with a recovery code (spends no time step). */
    const adminWithMfa = async () => {
      const code = admin.recoveryCodes.pop()!;
      const { tokens } = await signInWeb(identity.issuer, { ...identity.login('admin'), code: () => code });
      return tokens.access_token;
    };

    before(async () => {
      // Admin writes need MFA: the secure default, not set here. Every request comes from
      // 127.0.0.1, so the per-IP limit is raised; the per-account one is the default 5.
      identity = await startIdentity(target, { ...overrides, throttle: { maxFailuresPerIp: 1000 } });
      assert.equal(identity.config.admin.requireMfa, true);
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
    });

    test('enrol: re-authenticate, scan, confirm with a first code; the key is never shown again', async () => {
      const browser = createBrowser();
      const start = new URL('/account/two-step', identity.issuer);
      const form = await (await browser.request(start)).text();
      const wrongPassword = await browser.request(start, {
        csrf: csrfOf(form),
        username: 'alice',
        password: 'not the password',
      });
      assert.equal(wrongPassword.status, 401);
      assert.equal(codeOf(await wrongPassword.text()), 'WRONG_PASSWORD');

      alice = await enrol(identity, identity.login('alice'), browser);

      // Enrolled: a second enrolment is refused (an admin resets a lost authenticator).
      const again = await browser.request(start, { csrf: csrfOf(form), ...identity.login('alice') });
      const againHtml = await again.text();
      assert.equal(again.status, 409);
      assert.equal(codeOf(againHtml), 'SECOND_FACTOR_ALREADY_ON');
      assert.doesNotMatch(againHtml, /<svg/);
    });

    test('sign-in asks for the code after the password; amr and acr say both were used', async () => {
      await assert.rejects(signInWeb(identity.issuer, identity.login('alice')), (err: unknown) => {
        assert.ok(err instanceof FlowError);
        assert.match(err.message, /second factor/);
        return true;
      });

      const code = await codeAt(alice.secret, 0);
      const { tokens } = await signInWeb(identity.issuer, { ...identity.login('alice'), code: () => code });
      const id = tokens.claims()!;
      assert.deepEqual(id.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(id.acr, MFA_ACR);
      const access = decodeJwt(tokens.access_token);
      assert.deepEqual(access.amr, ['pwd', 'otp', 'mfa']);
      assert.equal(access.acr, MFA_ACR);
      // A refreshed access token still says how its user signed in.
      const refreshed = await client.refreshTokenGrant(
        await webClient(identity.issuer),
        tokens.refresh_token!,
      );
      assert.deepEqual(decodeJwt(refreshed.access_token).amr, ['pwd', 'otp', 'mfa']);

      // The same code again (RFC 6238 §5.2) is refused, even inside its window.
      await assert.rejects(
        signInWeb(identity.issuer, { ...identity.login('alice'), code: () => code }),
        (err: unknown) => err instanceof FlowError && err.status === 401,
      );
      // The next step's code is a new one: accepted.
      const next = await codeAt(alice.secret, 1);
      const again = await signInWeb(identity.issuer, { ...identity.login('alice'), code: () => next });
      assert.deepEqual(again.tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);

      const discovery = await json(
        await fetch(new URL('/.well-known/openid-configuration', identity.issuer)),
      );
      assert.deepEqual(discovery.acr_values_supported, [PASSWORD_ACR, MFA_ACR]);
    });

    test('a recovery code signs in once', async () => {
      const first = alice.recoveryCodes[0]!;
      const { tokens } = await signInWeb(identity.issuer, {
        ...identity.login('alice'),
        code: () => first.toUpperCase(),
      });
      assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);
      await assert.rejects(
        signInWeb(identity.issuer, { ...identity.login('alice'), code: () => first }),
        (err: unknown) => err instanceof FlowError && err.status === 401,
      );
    });

    test('admin writes need MFA: the RFC 9470 error without it, allowed with it; the reset is audited', async () => {
      const plain = (await signInWeb(identity.issuer, identity.login('admin'))).tokens;
      assert.deepEqual(plain.claims()!.amr, ['pwd']);
      assert.equal(plain.claims()!.acr, PASSWORD_ACR);
      assert.deepEqual(decodeJwt(plain.access_token).amr, ['pwd']);

      const found = await json(await api('/admin/users?q=alice', plain.access_token));
      const aliceId = found.data[0].id as string;
      assert.equal(
        (await api(`/admin/users/${aliceId}`, plain.access_token)).status,
        200,
        'reads need no MFA',
      );
      const refused = await api(`/admin/users/${aliceId}/mfa`, plain.access_token, { method: 'DELETE' });
      assert.equal(refused.status, 403);
      assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
      const problem = await json(refused);
      assert.equal(problem.code, 'INSUFFICIENT_USER_AUTHENTICATION');
      assert.equal(problem.type, 'https://portico.dev/problems/insufficient-user-authentication');
      const challenge = refused.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /error="insufficient_user_authentication"/);
      assert.ok(challenge.includes(`acr_values="${MFA_ACR}"`), challenge);
      const disable = await api(`/admin/users/${aliceId}/disable`, plain.access_token, { method: 'POST' });
      assert.equal(disable.status, 403, 'every write');

      admin = await enrol(identity, identity.login('admin'));
      const code = await codeAt(admin.secret, 0);
      const strong = (await signInWeb(identity.issuer, { ...identity.login('admin'), code: () => code }))
        .tokens.access_token;
      const before = await json(await api(`/admin/users/${aliceId}`, strong));
      assert.deepEqual(before.mfa, { totp: true, recovery_codes_left: 9, passkeys: 0 });
      assert.ok(!JSON.stringify(before).includes(alice.secret), 'the key is not readable back');
      const reset = await api(`/admin/users/${aliceId}/mfa`, strong, { method: 'DELETE' });
      assert.equal(reset.status, 204);
      const afterReset = await json(await api(`/admin/users/${aliceId}`, strong));
      assert.deepEqual(afterReset.mfa, { totp: false, recovery_codes_left: 0, passkeys: 0 });
      const audit = await json(await api(`/admin/audit?target=${aliceId}`, strong));
      const entry = audit.data.find((e: { action: string }) => e.action === 'user.mfa_reset');
      assert.ok(entry, 'the reset is in the audit log');
      assert.equal(entry.detail.removed, true);
      assert.equal(entry.actor, decodeJwt(strong).sub);
      const actions = audit.data.map((e: { action: string }) => e.action);
      assert.ok(actions.includes('account.second_factor_enrolled'));
      assert.ok(actions.includes('account.recovery_code_used'));

      // Password only again, and alice can enrol a new authenticator.
      const { tokens } = await signInWeb(identity.issuer, identity.login('alice'));
      assert.deepEqual(tokens.claims()!.amr, ['pwd']);
      const renewed = await enrol(identity, identity.login('alice'));
      assert.notEqual(renewed.secret, alice.secret);
      alice = renewed;
    });

    test('with two-step sign-in on, a password change needs the code too', async () => {
      const browser = createBrowser();
      const url = new URL('/account/password', identity.issuer);
      const change = async (fields: Record<string, string>) => {
        const form = await (await browser.request(url)).text();
        const res = await browser.request(url, {
          csrf: csrfOf(form),
          username: 'alice',
          current: identity.login('alice').password,
          password: 'lantern orchard sixty',
          ...fields,
        });
        return { status: res.status, html: await res.text() };
      };
      const withoutCode = await change({});
      assert.equal(withoutCode.status, 401);
      assert.equal(codeOf(withoutCode.html), 'WRONG_CODE');
      const changed = await change({ code: await codeAt(alice.secret, 1) });
      assert.equal(changed.status, 200, changed.html);
      assert.match(changed.html, /Password changed/);
      const code = alice.recoveryCodes[0]!;
      const { tokens } = await signInWeb(identity.issuer, {
        username: 'alice',
        password: 'lantern orchard sixty',
        code: () => code,
      });
      assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa']);
    });

    test('step-up: acr_values for MFA brings a password-only session back to the login page', async () => {
      const created = await api('/admin/users', await adminWithMfa(), {
        method: 'POST',
        body: { username: 'ursula', password: 'velvet canyon drum' },
      });
      assert.equal(created.status, 201);
      const ursula = { username: 'ursula', password: 'velvet canyon drum' };
      const browser = createBrowser();
      const config = await webClient(identity.issuer);
      const authorize = async (
        credentials: Parameters<Browser['authorize']>[2],
        extra: Record<string, string> = {},
      ) => {
        const p = await pkce();
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: WEB.redirect,
          scope: 'openid catalog:read',
          code_challenge: p.challenge,
          code_challenge_method: 'S256',
          state: p.state,
          ...extra,
        });
        const callback = await browser.authorize(url, WEB.redirect, credentials);
        const tokens = await client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: p.verifier,
          expectedState: p.state,
        });
        return tokens.claims()!;
      };
      // Signed in with a password (no authenticator yet): the session says so.
      assert.equal((await authorize(ursula)).acr, PASSWORD_ACR);
      const { secret } = await enrol(identity, ursula);
      // Without acr_values the session is reused as it is, without asking anything.
      assert.deepEqual((await authorize(undefined)).amr, ['pwd']);
      // Asking for the MFA class: the login page again, then the code.
      const stepUp = { acr_values: MFA_ACR };
      await assert.rejects(authorize(undefined, stepUp), (err: unknown) => {
        assert.ok(err instanceof FlowError);
        assert.match(err.message, /asks for a login/);
        return true;
      });
      const code = await codeAt(secret, 1);
      const claims = await authorize({ ...ursula, code: () => code }, stepUp);
      assert.equal(claims.acr, MFA_ACR);
      assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
      // The session is a two-factor one now: the same request needs nothing more.
      assert.equal((await authorize(undefined, stepUp)).acr, MFA_ACR);
    });

    test('code guesses count against the login throttle: past the limit the right code is refused too', async () => {
      const created = await api('/admin/users', await adminWithMfa(), {
        method: 'POST',
        body: { username: 'tess', password: 'granite harbour lamp' },
      });
      assert.equal(created.status, 201);
      const tess = { username: 'tess', password: 'granite harbour lamp' };
      const { secret } = await enrol(identity, tess);

      // The right password counts one attempt that stands until the code is right, each
      // wrong code one more: two sign-ins with a wrong code use 4 of the account's 5.
      const statuses: number[] = [];
      const attempt = async (code: () => string | Promise<string>) => {
        try {
          await signInWeb(identity.issuer, { ...tess, code });
          statuses.push(200);
        } catch (err) {
          statuses.push((err as FlowError).status);
        }
      };
      await attempt(() => '999999');
      await attempt(() => '999999');
      await attempt(() => codeAt(secret, 1));
      await attempt(() => codeAt(secret, 1));
      assert.deepEqual(statuses, [401, 401, 429, 429]);
    });
  });
}
