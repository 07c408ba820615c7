/**
 * Portico's own applications (first_party clients) are not shown a consent page and get a
 * refresh token without prompt=consent, while the account's roles still decide which API
 * scopes they receive; any other client still asks the user.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTokenVerifier } from '@portico/auth';
import { loadConfig } from '@portico/config';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import * as client from 'openid-client';
import { createBrowser } from '../src/cli/browser.ts';
import { ConfigSchema } from '../src/config.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { type RunningIdentity, startIdentity, WEB, webClient } from './support/harness.ts';

const PARTNER = {
  id: 'partner-app',
  secret: randomBytes(24).toString('base64url'),
  redirect: 'http://localhost:4000/cb',
};

/** Signs in through the provider's pages, counting the consent confirmations it took. */
async function signIn(
  config: client.Configuration,
  redirect: string,
  credentials: { username: string; password: string },
  scope: string,
) {
  const confirmations: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    if (String(input).endsWith('/confirm')) confirmations.push(String(input));
    return realFetch(input, init);
  };
  try {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const callback = await createBrowser().authorize(url, redirect, credentials);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    return { tokens, consentPages: confirmations.length };
  } finally {
    globalThis.fetch = realFetch;
  }
}

const [makeTarget] = databaseTargets();
describe('first-party clients', () => {
  const target = makeTarget!();
  let identity: RunningIdentity;
  before(async () => {
    const defaults = loadConfig('identity', ConfigSchema, { env: {} }).clients;
    identity = await startIdentity(target, {
      clients: [
        ...defaults,
        {
          client_id: PARTNER.id,
          client_secret: PARTNER.secret,
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: [PARTNER.redirect],
          post_logout_redirect_uris: [],
          scope: 'openid profile offline_access catalog:read',
          application_type: 'web',
          first_party: false,
        },
      ],
    });
  });
  after(() => identity.close());

  test('the console signs in without a consent page, gets a refresh token, and only the scopes its roles allow', async () => {
    const web = await webClient(identity.issuer);
    const verify = createTokenVerifier({
      issuer: identity.issuer,
      audience: 'http://localhost:8000',
      jwksUri: `${identity.issuer}/jwks`,
    });
    const customer = await signIn(
      web,
      WEB.redirect,
      identity.login('alice'),
      'openid profile catalog:read catalog:write',
    );
    assert.equal(customer.consentPages, 0);
    assert.ok(customer.tokens.refresh_token, 'a refresh token without prompt=consent');
    const claims = await verify.verify(customer.tokens.access_token);
    assert.ok(claims.scopes.includes('catalog:read'));
    assert.ok(!claims.scopes.includes('catalog:write'), 'a customer is never granted the admin-only scope');
    const admin = await signIn(web, WEB.redirect, identity.login('admin'), 'openid catalog:write');
    assert.ok((await verify.verify(admin.tokens.access_token)).scopes.includes('catalog:write'));
    const refreshed = await client.refreshTokenGrant(web, customer.tokens.refresh_token!);
    assert.ok(refreshed.access_token);
  });

  test('another client still asks the user, and gets no refresh token without offline_access and consent', async () => {
    const partner = await client.discovery(
      new URL(identity.issuer),
      PARTNER.id,
      PARTNER.secret,
      client.ClientSecretBasic(PARTNER.secret),
      {
        execute: [client.allowInsecureRequests],
      },
    );
    const { tokens, consentPages } = await signIn(
      partner,
      PARTNER.redirect,
      identity.login('alice'),
      'openid catalog:read',
    );
    assert.equal(consentPages, 1);
    assert.equal(tokens.refresh_token, undefined);
  });
});

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`a role change takes effect at the next refresh (${target.name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-roles-'));
    const database = target.name === 'sqlite' ? { url: `sqlite:${join(dir, 'identity.db')}` } : target;
    let identity: RunningIdentity;
    before(async () => {
      identity = await startIdentity(database);
    });
    after(async () => {
      await identity.close();
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('an admin demoted to customer loses catalog:write when the token is refreshed', async () => {
      const web = await webClient(identity.issuer);
      const verify = createTokenVerifier({
        issuer: identity.issuer,
        audience: 'http://localhost:8000',
        jwksUri: `${identity.issuer}/jwks`,
      });
      const admin = await signIn(
        web,
        WEB.redirect,
        identity.login('admin'),
        'openid catalog:read catalog:write',
      );
      assert.ok((await verify.verify(admin.tokens.access_token)).scopes.includes('catalog:write'));

      const store = openDatabase<IdentityDatabase>({ url: database.url, schema: target.schema });
      try {
        await store.db
          .updateTable('accounts')
          .set({ roles: JSON.stringify(['customer']) })
          .where('username', '=', 'admin')
          .execute();
      } finally {
        await store.close();
      }
      const refreshed = await client.refreshTokenGrant(web, admin.tokens.refresh_token!);
      const claims = await verify.verify(refreshed.access_token);
      assert.deepEqual(claims.roles, ['customer']);
      assert.ok(!claims.scopes.includes('catalog:write'), claims.scopes.join(' '));
      assert.ok(claims.scopes.includes('catalog:read'), 'scopes the new role allows stay');
    });
  });
}
