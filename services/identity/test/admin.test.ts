/**
 * The admin API on real sockets, with real access tokens from this identity: who may
 * call it, accounts (search, create, roles, disable and enable), their sessions and
 * grants, the audit log, and the development mailbox. Disabling an account refuses its
 * sign-in and its refresh at once, and its access tokens within seconds (the revocation
 * list, also checked by the admin API itself).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REVOCATION_CHANNEL, type Revocation, revocationBus } from '@portico/auth';
import { JSON_API_SECURITY_HEADERS, securityHeadersOf } from '@portico/http/testing';
import * as client from 'openid-client';
import { FlowError } from '../src/cli/browser.ts';
import { type RunningIdentity, signInWeb, startIdentity, storageTargets } from './support/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not by types
type Json = any;
const invalidGrant = (err: unknown) =>
  (err as { cause?: { error?: string } }).cause?.error === 'invalid_grant';

for (const { name, target, overrides } of storageTargets()) {
  describe(`admin API (${name})`, () => {
    let identity: RunningIdentity;
    let adminToken: string;
    let adminSub: string;
    const api = (path: string, token: string | undefined, init: { method?: string; body?: unknown } = {}) =>
      fetch(new URL(path, identity.issuer), {
        method: init.method ?? 'GET',
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          'user-agent': 'admin-test',
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    const json = async (res: Response) => (await res.json()) as Json;

    before(async () => {
      identity = await startIdentity(target, { ...overrides, admin: { requireMfa: false } });
      const { tokens } = await signInWeb(identity.issuer, identity.login('admin'));
      adminToken = tokens.access_token;
      adminSub = tokens.claims()!.sub;
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
    });

    test('only an admin token: none is 401, a customer is 403, both problem+json', async () => {
      const none = await api('/admin/users', undefined);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('content-type') ?? '', /application\/problem\+json/);
      const { tokens } = await signInWeb(identity.issuer, identity.login('alice'));
      const customer = await api('/admin/users', tokens.access_token);
      assert.equal(customer.status, 403);
      assert.equal((await json(customer)).code, 'INSUFFICIENT_SCOPE');
      assert.equal((await api('/admin/users', adminToken)).status, 200);
    });

    test('the admin API and the provider’s JSON answer with the JSON-API security headers', async () => {
      const answers = {
        admin: await api('/admin/users', adminToken),
        problem: await api('/admin/users', undefined),
        discovery: await api('/.well-known/openid-configuration', undefined),
        jwks: await api('/jwks', undefined),
        token: await fetch(new URL('/token', identity.issuer), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        }),
      };
      for (const [answer, res] of Object.entries(answers)) {
        assert.match(res.headers.get('content-type') ?? '', /json/, answer);
        assert.deepEqual(securityHeadersOf(res.headers), JSON_API_SECURITY_HEADERS, answer);
        await res.body?.cancel();
      }
    });

    test('create, search, roles; bad input gets stable codes', async () => {
      const weak = await api('/admin/users', adminToken, {
        method: 'POST',
        body: { username: 'gina', password: 'sunshine1', email: 'gina@example.org' },
      });
      assert.equal(weak.status, 422);
      assert.equal((await json(weak)).code, 'WEAK_PASSWORD');
      const unknownField = await api('/admin/users', adminToken, {
        method: 'POST',
        body: { username: 'gina', password: 'tall granite window', admin: true },
      });
      assert.equal(unknownField.status, 400);

      const created = await api('/admin/users', adminToken, {
        method: 'POST',
        body: {
          username: 'Gina',
          password: 'tall granite window',
          email: 'gina@example.org',
          name: 'Gina R',
        },
      });
      assert.equal(created.status, 201);
      const gina = (await json(created)).data;
      assert.equal(gina.username, 'gina');
      assert.deepEqual(gina.roles, ['customer']);
      assert.equal(gina.email_verified, true);
      assert.equal(created.headers.get('location'), `/admin/users/${gina.id}`);

      const again = await api('/admin/users', adminToken, {
        method: 'POST',
        body: { username: 'gina', password: 'tall granite window' },
      });
      assert.equal(again.status, 409);
      assert.equal((await json(again)).code, 'USERNAME_TAKEN');

      const found = await json(await api('/admin/users?q=GINA%20R', adminToken));
      assert.deepEqual(
        found.data.map((u: { username: string }) => u.username),
        ['gina'],
      );
      assert.equal(found.total, 1);
      const all = await json(await api('/admin/users?q=_', adminToken));
      assert.equal(all.total, 0, 'LIKE wildcards in the query are literal');

      const roles = await api(`/admin/users/${gina.id}/roles`, adminToken, {
        method: 'PUT',
        body: { roles: ['customer', 'support'] },
      });
      assert.deepEqual((await json(roles)).data.roles, ['customer', 'support']);
      const { tokens } = await signInWeb(identity.issuer, {
        username: 'gina',
        password: 'tall granite window',
      });
      assert.deepEqual(tokens.claims()!.roles, ['customer', 'support']);

      const missing = await api('/admin/users/nope', adminToken);
      assert.equal(missing.status, 404);
      assert.equal((await json(missing)).code, 'ACCOUNT_NOT_FOUND');
    });

    test('disable: no sign-in, refresh refused, tokens revoked on the bus; enable lets them back', async () => {
      const created = await json(
        await api('/admin/users', adminToken, {
          method: 'POST',
          body: { username: 'hal', password: 'copper meadow fox', roles: ['customer', 'admin'] },
        }),
      );
      const hal = created.data;
      const signedIn = await signInWeb(identity.issuer, { username: 'hal', password: 'copper meadow fox' });
      assert.equal((await api('/admin/users', signedIn.tokens.access_token)).status, 200);

      const detail = await json(await api(`/admin/users/${hal.id}`, adminToken));
      assert.equal(detail.grants.length, 1);
      assert.equal(detail.grants[0].client_id, 'portico-web');
      assert.ok(detail.sessions.length >= 1);

      const heard: Revocation[] = [];
      const bus = revocationBus();
      const unsubscribe = await bus.subscribe(REVOCATION_CHANNEL, (m) => heard.push(m as Revocation));
      try {
        const disabled = await api(`/admin/users/${hal.id}/disable`, adminToken, { method: 'POST' });
        assert.equal(disabled.status, 200);
        assert.equal((await json(disabled)).data.disabled, true);
        assert.deepEqual(
          heard.map((r) => r.type === 'sub' && r.sub),
          [hal.id],
        );
      } finally {
        await unsubscribe();
      }
      const refused = await api('/admin/users', signedIn.tokens.access_token);
      assert.equal(refused.status, 401, 'the access token is revoked before it expires');
      assert.match((await json(refused)).detail, /revoked/);
      await assert.rejects(
        client.refreshTokenGrant(signedIn.config, signedIn.tokens.refresh_token!),
        invalidGrant,
      );
      const login = await signInWeb(identity.issuer, {
        username: 'hal',
        password: 'copper meadow fox',
      }).catch((e: unknown) => e);
      assert.ok(login instanceof FlowError && login.status === 403);
      assert.match(login.body, /This account is disabled/);
      assert.equal((await json(await api(`/admin/users/${hal.id}`, adminToken))).grants.length, 0);

      const self = await api(`/admin/users/${adminSub}/disable`, adminToken, { method: 'POST' });
      assert.equal(self.status, 409);
      assert.equal((await json(self)).code, 'CANNOT_DISABLE_SELF');

      await api(`/admin/users/${hal.id}/enable`, adminToken, { method: 'POST' });
      // Tokens issued after the revocation pass: wait past its second rather than sleep.
      const revokedAt = Math.floor(Date.now() / 1000);
      while (Math.floor(Date.now() / 1000) <= revokedAt) await new Promise((r) => setTimeout(r, 50));
      const back = await signInWeb(identity.issuer, { username: 'hal', password: 'copper meadow fox' });
      assert.equal((await api('/admin/users', back.tokens.access_token)).status, 200);
    });

    test('revoking one grant stops its refresh token and access token; other grants stay', async () => {
      const a = await signInWeb(identity.issuer, { username: 'gina', password: 'tall granite window' });
      const b = await signInWeb(identity.issuer, { username: 'gina', password: 'tall granite window' });
      const sub = a.tokens.claims()!.sub;
      const grantA = (
        JSON.parse(Buffer.from(a.tokens.access_token.split('.')[1]!, 'base64url').toString()) as {
          grant_id: string;
        }
      ).grant_id;
      assert.ok(grantA, 'access tokens name their grant');
      const listed = await json(await api(`/admin/users/${sub}/grants`, adminToken));
      assert.ok(listed.data.length >= 2, 'gina signed in more than once: a grant each time');
      const shown = listed.data.find((g: Json) => g.id === grantA);
      assert.equal(shown.client_id, 'portico-web');
      assert.equal(shown.client_name, 'Portico console');
      for (const scope of ['openid', 'email', 'orders:read', 'users:write'])
        assert.ok(shown.scopes.includes(scope), `${scope} in ${shown.scopes.join(' ')}`);
      assert.ok(shown.expires_at === null || Date.parse(shown.expires_at) > Date.parse(shown.created_at));
      const revoked = await api(`/admin/users/${sub}/grants/${grantA}`, adminToken, { method: 'DELETE' });
      assert.equal(revoked.status, 204);
      await assert.rejects(client.refreshTokenGrant(a.config, a.tokens.refresh_token!), invalidGrant);
      await client.refreshTokenGrant(b.config, b.tokens.refresh_token!);
      // gina is no admin: a live token is refused for its role (403), a revoked one as a token (401).
      assert.equal((await api('/admin/users', a.tokens.access_token)).status, 401);
      assert.equal((await api('/admin/users', b.tokens.access_token)).status, 403);
      const again = await api(`/admin/users/${sub}/grants/${grantA}`, adminToken, { method: 'DELETE' });
      assert.equal((await json(again)).code, 'GRANT_NOT_FOUND');
      const left = await json(await api(`/admin/users/${sub}/grants`, adminToken));
      assert.deepEqual(
        left.data.map((g: Json) => g.id).sort(),
        listed.data
          .map((g: Json) => g.id)
          .filter((id: string) => id !== grantA)
          .sort(),
      );
    });

    test('sessions: listed per account, one ended is gone from the list; unknown account 404', async () => {
      const { tokens } = await signInWeb(identity.issuer, {
        username: 'gina',
        password: 'tall granite window',
      });
      const sub = tokens.claims()!.sub;
      const before = (await json(await api(`/admin/users/${sub}/sessions`, adminToken))).data as Json[];
      assert.ok(before.length >= 1);
      assert.ok(before.every((s) => s.id && Date.parse(s.created_at) > 0));
      const ended = await api(`/admin/users/${sub}/sessions/${before[0].id}`, adminToken, {
        method: 'DELETE',
      });
      assert.equal(ended.status, 204);
      const after = (await json(await api(`/admin/users/${sub}/sessions`, adminToken))).data as Json[];
      assert.deepEqual(
        after.map((s) => s.id).sort(),
        before
          .slice(1)
          .map((s) => s.id)
          .sort(),
      );
      const missing = await api('/admin/users/nope/sessions', adminToken);
      assert.equal(missing.status, 404);
      assert.match(missing.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal((await json(await api('/admin/users/nope/grants', adminToken))).code, 'ACCOUNT_NOT_FOUND');
    });

    test('every admin action is in the audit log: who, what, when, from where', async () => {
      const log = (await json(await api('/admin/audit?limit=100', adminToken))).data as Json[];
      const actions = log.filter((e) => e.actor === adminSub).map((e) => e.action);
      for (const action of ['user.create', 'user.roles', 'user.disable', 'user.enable', 'user.grant_revoke'])
        assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
      const disable = log.find((e) => e.action === 'user.disable')!;
      assert.equal(disable.ip, '127.0.0.1');
      assert.equal(disable.detail.username, 'hal');
      assert.equal(disable.detail.user_agent, 'admin-test');
      assert.ok(Date.parse(disable.at) > Date.now() - 600_000);
      assert.ok(
        log.every((e, i) => i === 0 || log[i - 1]!.at >= e.at),
        'newest first',
      );
    });

    test('the development mailbox through the API', async () => {
      await identity.server.mailer.send({ to: 'ivy@example.org', subject: 'Hello Ivy', text: 'line one' });
      const list = await json(await api('/admin/mailbox?to=IVY@example.org', adminToken));
      assert.equal(list.data.length, 1);
      assert.equal(list.data[0].subject, 'Hello Ivy');
      assert.match(list.data[0].text, /line one/);
      const one = await api(`/admin/mailbox/${list.data[0].id}`, adminToken);
      assert.equal((await json(one)).data.subject, 'Hello Ivy');
      assert.equal((await json(await api('/admin/mailbox/nope', adminToken))).code, 'MESSAGE_NOT_FOUND');
    });
  });
}
