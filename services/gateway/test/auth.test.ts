import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import type { TestGateway, TestUpstream } from './support/harness.ts';
import { definition, json, startGateway, startUpstream } from './support/harness.ts';

describe('auth: JWT via the issuer keys, rules per method', () => {
  let issuer: TestIssuer;
  let up: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    issuer = await createTestIssuer();
    up = await startUpstream();
    gw = await startGateway(
      definition({ svc: [up.url] }, [
        {
          name: 'products',
          path: '/api/v1/products',
          upstream: 'svc',
          auth: { read: 'public', write: 'token' },
        },
        { name: 'orders', path: '/api/v1/orders', upstream: 'svc', auth: { default: 'token' } },
        {
          name: 'admin',
          path: '/api/v1/admin',
          upstream: 'svc',
          auth: { GET: 'token', default: { roles: ['admin'], scopes: ['catalog:write'] } },
        },
        {
          name: 'keys',
          path: '/api/v1/keys',
          upstream: 'svc',
          auth: { read: { roles: ['admin'] }, write: { roles: ['admin'], mfa: true } },
        },
        { name: 'vault', path: '/api/v1/vault', upstream: 'svc', auth: { default: { mfa: true } } },
      ] as never),
      { verifier: issuer.verifier },
    );
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  test('public reads pass without a token; writes need one (401 problem with WWW-Authenticate)', async () => {
    assert.equal((await fetch(`${gw.url}/api/v1/products`)).status, 200);
    const write = await fetch(`${gw.url}/api/v1/products`, { method: 'POST', body: '{}' });
    assert.equal(write.status, 401);
    assert.match(write.headers.get('www-authenticate')!, /^Bearer realm="portico"/);
    assert.equal(write.headers.get('content-type'), 'application/problem+json');
    const problem = await json(write);
    assert.equal(problem.code, 'AUTHENTICATION_REQUIRED');
    assert.equal(problem.request_id, write.headers.get('x-request-id'));
    assert.equal(up.seen.filter((s) => s.method === 'POST').length, 0, 'never reached the upstream');
  });

  test('a valid token: the upstream gets Authorization and the verified identity headers', async () => {
    const token = await issuer.sign({ sub: 'user-7', roles: ['customer', 'beta'] });
    const res = await fetch(`${gw.url}/api/v1/orders?limit=5`, {
      headers: { ...bearer(token), 'x-gateway-user-id': 'someone-else', 'x-gateway-user-roles': 'admin' },
    });
    assert.equal(res.status, 200);
    const seen = (await json(res)) as { headers: Record<string, string> };
    assert.equal(seen.headers.authorization, `Bearer ${token}`);
    assert.equal(seen.headers['x-gateway-user-id'], 'user-7');
    assert.equal(seen.headers['x-gateway-user-roles'], 'customer,beta');
  });

  test('bad tokens are 401 invalid_token, even on public routes', async () => {
    const expired = await issuer.sign({ sub: 'u' }, { expiresIn: -60 });
    const other = await createTestIssuer();
    const foreign = await other.sign({ sub: 'u' });
    const wrongAudience = await issuer.sign({ sub: 'u' }, { audience: 'http://elsewhere' });
    for (const token of [expired, foreign, wrongAudience, 'not.a.jwt']) {
      for (const path of ['/api/v1/orders', '/api/v1/products']) {
        const res = await fetch(`${gw.url}${path}`, { headers: bearer(token) });
        assert.equal(res.status, 401, `${path} with ${token.slice(0, 12)}`);
        assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
        assert.equal((await json(res)).code, 'INVALID_TOKEN');
      }
    }
    const basic = await fetch(`${gw.url}/api/v1/orders`, { headers: { authorization: 'Basic dTpw' } });
    assert.equal(basic.status, 400);
    const query = await fetch(`${gw.url}/api/v1/orders?access_token=abc`);
    assert.equal(query.status, 400);
  });

  test('roles or scopes per method: 403 insufficient_scope without them', async () => {
    const customer = await issuer.sign({ sub: 'c', roles: ['customer'] });
    const admin = await issuer.sign({ sub: 'a', roles: ['admin'] });
    const writer = await issuer.sign({ sub: 'w', roles: ['customer'], scope: 'openid catalog:write' });
    assert.equal((await fetch(`${gw.url}/api/v1/admin/x`, { headers: bearer(customer) })).status, 200);
    const denied = await fetch(`${gw.url}/api/v1/admin/x`, { method: 'DELETE', headers: bearer(customer) });
    assert.equal(denied.status, 403);
    assert.match(denied.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    assert.equal((await json(denied)).code, 'INSUFFICIENT_SCOPE');
    assert.equal(
      (await fetch(`${gw.url}/api/v1/admin/x`, { method: 'DELETE', headers: bearer(admin) })).status,
      200,
    );
    assert.equal(
      (await fetch(`${gw.url}/api/v1/admin/x`, { method: 'DELETE', headers: bearer(writer) })).status,
      200,
    );
  });

  test('mfa: true needs a two-factor sign-in (amr has mfa): 403 insufficient_user_authentication', async () => {
    const password = await issuer.sign({ sub: 'a', roles: ['admin'], amr: ['pwd'] });
    const twoFactor = await issuer.sign({ sub: 'a', roles: ['admin'], amr: ['pwd', 'otp', 'mfa'] });
    const customer = await issuer.sign({ sub: 'c', roles: ['customer'], amr: ['pwd', 'otp', 'mfa'] });
    assert.equal((await fetch(`${gw.url}/api/v1/keys`, { headers: bearer(password) })).status, 200);
    const before = up.seen.length;
    const refused = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: bearer(password) });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    const challenge = refused.headers.get('www-authenticate')!;
    assert.match(challenge, /error="insufficient_user_authentication"/);
    assert.match(challenge, /acr_values="urn:portico:acr:mfa"/);
    const problem = await json(refused);
    assert.equal(problem.code, 'INSUFFICIENT_USER_AUTHENTICATION');
    assert.equal(problem.type, 'https://portico.dev/problems/insufficient-user-authentication');
    assert.equal(up.seen.length, before, 'never reached the upstream');
    const allowed = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: bearer(twoFactor) });
    assert.equal(allowed.status, 200);
    const wrongRole = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: bearer(customer) });
    assert.equal(wrongRole.status, 403);
    assert.equal((await json(wrongRole)).code, 'INSUFFICIENT_SCOPE', 'roles are still checked');
    // mfa alone: any token from a two-factor sign-in.
    assert.equal((await fetch(`${gw.url}/api/v1/vault`, { headers: bearer(customer) })).status, 200);
    assert.equal((await fetch(`${gw.url}/api/v1/vault`, { headers: bearer(password) })).status, 403);
  });

  test('HS256 tokens are refused unless a shared secret is configured', async () => {
    const { SignJWT } = await import('jose');
    const secret = 'a-shared-secret-of-at-least-32-bytes!';
    const hs = await new SignJWT({ roles: ['customer'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject('hs-user')
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    assert.equal((await fetch(`${gw.url}/api/v1/orders`, { headers: bearer(hs) })).status, 401);
    const withSecret = await startGateway(
      definition({ svc: [up.url] }, [
        { name: 'o', path: '/o', upstream: 'svc', auth: { default: 'token' } },
      ] as never),
      {
        config: {
          auth: {
            issuer: issuer.issuer,
            audience: issuer.audience,
            jwksUri: '',
            hs256Secret: secret,
            revocationPrefix: 'portico:',
            dpopOrigins: '',
          },
        },
      },
    );
    try {
      const res = await fetch(`${withSecret.url}/o`, { headers: bearer(hs) });
      assert.equal(res.status, 200);
      assert.equal(
        ((await json(res)) as { headers: Record<string, string> }).headers['x-gateway-user-id'],
        'hs-user',
      );
    } finally {
      await withSecret.close();
    }
  });
});
