/**
 * Sign-in, sessions and sign-out through the console against the real identity service:
 * what a browser sees (redirects, cookies, pages) and what the server keeps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Server } from '@portico/http';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import {
  browser,
  PUBLIC_URL,
  type RunningIdentity,
  type Stack,
  session,
  signIn,
  startStack,
} from './support/harness.ts';

for (const makeTarget of databaseTargets()) {
  const base = makeTarget();
  // A file, not :memory:, so the test can open the same SQLite database the service uses.
  const dir = base.name === 'sqlite' ? mkdtempSync(join(tmpdir(), 'web-')) : undefined;
  const target = dir
    ? {
        ...base,
        url: `sqlite:${join(dir, 'web.db')}`,
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      }
    : base;
  describe(`sign-in and sessions (${target.name})`, () => {
    let idp: RunningIdentity;
    let web: Server;

    let stack: Stack | undefined;
    before(async () => {
      stack = await startStack(target);
      ({ idp, web } = stack);
    });
    after(() => stack?.close());

    test('/login sends the browser to the provider with PKCE S256, state and nonce', async () => {
      const b = browser(web);
      const res = await b.request({ url: '/login' });
      assert.equal(res.statusCode, 303);
      const to = new URL(String(res.headers.location));
      assert.equal(to.origin, idp.issuer);
      const p = to.searchParams;
      assert.equal(p.get('response_type'), 'code');
      assert.equal(p.get('client_id'), 'portico-web');
      assert.equal(p.get('redirect_uri'), `${PUBLIC_URL}/callback`);
      assert.equal(p.get('code_challenge_method'), 'S256');
      assert.match(p.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok((p.get('state') ?? '').length >= 32);
      assert.ok((p.get('nonce') ?? '').length >= 32);
      assert.match(p.get('scope') ?? '', /\bopenid\b/);
      // A fresh state and nonce for every sign-in.
      const again = new URL(String((await b.request({ url: '/login' })).headers.location));
      assert.notEqual(again.searchParams.get('state'), p.get('state'));
      assert.notEqual(again.searchParams.get('nonce'), p.get('nonce'));
      const cookie = String(res.headers['set-cookie']);
      assert.match(cookie, /^portico_session=[A-Za-z0-9_-]{43};/);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.match(cookie, /Path=\//);
      assert.doesNotMatch(cookie, /Secure/, 'http origin: no Secure flag');
    });

    test('a full sign-in: new session id, user from userinfo, /api/protected answers', async () => {
      const { browser: b, start, done } = await signIn(web, idp, 'alice', '/cart');
      assert.equal(done.statusCode, 303, done.body);
      assert.equal(done.headers.location, '/cart');
      const before = String(start.headers['set-cookie']).split(';')[0];
      const afterCookie = String(done.headers['set-cookie']).split(';')[0];
      assert.notEqual(afterCookie, before, 'the session id changes at sign-in');

      const s = await session(b);
      assert.equal(s.authenticated, true);
      assert.equal(s.user?.username, 'alice');
      assert.equal(s.user?.name, 'Alice Example');
      assert.deepEqual(s.user?.roles, ['customer']);
      assert.ok(s.csrf_token);

      const protectedRes = await b.request({ url: '/api/protected' });
      assert.equal(protectedRes.statusCode, 200);
      assert.equal(protectedRes.json().message, 'Access granted');
      assert.equal(protectedRes.json().user.username, 'alice');
      const body = JSON.stringify(protectedRes.json()) + JSON.stringify(s);
      assert.doesNotMatch(body, /eyJ/, 'no token reaches the browser');
    });

    test('/api/protected without a session is 401 problem+json', async () => {
      const res = await browser(web).request({ url: '/api/protected' });
      assert.equal(res.statusCode, 401);
      assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      assert.equal(res.json().code, 'LOGIN_REQUIRED');
    });

    test('sessions at rest: neither the cookie value nor any token is in the table', async () => {
      const { browser: b } = await signIn(web, idp);
      const cookie = b.jar.cookies.get('portico_session')!;
      const database = openDatabase<{ sessions: { id: string; data: string } }>({
        url: target.url,
        schema: target.schema,
      });
      try {
        const rows = await database.db.selectFrom('sessions').selectAll().execute();
        assert.ok(rows.length > 0);
        for (const row of rows) {
          assert.notEqual(row.id, cookie);
          // Sealed: neither the profile nor a JWT (its `{"alg"` header) appears in the stored bytes.
          const stored = Buffer.from(row.data, 'base64url');
          assert.ok(
            !stored.includes('Alice Example') && !stored.includes('"alg"') && !row.data.includes('.eyJ'),
          );
        }
      } finally {
        await database.close();
      }
    });

    test('the callback takes only a state this browser started, once', async () => {
      const b = browser(web);
      const start = await b.request({ url: '/login' });
      const callback = new URL(await approveAtProvider(start.headers.location, idp));
      const path = `${callback.pathname}${callback.search}`;

      // Another browser (no cookie, or its own session) cannot finish it: login CSRF.
      const other = browser(web);
      await other.request({ url: '/login' });
      const stolen = await other.request({ url: path });
      assert.equal(stolen.statusCode, 400);
      assert.match(stolen.body, /expired or was started in another browser/);
      assert.equal((await session(other)).authenticated, false);

      assert.equal((await b.request({ url: path })).statusCode, 303);
      const replay = await b.request({ url: path });
      assert.equal(replay.statusCode, 400, 'a state is single-use');

      const forged = await browser(web).request({ url: '/callback?code=x&state=made-up' });
      assert.equal(forged.statusCode, 400);
    });

    test('a cancelled sign-in says so in words', async () => {
      const b = browser(web);
      const start = await b.request({ url: '/login' });
      const state = new URL(String(start.headers.location)).searchParams.get('state')!;
      const res = await b.request({ url: `/callback?error=access_denied&state=${state}` });
      assert.equal(res.statusCode, 403);
      assert.match(res.body, /You cancelled the sign-in/);
      assert.equal((await session(b)).authenticated, false);
    });

    test('return_to only ever points inside the console', async () => {
      for (const evil of [
        'https://evil.example/',
        '//evil.example/x',
        '/\\evil.example',
        'javascript:alert(1)',
      ]) {
        const b = browser(web);
        const start = await b.request({ url: `/login?return_to=${encodeURIComponent(evil)}` });
        const callback = new URL(await approveAtProvider(start.headers.location, idp));
        const done = await b.request({ url: `${callback.pathname}${callback.search}` });
        assert.equal(done.headers.location, '/', evil);
      }
    });

    test('sign-out needs the CSRF token and our Origin, ends the session and the provider session', async () => {
      const { browser: b } = await signIn(web, idp);
      const { csrf_token } = await session(b);
      const form = { 'content-type': 'application/x-www-form-urlencoded' };

      const noToken = await b.request({
        method: 'POST',
        url: '/logout',
        headers: { ...form, origin: PUBLIC_URL },
        body: '',
      });
      assert.equal(noToken.statusCode, 403);
      assert.equal(JSON.parse(noToken.body).code, 'CSRF_TOKEN_INVALID');
      const crossSite = await b.request({
        method: 'POST',
        url: '/logout',
        headers: { ...form, origin: 'https://evil.example' },
        body: `csrf=${csrf_token}`,
      });
      assert.equal(crossSite.statusCode, 403);
      assert.equal(JSON.parse(crossSite.body).code, 'ORIGIN_NOT_ALLOWED');
      assert.equal((await session(b)).authenticated, true, 'refused sign-outs change nothing');

      const out = await b.request({
        method: 'POST',
        url: '/logout',
        headers: { ...form, origin: PUBLIC_URL },
        body: `csrf=${csrf_token}`,
      });
      assert.equal(out.statusCode, 303);
      const to = new URL(String(out.headers.location));
      assert.equal(`${to.origin}${to.pathname}`, `${idp.issuer}/session/end`);
      assert.equal(to.searchParams.get('post_logout_redirect_uri'), `${PUBLIC_URL}/`);
      assert.ok(to.searchParams.get('id_token_hint'));
      assert.match(String(out.headers['set-cookie']), /portico_session=;.*Max-Age=0/);
      assert.equal((await session(b)).authenticated, false);
      assert.equal((await b.request({ url: '/api/protected' })).statusCode, 401);
    });
  });
}

async function approveAtProvider(location: unknown, idp: RunningIdentity): Promise<string> {
  const { approveAtProvider: approve } = await import('./support/harness.ts');
  return approve(String(location), 'alice', idp.password('alice'));
}
