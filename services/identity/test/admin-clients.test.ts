/**
 * OAuth clients from the admin API on real sockets: bad input is a problem naming the field;
 * a confidential client made here signs a user in at once (the provider reads it from the
 * database); its secret, shown once, is rotated (the old one stops) and the client disabled
 * (nothing authenticates as it); a public client works without a secret; config clients are
 * read-only (409); every write is in the audit log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import * as client from 'openid-client';
import { createBrowser } from '../src/cli/browser.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import { pkce, type RunningIdentity, signInWeb, startIdentity } from './support/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not by types
type Json = any;

const REDIRECT = 'http://127.0.0.1:3999/callback';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`admin clients (${target.name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-admin-clients-'));
    // A SQLite file, so this test can read the table beside the service.
    const db: { url: string; schema?: string } =
      target.name === 'sqlite' ? { url: `sqlite:${join(dir, 'identity.db')}` } : target;
    let identity: RunningIdentity;
    let adminToken: string;
    let adminSub: string;
    const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
      fetch(new URL(path, identity.issuer), {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${adminToken}`,
          'user-agent': 'clients-test',
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    /** Client authentication at the introspection endpoint: 200 when id and secret are good. */
    const introspectAs = (id: string, secret: string) =>
      fetch(new URL('/token/introspection', identity.issuer), {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: 'nothing-issued' }),
      });
    const signIn = async (id: string, secret: string | null) => {
      const config = await client.discovery(
        new URL(identity.issuer),
        id,
        secret ?? undefined,
        secret ? client.ClientSecretBasic(secret) : client.None(),
        { execute: [client.allowInsecureRequests] },
      );
      const p = await pkce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid offline_access orders:read',
        prompt: 'consent',
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
        state: p.state,
      });
      const callback = await createBrowser().authorize(url, REDIRECT, identity.login('alice'));
      return {
        config,
        tokens: await client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: p.verifier,
          expectedState: p.state,
        }),
      };
    };

    before(async () => {
      identity = await startIdentity(db, {
        keysFile: join(dir, 'keys.json'),
        admin: { requireMfa: false },
      });
      const { tokens } = await signInWeb(identity.issuer, identity.login('admin'));
      adminToken = tokens.access_token;
      adminSub = tokens.claims()!.sub;
    });
    after(async () => {
      await identity?.close();
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('bad input: 400 for the shape, 422 naming the field for redirect URIs and scopes', async () => {
      const good = {
        client_name: 'Shop',
        type: 'confidential',
        redirect_uris: [REDIRECT],
        scope: 'openid orders:read',
      };
      const cases: [unknown, number, string, string | undefined][] = [
        [{ ...good, extra: 1 }, 400, 'UNKNOWN_FIELD', 'extra'],
        [{ ...good, redirect_uris: [] }, 400, 'VALIDATION_ERROR', undefined],
        [{ ...good, type: 'secret' }, 400, 'VALIDATION_ERROR', undefined],
        [
          { ...good, redirect_uris: [REDIRECT, 'http://shop.example.com/cb'] },
          422,
          'INVALID_REDIRECT_URI',
          'redirect_uris[1]',
        ],
        [
          { ...good, redirect_uris: ['https://shop.example.com/cb#x'] },
          422,
          'INVALID_REDIRECT_URI',
          'redirect_uris[0]',
        ],
        [{ ...good, redirect_uris: ['not a url'] }, 422, 'INVALID_REDIRECT_URI', 'redirect_uris[0]'],
        [
          { ...good, post_logout_redirect_uris: ['ftp://localhost/'] },
          422,
          'INVALID_REDIRECT_URI',
          'post_logout_redirect_uris[0]',
        ],
        [{ ...good, scope: 'openid root:all' }, 422, 'INVALID_SCOPE', 'scope'],
      ];
      for (const [body, status, code, field] of cases) {
        const res = await api('/admin/clients', { method: 'POST', body });
        assert.equal(res.status, status, JSON.stringify(body));
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        const problem = (await res.json()) as Json;
        assert.equal(problem.code, code, JSON.stringify(problem));
        if (field) assert.equal(problem.errors[0].field, field, JSON.stringify(problem));
      }
      const listed = (await (await api('/admin/clients')).json()) as Json;
      assert.ok(
        listed.data.every((c: Json) => c.source === 'config'),
        'nothing bad was stored',
      );
    });

    test('confidential: made, signs in at once, secret rotated (old one stops), disabled; audited', async () => {
      const created = await api('/admin/clients', {
        method: 'POST',
        body: {
          client_name: 'Shop',
          type: 'confidential',
          redirect_uris: [REDIRECT, 'https://shop.example.com/cb'],
          scope: 'openid offline_access orders:read',
        },
      });
      assert.equal(created.status, 201);
      const { data, client_secret: secret } = (await created.json()) as Json;
      assert.equal(data.type, 'confidential');
      assert.equal(data.source, 'admin');
      assert.equal(typeof secret, 'string');
      assert.ok(secret.length >= 40);
      assert.equal(created.headers.get('location'), `/admin/clients/${data.client_id}`);

      const listed = (await (await api('/admin/clients')).json()) as Json;
      const row = listed.data.find((c: Json) => c.client_id === data.client_id);
      assert.deepEqual(row.redirect_uris, [REDIRECT, 'https://shop.example.com/cb']);
      assert.ok(!JSON.stringify(listed).includes(secret), 'the secret is never listed');
      const reader = openDatabase<IdentityDatabase>({
        url: db.url,
        ...(db.schema ? { schema: db.schema } : {}),
      });
      try {
        const raw = await reader.db
          .selectFrom('oidc_clients')
          .selectAll()
          .where('client_id', '=', data.client_id)
          .executeTakeFirstOrThrow();
        assert.ok(raw.secret_sealed, 'a secret is kept');
        assert.ok(!JSON.stringify(raw).includes(secret), 'the secret is sealed at rest');
      } finally {
        await reader.close();
      }

      const { config, tokens } = await signIn(data.client_id, secret);
      assert.equal(tokens.claims()!.aud, data.client_id);
      assert.equal((await introspectAs(data.client_id, secret)).status, 200);

      const rotated = await api(`/admin/clients/${data.client_id}/secret`, { method: 'POST' });
      assert.equal(rotated.status, 200);
      const next = ((await rotated.json()) as Json).client_secret;
      assert.notEqual(next, secret);
      assert.equal((await introspectAs(data.client_id, secret)).status, 401, 'the old secret stops at once');
      assert.equal((await introspectAs(data.client_id, next)).status, 200);

      const disabled = await api(`/admin/clients/${data.client_id}/disable`, { method: 'POST' });
      assert.equal(disabled.status, 200);
      assert.equal(((await disabled.json()) as Json).data.disabled, true);
      assert.equal(
        (await introspectAs(data.client_id, next)).status,
        401,
        'a disabled client cannot authenticate',
      );
      await assert.rejects(
        client.refreshTokenGrant(config, tokens.refresh_token!),
        'no refresh for a disabled client',
      );
      const again = await api(`/admin/clients/${data.client_id}/secret`, { method: 'POST' });
      assert.equal(again.status, 409);
      assert.equal(((await again.json()) as Json).code, 'CLIENT_DISABLED');

      const audit = (await (await api(`/admin/audit?target=${data.client_id}`)).json()) as Json;
      assert.deepEqual(audit.data.map((e: Json) => e.action).sort(), [
        'client.create',
        'client.disable',
        'client.secret_rotate',
      ]);
      for (const e of audit.data) {
        assert.equal(e.actor, adminSub);
        assert.equal(e.ip, '127.0.0.1');
        assert.equal(e.detail.user_agent, 'clients-test');
        assert.ok(!JSON.stringify(e).includes(secret) && !JSON.stringify(e).includes(next));
      }
    });

    test('public: no secret, signs in with PKCE alone, has no secret to rotate', async () => {
      const created = await api('/admin/clients', {
        method: 'POST',
        body: {
          client_name: 'App',
          type: 'public',
          redirect_uris: [REDIRECT],
          scope: 'openid offline_access orders:read',
        },
      });
      assert.equal(created.status, 201);
      const { data, client_secret } = (await created.json()) as Json;
      assert.equal(client_secret, null);
      assert.equal(data.type, 'public');
      const { tokens } = await signIn(data.client_id, null);
      assert.ok(tokens.access_token);
      const rotate = await api(`/admin/clients/${data.client_id}/secret`, { method: 'POST' });
      assert.equal(rotate.status, 409);
      assert.equal(((await rotate.json()) as Json).code, 'CLIENT_NOT_CONFIDENTIAL');
    });

    test('edit and enable: redirect URIs count at once, bad ones name the field; enabled signs in again; audited', async () => {
      const { data } = (await (
        await api('/admin/clients', {
          method: 'POST',
          body: {
            client_name: 'Kiosk',
            type: 'public',
            redirect_uris: [REDIRECT],
            scope: 'openid offline_access orders:read',
          },
        })
      ).json()) as Json;
      const id = data.client_id;
      const authorizeAt = async (redirect: string) => {
        const url = new URL('/auth', identity.issuer);
        url.search = new URLSearchParams({
          client_id: id,
          redirect_uri: redirect,
          response_type: 'code',
          scope: 'openid',
          code_challenge: (await pkce()).challenge,
          code_challenge_method: 'S256',
        }).toString();
        return fetch(url, { redirect: 'manual' });
      };
      assert.equal((await authorizeAt(REDIRECT)).status, 303);

      const cases: [unknown, number, string, string | undefined][] = [
        [{}, 400, 'VALIDATION_ERROR', undefined],
        [{ client_id: 'other' }, 400, 'UNKNOWN_FIELD', 'client_id'],
        [{ redirect_uris: [] }, 400, 'VALIDATION_ERROR', undefined],
        [
          { redirect_uris: ['https://kiosk.example.com/cb', 'http://kiosk.example.com/cb'] },
          422,
          'INVALID_REDIRECT_URI',
          'redirect_uris[1]',
        ],
        [
          { post_logout_redirect_uris: ['https://kiosk.example.com/#bye'] },
          422,
          'INVALID_REDIRECT_URI',
          'post_logout_redirect_uris[0]',
        ],
      ];
      for (const [body, status, code, field] of cases) {
        const res = await api(`/admin/clients/${id}`, { method: 'PATCH', body });
        assert.equal(res.status, status, JSON.stringify(body));
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        const problem = (await res.json()) as Json;
        assert.equal(problem.code, code, JSON.stringify(problem));
        if (field) assert.equal(problem.errors[0].field, field, JSON.stringify(problem));
      }

      const edited = await api(`/admin/clients/${id}`, {
        method: 'PATCH',
        body: { client_name: 'Lobby kiosk', redirect_uris: ['https://kiosk.example.com/cb'] },
      });
      assert.equal(edited.status, 200);
      const after = ((await edited.json()) as Json).data;
      assert.equal(after.client_name, 'Lobby kiosk');
      assert.deepEqual(after.redirect_uris, ['https://kiosk.example.com/cb']);
      assert.equal(after.scope, 'openid offline_access orders:read', 'what the body leaves out stays');
      assert.equal((await authorizeAt(REDIRECT)).status, 400, 'the removed redirect URI is refused at once');
      assert.equal((await authorizeAt('https://kiosk.example.com/cb')).status, 303);

      await api(`/admin/clients/${id}`, { method: 'PATCH', body: { redirect_uris: [REDIRECT] } });
      await api(`/admin/clients/${id}/disable`, { method: 'POST' });
      await assert.rejects(signIn(id, null), 'a disabled client cannot sign anyone in');
      const enabled = await api(`/admin/clients/${id}/enable`, { method: 'POST' });
      assert.equal(enabled.status, 200);
      assert.equal(((await enabled.json()) as Json).data.disabled, false);
      assert.ok((await signIn(id, null)).tokens.access_token);

      const audit = (await (await api(`/admin/audit?target=${id}`)).json()) as Json;
      assert.deepEqual(audit.data.map((e: Json) => e.action).sort(), [
        'client.create',
        'client.disable',
        'client.enable',
        'client.update',
        'client.update',
      ]);
      const rename = audit.data.find((e: Json) => e.action === 'client.update' && e.detail.client_name);
      assert.deepEqual(rename.detail.client_name, { from: 'Kiosk', to: 'Lobby kiosk' });
      assert.deepEqual(rename.detail.redirect_uris, {
        from: [REDIRECT],
        to: ['https://kiosk.example.com/cb'],
      });
    });

    test('config clients are read-only; unknown ones 404', async () => {
      const edit = await api('/admin/clients/portico-web', { method: 'PATCH', body: { client_name: 'x' } });
      assert.equal(edit.status, 409);
      assert.equal(((await edit.json()) as Json).code, 'CLIENT_READ_ONLY');
      for (const path of [
        '/admin/clients/portico-web/secret',
        '/admin/clients/portico-web/disable',
        '/admin/clients/portico-web/enable',
      ]) {
        const res = await api(path, { method: 'POST' });
        assert.equal(res.status, 409);
        const problem = (await res.json()) as Json;
        assert.equal(problem.code, 'CLIENT_READ_ONLY');
        assert.match(problem.detail, /configuration/);
      }
      const missing = await api('/admin/clients/nobody/disable', { method: 'POST' });
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as Json).code, 'CLIENT_NOT_FOUND');
    });
  });
}
