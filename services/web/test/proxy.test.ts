/**
 * /api/* through the console to the gateway: the session's token goes with it, cookies and
 * internal headers do not; state-changing calls need the CSRF token and our Origin; tokens
 * are refreshed before they expire, once per session however many calls race.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Server } from '@portico/http';
import { openDatabase } from '@portico/store/sql';
import * as oidc from 'openid-client';
import { request } from 'undici';
import type { WebDatabase } from '../src/data/schema.ts';
import { sqlSessionStore } from '../src/session/store.ts';
import {
  browser,
  type FakeGateway,
  HOST,
  PUBLIC_URL,
  type RunningIdentity,
  type Stack,
  session,
  signIn,
  startFakeGateway,
  startIdentity,
  startStack,
  startWeb,
  WEB_CLIENT_SECRET,
} from './support/harness.ts';

const sqlite = { name: 'sqlite' as const, url: 'sqlite::memory:', cleanup: async () => {} };

function claimsOf(authorization: string | undefined): Record<string, unknown> {
  assert.ok(authorization?.startsWith('Bearer '), 'a bearer token was sent');
  return JSON.parse(Buffer.from(authorization!.slice(7).split('.')[1]!, 'base64url').toString());
}

describe('the /api proxy', () => {
  let idp: RunningIdentity;
  let gateway: FakeGateway;
  let web: Server;

  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack(sqlite);
    ({ idp, gateway, web } = stack);
  });
  after(() => stack?.close());

  test('a signed-in call carries the session’s RFC 9068 access token, and nothing of the browser’s', async () => {
    const { browser: b } = await signIn(web, idp);
    gateway.requests.length = 0;
    const res = await b.request({ url: '/api/v1/cart?x=1', headers: { 'x-forwarded-for': '6.6.6.6' } });
    assert.equal(res.statusCode, 200);
    const seen = gateway.requests.at(-1)!;
    assert.equal(seen.url, '/api/v1/cart?x=1');
    const claims = claimsOf(seen.headers.authorization);
    assert.equal(claims.aud, 'http://localhost:8000');
    assert.equal(claims.client_id, 'portico-web');
    assert.deepEqual(claims.roles, ['customer']);
    assert.equal(seen.headers.cookie, undefined, 'the console’s cookie stays here');
    // The visitor as the console saw it (for the gateway's per-address limits), never what the browser claimed.
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.ok(seen.headers['x-request-id']);
    // Back to the browser: no upstream cookies or internal headers, same-origin Location, nothing cached.
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal(res.headers['x-internal-secret'], undefined);
    assert.equal(res.headers.location, '/api/v1/things/1');
    assert.equal(res.headers.etag, '"v1"');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('an anonymous call goes without a token', async () => {
    gateway.requests.length = 0;
    const res = await browser(web).request({ url: '/api/v1/products?q=usb' });
    assert.equal(res.statusCode, 200);
    assert.equal(gateway.requests.at(-1)!.headers.authorization, undefined);
  });

  test('state-changing calls need the session’s CSRF token and our Origin', async () => {
    const { browser: b } = await signIn(web, idp);
    const { csrf_token } = await session(b);
    const json = { 'content-type': 'application/json' };
    const body = JSON.stringify({ product_id: 'p1', quantity: 2 });
    gateway.requests.length = 0;

    const none = await b.request({
      method: 'POST',
      url: '/api/v1/cart/items',
      headers: { ...json, origin: PUBLIC_URL },
      body,
    });
    assert.equal(none.statusCode, 403);
    assert.equal(none.json().code, 'CSRF_TOKEN_INVALID');
    const wrong = await b.request({
      method: 'POST',
      url: '/api/v1/cart/items',
      headers: { ...json, origin: PUBLIC_URL, 'x-csrf-token': `${csrf_token}x` },
      body,
    });
    assert.equal(wrong.statusCode, 403);
    const evil = await b.request({
      method: 'DELETE',
      url: '/api/v1/cart/items/1',
      headers: { origin: 'https://evil.example', 'x-csrf-token': csrf_token! },
    });
    assert.equal(evil.statusCode, 403);
    assert.equal(evil.json().code, 'ORIGIN_NOT_ALLOWED');
    const crossSite = await b.request({
      method: 'PATCH',
      url: '/api/v1/cart/items/1',
      headers: { ...json, 'sec-fetch-site': 'cross-site', 'x-csrf-token': csrf_token! },
      body,
    });
    assert.equal(crossSite.statusCode, 403);
    // Another session's token is no good here either.
    const other = await signIn(web, idp);
    const otherToken = (await session(other.browser)).csrf_token!;
    const swapped = await b.request({
      method: 'POST',
      url: '/api/v1/cart/items',
      headers: { ...json, origin: PUBLIC_URL, 'x-csrf-token': otherToken },
      body,
    });
    assert.equal(swapped.statusCode, 403);
    const anonymous = await browser(web).request({
      method: 'POST',
      url: '/api/v1/cart/items',
      headers: { ...json, origin: PUBLIC_URL },
      body,
    });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().code, 'LOGIN_REQUIRED');
    assert.equal(gateway.requests.length, 0, 'nothing refused reached the gateway');

    const ok = await b.request({
      method: 'POST',
      url: '/api/v1/cart/items',
      headers: { ...json, origin: PUBLIC_URL, 'x-csrf-token': csrf_token!, 'idempotency-key': 'k-1' },
      body,
    });
    assert.equal(ok.statusCode, 201);
    const seen = gateway.requests.at(-1)!;
    assert.equal(seen.body, body, 'the body goes through untouched');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['idempotency-key'], 'k-1');
    assert.equal(seen.headers['x-csrf-token'], undefined);
  });

  test('behind a trusted proxy (WEB_TRUSTED_PROXIES) the gateway is sent the visitor that proxy saw', async () => {
    // This socket stands for the ingress: one hop, which appended the visitor it saw
    // (203.0.113.7) to what the visitor wrote itself.
    const behind = await startWeb(sqlite, idp.issuer, gateway.url, { trustedProxies: '1' });
    try {
      const url = await behind.listen({ port: 0, host: '127.0.0.1' });
      const sent = (forwardedFor?: string) =>
        request(`${url}/api/v1/products`, {
          headers: { host: HOST, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
        });
      gateway.requests.length = 0;
      const res = await sent('6.6.6.6, 203.0.113.7');
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      assert.equal(gateway.requests.at(-1)!.headers['x-forwarded-for'], '203.0.113.7');
      // Without the header the proxy is the peer itself.
      await (await sent()).body.dump();
      assert.equal(gateway.requests.at(-1)!.headers['x-forwarded-for'], '127.0.0.1');
    } finally {
      await behind.close();
    }
    // Trusting nobody (the default), what the client wrote is never the visitor.
    const direct = await startWeb(sqlite, idp.issuer, gateway.url);
    try {
      const url = await direct.listen({ port: 0, host: '127.0.0.1' });
      const res = await request(`${url}/api/v1/products`, {
        headers: { host: HOST, 'x-forwarded-for': '6.6.6.6, 203.0.113.7' },
      });
      await res.body.dump();
      assert.equal(gateway.requests.at(-1)!.headers['x-forwarded-for'], '127.0.0.1');
    } finally {
      await direct.close();
    }
    await assert.rejects(
      startWeb(sqlite, idp.issuer, gateway.url, { trustedProxies: 'the ingress' }),
      (err: Error) =>
        err.name === 'ConfigError' &&
        /trustedProxies must be a hop count, or comma-separated addresses/.test(err.message),
    );
  });

  test('an unreachable gateway is a 502 problem in words', async () => {
    const closed = await startWeb(sqlite, idp.issuer, 'http://127.0.0.1:9');
    try {
      const res = await browser(closed).request({ url: '/api/v1/products' });
      assert.equal(res.statusCode, 502);
      assert.equal(res.json().code, 'GATEWAY_UNAVAILABLE');
      assert.match(String(res.headers['content-type']), /problem\+json/);
    } finally {
      await closed.close();
    }
  });
});

describe('access-token refresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'web-'));
  const dbUrl = `sqlite:${join(dir, 'web.db')}`;
  let idp: RunningIdentity;
  let gateway: FakeGateway;
  let web: Server;

  before(async () => {
    idp = await startIdentity();
    gateway = await startFakeGateway();
    // Tokens live 900 s; a leeway longer than that makes every call "about to expire".
    web = await startWeb({ ...sqlite, url: dbUrl }, idp.issuer, gateway.url, {
      oidc: { refreshLeewaySeconds: 3600 },
    });
  });
  after(async () => {
    await web?.close();
    await gateway?.close();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('refreshes before expiry, once for many parallel calls, and keeps working round after round', async () => {
    const { browser: b } = await signIn(web, idp);
    const seen = new Set<string>();
    for (let round = 0; round < 3; round++) {
      gateway.requests.length = 0;
      const results = await Promise.all(
        Array.from({ length: 5 }, () => b.request({ url: '/api/v1/orders' })),
      );
      for (const r of results) assert.equal(r.statusCode, 200);
      const tokens = new Set(gateway.requests.map((r) => r.headers.authorization));
      assert.equal(tokens.size, 1, 'one refresh served every parallel call');
      const [token] = tokens;
      assert.ok(!seen.has(token!), 'a new token each round');
      seen.add(token!);
      assert.equal(claimsOf(token).aud, 'http://localhost:8000');
    }
    // A refresh that failed would have signed the session out.
    assert.equal((await session(b)).authenticated, true);
  });

  test('two console replicas on one database refresh the same session at once; it stays signed in', async () => {
    const other = await startWeb({ ...sqlite, url: dbUrl }, idp.issuer, gateway.url, {
      oidc: { refreshLeewaySeconds: 3600 },
    });
    try {
      const { browser: b } = await signIn(web, idp);
      const onOther = browser(other);
      for (const [name, value] of b.jar.cookies) onOther.jar.cookies.set(name, value);
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(
          [b, onOther, b, onOther].map((replica) => replica.request({ url: '/api/v1/orders' })),
        );
        assert.deepEqual(
          results.map((r) => r.statusCode),
          [200, 200, 200, 200],
          results.map((r) => r.body).join('\n'),
        );
      }
      assert.equal((await session(b)).authenticated, true);
      assert.equal((await session(onOther)).authenticated, true);
    } finally {
      await other.close();
    }
  });

  test('a refused refresh signs the session out with SESSION_EXPIRED', async () => {
    const { browser: b } = await signIn(web, idp);
    // Revoke the session's refresh token at the provider, as a sign-out elsewhere would.
    const database = openDatabase<WebDatabase>({ url: dbUrl });
    try {
      const stored = await sqlSessionStore(database).get(b.jar.cookies.get('portico_session')!);
      const conf = await oidc.discovery(
        new URL(idp.issuer),
        'portico-web',
        undefined,
        oidc.ClientSecretBasic(WEB_CLIENT_SECRET),
        { execute: [oidc.allowInsecureRequests] },
      );
      await oidc.tokenRevocation(conf, stored!.data.tokens!.refreshToken!);
    } finally {
      await database.close();
    }
    const res = await b.request({ url: '/api/v1/orders' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().code, 'SESSION_EXPIRED');
    assert.match(res.json().detail, /sign in again/);
    assert.equal((await session(b)).authenticated, false);
  });
});

describe('a 401 from the API for a token that looked fresh', () => {
  let idp: RunningIdentity;
  let gateway: FakeGateway;
  let web: Server;
  let rejectFirst: string | undefined;

  before(async () => {
    idp = await startIdentity();
    gateway = await startFakeGateway({
      unauthorized: (req) => {
        const token = req.headers.authorization;
        if (!token) return false;
        rejectFirst ??= token;
        return token === rejectFirst;
      },
    });
    web = await startWeb(sqlite, idp.issuer, gateway.url);
  });
  after(async () => {
    await web?.close();
    await gateway?.close();
    await idp?.close();
  });

  test('gets one refresh and one retry', async () => {
    const { browser: b } = await signIn(web, idp);
    gateway.requests.length = 0;
    const res = await b.request({ url: '/api/v1/orders' });
    assert.equal(res.statusCode, 200);
    assert.equal(gateway.requests.length, 2);
    assert.notEqual(gateway.requests[0]!.headers.authorization, gateway.requests[1]!.headers.authorization);
  });
});
