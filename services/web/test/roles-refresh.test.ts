/**
 * The session's user follows the provider at every token refresh: an admin whose role is taken
 * away at identity's admin API loses the console's admin-only routes at the next refresh, as
 * the API loses their admin scopes at that same refresh; a disabled account's refresh is
 * refused and the session ends. Against the real identity service, with the token's expiry
 * moved into the past in the session store to make the next call refresh.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Server } from '@portico/http';
import { openDatabase } from '@portico/store/sql';
import type { CustomFetch } from 'openid-client';
import type { WebDatabase } from '../src/data/schema.ts';
import { sqlSessionStore } from '../src/session/store.ts';
import {
  approveAtProvider,
  type Browser,
  browser,
  type FakeGateway,
  type RunningIdentity,
  session,
  signIn,
  startFakeGateway,
  startIdentity,
  startWeb,
} from './support/harness.ts';

function claimsOf(authorization: string | undefined): Record<string, unknown> {
  assert.ok(authorization?.startsWith('Bearer '), 'a bearer token was sent');
  return JSON.parse(Buffer.from(authorization!.slice(7).split('.')[1]!, 'base64url').toString());
}

describe('roles after a token refresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'web-roles-'));
  const dbUrl = `sqlite:${join(dir, 'web.db')}`;
  let idp: RunningIdentity;
  let gateway: FakeGateway;
  let web: Server;
  let adminToken = '';
  /** Refresh responses that passed through the man in the middle, and whether it dropped their ID token. */
  const refreshes: Array<{ idToken: boolean }> = [];
  let dropRefreshIdToken = false;

  // Sees (and, when told, strips the ID token from) refresh responses; sign-ins pass untouched.
  const watch: CustomFetch = async (url, init) => {
    const res = await fetch(url, init as RequestInit);
    const body = String(init.body ?? '');
    if (!url.endsWith('/token') || !body.includes('grant_type=refresh_token') || /scope=/.test(body))
      return res;
    const json = (await res.json()) as Record<string, unknown>;
    if (dropRefreshIdToken) delete json.id_token;
    refreshes.push({ idToken: typeof json.id_token === 'string' });
    return new Response(JSON.stringify(json), { status: res.status, headers: res.headers });
  };

  const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(new URL(path, idp.issuer), {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });

  /** An account with the admin role, made at identity, signed in to the console. */
  async function newAdmin(username: string) {
    const password = 'copper meadow fox lantern';
    const created = await admin('/admin/users', {
      method: 'POST',
      body: { username, password, roles: ['customer', 'admin'] },
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = ((await created.json()) as { data: { id: string } }).data;
    const b = browser(web);
    const start = await b.request({ url: '/login' });
    const callback = new URL(await approveAtProvider(String(start.headers.location), username, password));
    await b.request({ url: `${callback.pathname}${callback.search}` });
    assert.deepEqual((await session(b)).user?.roles, ['customer', 'admin']);
    return { id, b };
  }

  /** Moves the session's access-token expiry into the past: its next use refreshes. */
  async function expireToken(b: Browser) {
    const database = openDatabase<WebDatabase>({ url: dbUrl });
    try {
      const store = sqlSessionStore(database);
      const stored = (await store.get(b.jar.cookies.get('portico_session')!))!;
      stored.data.tokens!.expiresAt = Date.now() - 1000;
      await store.save(stored);
    } finally {
      await database.close();
    }
  }

  before(async () => {
    idp = await startIdentity({ admin: { requireMfa: false } });
    gateway = await startFakeGateway();
    web = await startWeb(
      { name: 'sqlite', url: dbUrl, cleanup: async () => {} },
      idp.issuer,
      gateway.url,
      {},
      {
        oidcFetch: watch,
      },
    );
    const { browser: b } = await signIn(web, idp, 'admin');
    gateway.requests.length = 0;
    assert.equal((await b.request({ url: '/api/v1/orders' })).statusCode, 200);
    adminToken = gateway.requests.at(-1)!.headers.authorization!.slice('Bearer '.length);
  });
  after(async () => {
    await web?.close();
    await gateway?.close();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an admin whose role is taken away at identity gets 403 from the admin routes after the next refresh', async () => {
    const { id, b } = await newAdmin('hal');
    assert.equal((await b.request({ url: '/api/console/requests' })).statusCode, 200);

    const demoted = await admin(`/admin/users/${id}/roles`, { method: 'PUT', body: { roles: ['customer'] } });
    assert.equal(demoted.status, 200, await demoted.text());
    await expireToken(b);
    refreshes.length = 0;

    const res = await b.request({ url: '/api/console/requests' });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().code, 'FORBIDDEN');
    assert.deepEqual(refreshes, [{ idToken: true }], 'one refresh, whose ID token carried the roles');
    const now = await session(b);
    assert.equal(now.authenticated, true, 'still signed in, as a customer');
    assert.deepEqual(now.user?.roles, ['customer']);
    assert.equal(now.user?.username, 'hal');
    // The API's token from that refresh says the same.
    gateway.requests.length = 0;
    assert.equal((await b.request({ url: '/api/v1/orders' })).statusCode, 200);
    assert.deepEqual(claimsOf(gateway.requests.at(-1)!.headers.authorization).roles, ['customer']);
  });

  test('a refresh whose response has no ID token reads the roles at userinfo', async () => {
    const { id, b } = await newAdmin('ida');
    const demoted = await admin(`/admin/users/${id}/roles`, { method: 'PUT', body: { roles: ['customer'] } });
    assert.equal(demoted.status, 200);
    await expireToken(b);
    refreshes.length = 0;
    dropRefreshIdToken = true;
    try {
      const res = await b.request({ url: '/api/console/requests' });
      assert.equal(res.statusCode, 403, res.body);
    } finally {
      dropRefreshIdToken = false;
    }
    assert.deepEqual(refreshes, [{ idToken: false }]);
    assert.deepEqual((await session(b)).user?.roles, ['customer']);
  });

  test('a role given at identity shows at the next refresh too', async () => {
    const { id, b } = await newAdmin('joy');
    const demoted = await admin(`/admin/users/${id}/roles`, { method: 'PUT', body: { roles: ['customer'] } });
    assert.equal(demoted.status, 200);
    await expireToken(b);
    assert.equal((await b.request({ url: '/api/console/requests' })).statusCode, 403);
    const promoted = await admin(`/admin/users/${id}/roles`, {
      method: 'PUT',
      body: { roles: ['customer', 'admin'] },
    });
    assert.equal(promoted.status, 200);
    await expireToken(b);
    assert.equal((await b.request({ url: '/api/console/requests' })).statusCode, 200);
  });

  test('an account disabled at identity is signed out at the next refresh', async () => {
    const { id, b } = await newAdmin('kim');
    const disabled = await admin(`/admin/users/${id}/disable`, { method: 'POST' });
    assert.equal(disabled.status, 200);
    await expireToken(b);
    const res = await b.request({ url: '/api/console/requests' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().code, 'SESSION_EXPIRED');
    assert.equal((await session(b)).authenticated, false);
  });
});
