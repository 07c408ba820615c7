/**
 * End-to-end OpenID Connect flows against a running identity service, driven by
 * openid-client (an independent, certified relying party) with ID token signatures
 * checked against the JWKS, and access tokens checked by @portico/auth.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTokenVerifier, type TokenVerifier } from '@portico/auth';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { type Browser, createBrowser } from '../src/cli/browser.ts';
import {
  API_SCOPES,
  cliClient,
  type RunningIdentity,
  SERVICE_SECRET,
  startIdentity,
  storageTargets,
  WEB,
  webClient,
} from './support/harness.ts';

async function signIn(
  config: client.Configuration,
  browser: Browser,
  credentials: { username: string; password: string },
  scope: string,
  redirectUri = WEB.redirect,
) {
  const { randomPKCECodeVerifier, calculatePKCECodeChallenge, randomState, randomNonce } = client;
  const verifier = randomPKCECodeVerifier();
  const state = randomState();
  const nonce = randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}),
  });
  const callback = await browser.authorize(url, redirectUri, credentials);
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
}

for (const { name, target, overrides } of storageTargets()) {
  describe(`OpenID Connect flows (${name})`, () => {
    let identity: RunningIdentity;
    let web: client.Configuration;
    let verifier: TokenVerifier;

    before(async () => {
      identity = await startIdentity(target, overrides);
      web = await webClient(identity.issuer);
      verifier = createTokenVerifier({
        issuer: identity.issuer,
        audience: 'http://localhost:8000',
        jwksUri: `${identity.issuer}/jwks`,
      });
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
    });

    test('discovery advertises code + PKCE S256 only, the JWKS, and every endpoint', async () => {
      const meta = web.serverMetadata();
      assert.equal(meta.issuer, identity.issuer);
      assert.deepEqual(meta.response_types_supported, ['code']);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.equal(meta.jwks_uri, `${identity.issuer}/jwks`);
      assert.ok(!meta.grant_types_supported?.includes('implicit'));
      assert.ok(!meta.grant_types_supported?.includes('password'));
      for (const endpoint of [
        'token_endpoint',
        'userinfo_endpoint',
        'revocation_endpoint',
        'introspection_endpoint',
        'end_session_endpoint',
      ] as const) {
        assert.ok(meta[endpoint]?.startsWith(identity.issuer), endpoint);
      }
    });

    test('login with PKCE: ID token signed by the JWKS, access token an RFC 9068 JWT for the API', async () => {
      const browser = createBrowser();
      const tokens = await signIn(
        web,
        browser,
        identity.login('alice'),
        `openid profile email ${API_SCOPES}`,
      );

      // openid-client checked the ID token signature (non-repudiation checks); check it independently too.
      const jwks = createRemoteJWKSet(new URL(`${identity.issuer}/jwks`));
      const { payload: id } = await jwtVerify(tokens.id_token!, jwks, {
        issuer: identity.issuer,
        audience: WEB.id,
      });
      assert.equal(id.preferred_username, 'alice');
      assert.deepEqual(id.roles, ['customer']);
      assert.equal(tokens.claims()?.sub, id.sub);

      assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
      const claims = await verifier.verify(tokens.access_token);
      assert.equal(claims.sub, id.sub);
      assert.deepEqual(claims.roles, ['customer']);
      assert.equal(claims.client_id, WEB.id);
      assert.equal(claims.payload.aud, 'http://localhost:8000');
      assert.ok(claims.scopes.includes('orders:write'));
      // Consented identity claims ride along (RFC 9068 §2.2.2), so the users service can seed a profile.
      assert.equal(claims.payload.preferred_username, 'alice');
      assert.equal(claims.payload.email, 'alice@example.com');
      // catalog:write is an admin scope: a customer asking for it does not get it.
      assert.ok(!claims.scopes.includes('catalog:write'));
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    });

    test('an admin gets the admin role and the admin-only scope', async () => {
      const tokens = await signIn(web, createBrowser(), identity.login('admin'), `openid ${API_SCOPES}`);
      const claims = await verifier.verify(tokens.access_token);
      assert.deepEqual(claims.roles, ['admin']);
      assert.ok(claims.scopes.includes('catalog:write'));
      // No profile/email scope asked: no identity claims beyond sub.
      assert.equal(claims.payload.email, undefined);
      assert.equal(claims.payload.name, undefined);
    });

    test('a public client (the token CLI) gets the same kind of token', async () => {
      const cli = await cliClient(identity.issuer);
      const tokens = await signIn(
        cli,
        createBrowser(),
        identity.login('alice'),
        `openid ${API_SCOPES}`,
        'http://127.0.0.1/callback',
      );
      const claims = await verifier.verify(tokens.access_token);
      assert.equal(claims.client_id, 'portico-cli');
      assert.deepEqual(claims.roles, ['customer']);
    });

    test('userinfo answers for a token asked with OpenID scopes only', async () => {
      const tokens = await signIn(web, createBrowser(), identity.login('alice'), 'openid profile email');
      const sub = tokens.claims()!.sub;
      const info = await client.fetchUserInfo(web, tokens.access_token, sub);
      assert.equal(info.sub, sub);
      assert.equal(info.preferred_username, 'alice');
      assert.equal(info.email, 'alice@example.com');
      // An API token is not for userinfo (its audience is the API).
      const api = await signIn(web, createBrowser(), identity.login('alice'), `openid ${API_SCOPES}`);
      await assert.rejects(client.fetchUserInfo(web, api.access_token, sub));
    });

    test('a public client’s refresh token rotates; a replayed one revokes the whole grant', async () => {
      const cli = await cliClient(identity.issuer);
      const first = await signIn(
        cli,
        createBrowser(),
        identity.login('alice'),
        `openid offline_access ${API_SCOPES}`,
        'http://127.0.0.1/callback',
      );
      assert.ok(first.refresh_token);
      const second = await client.refreshTokenGrant(cli, first.refresh_token!);
      assert.ok(second.refresh_token);
      assert.notEqual(second.refresh_token, first.refresh_token);
      const claims = await verifier.verify(second.access_token);
      assert.deepEqual(claims.roles, ['customer']);

      // Replay of the first (already used) refresh token: refused, and the grant is gone.
      for (const token of [first.refresh_token!, second.refresh_token!]) {
        await assert.rejects(client.refreshTokenGrant(cli, token), (err: client.ResponseBodyError) => {
          assert.equal(err.error, 'invalid_grant');
          return true;
        });
      }
    });

    test('a confidential client’s refresh token, bound to its secret, survives parallel refreshes', async () => {
      const first = await signIn(
        web,
        createBrowser(),
        identity.login('alice'),
        `openid offline_access ${API_SCOPES}`,
      );
      const parallel = await Promise.all(
        [1, 2, 3].map(() => client.refreshTokenGrant(web, first.refresh_token!)),
      );
      for (const result of parallel)
        assert.equal(result.refresh_token ?? first.refresh_token, first.refresh_token);
      assert.equal(new Set(parallel.map((r) => r.access_token)).size, 3);
      // Without the client's secret the token is worth nothing.
      const stranger = await webClient(identity.issuer, 'not-the-portico-web-secret');
      await assert.rejects(client.refreshTokenGrant(stranger, first.refresh_token!));
    });

    test('introspection reports a live refresh token; revocation (RFC 7009) ends it', async () => {
      const tokens = await signIn(
        web,
        createBrowser(),
        identity.login('alice'),
        `openid offline_access ${API_SCOPES}`,
      );
      const live = await client.tokenIntrospection(web, tokens.refresh_token!);
      assert.equal(live.active, true);
      assert.equal(live.client_id, WEB.id);
      assert.equal(live.sub, tokens.claims()!.sub);

      await client.tokenRevocation(web, tokens.refresh_token!);
      const dead = await client.tokenIntrospection(web, tokens.refresh_token!);
      assert.equal(dead.active, false);
      await assert.rejects(client.refreshTokenGrant(web, tokens.refresh_token!));
      // Unknown tokens are not an error for revocation (RFC 7009 §2.2).
      await client.tokenRevocation(web, 'not-a-token');
    });

    test('client credentials: a service token with the client as subject and no user roles', async () => {
      const service = await client.discovery(
        new URL(identity.issuer),
        'portico-service',
        undefined,
        client.ClientSecretBasic(SERVICE_SECRET),
        { execute: [client.allowInsecureRequests] },
      );
      const tokens = await client.clientCredentialsGrant(service, {
        scope: 'catalog:read',
        resource: 'http://localhost:8000',
      });
      const claims = await verifier.verify(tokens.access_token);
      assert.equal(claims.sub, 'portico-service');
      assert.deepEqual(claims.roles, []);
      assert.deepEqual(claims.scopes, ['catalog:read']);

      // Marking orders paid is the payments service's alone: it may ask for orders:pay…
      const pay = await client.clientCredentialsGrant(service, {
        scope: 'orders:pay',
        resource: 'http://localhost:8000',
      });
      assert.deepEqual((await verifier.verify(pay.access_token)).scopes, ['orders:pay']);
    });

    test('no user client can obtain orders:pay', async () => {
      // …and the clients that act for people do not have it at all.
      for (const id of ['portico-web', 'portico-cli']) {
        const registered = identity.config.clients.find((c) => c.client_id === id)!;
        assert.ok(!registered.scope.split(' ').includes('orders:pay'), id);
      }
      const rule = identity.config.api.scopes.find((s) => s.name === 'orders:pay');
      assert.deepEqual(rule?.roles, [], 'no role grants orders:pay to a user');
    });

    test('RP-initiated logout ends the session and returns to the registered URI', async () => {
      const browser = createBrowser();
      const tokens = await signIn(web, browser, identity.login('alice'), 'openid profile');
      // With the session alive, a new authorization needs no password.
      const again = await signIn(web, browser, { username: 'nobody', password: 'unused' }, 'openid profile');
      assert.equal(again.claims()!.sub, tokens.claims()!.sub);

      const end = client.buildEndSessionUrl(web, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: WEB.postLogout,
        state: 'bye',
      });
      const confirm = await browser.request(end);
      assert.equal(confirm.status, 200);
      assert.equal(confirm.headers.get('x-frame-options'), 'DENY');
      await confirm.text();
      const back = await browser.logout(end);
      assert.ok(back);
      assert.equal(back.origin + back.pathname, WEB.postLogout);
      assert.equal(back.searchParams.get('state'), 'bye');

      // Signed out: the next authorization asks for the password again.
      await assert.rejects(
        signIn(web, browser, { username: 'alice', password: 'wrong password' }, 'openid profile'),
        /answered 401/,
      );
    });
  });
}
