/**
 * RFC 9700 (OAuth 2.0 Security Best Current Practice) for an authorization server,
 * checked over plain HTTP so each request says exactly what an attacker would send.
 */
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { createBrowser } from '../src/cli/browser.ts';
import {
  API_SCOPES,
  pkce,
  type RunningIdentity,
  startIdentity,
  storageTargets,
  WEB,
} from './support/harness.ts';

const basic = `Basic ${Buffer.from(`${WEB.id}:${WEB.secret}`).toString('base64')}`;

function authorizeUrl(issuer: string, params: Record<string, string>): URL {
  const url = new URL('/auth', issuer);
  for (const [k, v] of Object.entries({
    client_id: WEB.id,
    response_type: 'code',
    scope: `openid ${API_SCOPES}`,
    redirect_uri: WEB.redirect,
    state: 'xyz',
    ...params,
  })) {
    if (v !== '') url.searchParams.set(k, v);
  }
  return url;
}

async function token(issuer: string, form: Record<string, string>) {
  const response = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { response, body: (await response.json()) as Record<string, string> };
}

for (const { name, target, overrides } of storageTargets()) {
  describe(`RFC 9700 checks (${name})`, () => {
    let identity: RunningIdentity;

    before(async () => {
      identity = await startIdentity(target, overrides);
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
    });

    async function code(extra: Record<string, string> = {}, scope = `openid offline_access ${API_SCOPES}`) {
      const p = await pkce();
      const callback = await createBrowser().authorize(
        authorizeUrl(identity.issuer, {
          code_challenge: p.challenge,
          code_challenge_method: 'S256',
          scope,
          prompt: 'consent',
          ...extra,
        }),
        WEB.redirect,
        identity.login('alice'),
      );
      const value = callback.searchParams.get('code');
      assert.ok(value, `no code in ${callback}`);
      return { code: value, verifier: p.verifier };
    }

    test('redirect URIs are matched exactly: no prefix, suffix, query or case variants', async () => {
      const p = await pkce();
      for (const redirect of [
        'http://localhost:3000/callback/',
        'http://localhost:3000/callback?x=1',
        'http://localhost:3000/callbackx',
        'http://localhost:3000/Callback',
        'http://localhost:3001/callback',
        'http://evil.example/callback',
      ]) {
        const response = await fetch(
          authorizeUrl(identity.issuer, {
            redirect_uri: redirect,
            code_challenge: p.challenge,
            code_challenge_method: 'S256',
          }),
          { redirect: 'manual' },
        );
        // Never a redirect to an unregistered URI: the error is shown by the provider itself.
        assert.equal(response.status, 400, redirect);
        assert.equal(response.headers.get('location'), null, redirect);
        assert.match(await response.text(), /redirect_uri did not match/);
      }
    });

    test('PKCE is required, and only S256: no challenge or method plain is refused', async () => {
      const cases: Array<Record<string, string>> = [
        {},
        { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' },
      ];
      for (const params of cases) {
        const response = await fetch(authorizeUrl(identity.issuer, params), { redirect: 'manual' });
        assert.equal(response.status, 303);
        const location = new URL(response.headers.get('location')!);
        assert.equal(location.origin + location.pathname, WEB.redirect);
        assert.equal(location.searchParams.get('error'), 'invalid_request');
        assert.match(
          location.searchParams.get('error_description') ?? '',
          /PKCE|code_challenge/,
          String(location),
        );
      }
    });

    test('the token endpoint checks the code_verifier', async () => {
      const issued = await code();
      const { response, body } = await token(identity.issuer, {
        grant_type: 'authorization_code',
        code: issued.code,
        redirect_uri: WEB.redirect,
        code_verifier: 'x'.repeat(43),
      });
      assert.equal(response.status, 400);
      assert.equal(body.error, 'invalid_grant');
    });

    test('implicit and hybrid response types and the password grant are not supported', async () => {
      const p = await pkce();
      for (const responseType of ['token', 'id_token', 'code id_token', 'code token']) {
        const response = await fetch(
          authorizeUrl(identity.issuer, {
            response_type: responseType,
            code_challenge: p.challenge,
            code_challenge_method: 'S256',
            nonce: 'n',
          }),
          { redirect: 'manual' },
        );
        const location = response.headers.get('location') ?? '';
        // Refused, and never a token in a URL.
        assert.doesNotMatch(location, /access_token|id_token=/, responseType);
        assert.match(
          location || (await response.text()),
          /unsupported_response_type|invalid_request/,
          responseType,
        );
      }
      const { response, body } = await token(identity.issuer, {
        grant_type: 'password',
        username: 'alice',
        password: identity.login('alice').password,
      });
      assert.equal(response.status, 400);
      assert.equal(body.error, 'unsupported_grant_type');
    });

    test('token responses carry Cache-Control: no-store', async () => {
      const issued = await code();
      const { response, body } = await token(identity.issuer, {
        grant_type: 'authorization_code',
        code: issued.code,
        redirect_uri: WEB.redirect,
        code_verifier: issued.verifier,
      });
      assert.equal(response.status, 200);
      assert.ok(body.access_token);
      assert.match(response.headers.get('cache-control') ?? '', /no-store/);
      const failed = await token(identity.issuer, { grant_type: 'refresh_token', refresh_token: 'nope' });
      assert.equal(failed.response.status, 400);
      assert.match(failed.response.headers.get('cache-control') ?? '', /no-store/);
    });

    test('a code is single-use: a second use fails and revokes what the first issued', async () => {
      const issued = await code();
      const exchange = {
        grant_type: 'authorization_code',
        code: issued.code,
        redirect_uri: WEB.redirect,
        code_verifier: issued.verifier,
      };
      const first = await token(identity.issuer, exchange);
      assert.equal(first.response.status, 200);
      assert.ok(first.body.refresh_token);

      const second = await token(identity.issuer, exchange);
      assert.equal(second.response.status, 400);
      assert.equal(second.body.error, 'invalid_grant');

      const refresh = await token(identity.issuer, {
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token!,
      });
      assert.equal(refresh.response.status, 400);
      assert.equal(refresh.body.error, 'invalid_grant');
    });

    test('a code is short-lived: unused after its 60 s lifetime, it is refused', async () => {
      const issued = await code();
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      try {
        mock.timers.tick(61_000);
        const { response, body } = await token(identity.issuer, {
          grant_type: 'authorization_code',
          code: issued.code,
          redirect_uri: WEB.redirect,
          code_verifier: issued.verifier,
        });
        assert.equal(response.status, 400);
        assert.equal(body.error, 'invalid_grant');
      } finally {
        mock.timers.reset();
      }
    });

    test('the redirect_uri of the token request must equal the authorization request one', async () => {
      const issued = await code();
      const { response, body } = await token(identity.issuer, {
        grant_type: 'authorization_code',
        code: issued.code,
        redirect_uri: 'http://localhost:3000/other',
        code_verifier: issued.verifier,
      });
      assert.equal(response.status, 400);
      assert.equal(body.error, 'invalid_grant');
    });

    test('the authorization response names its issuer (RFC 9207, mix-up defence)', async () => {
      const p = await pkce();
      const callback = await createBrowser().authorize(
        authorizeUrl(identity.issuer, { code_challenge: p.challenge, code_challenge_method: 'S256' }),
        WEB.redirect,
        identity.login('alice'),
      );
      assert.equal(callback.searchParams.get('iss'), identity.issuer);
      assert.equal(callback.searchParams.get('state'), 'xyz');
    });
  });
}
