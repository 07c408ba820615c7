/**
 * The provider's mount on real sockets, beside the protocol: a path oidc-provider owns but
 * routes nothing to is the identity's problem+json 404, a method its routes do not take is a
 * 405 problem+json whose `Allow` lists the ones they do (each of which is then answered), a
 * plain OPTIONS is a 204 with `Allow` while CORS preflights stay the provider's, and an error
 * escaping the provider after it rendered a refusal keeps that refusal. The OAuth error
 * answers clients parse (RFC 6749 §5.2, RFC 6750 §3) are left exactly as they were.
 * Storage plays no part here: one in-memory SQLite.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rotateKeys } from '../src/oidc/keys.ts';
import { type RunningIdentity, startIdentity } from './support/harness.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

describe('the provider mount answers problem+json outside the protocol', () => {
  let identity: RunningIdentity;
  const url = (path: string) => new URL(path, identity.issuer);
  const call = (path: string, init: RequestInit = {}) => fetch(url(path), { redirect: 'manual', ...init });

  before(async () => {
    identity = await startIdentity({ url: 'sqlite::memory:' });
  });
  after(() => identity.close());

  async function problemOf(res: Response) {
    assert.equal(res.headers.get('content-type'), PROBLEM);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.status, res.status);
    assert.equal(body.request_id, res.headers.get('x-request-id'));
    return body;
  }

  test('a method the endpoint does not take: 405 with the methods it does in Allow', async () => {
    for (const [method, path, allow] of [
      ['GET', '/token', 'POST, OPTIONS'],
      ['DELETE', '/jwks', 'GET, HEAD, OPTIONS'],
      ['GET', '/token/introspection', 'POST, OPTIONS'],
      ['PUT', '/token/revocation', 'POST, OPTIONS'],
      ['PATCH', '/me', 'GET, HEAD, POST, OPTIONS'],
      ['GET', '/session/end/confirm', 'POST, OPTIONS'],
    ] as const) {
      const res = await call(path, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
      const body = await problemOf(res);
      assert.equal(body.code, 'METHOD_NOT_ALLOWED');
      assert.equal(body.detail, `${method} is not allowed on ${path}`);
      assert.equal(body.instance, path);
    }
  });

  test('a path the provider owns but routes nothing to: the identity 404, same shape', async () => {
    const own = await call('/no-such-page');
    assert.equal(own.status, 404);
    const ownBody = await problemOf(own);
    for (const path of ['/token/nope', '/.well-known/nope', '/auth/some-uid/extra', '/jwks/1']) {
      const res = await call(path);
      assert.equal(res.status, 404, path);
      const body = await problemOf(res);
      assert.deepEqual(Object.keys(body), Object.keys(ownBody), path);
      assert.equal(body.code, 'NOT_FOUND');
      assert.equal(body.detail, `No resource at ${path}`);
    }
  });

  test("Allow is true for every endpoint discovery names: each listed method gets the endpoint's answer", async () => {
    const discovery = (await (await call('/.well-known/openid-configuration')).json()) as Record<
      string,
      unknown
    >;
    const endpoints = Object.entries(discovery)
      .filter(
        ([key, value]) => (key.endsWith('_endpoint') || key === 'jwks_uri') && typeof value === 'string',
      )
      .map(([key, value]) => [key, new URL(value as string).pathname] as const);
    assert.ok(endpoints.length >= 8, `discovery names ${endpoints.length} endpoints`);
    for (const [key, path] of endpoints) {
      const refused = await call(path, { method: 'PROPFIND' });
      assert.equal(refused.status, 405, key);
      await refused.arrayBuffer();
      const allow = refused.headers.get('allow')?.split(', ') ?? [];
      assert.ok(allow.includes('OPTIONS'), `${key}: ${allow}`);
      for (const method of allow) {
        const res = await call(path, { method });
        await res.arrayBuffer();
        assert.notEqual(res.status, 404, `${method} ${path}`);
        assert.notEqual(res.status, 405, `${method} ${path}`);
        assert.ok(res.status < 500, `${method} ${path}: ${res.status}`);
      }
    }
  });

  test('GET endpoints take HEAD: the GET answer without its body', async () => {
    for (const path of ['/jwks', '/.well-known/openid-configuration']) {
      const get = await call(path);
      const length = (await get.arrayBuffer()).byteLength;
      const head = await call(path, { method: 'HEAD' });
      assert.equal(head.status, 200, path);
      assert.equal(head.headers.get('content-length'), String(length), path);
      assert.equal((await head.arrayBuffer()).byteLength, 0, path);
    }
    const head = await call('/token', { method: 'HEAD' });
    assert.equal(head.status, 405);
    assert.equal(head.headers.get('allow'), 'POST, OPTIONS');
  });

  test('OPTIONS: a plain one is 204 with Allow; a CORS preflight is still the provider’s', async () => {
    for (const [path, allow] of [
      ['/token', 'POST, OPTIONS'],
      ['/jwks', 'GET, HEAD, OPTIONS'],
      ['/auth', 'GET, HEAD, OPTIONS'],
    ] as const) {
      const res = await call(path, { method: 'OPTIONS' });
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get('allow'), allow, path);
      assert.equal((await res.arrayBuffer()).byteLength, 0, path);
    }
    for (const [path, method] of [
      ['/token', 'POST'],
      ['/jwks', 'GET'],
    ] as const) {
      const preflight = await call(path, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': method,
          'access-control-request-headers': 'dpop',
        },
      });
      assert.equal(preflight.status, 204, path);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example', path);
      assert.equal(preflight.headers.get('access-control-allow-methods'), method, path);
      assert.equal(preflight.headers.get('access-control-allow-headers'), 'dpop', path);
      assert.equal(preflight.headers.get('access-control-max-age'), '3600', path);
    }
  });

  test('an error escaping the provider after its refusal page: the page stands, not a text 500', async () => {
    const res = await call('/device/not-a-device-interaction');
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(await res.text(), /<title>/);
  });

  test('the protocol errors clients parse are left as they were', async () => {
    const me = await call('/me');
    assert.equal(me.status, 401);
    assert.match(me.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.equal(me.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(((await me.json()) as { error: string }).error, 'invalid_token');

    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const [what, init] of [
      ['a JSON body', { headers: { 'content-type': 'application/json' }, body: '{"grant_type":"x"}' }],
      ['a text body', { headers: { 'content-type': 'text/plain' }, body: 'grant_type=x' }],
      ['no client authentication', { headers: form, body: 'grant_type=client_credentials' }],
      ['bad percent-encoding', { headers: form, body: 'grant_type=%zz' }],
      ['a 200 kB body', { headers: form, body: `grant_type=client_credentials&x=${'a'.repeat(200_000)}` }],
    ] as const) {
      const res = await call('/token', { method: 'POST', ...init });
      assert.equal(res.status, 400, what);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8', what);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request', what);
    }
  });
});

test('a provider rebuilt with new signing keys answers the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-provider-edge-'));
  const keysFile = join(dir, 'keys.json');
  const identity = await startIdentity(
    { url: 'sqlite::memory:' },
    { keysFile, keyRotation: { activationDelaySeconds: 0, reloadSeconds: 1 } },
  );
  try {
    const jwks = async () => {
      const res = await fetch(new URL('/jwks', identity.issuer));
      return ((await res.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    };
    const { added } = await rotateKeys(keysFile, { retainSeconds: 3600 });
    // The file is read again every second: wait (up to a minute on a loaded machine) for the new key.
    for (let i = 0; i < 600 && !(await jwks()).includes(added); i++) await sleep(100);
    assert.ok((await jwks()).includes(added), 'the rebuilt provider publishes the new key');
    const res = await fetch(new URL('/token', identity.issuer));
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
    assert.equal(res.headers.get('content-type'), PROBLEM);
    await res.arrayBuffer();
  } finally {
    await identity.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
