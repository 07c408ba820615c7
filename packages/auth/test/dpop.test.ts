/**
 * DPoP (RFC 9449) in a service: `enforceAccess` with a verifier that accepts DPoP-bound tokens,
 * on a real socket. The refusals through a gateway are in services/platform/test/dpop.test.ts;
 * here, what a service alone decides: htu normalisation and query, optional-token routes,
 * repeated headers, the replay check failing closed, and settings refused at start-up.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from '@portico/http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import {
  createDpopVerifier,
  createTokenVerifier,
  dpopOrigins,
  enforceAccess,
  memoryReplayGuard,
  needs,
  normalizeHtu,
  PUBLIC_OPTIONAL_TOKEN,
  type ReplayGuard,
} from '../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../src/testing.ts';

const PUBLIC_ORIGIN = 'https://api.example.test';

describe('normalizeHtu (RFC 3986 §6.2.2–6.2.3)', () => {
  test('case, default port, dot segments and percent-encoding compare equal; query and fragment go', () => {
    const want = 'https://api.example.test/api/v1/users/me';
    for (const htu of [
      'https://api.example.test/api/v1/users/me',
      'HTTPS://API.Example.TEST:443/api/v1/users/me',
      'https://api.example.test/api/v1/x/../users/./me',
      'https://api.example.test/api/v1/%75sers/me',
      'https://api.example.test/api/v1/users/me?page=2#top',
    ]) {
      assert.equal(normalizeHtu(htu), want, htu);
    }
    assert.equal(normalizeHtu('https://api.example.test/a%2fb'), 'https://api.example.test/a%2Fb');
    assert.notEqual(normalizeHtu('https://api.example.test:8443/api/v1/users/me'), want);
    assert.equal(normalizeHtu('ftp://api.example.test/x'), undefined);
    assert.equal(normalizeHtu('not a url'), undefined);
  });
});

describe('dpopOrigins', () => {
  test('the configured origins, else the audience origin; a localhost audience under its loopback names too', () => {
    assert.deepEqual(dpopOrigins({ audience: 'https://api.example.test/v1' }), ['https://api.example.test']);
    assert.deepEqual(
      dpopOrigins({ audience: 'https://api.example.test', dpopOrigins: ' https://a.test, https://b.test ' }),
      ['https://a.test', 'https://b.test'],
    );
    // Any string may be the audience (RFC 7519); config then requires the origins listed.
    assert.deepEqual(dpopOrigins({ audience: 'urn:portico:api', dpopOrigins: 'https://a.test' }), [
      'https://a.test',
    ]);
    assert.deepEqual(dpopOrigins({ audience: 'http://localhost:8000' }), [
      'http://localhost:8000',
      'http://127.0.0.1:8000',
      'http://[::1]:8000',
    ]);
  });
});

describe('DPoP-bound tokens in a service', () => {
  let issuer: TestIssuer;
  let server: Server;
  let base: string;
  let key: { privateKey: CryptoKey; jwk: JWK; jkt: string };
  let failing = false;

  before(async () => {
    issuer = await createTestIssuer();
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    key = { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
    const seen = memoryReplayGuard();
    const replay: ReplayGuard = {
      firstUse: (jti, ttl) => (failing ? Promise.reject(new Error('store down')) : seen.firstUse(jti, ttl)),
    };
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: issuer.jwks,
      dpop: createDpopVerifier({ origins: [PUBLIC_ORIGIN], replay }),
    });
    server = await createServer({ name: 'dpop-test', logLevel: false });
    enforceAccess(server, verifier);
    server.get('/things', { config: { access: needs('things:read') } }, async (request) => ({
      sub: request.auth?.sub,
    }));
    server.get('/maybe', { config: { access: PUBLIC_OPTIONAL_TOKEN } }, async (request) => ({
      sub: request.auth?.sub ?? null,
    }));
    base = await server.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => server.close());

  const boundToken = () => issuer.sign({ sub: 'dana', scope: 'things:read', cnf: { jkt: key.jkt } });
  const proof = (token: string, htu: string, htm = 'GET') =>
    new SignJWT({
      htm,
      htu,
      jti: randomUUID(),
      ath: createHash('sha256').update(token).digest('base64url'),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
      .setIssuedAt()
      .sign(key.privateKey);
  const get = (path: string, headers: Record<string, string>) => fetch(`${base}${path}`, { headers });

  test('the proof names the public URL without the query; the service ignores the query it was sent', async () => {
    const token = await boundToken();
    const ok = await get('/things?page=2', {
      authorization: `DPoP ${token}`,
      dpop: await proof(token, `${PUBLIC_ORIGIN}/things`),
    });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(await ok.json(), { sub: 'dana' });
  });

  test('a route open to all still checks the proof of a DPoP token that is sent', async () => {
    const token = await boundToken();
    const ok = await get('/maybe', {
      authorization: `dpop ${token}`,
      dpop: await proof(token, `${PUBLIC_ORIGIN}/maybe`),
    });
    assert.deepEqual(await ok.json(), { sub: 'dana' });
    const wrong = await get('/maybe', {
      authorization: `DPoP ${token}`,
      dpop: await proof(token, `${PUBLIC_ORIGIN}/maybe`, 'DELETE'),
    });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate')!, /^DPoP realm="portico", error="invalid_dpop_proof"/);
  });

  test('two DPoP headers are refused', async () => {
    const token = await boundToken();
    const headers = new Headers({ authorization: `DPoP ${token}` });
    headers.append('dpop', await proof(token, `${PUBLIC_ORIGIN}/things`));
    headers.append('dpop', await proof(token, `${PUBLIC_ORIGIN}/things`));
    const res = await fetch(`${base}/things`, { headers });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { detail: string }).detail, /exactly one DPoP proof/);
  });

  test('an unbound token sent as DPoP is refused', async () => {
    const token = await issuer.sign({ sub: 'dana', scope: 'things:read' });
    const res = await get('/things', {
      authorization: `DPoP ${token}`,
      dpop: await proof(token, `${PUBLIC_ORIGIN}/things`),
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /^DPoP .*error="invalid_token"/);
  });

  test('the replay check failing is a 503, never a pass', async () => {
    const token = await boundToken();
    failing = true;
    try {
      const res = await get('/things', {
        authorization: `DPoP ${token}`,
        dpop: await proof(token, `${PUBLIC_ORIGIN}/things`),
      });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.equal(((await res.json()) as { code: string }).code, 'DPOP_REPLAY_CHECK_UNAVAILABLE');
    } finally {
      failing = false;
    }
  });

  test('settings that could never be safe are refused at start-up', () => {
    const replay = memoryReplayGuard();
    assert.throws(
      () => createDpopVerifier({ origins: [PUBLIC_ORIGIN], replay, algorithms: ['HS256'] }),
      TypeError,
    );
    assert.throws(
      () => createDpopVerifier({ origins: [PUBLIC_ORIGIN], replay, algorithms: ['none'] }),
      TypeError,
    );
    assert.throws(() => createDpopVerifier({ origins: [`${PUBLIC_ORIGIN}/api`], replay }), /not an origin/);
    assert.throws(() => createDpopVerifier({ origins: [], replay }), TypeError);
  });
});
