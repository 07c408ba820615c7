import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createServer } from '@portico/http';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { AuthError, authenticate, authorize, createTokenVerifier } from '../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../src/testing.ts';

let issuer: TestIssuer;
before(async () => {
  issuer = await createTestIssuer();
});

async function rejects(token: string, pattern: RegExp) {
  await assert.rejects(issuer.verifier.verify(token), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.status, 401);
    assert.equal(err.error, 'invalid_token');
    assert.match(err.headers['www-authenticate']!, /^Bearer realm="portico", error="invalid_token"/);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('access-token verification (RFC 9068)', () => {
  test('a good token yields sub, roles, scopes and client_id', async () => {
    const token = await issuer.sign({ sub: 'u1', roles: ['admin'], scope: 'openid catalog:write' });
    const claims = await issuer.verifier.verify(token);
    assert.equal(claims.sub, 'u1');
    assert.deepEqual(claims.roles, ['admin']);
    assert.deepEqual(claims.scopes, ['openid', 'catalog:write']);
    assert.equal(claims.client_id, 'portico-test');
  });

  test('alg none is rejected', async () => {
    const token = new UnsecuredJWT({ sub: 'u1', roles: ['admin'] })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    await rejects(token, /algorithm|invalid/);
  });

  test('HS256 signed with the public key is rejected', async () => {
    const publicJwk = JSON.stringify(issuer.jwks.keys[0]);
    const token = await new SignJWT({ sub: 'u1', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: issuer.kid })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicJwk));
    await rejects(token, /not accepted/);
  });

  test('unknown kid, expired, missing exp, wrong iss, wrong aud, ID token, garbage', async () => {
    await rejects(await issuer.sign({ sub: 'u1' }, { header: { kid: 'nope' } }), /unknown key/);
    await rejects(await issuer.sign({ sub: 'u1', iat: 1000 }, { expiresIn: 1700000000 }), /expired/);
    await rejects(await issuer.sign({ sub: 'u1' }, { expiresIn: null }), /exp/);
    await rejects(await issuer.sign({ sub: 'u1' }, { issuer: 'https://evil.example' }), /iss/);
    await rejects(await issuer.sign({ sub: 'u1' }, { audience: 'portico-web' }), /aud/);
    await rejects(
      await issuer.sign({ sub: 'u1', nonce: 'n' }, { header: { typ: 'JWT' } }),
      /not an access token/,
    );
    await rejects('not.a.token', /malformed|invalid/);
  });

  test('a token signed by another key with the same kid fails the signature check', async () => {
    const other = await generateKeyPair('RS256');
    const token = await new SignJWT({ sub: 'u1' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: issuer.kid })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(other.privateKey);
    await rejects(token, /signature/);
  });

  test('HS256 works only when a shared secret is configured', async () => {
    const secret = 'a-very-long-shared-secret-of-32-bytes!';
    const verifier = createTokenVerifier({ issuer: 'i', audience: 'a', hs256Secret: secret });
    const token = await new SignJWT({ sub: 'svc' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer('i')
      .setAudience('a')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(secret));
    assert.equal((await verifier.verify(token)).sub, 'svc');
    assert.throws(
      () => createTokenVerifier({ issuer: 'i', audience: 'a', hs256Secret: 'short' }),
      /32 bytes/,
    );
  });
});

describe('remote JWKS', () => {
  let server: Server;
  let keys: { keys: object[] };
  let fetches = 0;
  before(async () => {
    keys = { keys: [...issuer.jwks.keys] };
    server = createHttpServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(keys));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(() => server.close());

  test('keys are cached, and an unknown kid triggers one refetch (rotation)', async () => {
    const { port } = server.address() as AddressInfo;
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: `http://127.0.0.1:${port}/jwks`,
      jwksCooldown: 0,
    });
    await verifier.verify(await issuer.sign({ sub: 'u1' }));
    await verifier.verify(await issuer.sign({ sub: 'u2' }));
    assert.equal(fetches, 1);

    const rotated = await generateKeyPair('ES256', { extractable: true });
    keys.keys.push({ ...(await exportJWK(rotated.publicKey)), kid: 'k2', alg: 'ES256' });
    const token = await new SignJWT({ sub: 'u3' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k2' })
      .setIssuer(issuer.issuer)
      .setAudience(issuer.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(rotated.privateKey);
    assert.equal((await verifier.verify(token)).sub, 'u3');
    assert.equal(fetches, 2);
  });
});

describe('Fastify hooks', () => {
  async function app() {
    const server = await createServer({ name: 'auth-test', logLevel: false });
    server.get('/me', { preHandler: authenticate(issuer.verifier) }, async (request) => ({
      sub: request.auth?.sub,
    }));
    server.post(
      '/admin',
      {
        preHandler: [
          authenticate(issuer.verifier),
          authorize({ roles: ['admin'], scopes: ['catalog:write'] }),
        ],
      },
      async () => ({ ok: true }),
    );
    return server;
  }

  test('no token → 401 without an error code; bad token → 401 invalid_token', async () => {
    const server = await app();
    const none = await server.inject({ url: '/me' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="portico"');
    assert.equal(none.json().code, 'AUTHENTICATION_REQUIRED');
    const bad = await server.inject({ url: '/me', headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().code, 'INVALID_TOKEN');
    const basic = await server.inject({ url: '/me', headers: { authorization: 'Basic dTpw' } });
    assert.equal(basic.statusCode, 400);
  });

  test('a token in the query string is refused', async () => {
    const server = await app();
    const token = await issuer.sign({ sub: 'u1' });
    const res = await server.inject({ url: `/me?access_token=${token}` });
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['www-authenticate']), /error="invalid_request"/);
  });

  test('roles or scopes: 403 insufficient_scope without them', async () => {
    const server = await app();
    const customer = await issuer.sign({ sub: 'c', roles: ['customer'], scope: 'openid' });
    const denied = await server.inject({
      method: 'POST',
      url: '/admin',
      headers: { authorization: `Bearer ${customer}` },
    });
    assert.equal(denied.statusCode, 403);
    assert.match(String(denied.headers['www-authenticate']), /error="insufficient_scope"/);
    assert.equal(denied.json().code, 'INSUFFICIENT_SCOPE');
    const admin = await issuer.sign({ sub: 'a', roles: ['admin'] });
    const byRole = await server.inject({
      method: 'POST',
      url: '/admin',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(byRole.statusCode, 200);
    const service = await issuer.sign({ sub: 's', scope: 'catalog:write' });
    const byScope = await server.inject({
      method: 'POST',
      url: '/admin',
      headers: { authorization: `Bearer ${service}` },
    });
    assert.equal(byScope.statusCode, 200);
  });
});
